// The fields the engine reads, by structure: the contract every profile must honour and the list
// the ISF agreement test walks. Names are the PDB's (as in ISF files), leading underscore included.

import { FAST_IO_NAMES } from '../../common/windows';
import { KDBG_STRUCT } from './kdbg';
import type { LayoutProfile, ObjectHeaderGeneration } from './types';

export const ENGINE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  _UNICODE_STRING: ['Length', 'MaximumLength', 'Buffer'],
  _LIST_ENTRY: ['Flink', 'Blink'],
  _DRIVER_OBJECT: [
    'Type',
    'Size',
    'DeviceObject',
    'Flags',
    'DriverStart',
    'DriverSize',
    'DriverSection',
    'DriverExtension',
    'DriverName',
    'HardwareDatabase',
    'FastIoDispatch',
    'DriverInit',
    'DriverStartIo',
    'DriverUnload',
    'MajorFunction',
  ],
  _DRIVER_EXTENSION: ['DriverObject', 'AddDevice', 'Count', 'ServiceKeyName'],
  _FAST_IO_DISPATCH: ['SizeOfFastIoDispatch', ...FAST_IO_NAMES],
  _DEVICE_OBJECT: [
    'Type',
    'Size',
    'ReferenceCount',
    'DriverObject',
    'NextDevice',
    'AttachedDevice',
    'CurrentIrp',
    'Flags',
    'Characteristics',
    'Vpb',
    'DeviceExtension',
    'DeviceType',
    'StackSize',
    'SectorSize',
    'DeviceObjectExtension',
  ],
  _DEVOBJ_EXTENSION: ['Type', 'Size', 'DeviceObject', 'AttachedTo'],
  _OBJECT_HEADER: ['PointerCount', 'HandleCount', 'Flags', 'Body'],
  _OBJECT_HEADER_NAME_INFO: ['Directory', 'Name'],
  _OBJECT_HEADER_CREATOR_INFO: [],
  _OBJECT_HEADER_HANDLE_INFO: [],
  _OBJECT_HEADER_QUOTA_INFO: [],
  _OBJECT_HEADER_PROCESS_INFO: [],
  _OBJECT_HEADER_AUDIT_INFO: [],
  _OBJECT_HEADER_HANDLE_REVOCATION_INFO: [],
  _OBJECT_HEADER_EXTENDED_INFO: [],
  _OBJECT_HEADER_PADDING_INFO: ['PaddingAmount'],
  _OBJECT_TYPE: ['Name', 'Index', 'Key'],
  _OBJECT_DIRECTORY: ['HashBuckets'],
  _OBJECT_DIRECTORY_ENTRY: ['ChainLink', 'Object', 'HashValue'],
  _OBJECT_SYMBOLIC_LINK: ['LinkTarget'],
  _POOL_HEADER: ['PreviousSize', 'PoolIndex', 'BlockSize', 'PoolType', 'PoolTag'],
  _LDR_DATA_TABLE_ENTRY: [
    'InLoadOrderLinks',
    'DllBase',
    'EntryPoint',
    'SizeOfImage',
    'FullDllName',
    'BaseDllName',
    'Flags',
  ],
  _EPROCESS: [
    'UniqueProcessId',
    'ActiveProcessLinks',
    'ImageFileName',
    'ThreadListHead',
    'InheritedFromUniqueProcessId',
  ],
  _ETHREAD: ['Cid', 'ThreadListEntry', 'StartAddress', 'Win32StartAddress', 'IrpList'],
  _CLIENT_ID: ['UniqueProcess', 'UniqueThread'],
  _IRP: [
    'Type',
    'Size',
    'Flags',
    'AssociatedIrp',
    'ThreadListEntry',
    'RequestorMode',
    'StackCount',
    'CurrentLocation',
    'Cancel',
    'UserBuffer',
    'Tail',
  ],
  _IO_STACK_LOCATION: [
    'MajorFunction',
    'MinorFunction',
    'Flags',
    'Control',
    'Parameters',
    'DeviceObject',
    'FileObject',
    'CompletionRoutine',
    'Context',
  ],
  _FILE_OBJECT: ['Type', 'DeviceObject', 'FileName'],
  _KPROCESS: ['DirectoryTableBase'],
  _KUSER_SHARED_DATA: [
    'NtBuildNumber',
    'NtProductType',
    'NtMajorVersion',
    'NtMinorVersion',
    'ImageNumberLow',
    'ImageNumberHigh',
    'Reserved1',
    'NumberOfPhysicalPages',
  ],
  _DBGKD_GET_VERSION64: [
    'MajorVersion',
    'MinorVersion',
    'ProtocolVersion',
    'Flags',
    'MachineType',
    'KernBase',
    'PsLoadedModuleList',
    'DebuggerDataList',
  ],
  [KDBG_STRUCT]: [
    'OwnerTag',
    'Size',
    'KernBase',
    'PsLoadedModuleList',
    'PsActiveProcessHead',
    'ObpRootDirectoryObject',
    'MmPfnDatabase',
  ],
};

/** §1.8.1 / §1.8.2: the object-header fields that exist in one generation only. */
export const OBJECT_HEADER_GENERATION_FIELDS: Readonly<Record<ObjectHeaderGeneration, readonly string[]>> = {
  'pre-win7': ['Type', 'NameInfoOffset', 'HandleInfoOffset', 'QuotaInfoOffset'],
  'win7+': ['TypeIndex', 'TraceFlags', 'InfoMask'],
};

/**
 * Parts of ENGINE_FIELDS that some versions lack by design: optional headers introduced later
 * (§1.8.3), NtBuildNumber before Windows 10 (§1.14), HashValue on XP / 2003 RTM x86 (§1.10).
 */
const VERSION_DEPENDENT = new Set([
  '_OBJECT_HEADER_PROCESS_INFO',
  '_OBJECT_HEADER_AUDIT_INFO',
  '_OBJECT_HEADER_HANDLE_REVOCATION_INFO',
  '_OBJECT_HEADER_EXTENDED_INFO',
  '_OBJECT_HEADER_PADDING_INFO',
  '_KUSER_SHARED_DATA.NtBuildNumber',
  '_OBJECT_DIRECTORY_ENTRY.HashValue',
]);

/** `struct` or `struct.field` entries the engine needs and the profile lacks (empty when complete). */
export function missingEngineFields(profile: LayoutProfile): string[] {
  const missing: string[] = [];
  const fieldsOf = (struct: string): readonly string[] => [
    ...(ENGINE_FIELDS[struct] ?? []),
    ...(struct === '_OBJECT_HEADER' ? OBJECT_HEADER_GENERATION_FIELDS[profile.objectHeader.generation] : []),
  ];
  for (const struct of Object.keys(ENGINE_FIELDS)) {
    if (!profile.hasStruct(struct)) {
      if (!VERSION_DEPENDENT.has(struct)) missing.push(struct);
      continue;
    }
    for (const field of fieldsOf(struct)) {
      if (!profile.hasField(struct, field) && !VERSION_DEPENDENT.has(`${struct}.${field}`)) {
        missing.push(`${struct}.${field}`);
      }
    }
  }
  return missing;
}
