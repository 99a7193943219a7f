// 32-bit Windows layouts, XP → 10 19041: one full table for XP, then each version as a delta of
// the one before. No 32-bit ISF exists; every fact is from ../shared/spec/windows-memory.md §1 or
// the Volatility 2 profiles the spec was extracted from (V2vt:<profile>, its source key §0).

import type { StructLayout } from '../types';
import { applyPatch, array, at, bits, fieldsFor, structFor, type DualFields, type TableDef } from './dsl';
import {
  DBGKD_GET_VERSION64,
  DEVOBJ_EXTENSION_FIELDS,
  DRIVER_EXTENSION_FIELDS,
  KUSER_NT_BUILD_NUMBER,
  KUSER_SHARED_DATA_FIELDS,
  LDR_DATA_TABLE_ENTRY_FIELDS,
  OBJECT_DIRECTORY_ENTRY_FIELDS,
  OBJECT_DIRECTORY_ENTRY_HASH,
  OBJECT_DIRECTORY_FIELDS,
  OBJECT_HEADER_AUDIT_INFO,
  OBJECT_HEADER_EXTENDED_INFO,
  OBJECT_HEADER_HANDLE_INFO,
  OBJECT_HEADER_HANDLE_REVOCATION_INFO,
  OBJECT_HEADER_PADDING_INFO,
  OBJECT_HEADER_PRE_WIN7,
  OBJECT_HEADER_PROCESS_INFO,
  OBJECT_HEADER_QUOTA_INFO,
  OBJECT_SYMBOLIC_LINK_FIELDS,
  invariantStructs,
  objectHeaderWin7Patch,
  processFields,
  threadFields,
  processLinks,
} from './shared';

const ARCH = 'x86';
const fields = (rows: DualFields) => fieldsFor(rows, ARCH);
const sized = (size: number, rows: DualFields): StructLayout => ({
  size,
  fields: fields(rows),
});

export const X86_XP: TableDef = {
  id: 'x86-xp',
  name: 'Windows XP SP2/SP3 x86 (2600)',
  arch: ARCH,
  build: 2600,
  cite: ['§1.1–§1.15', 'V2vt:xp_sp2_x86', 'V2vt:xp_sp3_x86'],
  dispatcherSignature: [0x03, 0x00, 0x1b, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x1ec, 0x22c, 0x224, 0x228, 0x210),
    ...invariantStructs(ARCH),
    _DRIVER_EXTENSION: sized(0x1c, DRIVER_EXTENSION_FIELDS),
    _DEVOBJ_EXTENSION: sized(0x2c, DEVOBJ_EXTENSION_FIELDS),
    _OBJECT_HEADER: structFor(OBJECT_HEADER_PRE_WIN7, ARCH),
    // §1.8.3: the XP profile does not define these two; sizes as in 2003 and ReactOS (§6).
    _OBJECT_HEADER_HANDLE_INFO: structFor(OBJECT_HEADER_HANDLE_INFO, ARCH),
    _OBJECT_HEADER_QUOTA_INFO: structFor(OBJECT_HEADER_QUOTA_INFO, ARCH),
    // §1.9
    _OBJECT_TYPE: { size: 0x190, fields: { Name: at(0x40, 8), Index: at(0x4c, 4), Key: at(0xac, 4) } },
    _OBJECT_DIRECTORY: sized(0xa4, OBJECT_DIRECTORY_FIELDS),
    // §1.10: no HashValue on XP / 2003 RTM.
    _OBJECT_DIRECTORY_ENTRY: sized(0x08, OBJECT_DIRECTORY_ENTRY_FIELDS),
    _OBJECT_SYMBOLIC_LINK: sized(0x20, OBJECT_SYMBOLIC_LINK_FIELDS),
    // §1.11: 9-bit / 7-bit fields of two USHORTs.
    _POOL_HEADER: {
      size: 0x08,
      fields: {
        PreviousSize: bits(0, 2, 0, 9),
        PoolIndex: bits(0, 2, 9, 7),
        BlockSize: bits(2, 2, 0, 9),
        PoolType: bits(2, 2, 9, 7),
        PoolTag: at(4, 4),
      },
    },
    _LDR_DATA_TABLE_ENTRY: sized(0x50, LDR_DATA_TABLE_ENTRY_FIELDS),
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x84, 0x88, 0x174, 16), ...processLinks(ARCH, 0x190, 0x14c) },
    },
    // §1.13: ULONG[2] on XP/2003.
    _KPROCESS: { size: 0x6c, fields: { DirectoryTableBase: array(0x18, 4, 2) } },
    _KUSER_SHARED_DATA: sized(0x338, KUSER_SHARED_DATA_FIELDS),
    _DBGKD_GET_VERSION64: applyPatch(
      structFor(DBGKD_GET_VERSION64, ARCH),
      { fields: { ProtocolVersion: at(4, 2), KdSecondaryVersion: null } },
      'x86-xp',
    ),
  },
};

export const X86_2003_RTM: TableDef = {
  id: 'x86-2003-rtm',
  name: 'Windows Server 2003 RTM x86 (3790)',
  arch: ARCH,
  build: 3790,
  servicePack: 0,
  base: X86_XP,
  cite: ['§1.13', 'V2vt:win2003_sp0_x86'],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x1f4, 0x234, 0x22c, 0x230, 0x218),
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x84, 0x88, 0x154, 16), ...processLinks(ARCH, 0x170, 0x128) },
    },
    _OBJECT_DIRECTORY: { size: 0xa0 },
    _KUSER_SHARED_DATA: { size: 0x330 },
  },
};

export const X86_2003_SP1: TableDef = {
  id: 'x86-2003-sp1',
  name: 'Windows Server 2003 SP1/SP2 x86 (3790)',
  arch: ARCH,
  build: 3790,
  servicePack: 1,
  base: X86_2003_RTM,
  cite: ['§1.10', '§1.13', 'V2vt:win2003_sp1_x86', 'V2vt:win2003_sp2_x86'],
  dispatcherSignature: [0x03, 0x00, 0x1e, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x1e4, 0x224, 0x21c, 0x220, 0x208),
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x94, 0x98, 0x164, 16), ...processLinks(ARCH, 0x180, 0x138) },
    },
    _KPROCESS: { size: 0x78 },
    _KUSER_SHARED_DATA: { size: 0x378 },
    _OBJECT_DIRECTORY_ENTRY: { size: 0x0c, fields: fields(OBJECT_DIRECTORY_ENTRY_HASH) },
    _DBGKD_GET_VERSION64: { fields: { ProtocolVersion: at(4, 1), KdSecondaryVersion: at(5, 1) } },
  },
};

export const X86_VISTA_RTM: TableDef = {
  id: 'x86-vista-rtm',
  name: 'Windows Vista RTM x86 (6000)',
  arch: ARCH,
  build: 6000,
  base: X86_2003_SP1,
  cite: ['§1.13', 'V2vt:vista_sp0_x86'],
  dispatcherSignature: [0x03, 0x00, 0x20, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x20c, 0x248, 0x1f8, 0x240, 0x22c),
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x9c, 0xa0, 0x14c, 16), ...processLinks(ARCH, 0x168, 0x124) },
    },
    _KPROCESS: { size: 0x80, fields: { DirectoryTableBase: at(0x18, 4) } },
    _KUSER_SHARED_DATA: { size: 0x3b8 },
    _LDR_DATA_TABLE_ENTRY: { size: 0x68 },
    _OBJECT_DIRECTORY: { size: 0xa8 },
    _OBJECT_TYPE: { size: 0x130 },
  },
};

export const X86_VISTA_SP1: TableDef = {
  id: 'x86-vista-sp1',
  name: 'Windows Vista SP1 / Server 2008 x86 (6001)',
  arch: ARCH,
  build: 6001,
  base: X86_VISTA_RTM,
  cite: ['§1.7', '§1.9', 'V2vt:vista_sp1_x86'],
  structs: {
    _DEVOBJ_EXTENSION: { size: 0x3c },
    _OBJECT_TYPE: { size: 0x140, fields: { Name: at(0x08, 8), Index: at(0x14, 4), Key: at(0xb4, 4) } },
  },
};

export const X86_VISTA_SP2: TableDef = {
  id: 'x86-vista-sp2',
  name: 'Windows Vista SP2 / Server 2008 SP2 x86 (6002)',
  arch: ARCH,
  build: 6002,
  base: X86_VISTA_SP1,
  cite: ['V2vt:vista_sp2_x86 (no change from SP1)'],
  structs: {},
};

export const X86_7_RTM: TableDef = {
  id: 'x86-7-rtm',
  name: 'Windows 7 RTM x86 (7600)',
  arch: ARCH,
  build: 7600,
  base: X86_VISTA_SP2,
  cite: ['§1.8.2', '§1.8.3', '§1.9', '§1.13', 'V2vt:win7_sp0_x86'],
  dispatcherSignature: [0x03, 0x00, 0x26, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x22c, 0x268, 0x218, 0x260, 0x24c),
    _OBJECT_HEADER: objectHeaderWin7Patch(ARCH),
    _OBJECT_HEADER_PROCESS_INFO: structFor(OBJECT_HEADER_PROCESS_INFO, ARCH),
    _OBJECT_TYPE: { size: 0x88, fields: { Index: at(0x14, 1), Key: at(0x7c, 4) } },
    _OBJECT_SYMBOLIC_LINK: { size: 0x18 },
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0xb4, 0xb8, 0x16c, 15), ...processLinks(ARCH, 0x188, 0x140) },
    },
    _KPROCESS: { size: 0x98 },
    _KUSER_SHARED_DATA: { size: 0x5f0 },
    _LDR_DATA_TABLE_ENTRY: { size: 0x78 },
  },
};

export const X86_7_SP1: TableDef = {
  id: 'x86-7-sp1',
  name: 'Windows 7 SP1 x86 (7601)',
  arch: ARCH,
  build: 7601,
  base: X86_7_RTM,
  cite: ['V2vt:win7_sp1_x86 (no change from RTM)'],
  structs: {},
};

export const X86_8: TableDef = {
  id: 'x86-8',
  name: 'Windows 8 x86 (9200)',
  arch: ARCH,
  build: 9200,
  base: X86_7_SP1,
  cite: ['§1.4', '§1.8.3', '§1.9', '§1.13', 'V2vt:win8_sp0_x86'],
  dispatcherSignature: [0x03, 0x00, 0x28, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x214, 0x24c, 0x200, 0x244, 0x234),
    _DRIVER_EXTENSION: { size: 0x24 },
    _OBJECT_HEADER_AUDIT_INFO: structFor(OBJECT_HEADER_AUDIT_INFO, ARCH),
    _OBJECT_HEADER_PADDING_INFO: structFor(OBJECT_HEADER_PADDING_INFO, ARCH),
    _OBJECT_TYPE: { size: 0x90, fields: { Key: at(0x84, 4) } },
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0xb4, 0xb8, 0x170, 15), ...processLinks(ARCH, 0x194, 0x134) },
    },
    _KPROCESS: { size: 0xa0 },
    _LDR_DATA_TABLE_ENTRY: { size: 0x98 },
  },
};

export const X86_81: TableDef = {
  id: 'x86-8.1',
  name: 'Windows 8.1 x86 (9600)',
  arch: ARCH,
  build: 9600,
  base: X86_8,
  cite: ['§1.4', '§1.7', 'V2vt:win8_sp1_x86', 'V2vt:win81_u1_x86'],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x364, 0x39c, 0x350, 0x394, 0x384),
    _DRIVER_EXTENSION: { size: 0x28 },
    _DEVOBJ_EXTENSION: { size: 0x34 },
    _LDR_DATA_TABLE_ENTRY: { size: 0xa0 },
  },
};

export const X86_10_9841: TableDef = {
  id: 'x86-10-9841',
  name: 'Windows 10 preview x86 (9841)',
  arch: ARCH,
  build: 9841,
  base: X86_81,
  cite: ['§1.7', '§1.8.3', '§1.13', '§1.14', 'V2vt:win10_x86'],
  dispatcherSignature: [0x03, 0x00, 0x2a, 0x00],
  structs: {
    _EPROCESS: { fields: processLinks(ARCH, 0x194, 0x138) },
    _ETHREAD: threadFields(ARCH, 0x374, 0x3ac, 0x360, 0x3a4, 0x394),
    _DEVOBJ_EXTENSION: { size: 0x38 },
    _OBJECT_HEADER_HANDLE_REVOCATION_INFO: structFor(OBJECT_HEADER_HANDLE_REVOCATION_INFO, ARCH),
    _OBJECT_DIRECTORY: { size: 0xac },
    _KPROCESS: { size: 0xa8 },
    _KUSER_SHARED_DATA: { size: 0x708, fields: fields(KUSER_NT_BUILD_NUMBER) },
  },
};

export const X86_10_10240: TableDef = {
  id: 'x86-10-10240',
  name: 'Windows 10 1507 x86 (10240)',
  arch: ARCH,
  build: 10240,
  base: X86_10_9841,
  cite: ['V2vt:win10_x86_10240_17770'],
  structs: { _OBJECT_DIRECTORY: { size: 0xb0 } },
};

export const X86_10_10586: TableDef = {
  id: 'x86-10-10586',
  name: 'Windows 10 1511 x86 (10586)',
  arch: ARCH,
  build: 10586,
  base: X86_10_10240,
  // The 10586 profile has no _POOL_HEADER; 10240 and 14393 agree, so it is kept.
  cite: ['§1.13', 'V2vt:win10_x86_44B89EEA'],
  structs: {
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0xb4, 0xb8, 0x174, 15), ...processLinks(ARCH, 0x198, 0x138) },
    },
    _OBJECT_DIRECTORY: { size: 0xac },
  },
};

export const X86_10_14393: TableDef = {
  id: 'x86-10-14393',
  name: 'Windows 10 1607 x86 (14393)',
  arch: ARCH,
  build: 14393,
  base: X86_10_10586,
  cite: ['§1.8.3', 'V2vt:win10_x86_9619274A'],
  structs: {
    _OBJECT_HEADER_HANDLE_REVOCATION_INFO: null,
    _OBJECT_HEADER_EXTENDED_INFO: structFor(OBJECT_HEADER_EXTENDED_INFO, ARCH),
    _OBJECT_SYMBOLIC_LINK: { size: 0x20 },
    _LDR_DATA_TABLE_ENTRY: { size: 0xa8 },
  },
};

export const X86_10_15063: TableDef = {
  id: 'x86-10-15063',
  name: 'Windows 10 1703 x86 (15063)',
  arch: ARCH,
  build: 15063,
  base: X86_10_14393,
  cite: ['§1.13', 'V2vt:win10_x86_15063'],
  dispatcherSignature: [0x03, 0x00, 0x2c, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x37c, 0x3b4, 0x368, 0x3ac, 0x39c),
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0xb4, 0xb8, 0x17c, 15), ...processLinks(ARCH, 0x1a0, 0x140) },
    },
    _KPROCESS: { size: 0xb0 },
    _OBJECT_DIRECTORY: { size: 0xb0 },
  },
};

export const X86_10_16299: TableDef = {
  id: 'x86-10-16299',
  name: 'Windows 10 1709 x86 (16299)',
  arch: ARCH,
  build: 16299,
  base: X86_10_15063,
  cite: ['V2vt:win10_x86_16299 (no change)'],
  structs: {},
};

export const X86_10_17134: TableDef = {
  id: 'x86-10-17134',
  name: 'Windows 10 1803 x86 (17134)',
  arch: ARCH,
  build: 17134,
  base: X86_10_16299,
  cite: ['V2vt:win10_x86_17134 (no change)'],
  structs: {},
};

export const X86_10_17763: TableDef = {
  id: 'x86-10-17763',
  name: 'Windows 10 1809 x86 (17763)',
  arch: ARCH,
  build: 17763,
  base: X86_10_17134,
  cite: ['V2vt:win10_x86_17763'],
  structs: { _KUSER_SHARED_DATA: { size: 0x710 } },
};

export const X86_10_18362: TableDef = {
  id: 'x86-10-18362',
  name: 'Windows 10 1903 x86 (18362)',
  arch: ARCH,
  build: 18362,
  base: X86_10_17763,
  cite: ['V2vt:win10_x86_18362 (no change)'],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x384, 0x3bc, 0x370, 0x3b4, 0x3a4),
  },
};

export const X86_10_19041: TableDef = {
  id: 'x86-10-19041',
  name: 'Windows 10 2004 x86 (19041)',
  arch: ARCH,
  build: 19041,
  base: X86_10_18362,
  cite: ['§1.7', '§1.13', 'V2vt:win10_x86_19041'],
  dispatcherSignature: [0x03, 0x00, 0x00, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x2ac, 0x2e4, 0x298, 0x2dc, 0x2cc),
    _DEVOBJ_EXTENSION: { size: 0x3c },
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0xe4, 0xe8, 0x1ac, 15), ...processLinks(ARCH, 0x1d0, 0x170) },
    },
    _KPROCESS: { size: 0xe0 },
    _KUSER_SHARED_DATA: { size: 0x720 },
  },
};

export const X86_TABLES: readonly TableDef[] = [
  X86_XP,
  X86_2003_RTM,
  X86_2003_SP1,
  X86_VISTA_RTM,
  X86_VISTA_SP1,
  X86_VISTA_SP2,
  X86_7_RTM,
  X86_7_SP1,
  X86_8,
  X86_81,
  X86_10_9841,
  X86_10_10240,
  X86_10_10586,
  X86_10_14393,
  X86_10_15063,
  X86_10_16299,
  X86_10_17134,
  X86_10_17763,
  X86_10_18362,
  X86_10_19041,
];
