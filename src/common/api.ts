// The one contract between the workbench's UI and the engine. The Electron preload exposes an
// implementation on `window.irpscope`; web mode serves the same calls over HTTP + WebSocket on
// loopback. The renderer cannot tell which one it has. Everything here is JSON-safe.

import type { FleetReport, FleetStatus } from './fleet';
import type { PairingFact, UnknownFact } from './pairing';
import type { Severity } from './findings';
import type { AnalysisResult, Disassembly, Hex, ImageInfo, Progress } from './model';

export type SessionRole = 'primary' | 'baseline';
export type SessionState = 'queued' | 'analysing' | 'ready' | 'failed' | 'cancelled';

/** One opened image and its analysis. */
export interface SessionSummary {
  id: string;
  path: string;
  /** Short label for tabs and titles (file name, or the demo case's name). */
  label: string;
  role: SessionRole;
  state: SessionState;
  progress: Progress | null;
  /** Set when state is 'failed': which stage and why, in words. */
  error: { stage: string; message: string } | null;
  /** Available once the image was opened (before the full analysis ends). */
  info: ImageInfo | null;
  /** Counts for the session list, once ready. */
  counts: { drivers: number; devices: number; findings: number; highestSeverity: string | null } | null;
  /**
   * How the result came about when it was not a plain new analysis: reopened from its case, or
   * analysed again and why (the image changed, another engine, an unreadable case).
   */
  caseNote?: string | null;
}

/** The longest note kept (a case's note, an annotation's note), in characters. */
export const MAX_NOTE_LENGTH = 20_000;
/** The longest analyst's name kept in a case, in characters. */
export const MAX_ANALYST_LENGTH = 200;

export type AnnotationStatus = 'suspicious' | 'benign' | 'to-check';

/** The analyst's word on a finding, driver, device or handler, kept in the case. */
export interface Annotation {
  status: AnnotationStatus | null;
  note: string;
  updatedAt: string;
}

/**
 * The key of what an annotation is on: `finding:<id>`, `driver:<objectVa>`, `device:<objectVa>`,
 * `handler:<driver objectVa>:<irp|fastIo|callbacks>:<name>`.
 */
export type AnnotationTarget = string;

/** An analysed image's case, as the workbench shows it. */
export interface CaseView {
  id: string;
  image: {
    path: string;
    size: number;
    modified: string;
    /** The full SHA-256, once computed. */
    sha256: string | null;
    /** When that SHA-256 was computed (null: not computed, or not recorded by an older IRPscope). */
    sha256ComputedAt?: string | null;
    /** The last time the file was hashed again and still had it. */
    sha256VerifiedAt?: string | null;
    /**
     * 'verified': hashed again since the case was opened, and the file looks unchanged since;
     * 'mismatch': the file no longer has it (the image is being analysed again); else 'not-verified'.
     */
    sha256Check?: 'verified' | 'not-verified' | 'mismatch';
    /** While it is being computed. */
    hashing: { fraction: number } | null;
    hashError: string | null;
  };
  analyzedAt: string;
  engine: string;
  baseline: { path: string } | null;
  analyst: string;
  note: string;
  annotations: Record<AnnotationTarget, Annotation>;
  /** Driver and module images saved from this image (Save image…, irpscope extract). */
  extractions: ExtractionRecord[];
}

/** What was extracted from an image and how the file came out: kept in the case and reports. */
export interface ExtractionRecord {
  /** "driver \Driver\Disk (disk.sys)", "module ndisprot2.sys". */
  label: string;
  fileName: string;
  base: Hex;
  /** "pe": rebuilt with its sections at file alignment; "raw": the memory as it was (no headers). */
  layout: 'pe' | 'raw';
  size: number;
  sha256: string;
  /** Pages of the image that were not in memory (zero-filled in the file). */
  missingPages: number;
  pages: number;
  at: string;
}

/** The image of a driver or module to extract: exactly one of the three. */
export type ExtractTargetRequest = { driver: string } | { module: string } | { address: Hex };

/** An extracted image: the file to save, and what a reverser needs to know about it. */
export interface ExtractedFile extends ReportFile {
  record: ExtractionRecord;
  machine: 'x86' | 'x64' | null;
  entryPoint: Hex | null;
  sections: Array<{
    name: string;
    virtualAddress: Hex;
    virtualSize: number;
    pointerToRawData: number;
    sizeOfRawData: number;
  }>;
  imports: string[] | null;
  missing: Array<{ address: Hex; size: number; where: string; status: string }>;
  notes: string[];
}

export type MemorySpace = 'virtual' | 'physical';

export interface MemoryRequest {
  session: string;
  space: MemorySpace;
  address: Hex;
  /** At most 64 KiB per request. */
  length: number;
}

export type PageStatus =
  'present' | 'transition' | 'unmapped' | 'paged-out' | 'prototype' | 'hole' | 'out-of-range';

export interface MemoryChunk {
  space: MemorySpace;
  address: Hex;
  /** Base64 of `length` bytes; bytes of non-present pages are zero and must be shown as absent. */
  bytes: string;
  /** One entry per page touched, in order. */
  pages: Array<{ address: Hex; status: PageStatus; physical: Hex | null }>;
  /** Size of the space, for scrolling (virtual: 2^48 or 2^32; physical: highest address). */
  spaceSize: Hex;
}

export type StructureKind =
  | 'DRIVER_OBJECT'
  | 'DEVICE_OBJECT'
  | 'DRIVER_EXTENSION'
  | 'DEVOBJ_EXTENSION'
  | 'FAST_IO_DISPATCH'
  | 'OBJECT_HEADER';

export interface StructureField {
  name: string;
  offset: number;
  size: number;
  /** Display value, e.g. "0xfffff80312345678", "\\Driver\\Disk", "FILE_DEVICE_DISK (0x7)". */
  value: string;
  /** Where a click on the value goes. */
  link?: { kind: 'address' | 'driver' | 'device' | 'module'; target: string };
}

export interface StructureView {
  kind: StructureKind;
  address: Hex;
  size: number;
  layoutSource: string;
  fields: StructureField[];
  /** Set when the structure could not be read whole (unmapped page...). */
  problem: string | null;
}

export type UserOperation = 'CreateFile' | 'ReadFile' | 'WriteFile' | 'DeviceIoControl';

export type FlowNodeKind =
  | 'api'
  | 'process'
  | 'thread'
  | 'ntdll'
  | 'syscall'
  | 'io-manager'
  | 'irp'
  | 'symbolic-link'
  | 'device'
  | 'dispatch'
  | 'completion'
  | 'module';

export interface FlowNode {
  id: string;
  kind: FlowNodeKind;
  label: string;
  detail: string | null;
  /** Ids of findings that concern this node; a node with any is drawn as suspicious. */
  findings: string[];
  /** What a click opens. */
  target: {
    view: 'drivers' | 'devices' | 'modules' | 'findings' | 'hex' | 'activity';
    id?: string;
    address?: Hex;
  } | null;
}

export interface FlowEdge {
  id: string;
  from: string;
  to: string;
  label: string | null;
  suspicious: boolean;
}

export interface FlowGraph {
  device: string;
  /** The user operation drawn; null for a flow from a pending IRP whose function has none. */
  operation: UserOperation | null;
  /** The pending IRP the flow starts from (its address), or null for a flow by operation. */
  irp: Hex | null;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export const DIFF_SCHEMA = 'irpscope-diff/1';

/** What one side of a difference refers to in its own image (ids of that image's result). */
export interface DiffSide {
  /** One line describing the object on this side ("afd.sys+0x1360 [own-image]", "→ \Device\CdRom0"). */
  text: string;
  driver?: string;
  device?: string;
  module?: string;
  link?: string;
  /** A system service's name. */
  service?: string;
}

/** One fact of an object that differs between the two images. */
export interface DiffChange {
  /** The fact: "IRP_MJ_DEVICE_CONTROL", "image", "stack", "device \Device\Beep"... */
  what: string;
  baseline: string | null;
  primary: string | null;
  severity: Severity;
}

/**
 * One difference: an object (a driver with its handlers and devices, a device stack, a module,
 * a symbolic link) added, removed or changed between the baseline and the image.
 */
export interface DiffEntry {
  /** Stable within the result: the kind and the object's identity. */
  id: string;
  kind: 'driver' | 'stack' | 'device' | 'module' | 'link' | 'service' | 'process' | 'callback';
  change: 'added' | 'removed' | 'changed';
  /** The object's identity for people: driver name, the stack's named device, module or link name. */
  key: string;
  severity: Severity;
  /** What changed, in one sentence. */
  summary: string;
  /** Why it matters (the finding's explanation where one applies). */
  why: string;
  /** The facts that agreed and made the two sides one object (empty when only one side has it). */
  matchedBy: PairingFact[];
  /** Facts one side does not hold (paged out, unreadable): unknown there, never a change. */
  unknown: UnknownFact[];
  /** The facts that differ, most severe first (handlers, devices, image, stack members...). */
  changes: DiffChange[];
  /** Finding ids of the image that the baseline lacks (added), and of the baseline that the image lacks. */
  findings: { added: string[]; removed: string[] };
  baseline: DiffSide | null;
  primary: DiffSide | null;
  /**
   * Set when this is what differs between any two boots of one system (hardware plugged in on one
   * day, drivers loaded and unloaded), not a change to look at: the reason. Not counted as a difference.
   */
  variation: string | null;
}

export type PairStatus = 'same' | 'changed' | 'added' | 'removed' | 'variation';

/** One row of the side-by-side alignment: the same object in both images, or in one. */
export interface DiffPair {
  key: string;
  baseline: string | null;
  primary: string | null;
  status: PairStatus;
  /** The entry that describes this object's difference, if any. */
  entry: string | null;
  matchedBy: PairingFact[];
}

export interface DiffResult {
  schema: typeof DIFF_SCHEMA;
  /** Labels of the two images (paths or session labels). */
  baseline: string;
  primary: string;
  compatibility: {
    baselineBuild: string;
    primaryBuild: string;
    sameBuild: boolean;
    /** Different builds or architectures: what that means for the comparison. */
    warnings: string[];
    /** Set (one sentence) when the images are not of the same system; entries are then empty. */
    unrelated: string | null;
  };
  /** Differences, then variations, most severe first. */
  entries: DiffEntry[];
  /** Every driver, device and module of either image, aligned row against row. */
  pairs: { drivers: DiffPair[]; devices: DiffPair[]; modules: DiffPair[] };
  counts: {
    differences: number;
    variations: number;
    bySeverity: Record<Severity, number>;
    drivers: { baseline: number; primary: number; matched: number };
  };
}

export type ReportFormat = 'html' | 'pdf' | 'json' | 'csv';

export interface ReportFile {
  fileName: string;
  mimeType: string;
  /**
   * Text content (HTML, JSON); for CSV a .zip of one file per table and a README.txt, and for
   * PDF the bytes: both in base64 (see `encoding`).
   */
  content: string;
  encoding?: 'base64';
  /** For an archive (CSV): the files in it, as text, in order, e.g. for a preview. */
  files?: Array<{ name: string; content: string }>;
}

export interface PracticeImageRequest {
  profile?: string;
  isf?: string;
  symbolsDir?: string;
  scenario: 'clean' | 'infected';
  infections?: string[];
  format: 'raw' | 'dmp-full' | 'dmp-bitmap' | 'vmware' | 'elf';
  size: number;
  seed?: number;
}

export interface DirectoryListing {
  path: string;
  parent: string | null;
  entries: Array<{ name: string; path: string; kind: 'directory' | 'file'; size: number }>;
}

/** Live capture (src/core/node/capture): QEMU over QMP, or libvirt, VirtualBox and VMware through their tools. */
export type CaptureToolKind = 'libvirt' | 'virtualbox' | 'vmware';

export type CaptureSource = { kind: 'qmp'; endpoint: string } | { kind: CaptureToolKind; vm: string };

export interface CaptureProgress {
  stage: 'connecting' | 'pausing' | 'dumping' | 'cancelling' | 'resuming' | 'finishing';
  /** Bytes written so far and in all (0 when not known yet; a tool that reports percent: of 100). */
  completed: number;
  total: number;
  detail?: string;
}

export interface CaptureResult {
  tool: 'qemu' | CaptureToolKind;
  /** The socket, domain, VM or .vmx captured. */
  source: string;
  vm: { name: string | null; memoryBytes: number | null; stateBefore: string; software: string };
  /** The image written (for VMware, the snapshot's state file, with its .vmem beside it). */
  file: string;
  bytes: number;
  wasRunning: boolean;
  /** How long this capture kept the VM paused (null when it was not running, or the tool does not say). */
  pausedMs: number | null;
  dumpMs: number;
  totalMs: number;
  format: string;
}

/** What a QMP socket says about its VM. */
export interface QemuVm {
  name: string | null;
  memoryBytes: number | null;
  status: string;
  running: boolean;
  qemuVersion: string;
}

export interface QmpSocketProbe {
  path: string;
  state: 'ready' | 'busy' | 'not-qmp' | 'unreachable';
  vm: QemuVm | null;
  /** Why it cannot be captured (for every state but ready). */
  reason: string | null;
}

export interface CaptureToolVm {
  tool: CaptureToolKind;
  /** What the tool calls it: a libvirt domain, a VirtualBox VM's UUID, a .vmx path. */
  id: string;
  name: string;
  state: string;
}

export interface CaptureToolStatus {
  tool: CaptureToolKind;
  command: string;
  /** The executable found on PATH, or null: then `missing` says what to install. */
  path: string | null;
  missing: string | null;
  vms: CaptureToolVm[];
  /** Why the VMs could not be listed (the tool ran but failed), or null. */
  problem: string | null;
}

export interface CaptureTargets {
  /** Folders searched for QMP sockets (the one asked for, then libvirt's). */
  folders: string[];
  sockets: QmpSocketProbe[];
  tools: CaptureToolStatus[];
  /** Where the workbench writes captures. */
  outputFolder: string;
}

export type CaptureState = 'running' | 'done' | 'failed' | 'cancelled';

export interface CaptureSummary {
  id: string;
  source: CaptureSource;
  /** The VM's name, else the socket or VM id. */
  label: string;
  role: SessionRole;
  /** The file being written. */
  out: string;
  state: CaptureState;
  progress: CaptureProgress | null;
  result: CaptureResult | null;
  error: string | null;
  /** The session that analyses the capture, once it is done. */
  session: string | null;
}

/** Where a fleet is read from: Redis (the queue the workers serve) or a results folder they write. */
export type FleetSource = { kind: 'redis'; url: string } | { kind: 'results'; path: string };

/** A fleet as the Fleet view shows it, read afresh on each call (the view polls for live progress). */
export interface FleetSnapshot {
  /** The source as it may be shown: a Redis URL with its password masked, or the folder. */
  source: string;
  /** The fleets the source holds. */
  fleets: string[];
  /** The fleet read (the one asked for, else the first there), null when the source holds none. */
  fleet: string | null;
  report: FleetReport | null;
  /** Queue progress, throughput and ETA (Redis only). */
  status: FleetStatus | null;
  /** Summaries in a results folder that could not be read, with why. */
  skipped: string[];
}

export type ApiEvent =
  | { type: 'session'; session: SessionSummary }
  | { type: 'session-closed'; id: string }
  | { type: 'capture'; capture: CaptureSummary }
  | { type: 'case'; session: string; case: CaseView };

export interface AppInfo {
  version: string;
  mode: 'desktop' | 'web';
  platform: string;
  /** Where practice images and the demo case live. */
  dataDirectory: string;
  symbolsDirectory: string | null;
}

export interface IrpscopeApi {
  appInfo(): Promise<AppInfo>;
  sessions(): Promise<SessionSummary[]>;
  /** Opens an image and starts its analysis; progress arrives as session events. */
  open(request: { path: string; role?: SessionRole; symbols?: string }): Promise<SessionSummary>;
  cancel(session: string): Promise<void>;
  close(session: string): Promise<void>;
  result(session: string): Promise<AnalysisResult>;
  readMemory(request: MemoryRequest): Promise<MemoryChunk>;
  disassemble(request: { session: string; address: Hex; count: number }): Promise<Disassembly>;
  structure(request: { session: string; kind: StructureKind; address: Hex }): Promise<StructureView>;
  /** The path for a device and operation, or, given `irp`, the path of that pending request. */
  flow(request: { session: string; device: string; operation: UserOperation; irp?: Hex }): Promise<FlowGraph>;
  diff(request: { baseline: string; primary: string }): Promise<DiffResult>;
  /** A report of the session's image with its case (and the comparison, given a baseline session). */
  report(request: { session: string; format: ReportFormat; baseline?: string }): Promise<ReportFile>;
  /** Opens the bundled demo case (a clean and an infected image), building it on first use. */
  openDemo(): Promise<SessionSummary[]>;
  practiceImage(request: PracticeImageRequest): Promise<SessionSummary>;
  recent(): Promise<string[]>;
  /** Server-side file browser for Open Image in web mode (the desktop app uses native dialogs). */
  browse(path: string | null): Promise<DirectoryListing>;
  /** QMP sockets in `folder` and libvirt's folders, and the VMs the hypervisors' tools know. */
  captureTargets(request: { folder?: string }): Promise<CaptureTargets>;
  /**
   * Captures a VM into the output folder (as `name`, else one made from the VM's name and the
   * time) and opens the file in `role`; progress arrives as capture events.
   */
  capture(request: {
    source: CaptureSource;
    name?: string;
    role?: SessionRole;
    /** The VM's name as the client shows it (for progress and the session's label). */
    label?: string;
  }): Promise<CaptureSummary>;
  cancelCapture(id: string): Promise<void>;
  captures(): Promise<CaptureSummary[]>;
  /** The case of a session's image (null until its analysis is done). */
  caseOf(session: string): Promise<CaseView | null>;
  /** Sets (or, with no status and an empty note, removes) an annotation. */
  annotate(request: {
    session: string;
    target: AnnotationTarget;
    status: AnnotationStatus | null;
    note: string;
  }): Promise<CaseView>;
  /** The analyst's name and the case's own note; '' clears either. */
  updateCase(request: { session: string; analyst?: string; note?: string }): Promise<CaseView>;
  /** Starts or cancels computing the image's full SHA-256 (progress arrives as case events). */
  hashImage(request: { session: string; action: 'start' | 'cancel' }): Promise<CaseView>;
  /** A driver's or module's image rebuilt as a PE file from memory; recorded in the case. */
  extractImage(request: { session: string; target: ExtractTargetRequest }): Promise<ExtractedFile>;
  /** A fleet's report (and, from Redis, its progress). */
  fleet(request: { source: FleetSource; fleet?: string }): Promise<FleetSnapshot>;
  /** Opens a host of a fleet with the baseline it was compared with, for the side-by-side comparison. */
  openFleetHost(request: {
    source: FleetSource;
    fleet: string;
    host: string;
  }): Promise<{ primary: SessionSummary; baseline: SessionSummary | null }>;
  subscribe(listener: (event: ApiEvent) => void): () => void;
}

/** What a menu item of the desktop shell asks the focused window to do (it knows its session). */
export type MenuCommand =
  | { type: 'open-image' }
  | { type: 'open-baseline' }
  | { type: 'practice-image' }
  | { type: 'capture' }
  | { type: 'open-fleet' }
  | { type: 'export'; format: ReportFormat }
  | { type: 'navigate'; view: string }
  | { type: 'go-to-address' }
  | { type: 'back' }
  | { type: 'forward' }
  | { type: 'session-opened'; id: string };

/** Extra calls only the desktop shell has (native dialogs, menu commands). */
export interface DesktopApi {
  pickImage(options: { title: string }): Promise<string | null>;
  pickDirectory(options: { title: string }): Promise<string | null>;
  saveFile(file: ReportFile): Promise<string | null>;
  pathForFile(file: File): string | null;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}

/** The names of the request/response calls, for transports that dispatch by name. */
export const API_METHODS = [
  'appInfo',
  'sessions',
  'open',
  'cancel',
  'close',
  'result',
  'readMemory',
  'disassemble',
  'structure',
  'flow',
  'diff',
  'report',
  'openDemo',
  'practiceImage',
  'recent',
  'browse',
  'captureTargets',
  'capture',
  'cancelCapture',
  'captures',
  'caseOf',
  'annotate',
  'updateCase',
  'hashImage',
  'extractImage',
  'fleet',
  'openFleetHost',
] as const satisfies ReadonlyArray<Exclude<keyof IrpscopeApi, 'subscribe'>>;

export type ApiMethod = (typeof API_METHODS)[number];

/** The desktop calls the main process answers (the others are the preload's own). */
export const DESKTOP_METHODS = ['pickImage', 'pickDirectory', 'saveFile'] as const satisfies ReadonlyArray<
  keyof DesktopApi
>;

export type DesktopMethod = (typeof DESKTOP_METHODS)[number];
