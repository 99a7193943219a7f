// 64-bit Windows layouts, XP x64 / 2003 → 11: one full table for 2003 SP1 x64, then each version
// as a delta of the one before. Facts from ../shared/spec/windows-memory.md §1 and the Volatility 2
// profiles it was extracted from (V2vt:<profile>); for builds with a real symbol table the ISF file
// is cited and wins where the two disagree (ISF = ../shared/isf/windows/ntkrnlmp.pdb/<file>).

import type { StructLayout } from '../types';
import { array, at, bits, fieldsFor, structFor, type DualFields, type TableDef } from './dsl';
import {
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

const ARCH = 'x64';
const fields = (rows: DualFields) => fieldsFor(rows, ARCH);
const sized = (size: number, rows: DualFields): StructLayout => ({
  size,
  fields: fields(rows),
});

/** The shared ISF files by build (../shared/README.md). */
export const ISF_FILES = {
  7601: '339E74133576439CBCDF7E0229DA3773-1.json.xz',
  9600: '22597D0B40394E23936F6A24C6C52D5B-1.json.xz',
  14393: '517E128F7B7C4EA79491DE6B9B9CE190-1.json.xz',
  17763: '8B11040A5928757B11390AC78F6B6925-1.json.xz',
  18362: '11BC9A513F1140CA359ECDF50F0122C1-1.json.xz',
  19041: '1C9875F76C8F0FBF3EB9A9D7C1C27406-1.json.xz',
  20348: 'C2EADB24A615E9472CE47C8ADD31F130-1.json.xz',
  22000: '32C1A669D5FFEFD41091F636CFDB6E99-1.json.xz',
} as const;

const isf = (build: keyof typeof ISF_FILES) => `ISF:${ISF_FILES[build]}`;

export const X64_2003: TableDef = {
  id: 'x64-2003',
  name: 'Windows Server 2003 SP1/SP2 x64, XP x64 (3790)',
  arch: ARCH,
  build: 3790,
  servicePack: 1,
  cite: ['§1.1–§1.15', 'V2vt:win2003_sp1_x64', 'V2vt:win2003_sp2_x64'],
  dispatcherSignature: [0x03, 0x00, 0x2e, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x370, 0x3e8, 0x3d8, 0x3e0, 0x3b0),
    ...invariantStructs(ARCH),
    _DRIVER_EXTENSION: sized(0x38, DRIVER_EXTENSION_FIELDS),
    _DEVOBJ_EXTENSION: sized(0x50, DEVOBJ_EXTENSION_FIELDS),
    _OBJECT_HEADER: structFor(OBJECT_HEADER_PRE_WIN7, ARCH),
    _OBJECT_HEADER_HANDLE_INFO: structFor(OBJECT_HEADER_HANDLE_INFO, ARCH),
    _OBJECT_HEADER_QUOTA_INFO: structFor(OBJECT_HEADER_QUOTA_INFO, ARCH),
    // §1.9
    _OBJECT_TYPE: { size: 0x2c0, fields: { Name: at(0x78, 16), Index: at(0x90, 4), Key: at(0x118, 4) } },
    _OBJECT_DIRECTORY: sized(0x140, OBJECT_DIRECTORY_FIELDS),
    _OBJECT_DIRECTORY_ENTRY: sized(0x18, {
      ...OBJECT_DIRECTORY_ENTRY_FIELDS,
      ...OBJECT_DIRECTORY_ENTRY_HASH,
    }),
    _OBJECT_SYMBOLIC_LINK: sized(0x38, OBJECT_SYMBOLIC_LINK_FIELDS),
    // §1.11: up to 8.0 the four header bytes are 8-bit fields of one ULONG.
    _POOL_HEADER: {
      size: 0x10,
      fields: {
        PreviousSize: bits(0, 4, 0, 8),
        PoolIndex: bits(0, 4, 8, 8),
        BlockSize: bits(0, 4, 16, 8),
        PoolType: bits(0, 4, 24, 8),
        PoolTag: at(4, 4),
      },
    },
    _LDR_DATA_TABLE_ENTRY: sized(0x98, LDR_DATA_TABLE_ENTRY_FIELDS),
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0xd8, 0xe0, 0x268, 16), ...processLinks(ARCH, 0x290, 0x218) },
    },
    // §1.13: ULONG64[2] on 2003.
    _KPROCESS: { size: 0xb8, fields: { DirectoryTableBase: array(0x28, 8, 2) } },
    _KUSER_SHARED_DATA: sized(0x378, KUSER_SHARED_DATA_FIELDS),
  },
};

export const X64_VISTA_RTM: TableDef = {
  id: 'x64-vista-rtm',
  name: 'Windows Vista RTM x64 (6000)',
  arch: ARCH,
  build: 6000,
  base: X64_2003,
  cite: ['§1.13', 'V2vt:vista_sp0_x64'],
  dispatcherSignature: [0x03, 0x00, 0x30, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x380, 0x3f0, 0x358, 0x3e0, 0x3b8),
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0xe0, 0xe8, 0x238, 16), ...processLinks(ARCH, 0x260, 0x1f0) },
    },
    _KPROCESS: { size: 0xc0, fields: { DirectoryTableBase: at(0x28, 8) } },
    _KUSER_SHARED_DATA: { size: 0x3b8 },
    _LDR_DATA_TABLE_ENTRY: { size: 0xc8 },
    _OBJECT_DIRECTORY: { size: 0x150 },
    _OBJECT_TYPE: { size: 0x220 },
  },
};

export const X64_VISTA_SP1: TableDef = {
  id: 'x64-vista-sp1',
  name: 'Windows Vista SP1 / Server 2008 x64 (6001)',
  arch: ARCH,
  build: 6001,
  base: X64_VISTA_RTM,
  cite: ['§1.7', '§1.9', 'V2vt:vista_sp1_x64'],
  structs: {
    _DEVOBJ_EXTENSION: { size: 0x70 },
    _OBJECT_TYPE: { size: 0x238, fields: { Name: at(0x10, 16), Index: at(0x28, 4), Key: at(0x120, 4) } },
  },
};

export const X64_VISTA_SP2: TableDef = {
  id: 'x64-vista-sp2',
  name: 'Windows Vista SP2 / Server 2008 SP2 x64 (6002)',
  arch: ARCH,
  build: 6002,
  base: X64_VISTA_SP1,
  cite: ['V2vt:vista_sp2_x64 (no change from SP1)'],
  structs: {},
};

export const X64_7_RTM: TableDef = {
  id: 'x64-7-rtm',
  name: 'Windows 7 RTM / Server 2008 R2 x64 (7600)',
  arch: ARCH,
  build: 7600,
  base: X64_VISTA_SP2,
  cite: ['§1.8.2', '§1.8.3', '§1.9', '§1.13', 'V2vt:win7_sp0_x64'],
  dispatcherSignature: [0x03, 0x00, 0x58, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x3b0, 0x420, 0x388, 0x410, 0x3e8),
    _OBJECT_HEADER: objectHeaderWin7Patch(ARCH),
    _OBJECT_HEADER_PROCESS_INFO: structFor(OBJECT_HEADER_PROCESS_INFO, ARCH),
    _OBJECT_TYPE: { size: 0xd0, fields: { Index: at(0x28, 1), Key: at(0xb8, 4) } },
    _OBJECT_SYMBOLIC_LINK: { size: 0x20 },
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x180, 0x188, 0x2e0, 15), ...processLinks(ARCH, 0x308, 0x290) },
    },
    _KPROCESS: { size: 0x160 },
    _KUSER_SHARED_DATA: { size: 0x5f0 },
    _LDR_DATA_TABLE_ENTRY: { size: 0xe0 },
  },
};

export const X64_7_SP1: TableDef = {
  id: 'x64-7-sp1',
  name: 'Windows 7 SP1 / Server 2008 R2 SP1 x64 (7601)',
  arch: ARCH,
  build: 7601,
  base: X64_7_RTM,
  cite: ['V2vt:win7_sp1_x64', 'V2vt:win7_sp1_x64_24000', isf(7601)],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x3b8, 0x428, 0x390, 0x418, 0x3f0),
    // The ISF (7601.24540) and V2vt:win7_sp1_x64_24000 give 0x158; §1.10 and V2vt:win7_sp1_x64 0x150.
    _OBJECT_DIRECTORY: { size: 0x158 },
  },
};

export const X64_8: TableDef = {
  id: 'x64-8',
  name: 'Windows 8 / Server 2012 x64 (9200)',
  arch: ARCH,
  build: 9200,
  base: X64_7_SP1,
  cite: ['§1.4', '§1.8.3', '§1.9', '§1.13', 'V2vt:win8_sp0_x64'],
  dispatcherSignature: [0x03, 0x00, 0xb2, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x398, 0x400, 0x370, 0x3f0, 0x3d0),
    _DRIVER_EXTENSION: { size: 0x48 },
    _OBJECT_HEADER_AUDIT_INFO: structFor(OBJECT_HEADER_AUDIT_INFO, ARCH),
    _OBJECT_HEADER_PADDING_INFO: structFor(OBJECT_HEADER_PADDING_INFO, ARCH),
    _OBJECT_TYPE: { size: 0xd8, fields: { Key: at(0xc0, 4) } },
    _OBJECT_DIRECTORY: { size: 0x150 },
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x2e0, 0x2e8, 0x438, 15), ...processLinks(ARCH, 0x470, 0x3d0) },
    },
    _KPROCESS: { size: 0x2c8 },
    _LDR_DATA_TABLE_ENTRY: { size: 0x110 },
  },
};

export const X64_81: TableDef = {
  id: 'x64-8.1',
  name: 'Windows 8.1 / Server 2012 R2 x64 (9600)',
  arch: ARCH,
  build: 9600,
  base: X64_8,
  cite: ['§1.4', '§1.7', '§1.11', 'V2vt:win8_sp1_x64', 'V2vt:win81_u1_x64', isf(9600)],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x620, 0x688, 0x5f8, 0x678, 0x658),
    _DRIVER_EXTENSION: { size: 0x50 },
    _DEVOBJ_EXTENSION: { size: 0x60 },
    _LDR_DATA_TABLE_ENTRY: { size: 0x118 },
    // The ISF (9600.19913) gives 0x158; §1.10 and V2vt:win8_sp1_x64 / win81_u1_x64 0x150.
    _OBJECT_DIRECTORY: { size: 0x158 },
    // §1.11: from 8.1 the same bytes are declared as 8-bit fields of two USHORTs.
    _POOL_HEADER: {
      fields: {
        PreviousSize: bits(0, 2, 0, 8),
        PoolIndex: bits(0, 2, 8, 8),
        BlockSize: bits(2, 2, 0, 8),
        PoolType: bits(2, 2, 8, 8),
      },
    },
  },
};

export const X64_10_9841: TableDef = {
  id: 'x64-10-9841',
  name: 'Windows 10 preview x64 (9841)',
  arch: ARCH,
  build: 9841,
  base: X64_81,
  cite: ['§1.7', '§1.8.3', '§1.13', '§1.14', 'V2vt:win10_x64'],
  dispatcherSignature: [0x03, 0x00, 0xb6, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x628, 0x690, 0x600, 0x680, 0x660),
    _DEVOBJ_EXTENSION: { size: 0x68 },
    _OBJECT_HEADER_HANDLE_REVOCATION_INFO: structFor(OBJECT_HEADER_HANDLE_REVOCATION_INFO, ARCH),
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x2e8, 0x2f0, 0x448, 15), ...processLinks(ARCH, 0x480, 0x3e0) },
    },
    _KPROCESS: { size: 0x2d8 },
    _KUSER_SHARED_DATA: { size: 0x708, fields: fields(KUSER_NT_BUILD_NUMBER) },
  },
};

export const X64_10_10240: TableDef = {
  id: 'x64-10-10240',
  name: 'Windows 10 1507 x64 (10240)',
  arch: ARCH,
  build: 10240,
  base: X64_10_9841,
  cite: ['V2vt:win10_x64_10240_17770'],
  structs: { _OBJECT_DIRECTORY: { size: 0x160 } },
};

export const X64_10_10586: TableDef = {
  id: 'x64-10-10586',
  name: 'Windows 10 1511 x64 (10586)',
  arch: ARCH,
  build: 10586,
  base: X64_10_10240,
  // The 10586 profile has no _POOL_HEADER; 10240 and 14393 agree, so it is kept.
  cite: ['§1.13', 'V2vt:win10_x64_1AC738FB'],
  structs: {
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x2e8, 0x2f0, 0x450, 15), ...processLinks(ARCH, 0x488, 0x3e0) },
    },
    _OBJECT_DIRECTORY: { size: 0x158 },
  },
};

export const X64_10_14393: TableDef = {
  id: 'x64-10-14393',
  name: 'Windows 10 1607 / Server 2016 x64 (14393)',
  arch: ARCH,
  build: 14393,
  base: X64_10_10586,
  cite: ['§1.8.3', 'V2vt:win10_x64_DD08DD42', isf(14393)],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x630, 0x698, 0x608, 0x688, 0x668),
    _OBJECT_HEADER_HANDLE_REVOCATION_INFO: null,
    _OBJECT_HEADER_EXTENDED_INFO: structFor(OBJECT_HEADER_EXTENDED_INFO, ARCH),
    _OBJECT_SYMBOLIC_LINK: { size: 0x28 },
    _LDR_DATA_TABLE_ENTRY: { size: 0x120 },
    // The ISF (14393.4583) gives 0x160; V2vt:win10_x64_DD08DD42 0x158.
    _OBJECT_DIRECTORY: { size: 0x160 },
  },
};

export const X64_10_15063: TableDef = {
  id: 'x64-10-15063',
  name: 'Windows 10 1703 x64 (15063)',
  arch: ARCH,
  build: 15063,
  base: X64_10_14393,
  cite: ['§1.13', 'V2vt:win10_x64_15063'],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x638, 0x6a0, 0x610, 0x690, 0x670),
    _EPROCESS: { fields: processFields(ARCH, 0x2e0, 0x2e8, 0x450, 15) },
    _OBJECT_DIRECTORY: { size: 0x158 },
  },
};

export const X64_10_16299: TableDef = {
  id: 'x64-10-16299',
  name: 'Windows 10 1709 x64 (16299)',
  arch: ARCH,
  build: 16299,
  base: X64_10_15063,
  cite: ['V2vt:win10_x64_16299 (no change)'],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x638, 0x6a8, 0x610, 0x690, 0x670),
  },
};

export const X64_10_17134: TableDef = {
  id: 'x64-10-17134',
  name: 'Windows 10 1803 x64 (17134)',
  arch: ARCH,
  build: 17134,
  base: X64_10_16299,
  cite: ['V2vt:win10_x64_17134 (no change)'],
  structs: {},
};

export const X64_10_17763: TableDef = {
  id: 'x64-10-17763',
  name: 'Windows 10 1809 / Server 2019 x64 (17763)',
  arch: ARCH,
  build: 17763,
  base: X64_10_17134,
  cite: ['V2vt:win10_x64_17763', isf(17763)],
  structs: { _KUSER_SHARED_DATA: { size: 0x710 } },
};

export const X64_10_18362: TableDef = {
  id: 'x64-10-18362',
  name: 'Windows 10 1903 x64 (18362)',
  arch: ARCH,
  build: 18362,
  base: X64_10_17763,
  cite: ['§1.13', 'V2vt:win10_x64_18362', isf(18362)],
  dispatcherSignature: [0x03, 0x00, 0xb8, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x648, 0x6b8, 0x620, 0x6a0, 0x680),
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x2e8, 0x2f0, 0x450, 15), ...processLinks(ARCH, 0x488, 0x3e8) },
    },
    _KPROCESS: { size: 0x2e0 },
  },
};

export const X64_10_19041: TableDef = {
  id: 'x64-10-19041',
  name: 'Windows 10 2004 x64 (19041)',
  arch: ARCH,
  build: 19041,
  base: X64_10_18362,
  cite: ['§1.7', '§1.13', 'V2vt:win10_x64_19041', isf(19041)],
  dispatcherSignature: [0x03, 0x00, 0x00, 0x00],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x478, 0x4e8, 0x450, 0x4d0, 0x4b0),
    _DEVOBJ_EXTENSION: { size: 0x70 },
    _EPROCESS: {
      fields: { ...processFields(ARCH, 0x440, 0x448, 0x5a8, 15), ...processLinks(ARCH, 0x5e0, 0x540) },
    },
    _KPROCESS: { size: 0x438 },
    _KUSER_SHARED_DATA: { size: 0x720 },
  },
};

/**
 * Beyond the spec: every fact below is read from the ISF. The DISPATCHER_HEADER signature is
 * inherited from 19041 because sizeof(KPROCESS) is unchanged (0x438) [DERIVED].
 */
export const X64_2022_20348: TableDef = {
  id: 'x64-2022-20348',
  name: 'Windows Server 2022 x64 (20348)',
  arch: ARCH,
  build: 20348,
  base: X64_10_19041,
  cite: [isf(20348)],
  structs: {
    _ETHREAD: threadFields(ARCH, 0x4c8, 0x538, 0x4a0, 0x520, 0x500),
    _KUSER_SHARED_DATA: { size: 0x730 },
    _LDR_DATA_TABLE_ENTRY: { size: 0x138 },
  },
};

export const X64_11_22000: TableDef = {
  id: 'x64-11-22000',
  name: 'Windows 11 21H2 x64 (22000)',
  arch: ARCH,
  build: 22000,
  base: X64_2022_20348,
  cite: [`${isf(22000)} (no change from 20348)`],
  structs: {},
};

export const X64_TABLES: readonly TableDef[] = [
  X64_2003,
  X64_VISTA_RTM,
  X64_VISTA_SP1,
  X64_VISTA_SP2,
  X64_7_RTM,
  X64_7_SP1,
  X64_8,
  X64_81,
  X64_10_9841,
  X64_10_10240,
  X64_10_10586,
  X64_10_14393,
  X64_10_15063,
  X64_10_16299,
  X64_10_17134,
  X64_10_17763,
  X64_10_18362,
  X64_10_19041,
  X64_2022_20348,
  X64_11_22000,
];
