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

  error(address: bigint): string | undefined {
    return this.failed.get(address & ~(BLOCK - 1n));
  }

  byte(address: bigint): number | null | undefined {
    const page = this.page(address);
    if (!page) return undefined;
    if (!page.bytes) return null;
    return page.bytes[Number(address & (PAGE - 1n))] ?? null;
  }

  /** Makes sure [from, to) is cached or being fetched. */
  ensure(from: bigint, to: bigint): void {
    for (let block = from & ~(BLOCK - 1n); block < to; block += BLOCK) {
      if (this.pending.has(block) || this.failed.has(block)) continue;
      let complete = true;
      for (let p = block; p < block + BLOCK; p += PAGE) {
        if (!this.pages.has(p)) {
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
      while (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
    } catch (error) {
      this.failed.set(block, (error as Error).message);
    } finally {
      this.pending.delete(block);
      this.version++;
      this.onUpdate();
    }
  }
}
