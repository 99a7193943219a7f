// A bounded least-recently-used cache of fixed-size blocks, keyed by block index. Map iteration
// order is insertion order, so re-inserting on a hit keeps the oldest entry first.

export class BlockCache {
  readonly #blocks = new Map<number, Uint8Array>();

  constructor(readonly maxBlocks: number) {
    if (!Number.isInteger(maxBlocks) || maxBlocks < 1)
      throw new RangeError(`maxBlocks must be ≥ 1, got ${maxBlocks}`);
  }

  get size(): number {
    return this.#blocks.size;
  }

  get(index: number): Uint8Array | undefined {
    const block = this.#blocks.get(index);
    if (block !== undefined) {
      this.#blocks.delete(index);
      this.#blocks.set(index, block);
    }
    return block;
  }

  /** Caches `block`; returns the least recently used block it evicted, for its buffer to be reused. */
  set(index: number, block: Uint8Array): Uint8Array | undefined {
    this.#blocks.delete(index);
    this.#blocks.set(index, block);
    let evicted: Uint8Array | undefined;
    while (this.#blocks.size > this.maxBlocks) {
      const oldest = this.#blocks.keys().next().value as number;
      evicted = this.#blocks.get(oldest);
      this.#blocks.delete(oldest);
    }
    return evicted;
  }

  clear(): void {
    this.#blocks.clear();
  }
}
