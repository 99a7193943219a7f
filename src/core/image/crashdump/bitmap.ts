// DumpTypes 5/6 (and type 2 where it carries the same header): a bitmap of present PFNs, the
// present pages stored back to back in PFN order from FirstPage (spec §5.2 "Types 5/6";
// `KDMP BuildPhysmemBMPDump`, `LC DeviceFile_MsCrashCoreDumpInitialize_BitmapFullOrActiveMemory`).
// The bitmap is streamed in chunks and turned straight into runs of consecutive set bits.

import type { ByteSource } from '../../source';
import { u32, u64 } from '../../util/bytes';
import { RunTableBuilder } from '../run-table';
import { DUMP_MAGIC, PAGE_SIZE } from './header';

const SDMP = 0x504d4453;
const FDMP = 0x504d4446;
/** LeechCore's sanity bound on the bitmap's bit count (spec §5.2). */
const MAX_BITS = 0x7fffffff;
const CHUNK = 1 << 20;

export interface SummaryHeader {
  readonly layout: 'summary64' | 'summary32';
  readonly signature: 'SDMP' | 'FDMP';
  /** Absolute file offset of the first stored page. */
  readonly firstPage: number;
  readonly presentPages: number;
  readonly bits: number;
  readonly bitmapOffset: number;
}

/** True when the summary signature ("SDMP"/"FDMP" + "DUMP") is at `at`. */
export function hasSummarySignature(source: ByteSource, at: number): boolean {
  const head = source.read(at, 8);
  if (head.length < 8) return false;
  const signature = u32(head, 0);
  return (signature === SDMP || signature === FDMP) && u32(head, 4) === DUMP_MAGIC;
}

/**
 * Reads a summary header at `at` in one of the two candidate layouts, or returns a reason it
 * does not fit. `summary64` is the verified 64-bit layout (FirstPage u64 @0x20, present u64 @0x28,
 * bits u64 @0x30, bitmap @0x38); `summary32` is the WDK-derived `_SUMMARY_DUMP32` (`SEL`:
 * HeaderSize u32 @0x0C, BitmapSize u32 @0x10, Pages u32 @0x14, bits @0x20), unverified for files.
 */
export function readSummaryHeader(
  source: ByteSource,
  at: number,
  layout: 'summary64' | 'summary32',
): SummaryHeader | string {
  const head = source.read(at, 0x38);
  if (head.length < 0x38) return 'the file ends inside the bitmap header';
  const signatureValue = u32(head, 0);
  if ((signatureValue !== SDMP && signatureValue !== FDMP) || u32(head, 4) !== DUMP_MAGIC)
    return 'no SDMP/FDMP bitmap header signature';
  const signature = signatureValue === SDMP ? 'SDMP' : 'FDMP';
  let firstPage: bigint;
  let present: bigint;
  let bits: bigint;
  let bitmapOffset: number;
  if (layout === 'summary64') {
    firstPage = u64(head, 0x20);
    present = u64(head, 0x28);
    bits = u64(head, 0x30);
    bitmapOffset = at + 0x38;
  } else {
    firstPage = BigInt(u32(head, 0x0c));
    bits = BigInt(u32(head, 0x10));
    present = BigInt(u32(head, 0x14));
    bitmapOffset = at + 0x20;
  }
  if (bits === 0n || bits > BigInt(MAX_BITS)) return `bitmap size ${bits} bits is outside 1..${MAX_BITS}`;
  if (present > bits) return `present pages ${present} exceed the bitmap's ${bits} bits`;
  const bitmapEnd = bitmapOffset + Math.ceil(Number(bits) / 8);
  if (firstPage < BigInt(bitmapEnd))
    return `first page offset 0x${firstPage.toString(16)} lies inside the bitmap`;
  if (firstPage > BigInt(Number.MAX_SAFE_INTEGER))
    return `first page offset 0x${firstPage.toString(16)} is impossible`;
  return {
    layout,
    signature,
    firstPage: Number(firstPage),
    presentPages: Number(present),
    bits: Number(bits),
    bitmapOffset,
  };
}

export interface BitmapScan {
  readonly builder: RunTableBuilder;
  /** Set bits seen (stops counting if the run table filled up). */
  readonly setBits: number;
  /** Bits actually scanned (the bitmap may be cut short by the end of the file). */
  readonly bitsScanned: number;
}

/** Streams the bitmap and emits one run per stretch of consecutive set bits. */
export function scanBitmap(source: ByteSource, header: SummaryHeader): BitmapScan {
  const builder = new RunTableBuilder();
  const totalBytes = Math.ceil(header.bits / 8);
  let pageIndex = 0; // index among stored pages of the next set bit
  let runStartPfn = -1;
  let runStartPage = 0;
  let bitsScanned = 0;
  const flush = (endPfn: number): void => {
    if (runStartPfn < 0) return;
    builder.add(
      runStartPfn * PAGE_SIZE,
      (endPfn - runStartPfn) * PAGE_SIZE,
      header.firstPage + runStartPage * PAGE_SIZE,
    );
    runStartPfn = -1;
  };

  for (let chunkStart = 0; chunkStart < totalBytes && !builder.full; chunkStart += CHUNK) {
    const want = Math.min(CHUNK, totalBytes - chunkStart);
    const chunk = source.readDirect(header.bitmapOffset + chunkStart, want);
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      const basePfn = (chunkStart + i) * 8;
      const bitsHere = Math.min(8, header.bits - basePfn);
      if (byte === 0xff && bitsHere === 8) {
        if (runStartPfn < 0) {
          runStartPfn = basePfn;
          runStartPage = pageIndex;
        }
        pageIndex += 8;
        continue;
      }
      if (byte === 0) {
        flush(basePfn);
        continue;
      }
      for (let bit = 0; bit < bitsHere; bit++) {
        if ((byte >> bit) & 1) {
          if (runStartPfn < 0) {
            runStartPfn = basePfn + bit;
            runStartPage = pageIndex;
          }
          pageIndex++;
        } else {
          flush(basePfn + bit);
        }
      }
    }
    bitsScanned = Math.min(header.bits, (chunkStart + chunk.length) * 8);
    if (chunk.length < want) break; // the file ends inside the bitmap
  }
  flush(bitsScanned);
  return { builder, setBits: pageIndex, bitsScanned };
}
