// Establishing _OBJECT_TYPE.CallbackList without a symbol file, on object types built here: the
// build's offset is taken when the records on it name their type; an empty ring there proves
// nothing when records on another offset do; two offsets that both pass are not a choice to make.

import { describe, expect, test } from 'vitest';
import { establishCallbackList, type TypeObject } from '../../../../src/core/callbacks/object-callbacks';
import { SparsePages } from '../../../support/sparse-memory';

const PROCESS_TYPE = 0xffffc00000100000n;
const THREAD_TYPE = 0xffffc00000101000n;
const RECORDS = 0xffffc00000200000n;
/** OB_CALLBACK_ENTRY.ObjectType on x64. */
const OBJECT_TYPE_FIELD = 0x20n;
const BUILD = 19041;
const HINT = 0xc8;

const types: TypeObject[] = [
  { kind: 'process-object', variable: 'PsProcessType', name: 'Process', type: PROCESS_TYPE },
  { kind: 'thread-object', variable: 'PsThreadType', name: 'Thread', type: THREAD_TYPE },
];

/** Each type's body zeroed, with an empty ring at every offset given. */
function typesWithEmptyRings(offsets: readonly number[]): SparsePages {
  const pages = new SparsePages();
  for (const { type } of types) {
    for (let offset = 0n; offset < 0x100n; offset += 8n) pages.ptr(type + offset, 0n);
    for (const offset of offsets) pages.ring(type + BigInt(offset), []);
  }
  return pages;
}

/** One record on the process type's list at `offset`, naming `named`. */
function recordOn(pages: SparsePages, offset: number, index: number, named: bigint): void {
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
