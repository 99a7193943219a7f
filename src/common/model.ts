// The analysis result: what the engine recovers from an image, as plain JSON-safe data. It is
// the CLI's --json output, what the UI shows, and what reports and diffs are made from.
// Addresses are "0x…" strings (64-bit values do not fit a JSON number). Schema documented in
// docs/json-schema.md; bump the version strings on any incompatible change.

import type { FindingKind, HandlerVerdict, Severity } from './findings';

export type { Hex } from './hex';
import type { Hex } from './hex';

export const INFO_SCHEMA = 'irpscope-info/1';
export const ANALYSIS_SCHEMA = 'irpscope-analysis/4';

/** A discovered fact and how it was found ("crash dump header", "self-map scan at 0x1aa000", ...). */
export interface Discovered<T> {
  value: T;
  method: string;
}

export interface ImageInfo {
  schema: typeof INFO_SCHEMA;
  path: string;
  fileSize: number;
  format: { id: string; description: string; details: Record<string, string | number | boolean> };
  physical: { runs: number; bytes: number; maxAddress: Hex };
  arch: 'x86' | 'x64' | null;
  paging: 'x86' | 'pae' | 'x64' | null;
  dtb: Discovered<Hex> | null;
  kernelBase: Discovered<Hex> | null;
  kernelSize: number | null;
  build: Discovered<{ number: number; major: number; minor: number; name: string }> | null;
  pdb: { name: string; guid: string; age: number } | null;
  kdbg: Discovered<{ va: Hex; encoded: boolean }> | null;
  psLoadedModuleList: Discovered<Hex> | null;
  psActiveProcessHead: Discovered<Hex> | null;
  objectRootDirectory: Discovered<Hex> | null;
  obHeaderCookie: Discovered<number> | null;
  typeIndex: Discovered<{ Driver: number; Device: number }> | null;
  /** Which structure layouts were used: a built-in table or an ISF symbol file. */
  profile: { source: 'builtin' | 'isf'; name: string; path?: string } | null;
  /**
   * How the layout of each structure the engine reads was established in this image (the table
   * is a hint, never an authority). Absent when no kernel or no layouts were found.
   */
  layouts?: StructureLayoutProvenance[];
  crashDump?: { dumpType: number; dumpTypeName: string; bugCheck?: { code: Hex; parameters: Hex[] } };
  /** Triage / mini dumps: no physical memory, but a module list. */
  triage?: { note: string; modules: Array<{ name: string; path: string; base: Hex; size: number }> };
  /** Milliseconds per stage, in the order they ran. */
  timings: Array<{ stage: string; ms: number }>;
  bytesRead: number;
  warnings: string[];
  /**
   * Present when no Windows kernel was found: what was tried. Such an image has no analysis (the
   * CLI exits 2, the workbench fails the session); it is never reported as a clean system.
   */
  noKernel?: string;
}

/**
 * Where a field's offset came from: the symbol file; the kernel's own code (an exported accessor
 * that reads it); structure (invariants over real objects: the System process is PID 4 named
 * "System", its links lead back, a thread's Cid names its process…); the built-in table checked
 * against those invariants; the table alone (structures of the driver ABI, which Windows cannot
 * move); or not established (then what depends on it is not available).
 */
export type LayoutMethod =
  'symbol-file' | 'kernel-code' | 'structure' | 'table-checked' | 'table' | 'not-established';

export interface FieldLayoutProvenance {
  field: string;
  offset: Hex | null;
  method: LayoutMethod;
  /** How, in one line: "PsGetProcessId: mov rax,[rcx+440h]", "System's name at +0x5a8". */
  detail: string;
}

export interface StructureLayoutProvenance {
  structure: string;
  /** 'established': every field the engine reads is; 'not-established': the structure cannot be read. */
  state: 'established' | 'partial' | 'not-established';
  /** Why it is partial or not established. */
  reason: string | null;
  fields: FieldLayoutProvenance[];
}

export type DriverView = 'pool-scan' | 'directory' | 'module-list' | 'device-walk';

export interface Disassembly {
  /** Hex of the bytes read at the address (up to 32). */
  bytes: string;
  /** "address  mnemonic operands" per instruction. */
  instructions: string[];
}

export interface Handler {
  /** IRP_MJ index, FastIo slot index, or 0/1/2 for DriverInit/DriverStartIo/DriverUnload. */
  index: number;
  name: string;
  address: Hex;
  module: string | null;
  /** Offset of the address in its module ("module+offset"). */
  offset: Hex | null;
  symbol: string | null;
  verdict: HandlerVerdict;
  /** For inline-patched handlers: where the first instructions go. */
  target?: { address: Hex; module: string | null };
  disassembly?: Disassembly;
}

export interface Driver {
  /** Stable within one result: the object's virtual address. */
  id: string;
  /** DRIVER_OBJECT.DriverName; null when unreadable (see nameStatus). */
  name: string | null;
  nameStatus: string | null;
  /** The object's own name (OBJECT_HEADER_NAME_INFO), e.g. "Disk". */
  objectName: string | null;
  /** Object directory it is registered in, if found there. */
  directory: string | null;
  serviceKey: string | null;
  objectVa: Hex;
  objectPa: Hex | null;
  start: Hex;
  size: number;
  module: string | null;
  flags: number;
  flagNames: string[];
  foundBy: DriverView[];
  /** 'freed': the object lies in a freed pool block (an unloaded driver). */
  state: 'live' | 'freed';
  devices: string[];
  irp: Handler[];
  fastIo: Handler[];
  callbacks: Handler[];
  fastIoDispatch: Hex | null;
}

/**
 * Where an object's object-directory entry hangs: a function of its name, so it survives the name
 * being paged out and is the same on every boot. `value` is OBJECT_DIRECTORY_ENTRY.HashValue
 * (absent on XP and 2003 RTM x86).
 */
export interface NameHash {
  bucket: number;
  value: number | null;
}

export interface Device {
  id: string;
  name: string | null;
  nameStatus: string | null;
  /**
   * When the name is unreadable: the name a symbolic link's target gives it, matched by the name's
   * hash in the device's directory entry (checked against this kernel's readable names first).
   */
  inferredName: string | null;
  nameHash: NameHash | null;
  objectVa: Hex;
  objectPa: Hex | null;
  driver: string;
  driverName: string | null;
  type: number;
  typeName: string;
  flags: number;
  flagNames: string[];
  characteristics: number;
  characteristicNames: string[];
  /** Device ids: the one stacked on top of this, the one this sits on. */
  attachedDevice: string | null;
  attachedTo: string | null;
  /** The whole stack this device belongs to, bottom first. */
  stack: string[];
  /** \GLOBAL?? links naming this device. */
  links: string[];
}

export interface Module {
  name: string;
  path: string | null;
  base: Hex;
  size: number;
  /** From the PE headers at its base; null when they are not in memory. */
  timeDateStamp: number | null;
  checksum: number | null;
  ldrEntry: Hex | null;
  /** PsLoadedModuleList, the pool scan for loader entries, or a driver object's DriverSection. */
  foundBy: Array<'module-list' | 'pool-scan' | 'driver-section'>;
  /** Found by the pool scan but not on PsLoadedModuleList, which was read to its end. */
  unlinked: boolean;
}

export interface SymbolicLink {
  /** "\GLOBAL??\C:"; null when the link's name is not in the image (see nameStatus). */
  name: string | null;
  nameStatus: string | null;
  nameHash: NameHash | null;
  /** The target path; null when unreadable (see targetStatus). */
  target: string | null;
  targetStatus: string | null;
  objectVa: Hex;
  device: string | null;
}

export interface Finding {
  id: string;
  severity: Severity;
  kind: FindingKind;
  /** The driver, device or module concerned (its name). */
  subject: string;
  explanation: string;
  evidence: {
    addresses?: Hex[];
    modules?: string[];
    driver?: string;
    device?: string;
    handlers?: Array<{ name: string; address: Hex; module: string | null; verdict: HandlerVerdict }>;
    disassembly?: Disassembly;
    detail?: string;
  };
}

/** KeServiceDescriptorTable's table: where each system service's call goes, judged. */
export interface ServiceTable {
  descriptor: Hex;
  /** How the descriptor was found (ISF symbol, export, KiSystemServiceRepeat's code). */
  method: string;
  base: Hex;
  limit: number;
  /** One per service: index = service number, name = the Nt routine or "service 0x…". */
  entries: Handler[];
}

/** The other doors into the kernel a driver can register for (issue 22). */
export const CALLBACK_KINDS = [
  'process-notify',
  'thread-notify',
  'image-load-notify',
  'registry',
  'bugcheck',
  'bugcheck-reason',
  'shutdown',
  'last-chance-shutdown',
  'fs-registration',
  // ObRegisterCallbacks (Vista SP1 on): the pre- and post-operation routines on the CallbackList
  // of the Process, Thread and Desktop object types.
  'process-object',
  'thread-object',
  'desktop-object',
  // The System process's threads (each entry's routine is the thread's StartAddress): not a
  // registration, but the same question of whether the kernel runs code in no module.
  'system-thread',
  // Each processor's interrupt gates, and the call gates of its GDT (an x86 rootkit's doors).
  'idt',
  'gdt',
  // Kernel timers whose DPC names a routine (the routine runs each time the timer expires).
  'timer',
] as const;
export type CallbackKind = (typeof CALLBACK_KINDS)[number];

/** One registered routine: where the kernel keeps it, what it is, who owns it, judged. */
export interface Callback {
  kind: CallbackKind;
  /** Its index in the kernel's array, or its place on the kernel's list (0: first; a System thread: on its ThreadListHead). */
  slot: number;
  /** The address of the array slot, or of the list record (its LIST_ENTRY), that holds it (a System thread: its ETHREAD). */
  entry: Hex;
  /** The EX_CALLBACK_ROUTINE_BLOCK an array slot references (null for list records; an IDT gate: the KINTERRUPT whose DispatchCode it enters; a timer: its KDPC; an object callback: the registration block ObRegisterCallbacks allocated, which holds its RegistrationContext and Altitude). */
  block: Hex | null;
  /** The routine, judged against the module that holds it (its verdict is the callback's). */
  routine: Handler;
  /** The module holding the routine: the driver that registered it; null when in no module. */
  owner: string | null;
  /** The block's Context (for process notify on Windows 7 and later, the Ex variants' flags). */
  context: Hex | null;
  /** Bug-check records: the Component name the driver gave (untrusted text). */
  component: string | null;
  /** Shutdown packets: the device the kernel sends IRP_MJ_SHUTDOWN to. */
  device: Hex | null;
  /** The registering driver object, where the record names one (shutdown: the device's driver). */
  driver: Hex | null;
  /** System threads: the thread's id (Cid.UniqueThread). */
  tid?: number;
  /** IDT and GDT gates, timers: the processor whose table holds it (its index in KiProcessorBlock). */
  processor?: number;
  /** Timers: KTIMER.Period in milliseconds (0: fires once). */
  period?: number;
  /** Object callbacks: which routine of the OB_CALLBACK_ENTRY this is. */
  operation?: 'pre' | 'post';
  /**
   * IDT gates into an interrupt object: where its DispatchCode goes on to (ntoskrnl's
   * KiInterruptDispatch or a sibling) and the module that holds it; absent when the code does not say.
   */
  dispatch?: { address: Hex; module: string | null };
}

/** Where the kernel keeps one kind, how that was found, and what could be read of it. */
export interface CallbackHead {
  kind: CallbackKind;
  address: Hex | null;
  /** The route that found it ("symbol file: …", the registration routine's instruction). */
  method: string | null;
  coverage: Coverage;
}

export interface CallbackSection {
  /** One per kind, in CALLBACK_KINDS order. */
  heads: CallbackHead[];
  entries: Callback[];
}

export interface Process {
  objectVa: Hex;
  /** EPROCESS.ImageFileName (at most 15 or 16 characters). */
  name: string;
  pid: number;
  parentPid: number;
  dtb: Hex;
  foundBy: Array<'process-list' | 'pool-scan'>;
  /** Found by the pool scan but not on PsActiveProcessHead, which was read to its end: unlinked. */
  hidden: boolean;
  /** ETHREAD addresses. */
  threads: Hex[];
}

export interface Thread {
  objectVa: Hex;
  tid: number;
  pid: number;
  /** EPROCESS address. */
  process: Hex;
  startAddress: Hex;
  /** "module+offset" of a kernel start address; null for user-mode or unknown code. */
  startModule: string | null;
  win32StartAddress: Hex;
  /** IRPs on the thread's IrpList. */
  irps: Hex[];
}

export interface IrpStackLocation {
  index: number;
  /** The location the request waits in (CurrentLocation - 1). */
  current: boolean;
  major: number;
  majorName: string;
  minor: number;
  control: number;
  /** DEVICE_OBJECT address (a device id when the device is in the result). */
  device: Hex | null;
  deviceName: string | null;
  /** DRIVER_OBJECT address of that device's driver (a driver id). */
  driver: Hex | null;
  driverName: string | null;
  fileObject: Hex | null;
  /** What the major function's parameters say ("Length 0x78", "IoControlCode 0x12024"). */
  parameters: string | null;
  /** The routine the driver above asked to be called on completion, judged against that driver. */
  completion: Handler | null;
  /** The driver that set it (the next location up's device's driver). */
  completionSetBy: Hex | null;
}

export interface Irp {
  address: Hex;
  foundBy: Array<'pool-scan' | 'thread-irp-list'>;
  size: number;
  stackCount: number;
  currentLocation: number;
  flags: number;
  flagNames: string[];
  requestorMode: 'kernel' | 'user';
  cancel: boolean;
  systemBuffer: Hex | null;
  userBuffer: Hex | null;
  /** The issuing thread (Tail.Overlay.Thread) and its process. */
  thread: Hex | null;
  tid: number | null;
  pid: number | null;
  processName: string | null;
  fileObject: Hex | null;
  /** FILE_OBJECT.FileName past the device ("" when the device itself was opened). */
  fileName: string | null;
  /** The device the file object was opened on. */
  fileDevice: Hex | null;
  /** The current location's function, device and driver: where the request waits. */
  major: number;
  majorName: string;
  device: Hex | null;
  driver: Hex | null;
  /** Locations in use, top of the stack first. */
  stack: IrpStackLocation[];
}

/** The parts of an analysis whose coverage is stated: one per table, and the findings. */
export const COVERED_PARTS = [
  'drivers',
  'devices',
  'modules',
  'links',
  'services',
  'processes',
  'threads',
  'irps',
  'findings',
] as const;
export type CoveredPart = (typeof COVERED_PARTS)[number];

/**
 * How much of one part the image allowed to be read. 'complete': every route to it was read to its
 * end; 'partial': some of it is missing or some judgement could not be made (each reason says
 * what and why); 'unavailable': none of it could be read (the reason says why). A count is only
 * ever shown with its coverage.
 */
export interface Coverage {
  state: 'complete' | 'partial' | 'unavailable';
  missing: string[];
}

export interface AnalysisResult {
  schema: typeof ANALYSIS_SCHEMA;
  image: ImageInfo;
  /** What each part could read, and what it is missing. */
  coverage: Record<CoveredPart, Coverage>;
  /** Null when the table was not found (image warnings say what was tried). */
  serviceTable: ServiceTable | null;
  /** Notify routines and callbacks, each kind with its own coverage. */
  callbacks: CallbackSection;
  drivers: Driver[];
  devices: Device[];
  modules: Module[];
  links: SymbolicLink[];
  processes: Process[];
  threads: Thread[];
  /** IRPs in flight: in pool with a valid shape, or on a thread's IrpList. */
  irps: Irp[];
  findings: Finding[];
  stats: {
    bytesScanned: number;
    poolHits: number;
    workers: number;
    timings: Array<{ stage: string; ms: number }>;
  };
}

/** Progress of a long operation, as streamed to the CLI's terminal and the UI. */
export interface Progress {
  stage: string;
  /** 0..1 within the whole operation. */
  fraction: number;
  detail?: string;
}
