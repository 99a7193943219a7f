// DumpType 1: PhysicalMemoryBlock run list; run k's pages follow the header back to back
// (spec §5.2 "Type 1"; `V3:layers/crash.py`, `KDMP BuildPhysmemFullDump`).

import { u32, u64 } from '../../util/bytes';
import { RunTableBuilder } from '../run-table';
import { PAGE_MAGIC, PAGE_SIZE, type DumpHeader } from './header';

export function fullDumpRuns(
  header: DumpHeader,
  headerBytes: Uint8Array,
  warnings: string[],
): RunTableBuilder {
  const builder = new RunTableBuilder();
  let count = header.numberOfRuns;
  if (count === PAGE_MAGIC) {
    warnings.push('PhysicalMemoryBlock holds the "PAGE" filler: the header lists no runs');
    return builder;
  }
  if (count > header.runCapacity) {
    warnings.push(
      `NumberOfRuns ${count} exceeds the ${header.runCapacity} runs the header can hold; reading ${header.runCapacity}`,
    );
    count = header.runCapacity;
  }
  let filePage = 0;
  let listedPages = 0n;
  for (let k = 0; k < count; k++) {
    const at = header.runsOffset + k * header.runEntrySize;
    const [basePage, pageCount] =
      header.runEntrySize === 8
        ? [BigInt(u32(headerBytes, at)), BigInt(u32(headerBytes, at + 4))]
        : [u64(headerBytes, at), u64(headerBytes, at + 8)];
    listedPages += pageCount;
    const start = basePage * BigInt(PAGE_SIZE);
    const length = pageCount * BigInt(PAGE_SIZE);
    const fileOffset = header.headerSize + filePage * PAGE_SIZE;
    if (start + length > BigInt(Number.MAX_SAFE_INTEGER) || !Number.isSafeInteger(fileOffset)) {
      warnings.push(
        `run ${k} (base page 0x${basePage.toString(16)}, ${pageCount} pages) is impossibly large; runs from it on ignored`,
      );
      break;
    }
    builder.add(Number(start), Number(length), fileOffset);
    filePage += Number(pageCount);
  }
  if (listedPages !== header.numberOfPages)
    warnings.push(`NumberOfPages says ${header.numberOfPages} but the runs list ${listedPages} pages`);
  return builder;
}
