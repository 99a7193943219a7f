// Layouts that keep their shape in every Windows version of an architecture, written once in the
// spec's two-column form [x86, x64]. Structures whose size changes between versions export only
// their fields here; each version table states the size.
// Sources: ../shared/spec/windows-memory.md §1 (section per structure); V2vt = Volatility 2
// `*_vtypes.py` (the spec's source key); ISF = ../shared/isf/windows/ntkrnlmp.pdb/*.json.xz.

import { FAST_IO_NAMES } from '../../../common/windows';
import type { Arch, FieldLayout, StructLayout } from '../types';
import {
  array,
  at,
  fieldsFor,
  structFor,
  type DualFields,
  type DualRow,
  type DualStruct,
  type StructPatch,
} from './dsl';

/** §1.1 */
export const UNICODE_STRING: DualStruct = {
  size: [0x08, 0x10],
  fields: {
    Length: [0x00, 0x00, 'u16'],
    MaximumLength: [0x02, 0x02, 'u16'],
    Buffer: [0x04, 0x08, 'ptr'],
  },
};

/** §1.1 */
export const LIST_ENTRY: DualStruct = {
  size: [0x08, 0x10],
  fields: { Flink: [0x00, 0x00, 'ptr'], Blink: [0x04, 0x08, 'ptr'] },
};

/** §1.2: identical for every version per architecture. */
export const DRIVER_OBJECT: DualStruct = {
  size: [0xa8, 0x150],
  fields: {
    Type: [0x00, 0x00, 'i16'],
    Size: [0x02, 0x02, 'i16'],
    DeviceObject: [0x04, 0x08, 'ptr'],
    Flags: [0x08, 0x10, 'u32'],
    DriverStart: [0x0c, 0x18, 'ptr'],
    DriverSize: [0x10, 0x20, 'u32'],
    DriverSection: [0x14, 0x28, 'ptr'],
    DriverExtension: [0x18, 0x30, 'ptr'],
    DriverName: [0x1c, 0x38, 'UNICODE_STRING'],
    HardwareDatabase: [0x24, 0x48, 'ptr'],
    FastIoDispatch: [0x28, 0x50, 'ptr'],
    DriverInit: [0x2c, 0x58, 'ptr'],
    DriverStartIo: [0x30, 0x60, 'ptr'],
    DriverUnload: [0x34, 0x68, 'ptr'],
    MajorFunction: [0x38, 0x70, { array: 'ptr', count: 28 }],
  },
};

/** §1.5: SizeOfFastIoDispatch, then the 27 routines; slot k (1-based) at k × pointer size. */
export const FAST_IO_DISPATCH: DualStruct = {
  size: [0x70, 0xe0],
  fields: Object.fromEntries<DualRow>([
    ['SizeOfFastIoDispatch', [0x00, 0x00, 'u32']],
    ...FAST_IO_NAMES.map((name, i): [string, DualRow] => [name, [4 * (i + 1), 8 * (i + 1), 'ptr']]),
  ]),
};

/** §1.6: identical for every version per architecture. */
export const DEVICE_OBJECT: DualStruct = {
  size: [0xb8, 0x150],
  fields: {
    Type: [0x00, 0x00, 'i16'],
    Size: [0x02, 0x02, 'u16'],
    ReferenceCount: [0x04, 0x04, 'i32'],
    DriverObject: [0x08, 0x08, 'ptr'],
    NextDevice: [0x0c, 0x10, 'ptr'],
    AttachedDevice: [0x10, 0x18, 'ptr'],
    CurrentIrp: [0x14, 0x20, 'ptr'],
    Flags: [0x1c, 0x30, 'u32'],
    Characteristics: [0x20, 0x34, 'u32'],
    Vpb: [0x24, 0x38, 'ptr'],
    DeviceExtension: [0x28, 0x40, 'ptr'],
    DeviceType: [0x2c, 0x48, 'u32'],
    StackSize: [0x30, 0x4c, 'i8'],
    SectorSize: [0xac, 0x130, 'u16'],
    DeviceObjectExtension: [0xb0, 0x138, 'ptr'],
  },
};

/** §1.4 (the size grows in 8.0 and 8.1; see the version tables). */
export const DRIVER_EXTENSION_FIELDS: DualFields = {
  DriverObject: [0x00, 0x00, 'ptr'],
  AddDevice: [0x04, 0x08, 'ptr'],
  Count: [0x08, 0x10, 'u32'],
  ServiceKeyName: [0x0c, 0x18, 'UNICODE_STRING'],
};

/** §1.7 (size per version). */
export const DEVOBJ_EXTENSION_FIELDS: DualFields = {
  Type: [0x00, 0x00, 'i16'],
  Size: [0x02, 0x02, 'u16'],
  DeviceObject: [0x04, 0x08, 'ptr'],
  AttachedTo: [0x18, 0x30, 'ptr'],
};

/** §1.8.1; sizeof 0x20 / 0x38 with the body as its last quadword (V2vt:*, ISF). */
export const OBJECT_HEADER_PRE_WIN7: DualStruct = {
  size: [0x20, 0x38],
  fields: {
    PointerCount: [0x00, 0x00, 'ptr'],
    HandleCount: [0x04, 0x08, 'ptr'],
    Type: [0x08, 0x10, 'ptr'],
    NameInfoOffset: [0x0c, 0x18, 'u8'],
    HandleInfoOffset: [0x0d, 0x19, 'u8'],
    QuotaInfoOffset: [0x0e, 0x1a, 'u8'],
    Flags: [0x0f, 0x1b, 'u8'],
    Body: [0x18, 0x30, 'quad'],
  },
};

/** §1.8.2: Windows 7 replaces the Type pointer and the three offset bytes; the size stays. */
export function objectHeaderWin7Patch(arch: Arch): StructPatch {
  return {
    fields: {
      Type: null,
      NameInfoOffset: null,
      HandleInfoOffset: null,
      QuotaInfoOffset: null,
      ...fieldsFor(
        {
          TypeIndex: [0x0c, 0x18, 'u8'],
          TraceFlags: [0x0d, 0x19, 'u8'],
          InfoMask: [0x0e, 0x1a, 'u8'],
        },
        arch,
      ),
    },
  };
}

/** §1.8.3: optional headers, by size; the engine needs the fields of NAME_INFO and PADDING_INFO only. */
export const OBJECT_HEADER_NAME_INFO: DualStruct = {
  size: [0x10, 0x20],
  fields: { Directory: [0x00, 0x00, 'ptr'], Name: [0x04, 0x08, 'UNICODE_STRING'] },
};
export const OBJECT_HEADER_CREATOR_INFO: DualStruct = { size: [0x10, 0x20], fields: {} };
export const OBJECT_HEADER_HANDLE_INFO: DualStruct = { size: [0x08, 0x10], fields: {} };
export const OBJECT_HEADER_QUOTA_INFO: DualStruct = { size: [0x10, 0x20], fields: {} };
export const OBJECT_HEADER_PROCESS_INFO: DualStruct = { size: [0x08, 0x10], fields: {} };
export const OBJECT_HEADER_AUDIT_INFO: DualStruct = { size: [0x08, 0x10], fields: {} };
export const OBJECT_HEADER_HANDLE_REVOCATION_INFO: DualStruct = { size: [0x10, 0x20], fields: {} };
export const OBJECT_HEADER_EXTENDED_INFO: DualStruct = { size: [0x08, 0x10], fields: {} };
export const OBJECT_HEADER_PADDING_INFO: DualStruct = {
  size: [0x04, 0x04],
  fields: { PaddingAmount: [0x00, 0x00, 'u32'] },
};

/** §1.10: 37 bucket heads; the rest of the directory varies (size per version). */
export const OBJECT_DIRECTORY_FIELDS: DualFields = {
  HashBuckets: [0x00, 0x00, { array: 'ptr', count: 37 }],
};

/** §1.10: Object is the object's body. */
export const OBJECT_DIRECTORY_ENTRY_FIELDS: DualFields = {
  ChainLink: [0x00, 0x00, 'ptr'],
  Object: [0x04, 0x08, 'ptr'],
};

/** §1.10: from 2003 SP1 on (x86 XP / 2003 RTM entries are 8 bytes without it). */
export const OBJECT_DIRECTORY_ENTRY_HASH: DualFields = { HashValue: [0x08, 0x10, 'u32'] };

/**
 * Not in the spec. LinkTarget follows an 8-byte CreationTime (LARGE_INTEGER) on both
 * architectures in every V2vt profile (xp_sp2_x86 … win10_x64_19041) and every ISF file.
 */
export const OBJECT_SYMBOLIC_LINK_FIELDS: DualFields = {
  LinkTarget: [0x08, 0x08, 'UNICODE_STRING'],
};

/** §1.12: identical offsets XP → 10 (sizes per version). */
export const LDR_DATA_TABLE_ENTRY_FIELDS: DualFields = {
  InLoadOrderLinks: [0x00, 0x00, 'LIST_ENTRY'],
  DllBase: [0x18, 0x30, 'ptr'],
  EntryPoint: [0x1c, 0x38, 'ptr'],
  SizeOfImage: [0x20, 0x40, 'u32'],
  FullDllName: [0x24, 0x48, 'UNICODE_STRING'],
  BaseDllName: [0x2c, 0x58, 'UNICODE_STRING'],
  Flags: [0x34, 0x68, 'u32'],
};

/**
 * §1.14: the same offsets on both architectures. Reserved1 (0x7FFEFFFF on Vista+, used to validate
 * a DTB candidate, §3.1) is defined at 0x2B4 in every V2vt profile and ISF file.
 */
export const KUSER_SHARED_DATA_FIELDS: DualFields = {
  ImageNumberLow: [0x2c, 0x2c, 'u16'],
  ImageNumberHigh: [0x2e, 0x2e, 'u16'],
  NtProductType: [0x264, 0x264, 'u32'],
  NtMajorVersion: [0x26c, 0x26c, 'u32'],
  NtMinorVersion: [0x270, 0x270, 'u32'],
  Reserved1: [0x2b4, 0x2b4, 'u32'],
  NumberOfPhysicalPages: [0x2e8, 0x2e8, 'u32'],
};

/** §1.14: Windows 10+ only. */
export const KUSER_NT_BUILD_NUMBER: DualFields = { NtBuildNumber: [0x260, 0x260, 'u32'] };

/**
 * §1.15 (size 0x28, same on both architectures). ProtocolVersion is a byte followed by
 * KdSecondaryVersion from 2003 SP1 on (V2vt:win2003_sp1_x86, every ISF file); XP and 2003 RTM
 * declare a 16-bit ProtocolVersion (V2vt:xp_sp2_x86, win2003_sp0_x86).
 */
export const DBGKD_GET_VERSION64: DualStruct = {
  size: [0x28, 0x28],
  fields: {
    MajorVersion: [0x00, 0x00, 'u16'],
    MinorVersion: [0x02, 0x02, 'u16'],
    ProtocolVersion: [0x04, 0x04, 'u8'],
    KdSecondaryVersion: [0x05, 0x05, 'u8'],
    Flags: [0x06, 0x06, 'u16'],
    MachineType: [0x08, 0x08, 'u16'],
    KernBase: [0x10, 0x10, 'u64'],
    PsLoadedModuleList: [0x18, 0x18, 'u64'],
    DebuggerDataList: [0x20, 0x20, 'u64'],
  },
};

/**
 * §1.13: the EPROCESS fields, whose offsets move in almost every version (written per table).
 * ImageFileName is 16 bytes before Windows 7 and 15 from 7 on (V2vt, ISF).
 */
export function processFields(
  arch: Arch,
  uniqueProcessId: number,
  activeProcessLinks: number,
  imageFileName: number,
  nameLength: 15 | 16,
): Record<string, FieldLayout> {
  const pointerSize = arch === 'x64' ? 8 : 4;
  return {
    UniqueProcessId: at(uniqueProcessId, pointerSize),
    ActiveProcessLinks: at(activeProcessLinks, 2 * pointerSize),
    ImageFileName: array(imageFileName, 1, nameLength),
  };
}

/**
 * The ETHREAD fields the thread walk reads. They move together whenever KTHREAD grows, so each
 * table states all five (V2vt:<profile> per version; the ISF file where the table cites one).
 */
export function threadFields(
  arch: Arch,
  cid: number,
  threadListEntry: number,
  startAddress: number,
  win32StartAddress: number,
  irpList: number,
): StructPatch {
  const pointerSize = arch === 'x64' ? 8 : 4;
  return {
    fields: {
      Cid: at(cid, 2 * pointerSize),
      ThreadListEntry: at(threadListEntry, 2 * pointerSize),
      StartAddress: at(startAddress, pointerSize),
      Win32StartAddress: at(win32StartAddress, pointerSize),
      IrpList: at(irpList, 2 * pointerSize),
    },
  };
}

/**
 * EPROCESS.ThreadListHead (the head of the process's ETHREAD.ThreadListEntry chain) and
 * InheritedFromUniqueProcessId (the parent's PID) (V2vt, ISF).
 */
export function processLinks(
  arch: Arch,
  threadListHead: number,
  inheritedFromUniqueProcessId: number,
): Record<string, FieldLayout> {
  const pointerSize = arch === 'x64' ? 8 : 4;
  return {
    ThreadListHead: at(threadListHead, 2 * pointerSize),
    InheritedFromUniqueProcessId: at(inheritedFromUniqueProcessId, pointerSize),
  };
}

/**
 * IRP (wdm.h; V2vt:xp_sp3_x86, win2003_sp2_x86, win7_sp1_x86 and every ISF file agree). Tail is
 * the Overlay union: DriverContext[4], Thread, AuxiliaryBuffer, ListEntry, CurrentStackLocation,
 * OriginalFileObject, read at fixed pointer-size steps from Tail.
 */
export function irpStruct(arch: Arch): StructLayout {
  const x64 = arch === 'x64';
  const [p, o] = x64 ? [8, (_: number, b: number) => b] : [4, (a: number) => a];
  return {
    size: x64 ? 0xd0 : 0x70,
    fields: {
      Type: at(0, 2),
      Size: at(2, 2),
      MdlAddress: at(o(0x04, 0x08), p),
      Flags: at(o(0x08, 0x10), 4),
      AssociatedIrp: at(o(0x0c, 0x18), p),
      ThreadListEntry: at(o(0x10, 0x20), 2 * p),
      IoStatus: at(o(0x18, 0x30), 2 * p),
      RequestorMode: at(o(0x20, 0x40), 1),
      PendingReturned: at(o(0x21, 0x41), 1),
      StackCount: at(o(0x22, 0x42), 1),
      CurrentLocation: at(o(0x23, 0x43), 1),
      Cancel: at(o(0x24, 0x44), 1),
      UserBuffer: at(o(0x3c, 0x70), p),
      Tail: at(o(0x40, 0x78), x64 ? 0x58 : 0x30),
    },
  };
}

/** IO_STACK_LOCATION (same sources as IRP); Parameters is a union read per major function. */
export function ioStackLocationStruct(arch: Arch): StructLayout {
  const x64 = arch === 'x64';
  const [p, o] = x64 ? [8, (_: number, b: number) => b] : [4, (a: number) => a];
  return {
    size: x64 ? 0x48 : 0x24,
    fields: {
      MajorFunction: at(0, 1),
      MinorFunction: at(1, 1),
      Flags: at(2, 1),
      Control: at(3, 1),
      Parameters: at(o(0x04, 0x08), 4 * p),
      DeviceObject: at(o(0x14, 0x28), p),
      FileObject: at(o(0x18, 0x30), p),
      CompletionRoutine: at(o(0x1c, 0x38), p),
      Context: at(o(0x20, 0x40), p),
    },
  };
}

/** CLIENT_ID (V2vt, ISF). */
export const CLIENT_ID: DualStruct = {
  size: [0x08, 0x10],
  fields: { UniqueProcess: [0x00, 0x00, 'ptr'], UniqueThread: [0x04, 0x08, 'ptr'] },
};

/** FILE_OBJECT's leading fields, the same XP → 11 (its size grows: 0x70/0x80 x86, 0xb8/0xd8 x64). */
export const FILE_OBJECT_FIELDS: DualFields = {
  Type: [0x00, 0x00, 'i16'],
  Size: [0x02, 0x02, 'i16'],
  DeviceObject: [0x04, 0x08, 'ptr'],
  FileName: [0x30, 0x58, 'UNICODE_STRING'],
};

/** The structures every table of an architecture starts from. */
export function invariantStructs(arch: Arch): Record<string, StructLayout> {
  return {
    _UNICODE_STRING: structFor(UNICODE_STRING, arch),
    _LIST_ENTRY: structFor(LIST_ENTRY, arch),
    _DRIVER_OBJECT: structFor(DRIVER_OBJECT, arch),
    _FAST_IO_DISPATCH: structFor(FAST_IO_DISPATCH, arch),
    _DEVICE_OBJECT: structFor(DEVICE_OBJECT, arch),
    _OBJECT_HEADER_NAME_INFO: structFor(OBJECT_HEADER_NAME_INFO, arch),
    _OBJECT_HEADER_CREATOR_INFO: structFor(OBJECT_HEADER_CREATOR_INFO, arch),
    _DBGKD_GET_VERSION64: structFor(DBGKD_GET_VERSION64, arch),
    _IRP: irpStruct(arch),
    _IO_STACK_LOCATION: ioStackLocationStruct(arch),
    _CLIENT_ID: structFor(CLIENT_ID, arch),
    _FILE_OBJECT: { fields: fieldsFor(FILE_OBJECT_FIELDS, arch) },
  };
}
