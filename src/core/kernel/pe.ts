// PE images in kernel memory (spec §1.16): headers, sections, the export directory and the
// CodeView RSDS record. Every size and count read from the image is bounded.

import { ascii, cString, u16, u32 } from '../util/bytes';
import type { KernelMemory } from './memory';

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

const MAX_SECTIONS = 96;
const MAX_EXPORTS = 20000;

/** Headers of the image at `base`, or null when it is not a readable PE image. */
export function readPe(memory: KernelMemory, base: bigint): PeImage | null {
  const dos = memory.bytes(base, 0x40);
  if (!dos || dos[0] !== 0x4d || dos[1] !== 0x5a) return null;
  const lfanew = u32(dos, 0x3c);
  if (lfanew < 0x40 || lfanew > 0x800) return null;
  const nt = memory.bytes(base + BigInt(lfanew), 0x108);
  if (!nt || ascii(nt, 0, 4) !== 'PE\0\0') return null;
  const machine = u16(nt, 4);
  const sectionCount = Math.min(u16(nt, 6), MAX_SECTIONS);
  const optionalSize = u16(nt, 0x14);
  const magic = u16(nt, 0x18);
  if (magic !== 0x10b && magic !== 0x20b) return null;
  const is64 = magic === 0x20b;
  const oh = 0x18;
  const dirs = oh + (is64 ? 0x70 : 0x60);
  const dirCount = u32(nt, oh + (is64 ? 0x6c : 0x5c));
  const directory = (index: number) => {
    if (index >= dirCount) return null;
    const rva = u32(nt, dirs + index * 8);
    const size = u32(nt, dirs + index * 8 + 4);
    return rva && size ? { rva, size } : null;
  };
  const table = memory.bytes(base + BigInt(lfanew + 0x18 + optionalSize), sectionCount * 0x28);
  const sections: PeSection[] = [];
  if (table) {
    for (let i = 0; i < sectionCount; i++) {
      sections.push({
        name: cString(table, i * 0x28, 8),
        rva: u32(table, i * 0x28 + 0xc),
        size: u32(table, i * 0x28 + 8),
        characteristics: u32(table, i * 0x28 + 0x24),
      });
    }
  }
  return {
    base,
    machine,
    is64,
    sizeOfImage: u32(nt, oh + 0x38),
    timeDateStamp: u32(nt, 8),
    checksum: u32(nt, oh + 0x40),
    entryRva: u32(nt, oh + 0x10),
    sections,
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
