// The PAGEDUMP / PAGEDU64 header (spec §5.2 table; field order also in rizin
// `librz/bin/format/dmp/dmp_specs.h`). Unused header bytes are filled with "PAGE", so a field
// holding that pattern means "not recorded" (spec §5.2, `RK:addrspaces/crash.py`, `KDMP`).

import { ascii, u32, u64, u8 } from '../../util/bytes';
import type { BugCheck } from '../types';

export const PAGE_MAGIC = 0x45474150; // "PAGE"
export const DUMP_MAGIC = 0x504d5544; // "DUMP" (32-bit header)
export const DU64_MAGIC = 0x34365544; // "DU64" (64-bit header)
const PAGE_PATTERN_64 = 0x4547415045474150n;

export const PAGE_SIZE = 0x1000;

export interface DumpHeader {
  readonly width: 32 | 64;
  /** 0x1000 (32-bit) or 0x2000 (64-bit): memory or the type-specific header follows. */
  readonly headerSize: number;
  readonly majorVersion?: number;
  readonly build?: number;
  readonly dtb?: number;
  readonly pfnDatabase?: bigint;
  readonly psLoadedModuleList?: bigint;
  readonly psActiveProcessHead?: bigint;
  readonly machineImageType?: number;
  readonly processors?: number;
  readonly bugCheck?: BugCheck;
  readonly paeEnabled?: boolean;
  readonly kdDebuggerDataBlock?: bigint;
  /** PhysicalMemoryBlock as stored (type 1 dumps); validated by the run-list reader. */
  readonly numberOfRuns: number;
  readonly numberOfPages: bigint;
  readonly runsOffset: number;
  readonly runEntrySize: 8 | 16;
  /** How many runs the 700-byte PhysicalMemoryBlock can hold: 86 / 42 [DERIVED, spec §5.2]. */
  readonly runCapacity: number;
  readonly dumpType: number;
  readonly miniDumpFields?: number;
  readonly systemTime?: bigint;
  readonly comment?: string;
}

const LAYOUT = {
  32: {
    headerSize: 0x1000,
    dtb: 0x10,
    pfn: 0x14,
    modules: 0x18,
    processes: 0x1c,
    machine: 0x20,
    processors: 0x24,
    bugCheck: 0x28,
    bugCheckParams: 0x2c,
    pae: 0x5c,
    kdbg: 0x60,
    numberOfRuns: 0x64,
    numberOfPages: 0x68,
    runs: 0x6c,
    runEntry: 8,
    comment: 0x820,
    dumpType: 0xf88,
    miniDumpFields: 0xf8c,
    systemTime: 0xfc0,
  },
  64: {
    headerSize: 0x2000,
    dtb: 0x10,
    pfn: 0x18,
    modules: 0x20,
    processes: 0x28,
    machine: 0x30,
    processors: 0x34,
    bugCheck: 0x38,
    bugCheckParams: 0x40,
    pae: -1,
    kdbg: 0x80,
    numberOfRuns: 0x88,
    numberOfPages: 0x90,
    runs: 0x98,
    runEntry: 16,
    comment: 0xfb0,
    dumpType: 0xf98,
    miniDumpFields: 0x1038,
    systemTime: 0xfa8,
  },
} as const;

/** PhysicalMemoryBlock is a 700-byte buffer in both headers (rizin `DMP_PHYSICAL_MEMORY_BLOCK_SIZE`). */
const RUN_BUFFER_BYTES = 700;

export const DUMP_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'full',
  2: 'kernel summary',
  3: 'header only',
  4: 'triage (mini kernel)',
  5: 'bitmap (full/automatic)',
  6: 'bitmap (live kernel)',
  8: 'kernel memory (RDMP)',
  9: 'kernel and user memory (RDMP)',
  10: 'complete memory (RDMP)',
};

function field32(bytes: Uint8Array, at: number): number | undefined {
  const value = u32(bytes, at);
  return value === PAGE_MAGIC ? undefined : value;
}

function pointer(bytes: Uint8Array, at: number, width: 32 | 64): bigint | undefined {
  if (width === 32) {
    const value = field32(bytes, at);
    return value === undefined ? undefined : BigInt(value);
  }
  const value = u64(bytes, at);
  return value === PAGE_PATTERN_64 ? undefined : value;
}

/** Parses the fixed header; `bytes` must hold `headerSize` bytes. */
export function parseDumpHeader(bytes: Uint8Array, width: 32 | 64): DumpHeader {
  const L = LAYOUT[width];
  const dtbValue = pointer(bytes, L.dtb, width);
  const code = field32(bytes, L.bugCheck);
  const params: bigint[] = [];
  for (let i = 0; i < 4; i++) params.push(pointer(bytes, L.bugCheckParams + i * (width / 8), width) ?? 0n);
  const pae = width === 32 ? u8(bytes, LAYOUT[32].pae) : undefined;
  const commentText = readComment(bytes, L.comment);
  const systemTime = u64(bytes, L.systemTime);
  const entrySize = L.runEntry;
  const capacity = Math.floor((RUN_BUFFER_BYTES - (L.runs - L.numberOfRuns)) / entrySize);
  const header: DumpHeader = {
    width,
    headerSize: L.headerSize,
    majorVersion: field32(bytes, 0x08),
    build: field32(bytes, 0x0c),
    dtb: dtbValue !== undefined && dtbValue <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(dtbValue) : undefined,
    pfnDatabase: pointer(bytes, L.pfn, width),
    psLoadedModuleList: pointer(bytes, L.modules, width),
    psActiveProcessHead: pointer(bytes, L.processes, width),
    machineImageType: field32(bytes, L.machine),
    processors: field32(bytes, L.processors),
    bugCheck: code === undefined ? undefined : { code, parameters: params },
    paeEnabled: pae === undefined || pae === 0x50 ? undefined : pae !== 0,
    kdDebuggerDataBlock: pointer(bytes, L.kdbg, width),
    numberOfRuns: u32(bytes, L.numberOfRuns),
    numberOfPages: width === 32 ? BigInt(u32(bytes, L.numberOfPages)) : u64(bytes, L.numberOfPages),
    runsOffset: L.runs,
    runEntrySize: entrySize,
    runCapacity: capacity,
    dumpType: u32(bytes, L.dumpType),
    miniDumpFields: field32(bytes, L.miniDumpFields),
    systemTime: systemTime === PAGE_PATTERN_64 || systemTime === 0n ? undefined : systemTime,
    comment: commentText,
  };
  return header;
}

function readComment(bytes: Uint8Array, at: number): string | undefined {
  const raw = ascii(bytes, at, 128);
  const end = raw.indexOf('\0');
  const text = (end >= 0 ? raw.slice(0, end) : raw).trim();
  if (text === '' || text.startsWith('PAGEPAGE') || !/^[\x20-\x7e]*$/.test(text)) return undefined;
  return text;
}

export function machineName(type: number | undefined): 'x86' | 'x64' | 'arm64' | 'arm' | 'ia64' | undefined {
  switch (type) {
    case 0x14c:
      return 'x86';
    case 0x8664:
      return 'x64';
    case 0xaa64:
      return 'arm64';
    case 0x1c0:
    case 0x1c4:
      return 'arm';
    case 0x200:
      return 'ia64';
    default:
      return undefined;
  }
}
