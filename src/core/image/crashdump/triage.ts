// DumpType 4, the triage ("mini kernel") dump: no physical memory, but a TRIAGE_DUMP structure
// right after the header with the saved loaded-module list, the faulting thread's stack and a few
// virtual data blocks. Layout facts: TRIAGE_DUMP32/64, DUMP_DRIVER_ENTRY32/64, DUMP_STRING and
// TRIAGE_DATA_BLOCK in Microsoft Research Singularity RDK `base/Windows/Inc/Dump.h` and rizin
// `librz/bin/format/dmp/dmp_specs.h` + `dmp64.c` (every *Offset is an absolute file offset; a
// DUMP_STRING is a u32 character count then UTF-16LE; the "TRGD" mark — TRIAGE_DUMP_VALID
// 'DGRT' — sits at ValidOffset). Checked against ../shared/dumps/win10-19041-x64-triage.dmp.

import type { ByteSource } from '../../source';
import { u32, u64, utf16 } from '../../util/bytes';
import type { TriageDataBlock, TriageDump, TriageModule } from '../types';
import type { DumpHeader } from './header';

const TRIAGE_VALID = 0x44475254; // bytes "TRGD"
/** MiniDumpFields bits (Dump.h TRIAGE_DUMP_*). */
const TRIAGE_DUMP_DEBUGGER_DATA = 0x400;
const TRIAGE_DUMP_DATA_BLOCKS = 0x800;
const MAX_DRIVERS = 4096;
const MAX_DATA_BLOCKS = 65536;
/** rizin refuses longer driver names; a path is far shorter. */
const MAX_NAME_CHARS = 1024;

interface TriageLayout {
  readonly size: number;
  /** Smallest DUMP_DRIVER_ENTRY: u32 name offset (+pad on x64) + KLDR_DATA_TABLE_ENTRY. */
  readonly driverEntry: number;
  readonly dllBase: number;
  readonly sizeOfImage: number;
  readonly checkSum: number;
  readonly timeDateStamp: number;
  readonly topOfStack: number;
  readonly debuggerDataOffset: number;
  readonly dataBlocksOffset: number;
  readonly dataBlockEntry: number;
}

const LAYOUTS: Record<32 | 64, TriageLayout> = {
  // TRIAGE_DUMP32: TopOfStack u32 @0x48, DataPage* @0x4C.., DebuggerData* @0x58, DataBlocks* @0x60.
  // DUMP_DRIVER_ENTRY32 = {u32 DriverNameOffset; KLDR_DATA_TABLE_ENTRY32 (0x48 bytes)}.
  32: {
    size: 0x68,
    driverEntry: 0x4c,
    dllBase: 0x04 + 0x18,
    sizeOfImage: 0x04 + 0x20,
    checkSum: 0x04 + 0x40,
    timeDateStamp: 0x04 + 0x44,
    topOfStack: 0x48,
    debuggerDataOffset: 0x58,
    dataBlocksOffset: 0x60,
    dataBlockEntry: 12,
  },
  // TRIAGE_DUMP64: TopOfStack u64 @0x48, Ia64 union @0x50, DataPage* @0x60.., DebuggerData* @0x70,
  // DataBlocks* @0x78. DUMP_DRIVER_ENTRY64 = {u32; u32 pad; KLDR_DATA_TABLE_ENTRY64 (0x88 bytes)}.
  64: {
    size: 0x80,
    driverEntry: 0x90,
    dllBase: 0x08 + 0x30,
    sizeOfImage: 0x08 + 0x40,
    checkSum: 0x08 + 0x78,
    timeDateStamp: 0x08 + 0x80,
    topOfStack: 0x48,
    debuggerDataOffset: 0x70,
    dataBlocksOffset: 0x78,
    dataBlockEntry: 16,
  },
};

export function readTriage(
  source: ByteSource,
  header: DumpHeader,
  warnings: string[],
): TriageDump | undefined {
  const L = LAYOUTS[header.width];
  const t = source.read(header.headerSize, L.size);
  if (t.length < L.size) {
    warnings.push('the file ends inside the TRIAGE_DUMP structure: no module list');
    return undefined;
  }
  const fileSize = source.size;
  const inFile = (offset: number, length = 1): boolean => offset > 0 && offset + length <= fileSize;

  const validOffset = u32(t, 0x08);
  const mark = inFile(validOffset, 4) ? source.read(validOffset, 4) : new Uint8Array(0);
  const validMark = mark.length === 4 && u32(mark, 0) === TRIAGE_VALID;
  if (!validMark)
    warnings.push('the triage dump lacks its "TRGD" validity mark at ValidOffset: it may be incomplete');

  const triage: {
    -readonly [K in keyof TriageDump]: TriageDump[K];
  } = {
    servicePackBuild: u32(t, 0x00),
    sizeOfDump: u32(t, 0x04),
    validMark,
    modules: readModules(source, header, t, L, warnings),
    dataBlocks: [],
  };

  const callStackOffset = u32(t, 0x28);
  const callStackSize = u32(t, 0x2c);
  if (inFile(callStackOffset, callStackSize) && callStackSize > 0) {
    const top = header.width === 64 ? u64(t, L.topOfStack) : BigInt(u32(t, L.topOfStack));
    triage.callStack = { top, fileOffset: callStackOffset, size: callStackSize };
  }

  const fields = header.miniDumpFields;
  const debuggerOffset = u32(t, L.debuggerDataOffset);
  const debuggerSize = u32(t, L.debuggerDataOffset + 4);
  if ((fields === undefined || fields & TRIAGE_DUMP_DEBUGGER_DATA) && inFile(debuggerOffset, debuggerSize))
    triage.debuggerData = { fileOffset: debuggerOffset, size: debuggerSize };

  const blocksOffset = u32(t, L.dataBlocksOffset);
  const blocksCount = u32(t, L.dataBlocksOffset + 4);
  if ((fields === undefined || fields & TRIAGE_DUMP_DATA_BLOCKS) && blocksCount > 0 && inFile(blocksOffset))
    triage.dataBlocks = readDataBlocks(
      source,
      header.width,
      blocksOffset,
      blocksCount,
      L.dataBlockEntry,
      warnings,
    );
  return triage;
}

function readModules(
  source: ByteSource,
  header: DumpHeader,
  t: Uint8Array,
  L: TriageLayout,
  warnings: string[],
): TriageModule[] {
  const listOffset = u32(t, 0x30);
  let count = u32(t, 0x34);
  const poolOffset = u32(t, 0x38);
  const poolSize = u32(t, 0x3c);
  if (count === 0 || listOffset === 0) {
    warnings.push('the triage dump saved no driver list');
    return [];
  }
  if (count > MAX_DRIVERS) {
    warnings.push(`DriverCount ${count} is implausible; reading the first ${MAX_DRIVERS}`);
    count = MAX_DRIVERS;
  }
  // The string pool follows the driver list; when it does, the gap gives the entry size, which
  // has varied between builds. Otherwise assume the documented structure size.
  let stride = L.driverEntry;
  const gap = poolOffset - listOffset;
  if (poolOffset > listOffset && gap % count === 0 && gap / count >= L.driverEntry && gap / count <= 0x200)
    stride = gap / count;

  const modules: TriageModule[] = [];
  const bytes = source.read(listOffset, count * stride);
  const available = Math.floor(bytes.length / stride);
  if (available < count)
    warnings.push(`the driver list is cut short by the end of the file: ${available} of ${count}`);
  let badNames = 0;
  for (let i = 0; i < available; i++) {
    const at = i * stride;
    const nameOffset = u32(bytes, at);
    const path = readDumpString(source, nameOffset);
    if (path === undefined) badNames++;
    else if (poolSize > 0 && (nameOffset < poolOffset || nameOffset >= poolOffset + poolSize)) badNames++;
    const base = header.width === 64 ? u64(bytes, at + L.dllBase) : BigInt(u32(bytes, at + L.dllBase));
    modules.push({
      name: baseName(path ?? ''),
      path: path ?? '',
      base,
      size: u32(bytes, at + L.sizeOfImage),
      checksum: u32(bytes, at + L.checkSum),
      timeDateStamp: u32(bytes, at + L.timeDateStamp),
    });
  }
  if (badNames > 0) warnings.push(`${badNames} saved driver name(s) could not be read from the string pool`);
  return modules;
}

/** DUMP_STRING: u32 length in UTF-16 units (without the NUL), then the characters. */
function readDumpString(source: ByteSource, offset: number): string | undefined {
  if (offset === 0) return undefined;
  const head = source.read(offset, 4);
  if (head.length < 4) return undefined;
  const chars = u32(head, 0);
  if (chars > MAX_NAME_CHARS) return undefined;
  const text = source.read(offset + 4, chars * 2);
  if (text.length < chars * 2) return undefined;
  return utf16(text, 0, chars * 2);
}

function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return path.slice(cut + 1);
}

function readDataBlocks(
  source: ByteSource,
  width: 32 | 64,
  offset: number,
  count: number,
  entry: number,
  warnings: string[],
): TriageDataBlock[] {
  const wanted = Math.min(count, MAX_DATA_BLOCKS);
  if (wanted < count) warnings.push(`DataBlocksCount ${count} is implausible; reading the first ${wanted}`);
  const bytes = source.read(offset, wanted * entry);
  const blocks: TriageDataBlock[] = [];
  let outside = 0;
  for (let at = 0; at + entry <= bytes.length; at += entry) {
    const va = width === 64 ? u64(bytes, at) : BigInt(u32(bytes, at));
    const fileOffset = u32(bytes, at + entry - 8);
    const size = u32(bytes, at + entry - 4);
    if (fileOffset === 0 || fileOffset + size > source.size) {
      outside++;
      continue;
    }
    blocks.push({ va, fileOffset, size });
  }
  if (outside > 0) warnings.push(`${outside} triage data block(s) point outside the file and were ignored`);
  return blocks;
}
