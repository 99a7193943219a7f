// Establishing _OBJECT_TYPE.CallbackList without a symbol file, on object types built here: the
// build's offset is taken when the records on it name their type; an empty ring there proves
// nothing when records on another offset do; two offsets that both pass are not a choice to make.

import { describe, expect, test } from 'vitest';
import { KernelMemory } from '../../../../src/core/kernel/memory';
import type { VirtualSpace } from '../../../../src/core/paging';
import { establishCallbackList, type TypeObject } from '../../../../src/core/callbacks/object-callbacks';

const PROCESS_TYPE = 0xffffc00000100000n;
const THREAD_TYPE = 0xffffc00000101000n;
const RECORDS = 0xffffc00000200000n;
/** OB_CALLBACK_ENTRY.ObjectType on x64. */
const OBJECT_TYPE_FIELD = 0x20n;
const BUILD = 19041;
const HINT = 0xc8;

/** Sparse x64 kernel memory: 4 KiB pages written by the test; anything else is not present. */
class Pages {
  readonly pages = new Map<bigint, Uint8Array>();
  ptr(va: bigint, value: bigint): void {
    const page = va & ~0xfffn;
    if (!this.pages.has(page)) this.pages.set(page, new Uint8Array(0x1000));
    new DataView(this.pages.get(page)!.buffer).setBigUint64(Number(va & 0xfffn), value, true);
  }
  /** A LIST_ENTRY ring: the head, then each record's link at its offset 0. */
  ring(head: bigint, records: readonly bigint[]): void {
    const links = [head, ...records, head];
    for (let i = 0; i + 1 < links.length; i++) {
      this.ptr(links[i]!, links[i + 1]!);
      this.ptr(links[i + 1]! + 8n, links[i]!);
    }
  }
  memory(): KernelMemory {
    const readPartial = (va: bigint, length: number) => {
      const out: number[] = [];
      for (let i = 0; i < length; i++) {
        const at = va + BigInt(i);
        const page = this.pages.get(at & ~0xfffn);
        if (!page) return { bytes: Uint8Array.from(out), failure: { va: at, reason: 'not-present' } };
        out.push(page[Number(at & 0xfffn)]!);
      }
      return { bytes: Uint8Array.from(out) };
    };
    const read = (va: bigint, length: number) => {
      const partial = readPartial(va, length);
      return partial.failure ? { ok: false, failure: partial.failure } : { ok: true, bytes: partial.bytes };
    };
    return new KernelMemory({ readPartial, read } as unknown as VirtualSpace, 8);
  }
}

const types: TypeObject[] = [
  { kind: 'process-object', variable: 'PsProcessType', name: 'Process', type: PROCESS_TYPE },
  { kind: 'thread-object', variable: 'PsThreadType', name: 'Thread', type: THREAD_TYPE },
];

/** Each type's body zeroed, with an empty ring at every offset given. */
function typesWithEmptyRings(offsets: readonly number[]): Pages {
  const pages = new Pages();
  for (const { type } of types) {
    for (let offset = 0n; offset < 0x100n; offset += 8n) pages.ptr(type + offset, 0n);
    for (const offset of offsets) pages.ring(type + BigInt(offset), []);
  }
  return pages;
}

/** One record on the process type's list at `offset`, naming `named`. */
function recordOn(pages: Pages, offset: number, index: number, named: bigint): void {
  const record = RECORDS + BigInt(index) * 0x100n;
  pages.ring(PROCESS_TYPE + BigInt(offset), [record]);
  pages.ptr(record + OBJECT_TYPE_FIELD, named);
}

describe('_OBJECT_TYPE.CallbackList without a symbol file', () => {
  test("the build's offset, when the records on it name their type", () => {
    const pages = typesWithEmptyRings([HINT]);
    recordOn(pages, HINT, 0, PROCESS_TYPE);
    expect(establishCallbackList(pages.memory(), { profile: null, build: BUILD }, types)).toEqual({
      offset: HINT,
      method: `build ${BUILD}'s _OBJECT_TYPE.CallbackList +0xc8, checked: each type's list is a ring and its 1 records name their type`,
    });
  });

  test('an empty ring at the hint gives way to the one offset whose records name their type', () => {
    const pages = typesWithEmptyRings([HINT, 0xd8]);
    recordOn(pages, 0xd8, 0, PROCESS_TYPE);
    const established = establishCallbackList(pages.memory(), { profile: null, build: BUILD }, types);
    expect(established).toEqual({
      offset: 0xd8,
      method:
        "searched the type (the hint +0xc8 held no record): _OBJECT_TYPE.CallbackList +0xd8, each type's list is a ring and its 1 records name their type",
    });
  });

  test('empty rings everywhere: the hint stands, saying it has no record to prove it', () => {
    const pages = typesWithEmptyRings([HINT, 0xd8]);
    const established = establishCallbackList(pages.memory(), { profile: null, build: BUILD }, types);
    expect(established).toEqual({
      offset: HINT,
      method: `build ${BUILD}'s _OBJECT_TYPE.CallbackList +0xc8, checked: each type links it to itself (no record to name the type)`,
    });
  });

  test('records naming another type fail the hint; two offsets that pass are not established', () => {
    const pages = typesWithEmptyRings([HINT, 0x50, 0xd8]);
    recordOn(pages, HINT, 0, THREAD_TYPE);
    recordOn(pages, 0x50, 1, PROCESS_TYPE);
    recordOn(pages, 0xd8, 2, PROCESS_TYPE);
    expect(establishCallbackList(pages.memory(), { profile: null, build: BUILD }, types)).toEqual({
      why: 'the hint +0xc8 failed: 1 of its records name another type and 2 offsets in +0x10…+0xf8 hold rings whose records name their type (+0x50, +0xd8)',
    });
  });
});
