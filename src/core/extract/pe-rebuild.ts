// A loaded PE image back to a file a disassembler opens: the pages of [base, base + SizeOfImage)
// read from memory (absent pages zero-filled and listed), the headers copied, each section laid
// at the next FileAlignment boundary with PointerToRawData and SizeOfRawData rewritten, and
// ImageBase set to where the image was loaded, so that addresses in the code (relocations
// already applied by the loader) read as they did in memory. Facts: Microsoft's PE format
// (DOS e_lfanew at 0x3c, "PE\0\0", IMAGE_FILE_HEADER, optional header magic 0x10b/0x20b, 40-byte
// section headers, import descriptors of 20 bytes ending in a zero one).
//
// Every size comes from the image and is bounded: a crafted header gives an error or a raw dump
// with the reason, never a huge allocation or a loop.

import { parsePeHeaders, type PeHeaders } from '../kernel/pe';

const PAGE = 0x1000;
/** Larger than any driver or kernel (ntoskrnl is about 11 MiB; win32kfull about 4 MiB). */
export const MAX_IMAGE_SIZE = 128 << 20;
const MAX_IMPORT_DESCRIPTORS = 512;
const MAX_NAME = 256;

/** Reads the page at a page-aligned virtual address: its 4 KiB, or why it cannot. */
export type PageReader = (va: bigint) => { bytes: Uint8Array } | { status: string };

export interface ExtractedSection {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  pointerToRawData: number;
  sizeOfRawData: number;
  characteristics: number;
}

export interface MissingRange {
  /** Offset from the image base. */
  rva: number;
  size: number;
  /** "headers", a section name, or "between sections". */
  where: string;
  status: string;
}

export interface RebuiltImage {
  /** "pe": headers and sections laid back to file alignment; "raw": the memory as it was. */
  layout: 'pe' | 'raw';
  base: bigint;
  bytes: Uint8Array;
  machine: 'x86' | 'x64' | null;
  sizeOfImage: number;
  entryPoint: number | null;
  timeDateStamp: number | null;
  sections: ExtractedSection[];
  /** DLLs the import directory names, when it is in memory (null: no import directory read). */
  imports: string[] | null;
  missing: MissingRange[];
  /** Why the layout is raw, what was repaired. */
  notes: string[];
}

/** A rebuilt image with the SHA-256 of its bytes (hashed where the image is handed out, on Node). */
export interface ExtractedImage extends RebuiltImage {
  sha256: string;
}

export class ExtractError extends Error {}

const u32 = (b: Uint8Array, o: number) =>
  (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const alignUp = (value: number, to: number) => Math.ceil(value / to) * to;

function ascii(bytes: Uint8Array, at: number, max: number): string {
  let text = '';
  for (let i = at; i < Math.min(bytes.length, at + max); i++) {
    const c = bytes[i]!;
    if (c === 0) break;
    text += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return text;
}

interface Mapped {
  bytes: Uint8Array;
  /** Page index → why it is absent. */
  absent: Map<number, string>;
}

function readMapped(read: PageReader, base: bigint, size: number): Mapped {
  const bytes = new Uint8Array(size);
  const absent = new Map<number, string>();
  for (let page = 0; page * PAGE < size; page++) {
    const got = read(base + BigInt(page * PAGE));
    if ('bytes' in got) bytes.set(got.bytes.subarray(0, Math.min(PAGE, size - page * PAGE)), page * PAGE);
    else absent.set(page, got.status);
  }
  return { bytes, absent };
}

interface Headers extends PeHeaders {
  machineName: 'x86' | 'x64';
  importDirectory: { rva: number; size: number } | null;
}

/** The headers at the start of a mapped image, or why they are not a PE image this can rebuild. */
function parseHeaders(page: Uint8Array): Headers | string {
  const parsed = parsePeHeaders(page);
  if (!parsed.ok) return parsed.reason;
  const headers = parsed.headers;
  const machineName = headers.machine === 0x14c ? 'x86' : headers.machine === 0x8664 ? 'x64' : null;
  if (!machineName) return `machine 0x${headers.machine.toString(16)} is neither x86 nor x64`;
  if (headers.sections.length === 0) return 'no sections';
  const { sizeOfImage } = headers;
  if (sizeOfImage < PAGE || sizeOfImage > MAX_IMAGE_SIZE)
    return `SizeOfImage ${sizeOfImage} is outside 4 KiB–${MAX_IMAGE_SIZE >> 20} MiB`;
  const imports = headers.directories[1];
  return { ...headers, machineName, importDirectory: imports && imports.rva !== 0 ? imports : null };
}

/** A section name as text: characters outside printable ASCII become '?'. */
const printable = (name: string) => name.replace(/[^\x20-\x7e]/g, '?');

function missingRanges(mapped: Mapped, size: number, sections: ExtractedSection[]): MissingRange[] {
  const where = (rva: number): string => {
    if (rva < (sections[0]?.virtualAddress ?? size)) return 'headers';
    const section = sections.find(
      (s) => rva >= s.virtualAddress && rva < s.virtualAddress + alignUp(Math.max(1, s.virtualSize), PAGE),
    );
    return section ? section.name : 'between sections';
  };
  const ranges: MissingRange[] = [];
  for (const [page, status] of [...mapped.absent].sort((a, b) => a[0] - b[0])) {
    const rva = page * PAGE;
    const length = Math.min(PAGE, size - rva);
    const last = ranges[ranges.length - 1];
    const here = where(rva);
    if (last && last.rva + last.size === rva && last.where === here && last.status === status)
      last.size += length;
    else ranges.push({ rva, size: length, where: here, status });
  }
  return ranges;
}

function importedDlls(mapped: Mapped, directory: { rva: number; size: number }): string[] | null {
  const { bytes } = mapped;
  if (directory.rva >= bytes.length || mapped.absent.has(Math.floor(directory.rva / PAGE))) return null;
  const names: string[] = [];
  for (let i = 0; i < MAX_IMPORT_DESCRIPTORS; i++) {
    const at = directory.rva + i * 20;
    if (at + 20 > bytes.length) break;
    const nameRva = u32(bytes, at + 12);
    const firstThunk = u32(bytes, at + 16);
    if (nameRva === 0 && firstThunk === 0) break;
    if (nameRva === 0 || nameRva >= bytes.length || mapped.absent.has(Math.floor(nameRva / PAGE))) {
      names.push('(name not in memory)');
      continue;
    }
    names.push(ascii(bytes, nameRva, MAX_NAME));
  }
  return names;
}

/** The memory from `base` as it was, when there are no headers to rebuild from. */
function rawImage(read: PageReader, base: bigint, declaredSize: number, why: string): RebuiltImage {
  const size = Math.min(alignUp(declaredSize, PAGE), MAX_IMAGE_SIZE);
  const mapped = readMapped(read, base, size);
  if (mapped.absent.size === size / PAGE)
    throw new ExtractError(`nothing of the image at 0x${base.toString(16)} is in memory (${why})`);
  return {
    layout: 'raw',
    base,
    bytes: mapped.bytes,
    machine: null,
    sizeOfImage: size,
    entryPoint: null,
    timeDateStamp: null,
    sections: [],
    imports: null,
    missing: missingRanges(mapped, size, []),
    notes: [
      `${why}: the ${size} bytes from the base are written as they were in memory.`,
      ...(declaredSize > MAX_IMAGE_SIZE ? [`The size ${declaredSize} was cut to ${MAX_IMAGE_SIZE}.`] : []),
    ],
  };
}

/**
 * The image loaded at `base` as a PE file. `fallbackSize` (the driver's or module's size) is
 * used when the headers are not in memory or are not a PE image: the memory is then written as
 * it was, with the reason.
 */
export function rebuildPe(read: PageReader, base: bigint, fallbackSize: number | null): RebuiltImage {
  if (base % BigInt(PAGE) !== 0n)
    throw new ExtractError(`0x${base.toString(16)} is not page-aligned: an image starts on a page`);
  const first = read(base);
  const headers = 'bytes' in first ? parseHeaders(first.bytes) : `its first page is ${first.status}`;
  if (typeof headers === 'string') {
    if (!fallbackSize || fallbackSize <= 0)
      throw new ExtractError(`no PE image at 0x${base.toString(16)}: ${headers}`);
    return rawImage(read, base, fallbackSize, `No PE headers to rebuild from (${headers})`);
  }

  const notes: string[] = [];
  const mapped = readMapped(read, base, headers.sizeOfImage);
  const page = mapped.bytes;
  let fileAlignment = headers.fileAlignment;
  if (fileAlignment < 0x200 || fileAlignment > 0x10000 || (fileAlignment & (fileAlignment - 1)) !== 0) {
    notes.push(`FileAlignment ${fileAlignment} is not a power of two from 512 to 64 KiB: 512 used.`);
    fileAlignment = 0x200;
  }
  const sections: ExtractedSection[] = headers.sections.map((header, i) => {
    const name = printable(header.name);
    const declared = header.virtualSize || header.sizeOfRawData;
    const inImage =
      header.virtualAddress < headers.sizeOfImage ? headers.sizeOfImage - header.virtualAddress : 0;
    if (declared > inImage)
      notes.push(`Section ${i + 1} (${name}) reaches past SizeOfImage: cut to ${inImage} bytes.`);
    return {
      name,
      virtualAddress: header.virtualAddress,
      virtualSize: Math.min(declared, inImage),
      pointerToRawData: 0,
      sizeOfRawData: 0,
      characteristics: header.characteristics,
    };
  });
  const firstSection = Math.min(...sections.map((s) => s.virtualAddress).filter((va) => va > 0), PAGE);
  // The rebuilt header is rewritten in place (section table, FileAlignment, ImageBase): it must
  // hold at least the section table, even when a section claims to start inside the headers.
  const tableEnd = headers.sectionTableOffset + sections.length * 40;
  let headerSize = headers.sizeOfHeaders;
  if (headerSize < tableEnd || headerSize > firstSection) {
    const repaired = Math.max(tableEnd, Math.min(firstSection, PAGE));
    notes.push(
      `SizeOfHeaders ${headerSize} does not hold the headers before the first section: ${repaired} used.`,
    );
    headerSize = repaired;
  }

  // Sections in memory order, each at the next file-alignment boundary.
  let offset = alignUp(headerSize, fileAlignment);
  for (const section of [...sections].sort((a, b) => a.virtualAddress - b.virtualAddress)) {
    if (section.virtualSize === 0) continue;
    section.pointerToRawData = offset;
    section.sizeOfRawData = alignUp(section.virtualSize, fileAlignment);
    offset += section.sizeOfRawData;
  }
  // Sections of a real image do not overlap: their aligned sizes add up to about SizeOfImage.
  if (offset > headers.sizeOfImage + (sections.length + 1) * fileAlignment + PAGE)
    return rawImage(
      read,
      base,
      headers.sizeOfImage,
      `The section table describes ${offset} bytes for an image of ${headers.sizeOfImage} (sections overlap)`,
    );
  const file = new Uint8Array(offset);
  file.set(page.subarray(0, headerSize), 0);
  for (const section of sections)
    if (section.sizeOfRawData > 0)
      file.set(
        page.subarray(section.virtualAddress, section.virtualAddress + section.virtualSize),
        section.pointerToRawData,
      );
  const view = new DataView(file.buffer);
  sections.forEach((section, i) => {
    const at = headers.sectionTableOffset + i * 40;
    view.setUint32(at + 16, section.sizeOfRawData, true);
    view.setUint32(at + 20, section.pointerToRawData, true);
  });
  const optional = headers.optionalHeaderOffset;
  view.setUint32(optional + 0x24, fileAlignment, true);
  view.setUint32(optional + 0x3c, alignUp(headerSize, fileAlignment), true);
  if (headers.is64) view.setBigUint64(optional + 0x18, base, true);
  else view.setUint32(optional + 0x1c, Number(base & 0xffffffffn), true);
  notes.push(
    `ImageBase set to the load address 0x${base.toString(16)} (the loader's relocations are applied).`,
  );
  const missing = missingRanges(mapped, headers.sizeOfImage, sections);
  if (missing.length > 0)
    notes.push(
      `${mapped.absent.size} of ${Math.ceil(headers.sizeOfImage / PAGE)} pages were not in memory and are zero-filled.`,
    );
  return {
    layout: 'pe',
    base,
    bytes: file,
    machine: headers.machineName,
    sizeOfImage: headers.sizeOfImage,
    entryPoint: headers.entryRva,
    timeDateStamp: headers.timeDateStamp,
    sections,
    imports: headers.importDirectory ? importedDlls(mapped, headers.importDirectory) : null,
    missing,
    notes,
  };
}
