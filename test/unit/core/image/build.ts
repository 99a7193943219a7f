// Byte builders for the container tests: every image here is laid out by hand from spec §5.

export const PAGE = 0x1000;

export class Writer {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(size: number, fill?: string) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    if (fill !== undefined) for (let i = 0; i < size; i++) this.bytes[i] = fill.charCodeAt(i % fill.length);
  }

  u8(at: number, value: number): this {
    this.view.setUint8(at, value);
    return this;
  }

  u16(at: number, value: number): this {
    this.view.setUint16(at, value, true);
    return this;
  }

  u32(at: number, value: number): this {
    this.view.setUint32(at, value >>> 0, true);
    return this;
  }

  u64(at: number, value: bigint | number): this {
    this.view.setBigUint64(at, BigInt(value), true);
    return this;
  }

  ascii(at: number, text: string): this {
    for (let i = 0; i < text.length; i++) this.bytes[at + i] = text.charCodeAt(i);
    return this;
  }

  set(at: number, data: Uint8Array): this {
    this.bytes.set(data, at);
    return this;
  }
}

/** A page whose bytes say which physical page it is: "PFN:" + u32 PFN, then a PFN-derived pattern. */
export function markedPage(pfn: number): Uint8Array {
  const page = new Uint8Array(PAGE);
  const view = new DataView(page.buffer);
  page.set([0x50, 0x46, 0x4e, 0x3a], 0);
  view.setUint32(4, pfn, true);
  for (let i = 8; i < PAGE; i++) page[i] = (pfn + i) & 0xff;
  return page;
}

export function pfnAt(bytes: Uint8Array | null): number | undefined {
  if (bytes === null || bytes.length < 8 || bytes[0] !== 0x50 || bytes[3] !== 0x3a) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
}

export interface DumpFacts {
  dumpType: number;
  build?: number;
  dtb?: number;
  machine?: number;
  psLoadedModuleList?: bigint;
  psActiveProcessHead?: bigint;
  kdbg?: bigint;
  processors?: number;
  bugCheck?: number;
  pae?: number;
}

/** A PAGEDU64 header (0x2000 bytes, "PAGE"-filled like Windows writes it), spec §5.2 table. */
export function header64(facts: DumpFacts): Writer {
  const w = new Writer(0x2000, 'PAGE');
  w.ascii(0, 'PAGEDU64')
    .u32(8, 0xf)
    .u32(0xc, facts.build ?? 19041);
  w.u64(0x10, facts.dtb ?? 0x1ad000);
  w.u64(0x18, 0xfffff80000000000n);
  w.u64(0x20, facts.psLoadedModuleList ?? 0xfffff8047c62a390n);
  w.u64(0x28, facts.psActiveProcessHead ?? 0xfffff8047c61e200n);
  w.u32(0x30, facts.machine ?? 0x8664).u32(0x34, facts.processors ?? 4);
  w.u32(0x38, facts.bugCheck ?? 0xe2).u32(0x3c, 0);
  for (let i = 0; i < 4; i++) w.u64(0x40 + i * 8, BigInt(i + 1));
  w.u64(0x80, facts.kdbg ?? 0xfffff8047c600b20n);
  w.u32(0xf98, facts.dumpType);
  return w;
}

/** A PAGEDUMP header (0x1000 bytes). */
export function header32(facts: DumpFacts): Writer {
  const w = new Writer(0x1000, 'PAGE');
  w.ascii(0, 'PAGEDUMP')
    .u32(8, 0xf)
    .u32(0xc, facts.build ?? 2600);
  w.u32(0x10, facts.dtb ?? 0x39000);
  w.u32(0x14, 0x80000000);
  w.u32(0x18, Number(facts.psLoadedModuleList ?? 0x8055a420n));
  w.u32(0x1c, Number(facts.psActiveProcessHead ?? 0x8055a158n));
  w.u32(0x20, facts.machine ?? 0x14c).u32(0x24, facts.processors ?? 1);
  w.u32(0x28, facts.bugCheck ?? 0xe2);
  for (let i = 0; i < 4; i++) w.u32(0x2c + i * 4, i + 1);
  w.u8(0x5c, facts.pae ?? 0);
  w.u32(0x60, Number(facts.kdbg ?? 0x80545ae0n));
  w.u32(0xf88, facts.dumpType);
  return w;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function pages(...pfns: number[]): Uint8Array {
  return concat(...pfns.map(markedPage));
}

/** A 64-bit full dump whose PhysicalMemoryBlock lists `runs` ([basePage, pageCount]). */
export function fullDump64(
  runs: [number, number][],
  options: { numberOfRuns?: number; storedPages?: number } = {},
): Uint8Array {
  const h = header64({ dumpType: 1 });
  h.u32(0x88, options.numberOfRuns ?? runs.length).u32(0x8c, 0);
  h.u64(
    0x90,
    runs.reduce((n, [, c]) => n + c, 0),
  );
  runs.forEach(([base, count], k) => h.u64(0x98 + k * 16, base).u64(0xa0 + k * 16, count));
  const pfns = runs.flatMap(([base, count]) => Array.from({ length: count }, (_, i) => base + i));
  const stored = pfns.slice(0, options.storedPages ?? pfns.length);
  return concat(h.bytes, pages(...stored));
}

/** Summary (bitmap) header at `at` in the verified 64-bit layout. */
export function summary64(
  signature: 'SDMP' | 'FDMP',
  setPfns: number[],
  bits: number,
  firstPage: number,
): Writer {
  const bitmapBytes = Math.ceil(bits / 8);
  const w = new Writer(0x38 + bitmapBytes);
  w.ascii(0, signature).ascii(4, 'DUMP');
  w.u64(0x20, firstPage).u64(0x28, setPfns.length).u64(0x30, bits);
  for (const pfn of setPfns) w.bytes[0x38 + (pfn >> 3)]! |= 1 << (pfn & 7);
  return w;
}

/** A 64-bit bitmap dump: the header, the summary with its bitmap, the set pages from 0x3000. */
export function bitmapDump64(
  dumpType: number,
  signature: 'SDMP' | 'FDMP',
  setPfns: number[],
  bits: number,
): Uint8Array {
  const firstPage = 0x3000;
  const summary = summary64(signature, setPfns, bits, firstPage);
  const pad = new Uint8Array(firstPage - 0x2000 - summary.bytes.length);
  return concat(header64({ dumpType }).bytes, summary.bytes, pad, pages(...setPfns));
}

export interface Load {
  paddr: number;
  data: Uint8Array;
  memsz?: number;
}

/** ELF64 core: PT_NOTE first (as QEMU writes it), then one PT_LOAD per load; data page-aligned after. */
export function elf64(
  notes: Uint8Array,
  loads: Load[],
  options: { machine?: number; type?: number; xnum?: boolean } = {},
): Uint8Array {
  const phnum = loads.length + 1;
  const phoff = 64;
  const notesAt = phoff + phnum * 56;
  const sectionAt = notesAt + notes.length;
  let dataAt = Math.ceil((sectionAt + 64) / PAGE) * PAGE;
  const header = new Writer(dataAt);
  header.u8(0, 0x7f).ascii(1, 'ELF').u8(4, 2).u8(5, 1).u8(6, 1);
  header
    .u16(0x10, options.type ?? 4)
    .u16(0x12, options.machine ?? 62)
    .u32(0x14, 1);
  header
    .u64(0x20, phoff)
    .u16(0x34, 64)
    .u16(0x36, 56)
    .u16(0x38, options.xnum ? 0xffff : phnum);
  if (options.xnum) {
    header.u64(0x28, sectionAt).u16(0x3a, 64).u16(0x3c, 1);
    header.u32(sectionAt + 0x2c, phnum); // section header 0: sh_info = real phnum
  }
  header
    .u32(phoff, 4)
    .u64(phoff + 8, notesAt)
    .u64(phoff + 0x20, notes.length)
    .u64(phoff + 0x28, notes.length);
  header.set(notesAt, notes);
  const blobs: Uint8Array[] = [header.bytes];
  loads.forEach((load, k) => {
    const at = phoff + (k + 1) * 56;
    header
      .u32(at, 1)
      .u32(at + 4, 7)
      .u64(at + 8, dataAt)
      .u64(at + 0x10, 0xffff800000000000n + BigInt(load.paddr));
    header
      .u64(at + 0x18, load.paddr)
      .u64(at + 0x20, load.data.length)
      .u64(at + 0x28, load.memsz ?? load.data.length);
    blobs.push(load.data);
    dataAt += load.data.length;
  });
  return concat(...blobs);
}
