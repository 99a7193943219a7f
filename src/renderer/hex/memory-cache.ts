// Pages of one address space of one session, fetched on demand in 64 KiB blocks and kept in a
// bounded cache: the hex view can scroll across terabytes of address space while holding a few
// megabytes. Absent pages are remembered with their status ("unmapped", "paged-out"...).

import type { MemorySpace, PageStatus } from '../../common/api';
import { api } from '../api/client';

export const PAGE = 0x1000n;
const BLOCK = 0x10000n;
const MAX_PAGES = 1024;

export interface PageData {
  status: PageStatus;
  physical: string | null;
  /** Null for pages whose bytes are not in the image. */
  bytes: Uint8Array | null;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export class MemoryCache {
  private readonly pages = new Map<bigint, PageData>();
  private readonly pending = new Set<bigint>();
  /** Pages that could not be read, with the reason: shown as such, not as still loading. */
  private readonly failed = new Map<bigint, string>();
  spaceSize: bigint | null = null;
  version = 0;

  constructor(
    readonly session: string,
    readonly space: MemorySpace,
    private readonly onUpdate: () => void,
  ) {}

  page(address: bigint): PageData | undefined {
    const key = address & ~(PAGE - 1n);
    const page = this.pages.get(key);
    if (page) {
      // Refresh its place in the LRU order.
      this.pages.delete(key);
      this.pages.set(key, page);
    }
    return page;
  }

  /** Why the page holding `address` could not be read, when it could not. */
  error(address: bigint): string | undefined {
    return this.failed.get(address & ~(PAGE - 1n));
  }

  forgetFailures(): void {
    this.failed.clear();
  }

  /** A byte; null when it is not in the image or could not be read; undefined while it loads. */
  byte(address: bigint): number | null | undefined {
    const page = this.page(address);
    if (!page) return this.error(address) === undefined ? undefined : null;
    if (!page.bytes) return null;
    return page.bytes[Number(address & (PAGE - 1n))] ?? null;
  }

  /** Makes sure [from, to) is cached or being fetched. */
  ensure(from: bigint, to: bigint): void {
    for (let block = from & ~(BLOCK - 1n); block < to; block += BLOCK) {
      if (this.pending.has(block)) continue;
      let complete = true;
      const end = this.spaceSize !== null && this.spaceSize < block + BLOCK ? this.spaceSize : block + BLOCK;
      for (let p = block; p < end; p += PAGE) {
        if (!this.pages.has(p) && !this.failed.has(p)) {
          complete = false;
          break;
        }
      }
      if (!complete) void this.fetch(block);
    }
  }

  private async fetch(block: bigint): Promise<void> {
    this.pending.add(block);
    try {
      const chunk = await api.readMemory({
        session: this.session,
        space: this.space,
        address: `0x${block.toString(16)}`,
        length: Number(BLOCK),
      });
      this.spaceSize = BigInt(chunk.spaceSize);
      const bytes = decodeBase64(chunk.bytes);
      for (const page of chunk.pages) {
        const start = BigInt(page.address);
        const offset = Number(start - block);
        const present = page.status === 'present' || page.status === 'transition';
        this.pages.set(start, {
          status: page.status,
          physical: page.physical,
          bytes: present ? bytes.slice(offset, offset + Number(PAGE)) : null,
        });
      }
      // Every page asked for must be answered: one that is not would stay "loading" for ever.
      for (let page = block; page < block + BLOCK && page < this.spaceSize; page += PAGE)
        if (!this.pages.has(page)) this.failed.set(page, `the answer held no page at 0x${page.toString(16)}`);
      while (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
    } catch (error) {
      for (let page = block; page < block + BLOCK; page += PAGE)
        this.failed.set(page, (error as Error).message);
    } finally {
      while (this.failed.size > MAX_PAGES) this.failed.delete(this.failed.keys().next().value!);
      this.pending.delete(block);
      this.version++;
      this.onUpdate();
    }
  }
}
