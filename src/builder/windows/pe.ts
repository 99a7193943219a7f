// PE/COFF headers, export directory and CodeView debug record (spec §1.16; Microsoft PE format).

import { ByteWriter, asciiBytes, alignUp, utf16le } from '../bytes';

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
  resourceDirectory?: { rva: number; size: number };
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
  if (spec.resourceDirectory)
    w.u32(dirs + 2 * 8, spec.resourceDirectory.rva).u32(dirs + 2 * 8 + 4, spec.resourceDirectory.size);
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

export interface FileVersion {
  major: number;
  minor: number;
  build: number;
  revision: number;
}

/** One VS_VERSIONINFO-style block: wLength, wValueLength, wType, key, value, children (32-bit aligned). */
function versionBlock(
  key: string,
  value: Uint8Array | string | null,
  children: Uint8Array[] = [],
): Uint8Array {
  const keyBytes = utf16le(key);
  const text = typeof value === 'string';
  const valueBytes = value === null ? new Uint8Array(0) : text ? utf16le(value) : value;
  const valueAt = alignUp(6 + keyBytes.length, 4);
  let length = valueAt + valueBytes.length;
  const childAt: number[] = [];
  for (const child of children) {
    length = alignUp(length, 4);
    childAt.push(length);
    length += child.length;
  }
  const w = new ByteWriter(length, 4);
  // wValueLength counts WCHARs for text values, bytes for binary ones; wType 1 = text.
  w.u16(0, length)
    .u16(2, text ? valueBytes.length / 2 : valueBytes.length)
    .u16(4, text ? 1 : 0);
  w.set(6, keyBytes).set(valueAt, valueBytes);
  children.forEach((child, i) => w.set(childAt[i]!, child));
  return w.bytes;
}

/**
 * The resource section of a kernel image with its one resource, RT_VERSION (16), name 1, language
 * 0x409: VS_VERSIONINFO with VS_FIXEDFILEINFO (signature 0xFEEF04BD, FileVerMS = major<<16|minor,
 * FileVerLS = build<<16|revision; spec §1.16) and the FileVersion strings, laid out for `rva`.
 */
export function versionResource(rva: number, version: FileVersion, originalFilename: string): Uint8Array {
  const ms = ((version.major << 16) | version.minor) >>> 0;
  const ls = ((version.build << 16) | version.revision) >>> 0;
  const fixed = new ByteWriter(0x34, 4);
  fixed
    .u32(0x00, 0xfeef04bd)
    .u32(0x04, 0x00010000)
    .u32(0x08, ms)
    .u32(0x0c, ls)
    .u32(0x10, ms)
    .u32(0x14, ls)
    .u32(0x18, 0x3f) // FileFlagsMask
    .u32(0x20, 0x00040004) // VOS_NT_WINDOWS32
    .u32(0x24, 3) // VFT_DRV
    .u32(0x28, 7); // VFT2_DRV_SYSTEM
  const dotted = `${version.major}.${version.minor}.${version.build}.${version.revision}`;
  const strings = versionBlock('040904B0', null, [
    versionBlock('CompanyName', 'Microsoft Corporation'),
    versionBlock('FileDescription', 'NT Kernel & System'),
    versionBlock('FileVersion', dotted),
    versionBlock('InternalName', originalFilename),
    versionBlock('OriginalFilename', originalFilename),
    versionBlock('ProductName', 'Microsoft® Windows® Operating System'),
    versionBlock('ProductVersion', dotted),
  ]);
  const translation = versionBlock('Translation', Uint8Array.of(0x09, 0x04, 0xb0, 0x04));
  const info = versionBlock('VS_VERSION_INFO', fixed.bytes, [
    versionBlock('StringFileInfo', null, [strings]),
    versionBlock('VarFileInfo', null, [translation]),
  ]);
  // Three directory levels (type, name, language), each one IMAGE_RESOURCE_DIRECTORY with one
  // ID entry; the last entry names an IMAGE_RESOURCE_DATA_ENTRY, whose data RVA is absolute.
  const SUBDIRECTORY = 0x80000000;
  const dataEntryAt = 3 * 0x18;
  const dataAt = dataEntryAt + 0x10;
  const w = new ByteWriter(dataAt + info.length, 4);
  const directory = (at: number, id: number, target: number) =>
    w
      .u16(at + 0x0e, 1)
      .u32(at + 0x10, id)
      .u32(at + 0x14, target);
  directory(0x00, 16, (SUBDIRECTORY | 0x18) >>> 0);
  directory(0x18, 1, (SUBDIRECTORY | 0x30) >>> 0);
  directory(0x30, 0x409, dataEntryAt);
  w.u32(dataEntryAt, rva + dataAt)
    .u32(dataEntryAt + 4, info.length)
    .u32(dataEntryAt + 8, 1200);
  w.set(dataAt, info);
  return w.bytes;
}
