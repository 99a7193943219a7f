// PE images in kernel memory (spec §1.16): headers, sections, the export directory and the
// CodeView RSDS record. Every size and count read from the image is bounded, and every offset is
// checked against the bytes read before it is used (parsePeHeaders is the one header parser; the
// rebuild of `extract` uses it too).

import { ascii, cString, u16, u32, u64 } from '../util/bytes';
import type { KernelMemory } from './memory';

const PAGE = 0x1000;

export interface PeSection {
  name: string;
  rva: number;
  size: number;
  characteristics: number;
}

export interface PeImage {
  base: bigint;
  machine: number;
  is64: boolean;
  sizeOfImage: number;
  timeDateStamp: number;
  /** IMAGE_OPTIONAL_HEADER.CheckSum (same offset in PE32 and PE32+). */
  checksum: number;
  entryRva: number;
  sections: PeSection[];
  exportDirectory: { rva: number; size: number } | null;
  debugDirectory: { rva: number; size: number } | null;
}

export interface CodeView {
  guid: string;
  age: number;
  pdbName: string;
}

/** The Windows loader refuses more sections than this. */
export const MAX_SECTIONS = 96;
const MAX_EXPORTS = 20000;
const MAX_DIRECTORIES = 16;
const DOS_HEADER = 0x40;
const FILE_HEADER = 20;
const SECTION_HEADER = 40;
/** CodeView RSDS: signature, GUID, age, then the PDB path. */
const RSDS_FIXED = 24;

/** A section header as the image's section table has it. */
export interface PeSectionHeader {
  /** Up to 8 bytes to the first NUL, one character per byte (untrusted: show through visibleText). */
  name: string;
  virtualAddress: number;
  virtualSize: number;
  sizeOfRawData: number;
  characteristics: number;
}

/** The DOS, file and optional headers and the section table; offsets are into the header bytes. */
export interface PeHeaders {
  machine: number;
  is64: boolean;
  timeDateStamp: number;
  optionalHeaderOffset: number;
  sectionTableOffset: number;
  entryRva: number;
  imageBase: bigint;
  fileAlignment: number;
  sizeOfImage: number;
  sizeOfHeaders: number;
  /** IMAGE_OPTIONAL_HEADER.CheckSum (same offset in PE32 and PE32+). */
  checksum: number;
  /** The data directories the optional header holds (NumberOfRvaAndSizes, at most 16). */
  directories: Array<{ rva: number; size: number }>;
  sections: PeSectionHeader[];
}

export type PeHeaderParse = { ok: true; headers: PeHeaders } | { ok: false; reason: string };

/**
 * The headers at the start of `bytes` (an image's first page, as loaded), or why they are not a
 * PE image's. Pure and total: every offset and count comes from the bytes and is checked against
 * their length before it is read, so a crafted header gives a reason, never an exception. It is
 * the fuzz target "PE headers".
 */
export function parsePeHeaders(bytes: Uint8Array): PeHeaderParse {
  const no = (reason: string): PeHeaderParse => ({ ok: false, reason });
  if (bytes.length < DOS_HEADER) return no(`only ${bytes.length} bytes: no DOS header`);
  if (bytes[0] !== 0x4d || bytes[1] !== 0x5a) return no('no MZ signature');
  const lfanew = u32(bytes, 0x3c);
  if (lfanew < DOS_HEADER || lfanew + 4 + FILE_HEADER + 2 > bytes.length)
    return no(`e_lfanew 0x${lfanew.toString(16)} puts the NT headers outside the ${bytes.length} bytes`);
  if (u32(bytes, lfanew) !== 0x00004550) return no('no PE signature at e_lfanew');
  const fileHeader = lfanew + 4;
  const sectionCount = u16(bytes, fileHeader + 2);
  if (sectionCount > MAX_SECTIONS)
    return no(`${sectionCount} sections: more than the loader's ${MAX_SECTIONS}`);
  const optionalSize = u16(bytes, fileHeader + 0x10);
  const optionalAt = fileHeader + FILE_HEADER;
  const magic = u16(bytes, optionalAt);
  if (magic !== 0x10b && magic !== 0x20b) return no(`optional header magic 0x${magic.toString(16)}`);
  const is64 = magic === 0x20b;
  const fixed = is64 ? 0x70 : 0x60;
  if (optionalSize < fixed)
    return no(
      `SizeOfOptionalHeader ${optionalSize} is smaller than the ${fixed} bytes of the ${is64 ? 'PE32+' : 'PE32'} optional header`,
    );
  const tableAt = optionalAt + optionalSize;
  const tableEnd = tableAt + sectionCount * SECTION_HEADER;
  if (tableEnd > bytes.length)
    return no(`the section table at 0x${tableAt.toString(16)} runs past the ${bytes.length} bytes`);
  const directoryCount = Math.min(
    u32(bytes, optionalAt + fixed - 4),
    MAX_DIRECTORIES,
    Math.floor((optionalSize - fixed) / 8),
  );
  const directories = Array.from({ length: directoryCount }, (_, i) => ({
    rva: u32(bytes, optionalAt + fixed + i * 8),
    size: u32(bytes, optionalAt + fixed + i * 8 + 4),
  }));
  const sections = Array.from({ length: sectionCount }, (_, i) => {
    const at = tableAt + i * SECTION_HEADER;
    return {
      name: cString(bytes, at, 8),
      virtualSize: u32(bytes, at + 8),
      virtualAddress: u32(bytes, at + 12),
      sizeOfRawData: u32(bytes, at + 16),
      characteristics: u32(bytes, at + 36),
    };
  });
  return {
    ok: true,
    headers: {
      machine: u16(bytes, fileHeader),
      is64,
      timeDateStamp: u32(bytes, fileHeader + 4),
      optionalHeaderOffset: optionalAt,
      sectionTableOffset: tableAt,
      entryRva: u32(bytes, optionalAt + 0x10),
      imageBase: is64 ? u64(bytes, optionalAt + 0x18) : BigInt(u32(bytes, optionalAt + 0x1c)),
      fileAlignment: u32(bytes, optionalAt + 0x24),
      sizeOfImage: u32(bytes, optionalAt + 0x38),
      sizeOfHeaders: u32(bytes, optionalAt + 0x3c),
      checksum: u32(bytes, optionalAt + 0x40),
      directories,
      sections,
    },
  };
}

/** Headers of the image at `base`, or null when it is not a readable PE image. */
export function readPe(memory: KernelMemory, base: bigint): PeImage | null {
  // The headers of a loaded image are in its first page (to the page's end from an odd base).
  const page = memory.bytes(base, PAGE - Number(base % BigInt(PAGE)));
  if (!page) return null;
  const parsed = parsePeHeaders(page);
  if (!parsed.ok) return null;
  const h = parsed.headers;
  const directory = (index: number) => {
    const entry = h.directories[index];
    return entry && entry.rva && entry.size ? entry : null;
  };
  return {
    base,
    machine: h.machine,
    is64: h.is64,
    sizeOfImage: h.sizeOfImage,
    timeDateStamp: h.timeDateStamp,
    checksum: h.checksum,
    entryRva: h.entryRva,
    sections: h.sections.map((s) => ({
      name: s.name,
      rva: s.virtualAddress,
      size: s.virtualSize,
      characteristics: s.characteristics,
    })),
    exportDirectory: directory(0),
    debugDirectory: directory(6),
  };
}

/** The export directory's DLL name (e.g. "ntoskrnl.exe"). */
export function exportName(memory: KernelMemory, pe: PeImage): string | null {
  if (!pe.exportDirectory) return null;
  const dir = memory.bytes(pe.base + BigInt(pe.exportDirectory.rva), 0x28);
  if (!dir) return null;
  const name = memory.bytes(pe.base + BigInt(u32(dir, 0xc)), 64);
  return name ? cString(name, 0, 64) : null;
}

/** Exported names → RVAs (forwarders included as they are). */
export function readExports(memory: KernelMemory, pe: PeImage): Map<string, number> {
  const exports = new Map<string, number>();
  if (!pe.exportDirectory) return exports;
  const dir = memory.bytes(pe.base + BigInt(pe.exportDirectory.rva), 0x28);
  if (!dir) return exports;
  const functionCount = Math.min(u32(dir, 0x14), MAX_EXPORTS);
  const nameCount = Math.min(u32(dir, 0x18), MAX_EXPORTS);
  const functions = memory.bytes(pe.base + BigInt(u32(dir, 0x1c)), functionCount * 4);
  const names = memory.bytes(pe.base + BigInt(u32(dir, 0x20)), nameCount * 4);
  const ordinals = memory.bytes(pe.base + BigInt(u32(dir, 0x24)), nameCount * 2);
  if (!functions || !names || !ordinals) return exports;
  for (let i = 0; i < nameCount; i++) {
    const ordinal = u16(ordinals, i * 2);
    if (ordinal >= functionCount) continue;
    const nameBytes = memory.bytes(pe.base + BigInt(u32(names, i * 4)), 96);
    if (!nameBytes) continue;
    exports.set(cString(nameBytes, 0, 96), u32(functions, ordinal * 4));
  }
  return exports;
}

/** The RSDS CodeView record named by the debug directory (spec §1.16). */
export function readCodeView(memory: KernelMemory, pe: PeImage): CodeView | null {
  if (!pe.debugDirectory) return null;
  const count = Math.min(Math.floor(pe.debugDirectory.size / 0x1c), 16);
  const entries = memory.bytes(pe.base + BigInt(pe.debugDirectory.rva), count * 0x1c);
  if (!entries) return null;
  for (let i = 0; i < count; i++) {
    if (u32(entries, i * 0x1c + 0xc) !== 2) continue;
    const size = Math.min(u32(entries, i * 0x1c + 0x10), 0x200);
    if (size < RSDS_FIXED) continue;
    const record = memory.bytes(pe.base + BigInt(u32(entries, i * 0x1c + 0x14)), size);
    if (!record || ascii(record, 0, 4) !== 'RSDS') continue;
    return {
      guid: guidText(record.subarray(4, 20)),
      age: u32(record, 20),
      pdbName: cString(record, 24, size - 24),
    };
  }
  return null;
}

/** GUID as ISF file names spell it: Data1 Data2 Data3 as integers, then the last 8 bytes. */
export function guidText(bytes: Uint8Array): string {
  const hex = (n: number | bigint, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  let text = hex(u32(bytes, 0), 8) + hex(u16(bytes, 4), 4) + hex(u16(bytes, 6), 4);
  for (let i = 8; i < 16; i++) text += hex(bytes[i]!, 2);
  return text;
}

export function sectionOf(pe: PeImage, rva: number): PeSection | undefined {
  return pe.sections.find((s) => rva >= s.rva && rva < s.rva + Math.max(s.size, 1));
}

export const IMAGE_SCN_MEM_EXECUTE = 0x20000000;
