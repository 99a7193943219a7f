// x86 kernels built from the fact sheet (../shared/spec/windows-memory.md, tag V2vt = the
// PDB-generated Volatility 2 vtypes files xp_sp3_x86, win2003_sp2_x86, win7_sp1_x86). No public
// x86 ISF exists, so every offset below is cited to its spec section.

import { BuildError } from '../errors';
import type { Family, KernelLayout, OptionalHeader, PagingMode, StructLayout } from './kernel-layout';
import { futureLayout } from './future';
import { objectTypeNames } from './object-types';
import { makeVersion } from './versions';

export const X86_PROFILES = ['xp-sp3-x86', '2003-sp2-x86', 'win7-sp1-x86', 'win7-sp1-x86-pae'] as const;
export type X86ProfileName = (typeof X86_PROFILES)[number];

const s = (size: number, fields: Record<string, number>): StructLayout => ({ size, fields });

/** Identical for every version on x86 (spec §1.1, §1.2, §1.5, §1.6, §1.11). */
const COMMON: Record<string, StructLayout> = {
  _UNICODE_STRING: s(8, { Length: 0, MaximumLength: 2, Buffer: 4 }),
  _LIST_ENTRY: s(8, { Flink: 0, Blink: 4 }),
  _DRIVER_OBJECT: s(0xa8, {
    Type: 0x00,
    Size: 0x02,
    DeviceObject: 0x04,
    Flags: 0x08,
    DriverStart: 0x0c,
    DriverSize: 0x10,
    DriverSection: 0x14,
    DriverExtension: 0x18,
    DriverName: 0x1c,
    HardwareDatabase: 0x24,
    FastIoDispatch: 0x28,
    DriverInit: 0x2c,
    DriverStartIo: 0x30,
    DriverUnload: 0x34,
    MajorFunction: 0x38,
  }),
  _FAST_IO_DISPATCH: s(0x70, { SizeOfFastIoDispatch: 0 }),
  _DEVICE_OBJECT: s(0xb8, {
    Type: 0x00,
    Size: 0x02,
    ReferenceCount: 0x04,
    DriverObject: 0x08,
    NextDevice: 0x0c,
    AttachedDevice: 0x10,
    CurrentIrp: 0x14,
    Timer: 0x18,
    Flags: 0x1c,
    Characteristics: 0x20,
    Vpb: 0x24,
    DeviceExtension: 0x28,
    DeviceType: 0x2c,
    StackSize: 0x30,
    AlignmentRequirement: 0x5c,
    SectorSize: 0xac,
    DeviceObjectExtension: 0xb0,
  }),
  _POOL_HEADER: s(8, { PoolTag: 4 }),
  // §1.12: loader entry offsets are the same XP → 10.
  _LDR_DATA_TABLE_ENTRY: s(0x50, {
    InLoadOrderLinks: 0x00,
    InMemoryOrderLinks: 0x08,
    InInitializationOrderLinks: 0x10,
    DllBase: 0x18,
    EntryPoint: 0x1c,
    SizeOfImage: 0x20,
    FullDllName: 0x24,
    BaseDllName: 0x2c,
    Flags: 0x34,
    LoadCount: 0x38,
    TimeDateStamp: 0x44,
  }),
  _OBJECT_HEADER_NAME_INFO: s(0x10, { Directory: 0, Name: 4, ReferenceCount: 0xc }),
  _OBJECT_HEADER_CREATOR_INFO: s(0x10, { TypeList: 0, CreatorUniqueProcess: 8, CreatorBackTraceIndex: 0xc }),
  _OBJECT_DIRECTORY_ENTRY: s(0xc, { ChainLink: 0, Object: 4, HashValue: 8 }),
  // §1.14
  _KUSER_SHARED_DATA: s(0x338, {
    ImageNumberLow: 0x2c,
    ImageNumberHigh: 0x2e,
    NtSystemRoot: 0x30,
    NtProductType: 0x264,
    ProductTypeIsValid: 0x268,
    NtMajorVersion: 0x26c,
    NtMinorVersion: 0x270,
    SuiteMask: 0x2d0,
    KdDebuggerEnabled: 0x2d4,
    NumberOfPhysicalPages: 0x2e8,
  }),
  // §1.15 (KPCR CPU0 at 0xFFDFF000)
  _KPCR: s(0xd70, { SelfPcr: 0x1c, Prcb: 0x20, KdVersionBlock: 0x34 }),
  _DISPATCHER_HEADER: s(0x10, { Type: 0, Size: 2 }),
  // V2vt xp_sp3_x86 / win2003_sp2_x86 / win7_sp1_x86 agree on these three.
  _IRP: s(0x70, {
    Type: 0x00,
    Size: 0x02,
    MdlAddress: 0x04,
    Flags: 0x08,
    AssociatedIrp: 0x0c,
    ThreadListEntry: 0x10,
    IoStatus: 0x18,
    RequestorMode: 0x20,
    PendingReturned: 0x21,
    StackCount: 0x22,
    CurrentLocation: 0x23,
    Cancel: 0x24,
    UserBuffer: 0x3c,
    Tail: 0x40,
  }),
  _IO_STACK_LOCATION: s(0x24, {
    MajorFunction: 0,
    MinorFunction: 1,
    Flags: 2,
    Control: 3,
    Parameters: 4,
    DeviceObject: 0x14,
    FileObject: 0x18,
    CompletionRoutine: 0x1c,
    Context: 0x20,
  }),
  _CLIENT_ID: s(8, { UniqueProcess: 0, UniqueThread: 4 }),
  // V2vt xp_sp3_x86 / win2003_sp2_x86 / win7_sp1_x86: ApcListHead[2], then the process the thread runs in.
  _KAPC_STATE: s(0x18, { ApcListHead: 0, Process: 0x10 }),
};

interface Variant {
  build: number;
  revision: number;
  servicePack: number;
  name: string;
  family: Family;
  paging: PagingMode;
  pdbName: string;
  kdbgSize: number;
  structs: Record<string, StructLayout>;
}

// Pre-Windows-7 object header (§1.8.1) and OBJECT_TYPE (§1.9 XP/2003 row).
const PRE7_OBJECTS: Record<string, StructLayout> = {
  _OBJECT_HEADER: s(0x20, {
    PointerCount: 0x00,
    HandleCount: 0x04,
    Type: 0x08,
    NameInfoOffset: 0x0c,
    HandleInfoOffset: 0x0d,
    QuotaInfoOffset: 0x0e,
    Flags: 0x0f,
    ObjectCreateInfo: 0x10,
    SecurityDescriptor: 0x14,
    Body: 0x18,
  }),
  _OBJECT_TYPE: s(0x190, {
    Mutex: 0,
    TypeList: 0x38,
    Name: 0x40,
    DefaultObject: 0x48,
    Index: 0x4c,
    TotalNumberOfObjects: 0x50,
    TypeInfo: 0x60,
    Key: 0xac,
  }),
  _DRIVER_EXTENSION: s(0x1c, { DriverObject: 0, AddDevice: 4, Count: 8, ServiceKeyName: 0xc }),
  // §1.7 sizeof XP/2003/Vista RTM
  _DEVOBJ_EXTENSION: s(0x2c, {
    Type: 0,
    Size: 2,
    DeviceObject: 4,
    PowerFlags: 8,
    Dope: 0xc,
    ExtensionFlags: 0x10,
    DeviceNode: 0x14,
    AttachedTo: 0x18,
    Vpb: 0x28,
  }),
  // V2vt xp_sp3_x86 / win2003_sp2_x86: CreationTime @0, LinkTarget @8, size 0x20.
  _OBJECT_SYMBOLIC_LINK: s(0x20, {
    CreationTime: 0,
    LinkTarget: 8,
    LinkTargetRemaining: 0x10,
    LinkTargetObject: 0x18,
    DosDeviceDriveIndex: 0x1c,
  }),
};

const WIN7_OBJECTS: Record<string, StructLayout> = {
  _OBJECT_HEADER: s(0x20, {
    PointerCount: 0x00,
    HandleCount: 0x04,
    Lock: 0x08,
    TypeIndex: 0x0c,
    TraceFlags: 0x0d,
    InfoMask: 0x0e,
    Flags: 0x0f,
    ObjectCreateInfo: 0x10,
    QuotaBlockCharged: 0x10,
    SecurityDescriptor: 0x14,
    Body: 0x18,
  }),
  _OBJECT_TYPE: s(0x88, {
    TypeList: 0,
    Name: 0x08,
    DefaultObject: 0x10,
    Index: 0x14,
    TotalNumberOfObjects: 0x18,
    TypeInfo: 0x28,
    Key: 0x7c,
  }),
  _DRIVER_EXTENSION: s(0x1c, { DriverObject: 0, AddDevice: 4, Count: 8, ServiceKeyName: 0xc }),
  _DEVOBJ_EXTENSION: s(0x3c, {
    Type: 0,
    Size: 2,
    DeviceObject: 4,
    PowerFlags: 8,
    Dope: 0xc,
    ExtensionFlags: 0x10,
    DeviceNode: 0x14,
    AttachedTo: 0x18,
    Vpb: 0x28,
  }),
  _LDR_DATA_TABLE_ENTRY: s(0x78, { ...COMMON['_LDR_DATA_TABLE_ENTRY']!.fields }),
  // V2vt win7_sp1_x86: CreationTime @0, LinkTarget @8, DosDeviceDriveIndex @0x10, size 0x18.
  _OBJECT_SYMBOLIC_LINK: s(0x18, { CreationTime: 0, LinkTarget: 8, DosDeviceDriveIndex: 0x10 }),
};

// §1.13 EPROCESS rows (Peb and sizes from V2vt).
const XP_PROCESS = {
  _KPROCESS: s(0x6c, { Header: 0, DirectoryTableBase: 0x18 }),
  _EPROCESS: s(0x260, {
    Pcb: 0,
    CreateTime: 0x70,
    UniqueProcessId: 0x84,
    ActiveProcessLinks: 0x88,
    InheritedFromUniqueProcessId: 0x14c,
    ImageFileName: 0x174,
    ThreadListHead: 0x190,
    Peb: 0x1b0,
  }),
  // XP's KTHREAD has no Process: the owner is ETHREAD.ThreadsProcess (V2vt xp_sp3_x86).
  _KTHREAD: s(0x1c0, { Header: 0, InitialStack: 0x18, Teb: 0x20, ApcState: 0x34, ThreadListEntry: 0x1b0 }),
  _ETHREAD: s(0x258, {
    Tcb: 0,
    Cid: 0x1ec,
    IrpList: 0x210,
    ThreadsProcess: 0x220,
    StartAddress: 0x224,
    Win32StartAddress: 0x228,
    ThreadListEntry: 0x22c,
  }),
  _FILE_OBJECT: s(0x70, { Type: 0, Size: 2, DeviceObject: 4, FileName: 0x30 }),
};
const W2003_PROCESS = {
  _KPROCESS: s(0x78, { Header: 0, DirectoryTableBase: 0x18 }),
  _EPROCESS: s(0x278, {
    Pcb: 0,
    CreateTime: 0x80,
    UniqueProcessId: 0x94,
    ActiveProcessLinks: 0x98,
    InheritedFromUniqueProcessId: 0x138,
    ImageFileName: 0x164,
    ThreadListHead: 0x180,
    Peb: 0x1a0,
  }),
  _KTHREAD: s(0x1b8, {
    Header: 0,
    InitialStack: 0x18,
    ApcState: 0x28,
    Teb: 0x74,
    Process: 0x128,
    ThreadListEntry: 0x1a8,
  }),
  _ETHREAD: s(0x250, {
    Tcb: 0,
    Cid: 0x1e4,
    IrpList: 0x208,
    ThreadsProcess: 0x218,
    StartAddress: 0x21c,
    Win32StartAddress: 0x220,
    ThreadListEntry: 0x224,
  }),
  _FILE_OBJECT: s(0x70, { Type: 0, Size: 2, DeviceObject: 4, FileName: 0x30 }),
};
const WIN7_PROCESS = {
  _KPROCESS: s(0x98, { Header: 0, DirectoryTableBase: 0x18 }),
  _EPROCESS: s(0x2c0, {
    Pcb: 0,
    CreateTime: 0xa0,
    UniqueProcessId: 0xb4,
    ActiveProcessLinks: 0xb8,
    InheritedFromUniqueProcessId: 0x140,
    ImageFileName: 0x16c,
    ThreadListHead: 0x188,
    Peb: 0x1a8,
  }),
  // Vista dropped ETHREAD.ThreadsProcess (ROS:sdk/include/ndk/pstypes.h): the owner is KTHREAD.Process.
  _KTHREAD: s(0x200, {
    Header: 0,
    InitialStack: 0x28,
    ApcState: 0x40,
    Teb: 0x88,
    Process: 0x150,
    ThreadListEntry: 0x1e0,
  }),
  _ETHREAD: s(0x2b8, {
    Tcb: 0,
    StartAddress: 0x218,
    Cid: 0x22c,
    IrpList: 0x24c,
    Win32StartAddress: 0x260,
    ThreadListEntry: 0x268,
  }),
  _FILE_OBJECT: s(0x80, { Type: 0, Size: 2, DeviceObject: 4, FileName: 0x30 }),
};

// KTIMER and KDPC are wdm.h's, the same on every x86 build (XP's KDPC starts with a CSHORT Type,
// the same bytes); Windows 7 keeps a timer table in each KPRCB: ntdiff/headers Win7 SP1 x86
// _KPRCB (size 0x3628, TimerTable @0x1960), _KTIMER_TABLE (TimerExpiry[16], TimerEntries @0x40,
// size 0x1840) and _KTIMER_TABLE_ENTRY { Lock @0, Entry @4, Time @0x10 } (size 0x18).
const X86_TIMERS: Record<string, StructLayout> = {
  _KTIMER: s(0x28, { Header: 0, DueTime: 0x10, TimerListEntry: 0x18, Dpc: 0x20, Period: 0x24 }),
  _KDPC: s(0x20, {
    Type: 0,
    Importance: 1,
    Number: 2,
    DpcListEntry: 4,
    DeferredRoutine: 0xc,
    DeferredContext: 0x10,
    SystemArgument1: 0x14,
    SystemArgument2: 0x18,
    DpcData: 0x1c,
  }),
};
const WIN7_X86_TIMER_TABLE: Record<string, StructLayout> = {
  _KPRCB: s(0x3628, { TimerTable: 0x1960 }),
  _KTIMER_TABLE: s(0x1840, { TimerExpiry: 0, TimerEntries: 0x40 }),
  _KTIMER_TABLE_ENTRY: s(0x18, { Lock: 0, Entry: 4, Time: 0x10 }),
};

const VARIANTS: Record<X86ProfileName, Variant> = {
  'xp-sp3-x86': {
    build: 2600,
    revision: 5512,
    servicePack: 3,
    name: 'Windows XP SP3',
    family: 'xp',
    paging: 'pae',
    // PAE kernel (XP SP2+ on NX hardware runs ntkrnlpa), spec §3.3.
    pdbName: 'ntkrnlpa.pdb',
    kdbgSize: 0x290,
    structs: {
      ...PRE7_OBJECTS,
      ...XP_PROCESS,
      ...X86_TIMERS,
      // §1.10: XP directory is 0xA4 and its entries have no HashValue (size 8).
      _OBJECT_DIRECTORY: s(0xa4, { HashBuckets: 0, Lock: 0x94, DeviceMap: 0x98 }),
      _OBJECT_DIRECTORY_ENTRY: s(8, { ChainLink: 0, Object: 4 }),
    },
  },
  '2003-sp2-x86': {
    build: 3790,
    revision: 3959,
    servicePack: 2,
    name: 'Windows Server 2003 SP2',
    family: '2003',
    paging: 'x86',
    pdbName: 'ntkrnlmp.pdb',
    kdbgSize: 0x318,
    structs: {
      ...PRE7_OBJECTS,
      ...W2003_PROCESS,
      ...X86_TIMERS,
      _OBJECT_DIRECTORY: s(0xa0, { HashBuckets: 0, Lock: 0x94, DeviceMap: 0x98 }),
    },
  },
  'win7-sp1-x86': {
    build: 7601,
    revision: 17514,
    servicePack: 1,
    name: 'Windows 7 SP1',
    family: 'win7',
    paging: 'x86',
    pdbName: 'ntkrnlmp.pdb',
    kdbgSize: 0x340,
    structs: {
      ...WIN7_OBJECTS,
      ...WIN7_PROCESS,
      ...X86_TIMERS,
      ...WIN7_X86_TIMER_TABLE,
      _OBJECT_DIRECTORY: s(0xa8, { HashBuckets: 0, Lock: 0x94, DeviceMap: 0x98 }),
    },
  },
  'win7-sp1-x86-pae': {
    build: 7601,
    revision: 17514,
    servicePack: 1,
    name: 'Windows 7 SP1 (PAE)',
    family: 'win7',
    paging: 'pae',
    pdbName: 'ntkrpamp.pdb',
    kdbgSize: 0x340,
    structs: {
      ...WIN7_OBJECTS,
      ...WIN7_PROCESS,
      ...X86_TIMERS,
      ...WIN7_X86_TIMER_TABLE,
      _OBJECT_DIRECTORY: s(0xa8, { HashBuckets: 0, Lock: 0x94, DeviceMap: 0x98 }),
    },
  },
};

/** §1.8.3 x86 sizes; Windows 7 adds PROCESS_INFO. Pre-7 headers are located by offsets, same stacking order. */
function optionalHeadersFor(family: Family): OptionalHeader[] {
  const headers: OptionalHeader[] = [
    { name: 'CREATOR_INFO', bit: 0x01, size: 0x10 },
    { name: 'NAME_INFO', bit: 0x02, size: 0x10 },
    { name: 'HANDLE_INFO', bit: 0x04, size: 0x08 },
    { name: 'QUOTA_INFO', bit: 0x08, size: 0x10 },
  ];
  if (family === 'win7') headers.push({ name: 'PROCESS_INFO', bit: 0x10, size: 0x08 });
  return headers;
}

export function isX86Profile(name: string): name is X86ProfileName {
  return (X86_PROFILES as readonly string[]).includes(name);
}

/**
 * The profile's layout. With `future`, a later update of the same build that no table describes:
 * the opaque structures moved as layout/future.ts says, a higher revision, another PDB identity.
 */
export function layoutFromX86Profile(name: string, pdbGuid: string, future = false): KernelLayout {
  if (!isX86Profile(name)) {
    throw new BuildError(`unknown --profile ${JSON.stringify(name)}; known: ${X86_PROFILES.join(', ')}`);
  }
  const layout = profileLayout(name, pdbGuid);
  if (!future) return layout;
  const version = makeVersion(
    layout.version.build,
    layout.version.revision + FUTURE_REVISION_STEP,
    `${layout.version.name} (future layout)`,
    `profile ${name} --future`,
    layout.version.servicePack,
  );
  return futureLayout({ ...layout, version }, layout.version.build, pdbGuid);
}

/** How much later than the profile's revision the --future update is. */
const FUTURE_REVISION_STEP = 1000;

function profileLayout(name: X86ProfileName, pdbGuid: string): KernelLayout {
  const variant = VARIANTS[name];
  // A profile is its name wherever the builder runs: its source and its identity are one.
  const source = `profile ${name} (../shared/spec/windows-memory.md)`;
  const structs: Record<string, StructLayout> = { ...COMMON, ...variant.structs };
  structs['_KLDR_DATA_TABLE_ENTRY'] = structs['_LDR_DATA_TABLE_ENTRY']!;
  return {
    arch: 'x86',
    paging: variant.paging,
    pointerSize: 4,
    version: makeVersion(
      variant.build,
      variant.revision,
      variant.name,
      `profile ${name}`,
      variant.servicePack,
    ),
    pdb: { name: variant.pdbName, guid: pdbGuid, age: 1, synthetic: true },
    layoutSource: source,
    layoutIdentity: source,
    structs,
    symbols: new Map(),
    symbolSpan: 0,
    objectHeader: variant.family === 'win7' ? 'type-index' : 'type-pointer',
    typeIndexEncoded: false,
    protectedPoolTags: true,
    optionalHeaders: optionalHeadersFor(variant.family),
    kdbgSize: variant.kdbgSize,
    kdbgEncoded: false,
    segmentHeap: false,
    objectTypes: objectTypeNames(variant.family, variant.build),
    randomSelfMap: false,
    variant: { kind: 'as-described', layoutBuild: variant.build, moves: [] },
  };
}
