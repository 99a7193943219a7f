// The ground truth written beside every built image (truth.json): what the image contains, at
// which addresses, and which anomalies were planted. Addresses are "0x…" strings (JSON numbers
// cannot hold 64-bit kernel addresses exactly).

import type { FindingKind, HandlerVerdict, Severity } from '../common/findings';
import type { KernelLayout, StructLayout, StructMove } from './layout/kernel-layout';

export type { Hex } from '../common/hex';
import type { Hex } from '../common/hex';

export interface TruthHandler {
  driver: string;
  index: number;
  name: string;
  handler: Hex;
  owner: string | null;
  verdict: HandlerVerdict;
}

export interface TruthDevice {
  name: string | null;
  /** Whether the name's buffer (OBJECT_HEADER_NAME_INFO) is in a resident page. */
  nameResident: boolean;
  objectVa: Hex;
  type: number;
  typeName: string;
  flags: number;
  characteristics: number;
  driver: string;
  /** A PnP device group that only some boots have ("usb-stick", ...), or null. */
  transient: string | null;
  attachedDevice: Hex | null;
  attachedTo: Hex | null;
}

export interface TruthDriver {
  /** DRIVER_OBJECT.DriverName, e.g. "\Driver\Disk" (readable or not, this is what it holds). */
  name: string;
  /** Whether DriverName's buffer is in a resident page. */
  nameResident: boolean;
  /** The object's own name (OBJECT_HEADER_NAME_INFO) and its directory. */
  objectName: string;
  objectNameResident: boolean;
  directory: '\\Driver' | '\\FileSystem';
  serviceKey: string;
  objectVa: Hex;
  objectPa: Hex;
  start: Hex;
  size: number;
  module: string | null;
  builtin: boolean;
  hidden: boolean;
  flags: number;
  fastIoDispatch: Hex | null;
  devices: TruthDevice[];
}

export interface TruthModule {
  name: string;
  path: string;
  base: Hex;
  size: number;
  /** PE header TimeDateStamp and CheckSum: the image file's identity, the same on every boot. */
  timeDateStamp: number;
  checksum: number;
  ldrEntry: Hex;
  unlinked: boolean;
}

export interface TruthFinding {
  kind: FindingKind;
  subject: string;
  severity: Severity;
  detail: string;
}

export interface TruthCallback {
  kind: string;
  /** Array slot, or place on the list from its head's Flink. */
  slot: number;
  /** The array slot (and the EX_CALLBACK_ROUTINE_BLOCK it references), or the list record. */
  entry: Hex;
  /** An array slot's EX_CALLBACK_ROUTINE_BLOCK; an object callback's registration block; else null. */
  block: Hex | null;
  routine: Hex;
  owner: string | null;
  context: Hex;
  /** Bug-check records: the Component name. */
  component: string | null;
  /** Shutdown packets: the device; and the registering driver object where the record names it. */
  device: Hex | null;
  driver: Hex | null;
  /** Registered by the infected scenario's rootkit. */
  planted: boolean;
  /** Object callbacks: the entry's pre- or post-operation routine (`component`: its registration's altitude, `context`: its RegistrationContext). */
  operation?: 'pre' | 'post';
}

export interface TruthIdtEntry {
  processor: number;
  vector: number;
  entry: Hex;
  handler: Hex;
  routine: Hex;
  interrupt: Hex | null;
  /** Where the interrupt object's DispatchCode jumps (KiInterruptDispatch); null without one. */
  dispatch: Hex | null;
  owner: string | null;
  planted: boolean;
}

export interface TruthTimer {
  timer: Hex;
  dpc: Hex;
  routine: Hex;
  owner: string | null;
  /** The processor whose table holds it (0 on a kernel with one global table). */
  processor: number;
  /** The table entry it hangs on. */
  index: number;
  /** KTIMER.Period in ms. */
  period: number;
  /** Armed by the infected scenario's rootkit (the timerDpc infection). */
  planted: boolean;
}

export interface TruthThread {
  ethread: Hex;
  tid: number;
  pid: number;
  startAddress: Hex;
  win32StartAddress: Hex;
  /** A System thread the rootkit started in pool code (the orphanThread infection). */
  planted: boolean;
}

export interface TruthIrp {
  address: Hex;
  thread: Hex;
  tid: number;
  pid: number;
  major: number;
  stackCount: number;
  currentLocation: number;
  size: number;
  flags: number;
  fileObject: Hex;
  fileName: string;
  /** The named device the request was opened on. */
  device: string;
  /** DEVICE_OBJECT whose stack location is current. */
  pendingOn: Hex;
  /** The stack locations in use, from the top device down. */
  locations: Array<{
    index: number;
    major: number;
    device: Hex;
    driver: string;
    completionRoutine: Hex | null;
    completionModule: string | null;
  }>;
}

export interface Truth {
  schema: 'irpscope-truth/1';
  generator: {
    tool: 'irpscope build-image';
    source: string;
    format: string;
    scenario: 'clean' | 'infected';
    infections: string[];
    seed: string;
    boot: number;
    size: number;
    fill: string;
    /** --build as asked (null: none). */
    build: number | null;
    /** --future as asked. */
    future: boolean;
  };
  /** What this boot of the system changed, compared with other boots of the same seed. */
  boot: {
    number: number;
    /** Devices that come and go between boots: which groups this boot has, and their objects. */
    transient: Array<{ group: string; description: string; present: boolean; devices: Hex[] }>;
    varies: string[];
  };
  arch: 'x86' | 'x64';
  paging: 'x86' | 'pae' | 'x64';
  build: number;
  version: {
    major: number;
    minor: number;
    build: number;
    revision: number;
    servicePack: number;
    name: string;
  };
  pdb: { name: string; guid: string; age: number; synthetic: boolean };
  /** The structure layout the image really uses, whatever build it claims. */
  layout: TruthLayout;
  /** The exported accessors written from that layout: which field each reads, and its code. */
  accessors: TruthAccessor[];
  dtb: Hex;
  selfMapIndex: number;
  kernelBase: Hex;
  kernelSize: number;
  kdbg: Hex;
  kdbgEncoded: boolean;
  psLoadedModuleList: Hex;
  psActiveProcessHead: Hex;
  objectRootDirectory: Hex;
  /** Every object directory: its path, body, and its name's buffer (which may be paged out). */
  objectDirectories: Array<{ path: string; objectVa: Hex; nameVa: Hex | null; nameResident: boolean }>;
  obHeaderCookie: number | null;
  typeIndex: { Driver: number; Device: number } | null;
  iopInvalidDeviceRequest: Hex;
  kuserSharedData: Hex;
  lowStub: Hex | null;
  moduleInformationPa: Hex | null;
  physicalRuns: Array<{ start: Hex; length: number }>;
  /** KeServiceDescriptorTable and the table it names: where each service's call goes. */
  serviceTable: {
    descriptor: Hex;
    shadow: Hex;
    table: Hex;
    count: number;
    entries: Array<{ index: number; name: string | null; target: Hex; module: string | null }>;
  };
  /** Where the kernel keeps each kind of callback: its array or list head (issue 22). */
  callbackHeads: Array<{
    kind: string;
    address: Hex;
    /** Object callbacks: the OBJECT_TYPE whose CallbackList the head is. */
    objectType?: Hex;
  }>;
  /** Each processor's KPCR, KPRCB (KiProcessorBlock's entry) and descriptor tables. */
  processors: Array<{ kpcr: Hex; prcb: Hex; idt: Hex; gdt: Hex }>;
  /**
   * Every interrupt gate with an offset (task gates have none), per processor: the handler it
   * enters, the routine judged (a KINTERRUPT's ServiceRoutine when it enters one's DispatchCode),
   * the module holding that routine, and whether the rootkit put it there.
   */
  idtEntries: TruthIdtEntry[];
  /** Every registered notify routine and callback; `owner` is the module holding it (null: pool code). */
  registeredCallbacks: TruthCallback[];
  /**
   * The timer tables: per processor (Windows 7 on) or the global KiTimerTableListHead
   * (`processor` null), from the first entry's LIST_ENTRY, `stride` bytes apart.
   */
  timerTables: Array<{ processor: number | null; first: Hex; count: number; stride: number }>;
  /** Every armed timer and its DPC; `owner` is the module holding the DPC routine (null: pool code). */
  timers: TruthTimer[];
  drivers: TruthDriver[];
  modules: TruthModule[];
  irp: TruthHandler[];
  fastIo: TruthHandler[];
  callbacks: TruthHandler[];
  links: Array<{ name: string; nameResident: boolean; target: string; objectVa: Hex }>;
  processes: Array<{
    name: string;
    pid: number;
    parent: number;
    eprocess: Hex;
    dtb: Hex;
    /** EPROCESS.Peb: a user address, or null for the processes without one (Idle, System, Registry). */
    peb: Hex | null;
    hidden: boolean;
  }>;
  threads: TruthThread[];
  /** IRPs pending at capture time, each on its thread's IrpList. */
  irps: TruthIrp[];
  staleDrivers: Array<{ name: string; objectVa: Hex; objectPa: Hex }>;
  strayTagsPa: Hex[];
  pagedOutPages: Hex[];
  transitionPages: Hex[];
  findings: TruthFinding[];
}

export interface TruthLayout {
  /**
   * 'as-described': the layout of the claimed build. 'other-build': the ISF of `layoutBuild`,
   * claiming another build (--build). 'future': the layout of `layoutBuild` moved (--future).
   */
  kind: 'as-described' | 'other-build' | 'future';
  layoutBuild: number | null;
  /** The ISF path or the fact-sheet profile. */
  source: string;
  /** --future's changes in order: an insertion of bytes before a field at an offset, or a swap. */
  moves: StructMove[];
  /** Size and field offsets of every structure field the builder writes in these structures. */
  structs: Record<string, StructLayout>;
  /** The same fields before --future moved them (null otherwise). */
  unmoved: Record<string, StructLayout> | null;
}

export interface TruthAccessor {
  name: string;
  va: Hex;
  rva: number;
  /** e.g. "_EPROCESS.UniqueProcessId", "_ETHREAD.Cid.UniqueThread", "_ETHREAD.Tcb.Process". */
  reads: string;
  offset: number;
  returns: 'value' | 'address';
  encoding: string;
  /** The routine's bytes, hex. */
  bytes: string;
}

/** The fields the builder writes in the structures whose layout decides what a reader finds. */
const LAYOUT_FIELDS: Record<string, readonly string[]> = {
  _EPROCESS: [
    'Pcb',
    'UniqueProcessId',
    'ActiveProcessLinks',
    'InheritedFromUniqueProcessId',
    'ImageFileName',
    'ThreadListHead',
    'Peb',
  ],
  _KPROCESS: ['Header', 'DirectoryTableBase'],
  _ETHREAD: [
    'Tcb',
    'Cid',
    'IrpList',
    'ThreadListEntry',
    'StartAddress',
    'Win32StartAddress',
    'ThreadsProcess',
  ],
  _KTHREAD: ['Header', 'ApcState', 'Process'],
  _KAPC_STATE: ['Process'],
  _CLIENT_ID: ['UniqueProcess', 'UniqueThread'],
  _IRP: [
    'Type',
    'Size',
    'Flags',
    'AssociatedIrp',
    'ThreadListEntry',
    'IoStatus',
    'RequestorMode',
    'PendingReturned',
    'StackCount',
    'CurrentLocation',
    'UserBuffer',
    'Tail',
  ],
  _IO_STACK_LOCATION: [
    'MajorFunction',
    'MinorFunction',
    'Control',
    'Parameters',
    'DeviceObject',
    'FileObject',
    'CompletionRoutine',
    'Context',
  ],
  _FILE_OBJECT: ['Type', 'Size', 'DeviceObject', 'FileName'],
};

function writtenFields(structs: Record<string, StructLayout>): Record<string, StructLayout> {
  const out: Record<string, StructLayout> = {};
  for (const [struct, names] of Object.entries(LAYOUT_FIELDS)) {
    const layout = structs[struct];
    if (!layout) continue;
    const fields: Record<string, number> = {};
    for (const name of names) if (layout.fields[name] !== undefined) fields[name] = layout.fields[name];
    out[struct] = { size: layout.size, fields };
  }
  return out;
}

export function truthLayout(layout: KernelLayout): TruthLayout {
  return {
    kind: layout.variant.kind,
    layoutBuild: layout.variant.layoutBuild,
    source: layout.layoutSource,
    moves: layout.variant.moves,
    structs: writtenFields(layout.structs),
    unmoved: layout.variant.unmoved ? writtenFields(layout.variant.unmoved) : null,
  };
}

export function hx(value: number | bigint): Hex {
  return `0x${value.toString(16)}`;
}
