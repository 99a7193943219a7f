// Windows crash dumps as the kernel writes them (spec §5.2): PAGEDU64 / PAGEDUMP header, then a
// full dump's run list (DumpType 1) or a bitmap dump's summary header and bitmap (DumpType 5).
// Unused header bytes hold the "PAGE" fill pattern, as real dumps do.

import { ByteWriter } from '../bytes';
import { PAGE } from '../memory/physical';
import type { BuiltSystem } from '../windows/system';
import { CHUNK, ImageFile, composePhysical, writePhysicalRange } from './stream';

const BUGCHECK_MANUALLY_INITIATED_CRASH = 0xe2;

interface HeaderLayout {
  size: number;
  signature: string;
  directoryTableBase: number;
  pfnDataBase: number;
  psLoadedModuleList: number;
  psActiveProcessHead: number;
  machineImageType: number;
  numberProcessors: number;
  bugCheckCode: number;
  bugCheckParameters: number;
  kdDebuggerDataBlock: number;
  physicalMemoryBlock: number;
  comment: number;
  dumpType: number;
  requiredDumpSpace: number;
  systemTime: number;
  systemUpTime: number;
  pointerSize: 4 | 8;
}

const HEADER64: HeaderLayout = {
  size: 0x2000,
  signature: 'DU64',
  directoryTableBase: 0x10,
  pfnDataBase: 0x18,
  psLoadedModuleList: 0x20,
  psActiveProcessHead: 0x28,
  machineImageType: 0x30,
  numberProcessors: 0x34,
  bugCheckCode: 0x38,
  bugCheckParameters: 0x40,
  kdDebuggerDataBlock: 0x80,
  physicalMemoryBlock: 0x88,
  comment: 0xfb0,
  dumpType: 0xf98,
  requiredDumpSpace: 0xfa0,
  systemTime: 0xfa8,
  systemUpTime: 0x1030,
  pointerSize: 8,
};

const HEADER32: HeaderLayout = {
  size: 0x1000,
  signature: 'DUMP',
  directoryTableBase: 0x10,
  pfnDataBase: 0x14,
  psLoadedModuleList: 0x18,
  psActiveProcessHead: 0x1c,
  machineImageType: 0x20,
  numberProcessors: 0x24,
  bugCheckCode: 0x28,
  bugCheckParameters: 0x2c,
  kdDebuggerDataBlock: 0x60,
  physicalMemoryBlock: 0x64,
  comment: 0x820,
  dumpType: 0xf88,
  requiredDumpSpace: 0xfa0,
  systemTime: 0xfc0,
  systemUpTime: 0xfb8,
  pointerSize: 4,
};

function header(
  system: BuiltSystem,
  dumpType: 1 | 5,
  totalSize: number,
): { bytes: Uint8Array; layout: HeaderLayout } {
  const { hints } = system;
  const layout = hints.machine === 'x64' ? HEADER64 : HEADER32;
  const w = new ByteWriter(layout.size, layout.pointerSize);
  for (let at = 0; at < layout.size; at += 4) w.ascii(at, 'PAGE');
  w.ascii(4, layout.signature);
  w.u32(8, 0xf).u32(0xc, hints.build);
  w.ptr(layout.directoryTableBase, BigInt(hints.dtb));
  w.ptr(layout.pfnDataBase, hints.pfnDatabase);
  w.ptr(layout.psLoadedModuleList, hints.psLoadedModuleList);
  w.ptr(layout.psActiveProcessHead, hints.psActiveProcessHead);
  w.u32(layout.machineImageType, hints.machine === 'x64' ? 0x8664 : 0x14c);
  w.u32(layout.numberProcessors, hints.processors);
  w.u32(layout.bugCheckCode, BUGCHECK_MANUALLY_INITIATED_CRASH);
  for (let i = 0; i < 4; i++) w.ptr(layout.bugCheckParameters + i * layout.pointerSize, 0n);
  w.ptr(layout.kdDebuggerDataBlock, hints.kdbgVa);
  if (hints.machine === 'x86') w.u8(0x5c, hints.pae ? 1 : 0);
  if (dumpType === 1) {
    const runs = system.phys.runs;
    const pages = runs.reduce((n, r) => n + (r.end - r.start) / PAGE, 0);
    const pmb = layout.physicalMemoryBlock;
    if (layout.pointerSize === 8) {
      w.u32(pmb, runs.length)
        .u32(pmb + 4, 0)
        .u64(pmb + 8, BigInt(pages));
      runs.forEach((r, i) =>
        w
          .u64(pmb + 0x10 + i * 16, BigInt(r.start / PAGE))
          .u64(pmb + 0x18 + i * 16, BigInt((r.end - r.start) / PAGE)),
      );
    } else {
      w.u32(pmb, runs.length).u32(pmb + 4, pages);
      runs.forEach((r, i) =>
        w.u32(pmb + 8 + i * 8, r.start / PAGE).u32(pmb + 12 + i * 8, (r.end - r.start) / PAGE),
      );
    }
  }
  w.ascii(layout.comment, 'Dump written by irpscope build-image\0');
  w.u32(layout.dumpType, dumpType);
  w.u64(layout.requiredDumpSpace, BigInt(totalSize));
  w.u64(layout.systemTime, 0x01dab0c0f0000000n);
  w.u64(layout.systemUpTime, 0x0000000861c46800n);
  return { bytes: w.bytes, layout };
}

export function writeFullDump(system: BuiltSystem, path: string, sparse: boolean): void {
  const headerSize = system.hints.machine === 'x64' ? 0x2000 : 0x1000;
  const total = headerSize + system.phys.runs.reduce((n, r) => n + (r.end - r.start), 0);
  const file = new ImageFile(path, sparse);
  file.writeAt(0, header(system, 1, total).bytes);
  let at = headerSize;
  for (const run of system.phys.runs) {
    writePhysicalRange(file, system.phys, system.noise, run.start, run.end, at);
    at += run.end - run.start;
  }
  file.close();
}

/**
 * Bitmap dump (DumpType 5): summary header "SDMP" at the end of the dump header, a bitmap of
 * present PFNs, then the present pages in PFN order (spec §5.2; the 32-bit variant follows
 * Volatility 3's reading, which the spec marks unverified).
 */
export function writeBitmapDump(system: BuiltSystem, path: string, sparse: boolean): void {
  const { phys } = system;
  const headerSize = system.hints.machine === 'x64' ? 0x2000 : 0x1000;
  const bits = phys.maxAddress / PAGE;
  const bitmapBytes = Math.ceil(bits / 32) * 4;
  const firstPage = Math.ceil((headerSize + 0x38 + bitmapBytes) / PAGE) * PAGE;
  const present = phys.runs.reduce((n, r) => n + (r.end - r.start) / PAGE, 0);
  const file = new ImageFile(path, sparse);
  file.writeAt(0, header(system, 5, firstPage + present * PAGE).bytes);
  const summary = new ByteWriter(0x38, 8);
  summary
    .ascii(0, 'SDMP')
    .ascii(4, 'DUMP')
    .u64(0x20, BigInt(firstPage))
    .u64(0x28, BigInt(present))
    .u64(0x30, BigInt(bits));
  file.writeAt(headerSize, summary.bytes);
  const bitmap = new Uint8Array(bitmapBytes);
  for (const run of phys.runs)
    for (let pfn = run.start / PAGE; pfn < run.end / PAGE; pfn++) bitmap[pfn >> 3]! |= 1 << (pfn & 7);
  file.writeAt(headerSize + 0x38, bitmap);
  let at = firstPage;
  for (const run of phys.runs) {
    writePhysicalRange(file, phys, system.noise, run.start, run.end, at);
    at += run.end - run.start;
  }
  file.close();
}

export { CHUNK, composePhysical };
