// DumpTypes 8/9/0xA ("RDMP", 64-bit only): a list of {PFN, PageCount} ranges after a small header
// at 0x2000, pages stored consecutively from FirstPageOffset (spec §5.2; `KDMP RDMP_HEADER64`,
// `BuildPhysicalMemoryFromDump`).

import type { ByteSource } from '../../source';
import { u32, u64 } from '../../util/bytes';
import { ImageError } from '../errors';
import { RunTableBuilder } from '../run-table';
import { DUMP_MAGIC, PAGE_SIZE } from './header';

const RDMP_MARKER = 0x40;
const RDMP_MAGIC = 0x504d4452; // "RDMP"
const HEADER_AT = 0x2000;
const RANGES_AT = 0x2030;
const CHUNK_ENTRIES = 65536;

export interface RdmpLayout {
  readonly builder: RunTableBuilder;
  readonly firstPageOffset: number;
}

export function rdmpRuns(source: ByteSource, dumpType: number, warnings: string[]): RdmpLayout {
  const head = source.read(HEADER_AT, 0x30);
  if (head.length < 0x30)
    throw new ImageError('truncated', `${source.name}: the file ends inside the RDMP header`);
  if (u32(head, 0) !== RDMP_MARKER || u32(head, 4) !== RDMP_MAGIC || u32(head, 8) !== DUMP_MAGIC)
    throw new ImageError('corrupt', `${source.name}: DumpType ${dumpType} but no RDMP header at 0x2000`);
  const metadataSize = u64(head, 0x10);
  const firstPageOffset = u64(head, 0x18);
  // kdmp-parser's consistency rule: MetadataSize − 0x20 == FirstPageOffset − 0x2040.
  if (metadataSize < 0x20n || firstPageOffset < 0x2040n || metadataSize - 0x20n !== firstPageOffset - 0x2040n)
    throw new ImageError(
      'corrupt',
      `${source.name}: RDMP MetadataSize 0x${metadataSize.toString(16)} and FirstPageOffset 0x${firstPageOffset.toString(16)} disagree`,
    );
  if (firstPageOffset > BigInt(source.size))
    throw new ImageError('truncated', `${source.name}: RDMP pages start past the end of the file`);
  const first = Number(firstPageOffset);
  // Type 0xA counts pages (TotalNumberOfPages @0x28) because PFN 0 is a real page there; types 8/9
  // end their list with PFN 0.
  const totalPages = dumpType === 0xa ? u64(head, 0x28) : 0n;
  const entries = Math.min(Number(metadataSize / 16n), Math.floor((first - RANGES_AT) / 16));

  const builder = new RunTableBuilder();
  let page = 0;
  let accumulated = 0n;
  let stopped = false;
  for (let chunkStart = 0; chunkStart < entries && !stopped && !builder.full; chunkStart += CHUNK_ENTRIES) {
    const count = Math.min(CHUNK_ENTRIES, entries - chunkStart);
    const bytes = source.readDirect(RANGES_AT + chunkStart * 16, count * 16);
    for (let i = 0; i + 16 <= bytes.length; i += 16) {
      const pfn = u64(bytes, i);
      const pages = u64(bytes, i + 8);
      if (dumpType === 0xa ? totalPages > 0n && accumulated >= totalPages : pfn === 0n) {
        stopped = true;
        break;
      }
      if (pfn === 0n && pages === 0n) {
        stopped = true;
        break;
      }
      const start = pfn * BigInt(PAGE_SIZE);
      const length = pages * BigInt(PAGE_SIZE);
      const fileOffset = first + page * PAGE_SIZE;
      if (
        start + length > BigInt(Number.MAX_SAFE_INTEGER) ||
        !Number.isSafeInteger(fileOffset + Number(length))
      ) {
        warnings.push(
          `RDMP range at PFN 0x${pfn.toString(16)} (${pages} pages) is impossibly large; list cut there`,
        );
        stopped = true;
        break;
      }
      builder.add(Number(start), Number(length), fileOffset);
      page += Number(pages);
      accumulated += pages;
    }
    if (bytes.length < count * 16) break;
  }
  if (dumpType === 0xa && totalPages > 0n && accumulated !== totalPages)
    warnings.push(`TotalNumberOfPages says ${totalPages} but the ranges list ${accumulated}`);
  return { builder, firstPageOffset: first };
}
