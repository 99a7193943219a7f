// Callbacks of two results compared: the same registration at another address (another boot) is
// no difference, pool code is itself by its bytes, and registrations are counted (a routine
// registered twice in one image and once in the other is one difference).

import { expect, test } from 'vitest';
import type { AnalysisResult, Callback, CallbackKind, Hex } from '../../../../src/common/model';
import { compareCallbacks } from '../../../../src/core/compare/callbacks';
import { Entries } from '../../../../src/core/compare/entries';
import { Side } from '../../../../src/core/compare/identity';

function callback(
  kind: CallbackKind,
  address: bigint,
  owner: string | null,
  base: bigint,
  bytes = 'cc',
): Callback {
  const hex = (value: bigint) => `0x${value.toString(16)}` as Hex;
  return {
    kind,
    slot: 0,
    entry: hex(0xfffff80000500000n),
    block: null,
    routine: {
      index: 0,
      name: kind,
      address: hex(address),
      module: owner,
      offset: owner ? hex(address - base) : null,
      symbol: null,
      verdict: owner ? 'own-image' : 'no-module',
      disassembly: { bytes, instructions: [] },
    },
    owner,
    context: null,
    component: null,
    device: null,
    driver: null,
  };
}

function side(label: 'baseline' | 'image', entries: Callback[]): Side {
  const result = { drivers: [], devices: [], modules: [], callbacks: { heads: [], entries } };
  return new Side(label, result as unknown as AnalysisResult);
}

test('another boot: the same module+offset at other addresses, the same pool code elsewhere — no difference', () => {
  const entries = new Entries();
  compareCallbacks(
    entries,
    side('baseline', [
      callback('process-notify', 0xfffff80001001200n, 'cng.sys', 0xfffff80001000000n),
      callback('process-notify', 0xffffa00000001000n, null, 0n, '4889e5'),
    ]),
    side('image', [
      callback('process-notify', 0xfffff80007001200n, 'cng.sys', 0xfffff80007000000n),
      callback('process-notify', 0xffffb00000042000n, null, 0n, '4889e5'),
    ]),
  );
  expect(entries.list).toEqual([]);
});

test('a kind, an offset or code of its own is another callback; registrations are counted', () => {
  const entries = new Entries();
  const base = 0xfffff80001000000n;
  compareCallbacks(
    entries,
    side('baseline', [
      callback('process-notify', base + 0x1200n, 'cng.sys', base),
      callback('process-notify', base + 0x1200n, 'cng.sys', base),
      callback('thread-notify', base + 0x1300n, 'cng.sys', base),
    ]),
    side('image', [
      callback('process-notify', base + 0x1200n, 'cng.sys', base),
      callback('image-load-notify', base + 0x1300n, 'cng.sys', base),
      callback('process-notify', 0xffffa00000001000n, null, 0n, '90c3'),
    ]),
  );
  expect(entries.list.map((e) => [e.change, e.key]).sort()).toEqual([
    ['added', 'image-load-notify|cng.sys+0x1300'],
    ['added', 'process-notify|code:90c3'],
    ['removed', 'process-notify|cng.sys+0x1200'],
    ['removed', 'thread-notify|cng.sys+0x1300'],
  ]);
  expect(entries.list.find((e) => e.key === 'process-notify|code:90c3')?.severity).toBe('high');
});
