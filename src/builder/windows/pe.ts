// PE/COFF headers, export directory and CodeView debug record (spec §1.16; Microsoft PE format).

import { ByteWriter, asciiBytes, alignUp } from '../bytes';

export interface PeSection {
  name: string;
  rva: number;
  virtualSize: number;
  characteristics: number;
}

export const SCN_CODE = 0x60000020; // CNT_CODE | MEM_EXECUTE | MEM_READ
export const SCN_DATA = 0xc0000040; // CNT_INITIALIZED_DATA | MEM_READ | MEM_WRITE
export const SCN_RDATA = 0x40000040; // CNT_INITIALIZED_DATA | MEM_READ
export const SCN_DISCARDABLE_CODE = 0x62000020; // + MEM_DISCARDABLE (INIT)
export const SCN_PAGED_CODE = 0x60000020;

export interface PeHeaderSpec {
  machine: 'x86' | 'x64';
  imageBase: bigint;
  sizeOfImage: number;
  entryRva: number;
  timeDateStamp: number;
  checksum: number;
  sections: PeSection[];
  exportDirectory?: { rva: number; size: number };
  debugDirectory?: { rva: number; size: number };
  /** IMAGE_FILE_DLL for hal/kd/export drivers. */
  dll?: boolean;
}

const DOS_STUB = 'This program cannot be run in DOS mode.\r\r\n$';

/** The first page of a loaded image: DOS header, NT headers and section table. */
export function peHeaders(spec: PeHeaderSpec): Uint8Array {
  const w = new ByteWriter(0x1000);
  const lfanew = 0xe8;
  w.ascii(0, 'MZ').u16(2, 0x90).u16(4, 3).u16(8, 4).u16(0xc, 0xffff).u16(0x10, 0xb8).u16(0x18, 0x40);
  w.u32(0x3c, lfanew);
  // The classic real-mode stub that prints the message and exits.
  w.set(
    0x40,
    Uint8Array.of(0x0e, 0x1f, 0xba, 0x0e, 0x00, 0xb4, 0x09, 0xcd, 0x21, 0xb8, 0x01, 0x4c, 0xcd, 0x21),
  );
  w.ascii(0x4e, DOS_STUB);
  const is64 = spec.machine === 'x64';
  w.ascii(lfanew, 'PE\0\0');
  const fh = lfanew + 4;
  const optionalSize = is64 ? 0xf0 : 0xe0;
  w.u16(fh, is64 ? 0x8664 : 0x14c)
    .u16(fh + 2, spec.sections.length)
    .u32(fh + 4, spec.timeDateStamp);
  w.u16(fh + 0x10, optionalSize);
  // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE (x64) | 32BIT_MACHINE (x86) | DLL
  w.u16(fh + 0x12, 0x0002 | (is64 ? 0x0020 : 0x0100) | (spec.dll ? 0x2000 : 0));
  const oh = fh + 0x14;
  const textSize = spec.sections
    .filter((s) => s.characteristics & 0x20)
    .reduce((n, s) => n + s.virtualSize, 0);
  w.u16(oh, is64 ? 0x20b : 0x10b)
    .u8(oh + 2, 14)
    .u8(oh + 3, 20);
  w.u32(oh + 4, alignUp(textSize, 0x200))
    .u32(oh + 0x10, spec.entryRva)
    .u32(oh + 0x14, spec.sections[0]?.rva ?? 0x1000);
  if (is64) {
    w.u64(oh + 0x18, spec.imageBase);
  } else {
    w.u32(oh + 0x18, 0).u32(oh + 0x1c, Number(spec.imageBase & 0xffffffffn));
  }
  w.u32(oh + 0x20, 0x1000).u32(oh + 0x24, 0x200); // SectionAlignment, FileAlignment
  w.u16(oh + 0x28, 10)
    .u16(oh + 0x2a, 0)
    .u16(oh + 0x30, 10)
    .u16(oh + 0x32, 0)
    .u16(oh + 0x34, 0)
    .u16(oh + 0x36, 0);
  w.u32(oh + 0x38, spec.sizeOfImage)
    .u32(oh + 0x3c, 0x400)
    .u32(oh + 0x40, spec.checksum);
  w.u16(oh + 0x44, 1); // IMAGE_SUBSYSTEM_NATIVE
  w.u16(oh + 0x46, 0x4160); // HIGH_ENTROPY_VA | DYNAMIC_BASE | NX_COMPAT | GUARD_CF
  const dirs = is64 ? oh + 0x70 : oh + 0x60;
  if (is64) {
    w.u64(oh + 0x48, 0x80000n)
      .u64(oh + 0x50, 0x2000n)
      .u64(oh + 0x58, 0x100000n)
      .u64(oh + 0x60, 0x1000n);
    w.u32(oh + 0x6c, 16);
  } else {
    w.u32(oh + 0x48, 0x40000)
      .u32(oh + 0x4c, 0x1000)
      .u32(oh + 0x50, 0x100000)
      .u32(oh + 0x54, 0x1000);
    w.u32(oh + 0x5c, 16);
  }
  if (spec.exportDirectory) w.u32(dirs, spec.exportDirectory.rva).u32(dirs + 4, spec.exportDirectory.size);
  if (spec.debugDirectory)
    w.u32(dirs + 6 * 8, spec.debugDirectory.rva).u32(dirs + 6 * 8 + 4, spec.debugDirectory.size);
  let sh = oh + optionalSize;
  let rawPointer = 0x400;
  for (const section of spec.sections) {
    w.ascii(sh, section.name.slice(0, 8));
    w.u32(sh + 8, section.virtualSize).u32(sh + 0xc, section.rva);
    const raw = alignUp(section.virtualSize, 0x200);
    w.u32(sh + 0x10, raw)
      .u32(sh + 0x14, rawPointer)
      .u32(sh + 0x24, section.characteristics >>> 0);
    rawPointer += raw;
    sh += 0x28;
  }
  return w.bytes;
}

export interface ExportEntry {
  name: string;
  rva: number;
}

/** IMAGE_EXPORT_DIRECTORY with its tables and strings, laid out for `rva`. */
export function exportDirectory(
  dllName: string,
  exports: readonly ExportEntry[],
  rva: number,
  timeDateStamp: number,
): Uint8Array {
  const sorted = [...exports].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const count = sorted.length;
  const functionsAt = 0x28;
  const namesAt = functionsAt + count * 4;
  const ordinalsAt = namesAt + count * 4;
  let stringsAt = ordinalsAt + count * 2;
  const strings: Array<[number, Uint8Array]> = [];
  const dllNameAt = stringsAt;
  strings.push([dllNameAt, asciiBytes(dllName)]);
  stringsAt += dllName.length + 1;
  const nameOffsets: number[] = [];
  for (const entry of sorted) {
    nameOffsets.push(stringsAt);
    strings.push([stringsAt, asciiBytes(entry.name)]);
    stringsAt += entry.name.length + 1;
  }
  const w = new ByteWriter(alignUp(stringsAt, 8), 4);
  w.u32(0x4, timeDateStamp)
    .u32(0xc, rva + dllNameAt)
    .u32(0x10, 1)
    .u32(0x14, count)
    .u32(0x18, count);
  w.u32(0x1c, rva + functionsAt)
    .u32(0x20, rva + namesAt)
    .u32(0x24, rva + ordinalsAt);
  sorted.forEach((entry, i) => {
    w.u32(functionsAt + i * 4, entry.rva);
    w.u32(namesAt + i * 4, rva + nameOffsets[i]!);
    w.u16(ordinalsAt + i * 2, i);
  });
  for (const [at, bytes] of strings) w.set(at, bytes);
  return w.bytes;
}

/** One IMAGE_DEBUG_DIRECTORY (CODEVIEW) entry followed by its RSDS record, laid out for `rva`. */
export function codeViewDebugInfo(
  guid: Uint8Array,
  age: number,
  pdbName: string,
  rva: number,
  timeDateStamp: number,
): Uint8Array {
  const recordAt = 0x20;
  const record = new ByteWriter(4 + 16 + 4 + pdbName.length + 1, 4);
  record.ascii(0, 'RSDS').set(4, guid).u32(20, age).ascii(24, pdbName);
  const w = new ByteWriter(recordAt + record.bytes.length, 4);
  w.u32(0x4, timeDateStamp)
    .u32(0xc, 2)
    .u32(0x10, record.bytes.length)
    .u32(0x14, rva + recordAt);
  w.set(recordAt, record.bytes);
  return w.bytes;
}

/** GUID text (as in ISF file names: Data1 Data2 Data3 as integers, then 8 bytes) to its 16 on-disk bytes. */
export function guidBytes(text: string): Uint8Array {
  const hexText = text.replace(/[^0-9a-fA-F]/g, '');
  if (hexText.length !== 32) throw new Error(`bad GUID ${text}`);
  const out = new Uint8Array(16);
  const data1 = parseInt(hexText.slice(0, 8), 16);
  const data2 = parseInt(hexText.slice(8, 12), 16);
  const data3 = parseInt(hexText.slice(12, 16), 16);
  new DataView(out.buffer).setUint32(0, data1, true);
  new DataView(out.buffer).setUint16(4, data2, true);
  new DataView(out.buffer).setUint16(6, data3, true);
  for (let i = 0; i < 8; i++) out[8 + i] = parseInt(hexText.slice(16 + i * 2, 18 + i * 2), 16);
  return out;
}

export function guidText(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
  let text =
    hex(view.getUint32(0, true), 8) + hex(view.getUint16(4, true), 4) + hex(view.getUint16(6, true), 4);
  for (let i = 8; i < 16; i++) text += hex(bytes[i]!, 2);
  return text;
}
