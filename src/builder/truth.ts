// The ground truth written beside every built image (truth.json): what the image contains, at
// which addresses, and which anomalies were planted. Addresses are "0x…" strings (JSON numbers
// cannot hold 64-bit kernel addresses exactly).

import type { FindingKind, HandlerVerdict, Severity } from '../common/findings';

export type Hex = string;

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

export interface TruthThread {
  ethread: Hex;
  tid: number;
  pid: number;
  startAddress: Hex;
  win32StartAddress: Hex;
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
  drivers: TruthDriver[];
  modules: TruthModule[];
  irp: TruthHandler[];
  fastIo: TruthHandler[];
  callbacks: TruthHandler[];
  links: Array<{ name: string; nameResident: boolean; target: string; objectVa: Hex }>;
  processes: Array<{ name: string; pid: number; parent: number; eprocess: Hex; dtb: Hex; hidden: boolean }>;
  threads: TruthThread[];
  /** IRPs pending at capture time, each on its thread's IrpList. */
  irps: TruthIrp[];
  staleDrivers: Array<{ name: string; objectVa: Hex; objectPa: Hex }>;
  strayTagsPa: Hex[];
  pagedOutPages: Hex[];
  transitionPages: Hex[];
  findings: TruthFinding[];
}

export function hx(value: number | bigint): Hex {
  return `0x${value.toString(16)}`;
}
