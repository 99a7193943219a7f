// The accessor routines the builder writes into kernels: decoded by iced-x86 (not by the builder's
// encoder), each loads (or addresses) the field at the offset its layout gives, returns the way its
// calling convention does, and reads the field the real kernel's accessor reads: ISF offsets for
// x64, the V2vt figures (volatility @328a178e) for the x86 profiles.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { resolveLayout } from '../../../src/builder/index';
import { readIsf } from '../../../src/builder/layout/isf';
import {
  accessorBytes,
  accessorEncoding,
  accessorPlans,
  type AccessorEncoding,
  type AccessorPlan,
} from '../../../src/builder/windows/accessors';
import { ISF_DIR } from '../../support/shared';
import { decodeAccessor } from './accessor-decode';

/** Decodes the routine and checks what follows its return and how it returns. */
function effect(encoding: AccessorEncoding, bytes: Uint8Array): { kind: 'load' | 'address'; offset: number } {
  const x64 = encoding.startsWith('x64');
  const decoded = decodeAccessor(bytes, x64 ? 64 : 32);
  expect(decoded.pops, 'stdcall pops its one argument').toBe(x64 ? 0 : 4);
  // Padding after the return is int3 only.
  expect([...bytes.subarray(decoded.length)].every((b) => b === 0xcc)).toBe(true);
  if (encoding === 'x86-hotpatch-frame')
    expect(decoded.mnemonics.slice(0, 4)).toEqual(['Mov', 'Push', 'Mov', 'Mov']);
  return { kind: decoded.kind, offset: decoded.offset };
}

const ENCODINGS: AccessorEncoding[] = ['x64', 'x64-int3-padded', 'x86-hotpatch-frame', 'x86-no-frame'];

describe.each(ENCODINGS)('%s', (encoding) => {
  test.each([0x20, 0x7f, 0x80, 0x2e8, 0x5a8, 0x17c])(
    'offset 0x%s: a load and an address, each decoded back',
    (offset) => {
      for (const returns of ['value', 'address'] as const) {
        const plan: AccessorPlan = { name: 'PsGetProcessId', reads: '_EPROCESS.X', offset, returns };
        const bytes = accessorBytes(encoding, plan);
        expect(effect(encoding, bytes)).toEqual({ kind: returns === 'value' ? 'load' : 'address', offset });
        if (encoding === 'x64-int3-padded') expect(bytes.length % 16).toBe(0);
      }
    },
  );
});

test('real encodings: 64-bit PsGetProcessId and XP SP2 PsGetProcessImageFileName byte for byte', () => {
  // 48 8B 81 D0 01 00 00 C3: `mov rax,[rcx+1D0h]; ret` as public drivers annotate 24H2's PsGetProcessId.
  expect(
    Buffer.from(accessorBytes('x64', { name: 'PsGetProcessId', reads: '', offset: 0x1d0, returns: 'value' })),
  ).toEqual(Buffer.from('488b81d0010000c3', 'hex'));
  // The NT Insider 13(4), 2006, Figure 1: XP SP2's PsGetProcessImageFileName.
  expect(
    Buffer.from(
      accessorBytes('x86-hotpatch-frame', {
        name: 'PsGetProcessImageFileName',
        reads: '',
        offset: 0x174,
        returns: 'address',
      }),
    ),
  ).toEqual(Buffer.from('8bff558bec8b4508057401' + '00005dc20400', 'hex'));
});

const isfFiles = readdirSync(ISF_DIR).filter((f) => f.endsWith('.json.xz'));

test.each(isfFiles)('x64 %s: each accessor reads the field the ISF places there', (file) => {
  const isf = readIsf(join(ISF_DIR, file));
  const at = (struct: string, name: string) => isf.userTypes[struct]!.fields[name]!.offset;
  const layout = resolveLayout({ isf: join(ISF_DIR, file), seed: 1 });
  const expected: Record<string, number> = {
    PsGetProcessId: at('_EPROCESS', 'UniqueProcessId'),
    PsGetProcessImageFileName: at('_EPROCESS', 'ImageFileName'),
    PsGetProcessInheritedFromUniqueProcessId: at('_EPROCESS', 'InheritedFromUniqueProcessId'),
    PsGetProcessPeb: at('_EPROCESS', 'Peb'),
    PsGetThreadId: at('_ETHREAD', 'Cid') + 8,
    PsGetThreadProcessId: at('_ETHREAD', 'Cid'),
    PsGetThreadProcess: at('_KTHREAD', 'Process'),
    IoThreadToProcess: at('_KTHREAD', 'Process'),
  };
  const encoding = accessorEncoding(layout);
  for (const plan of accessorPlans(layout)) {
    expect(effect(encoding, accessorBytes(encoding, plan)).offset, plan.name).toBe(expected[plan.name]);
  }
  expect(
    accessorPlans(layout)
      .map((p) => p.name)
      .sort(),
  ).toEqual(Object.keys(expected).sort());
});

// V2vt: EPROCESS UniqueProcessId, ImageFileName, InheritedFromUniqueProcessId, Peb; ETHREAD Cid;
// the thread's process: ETHREAD.ThreadsProcess (XP, 2003) or KTHREAD.Process (7).
const X86: Record<string, { offsets: number[]; owner: number; encoding: AccessorEncoding }> = {
  'xp-sp3-x86': { offsets: [0x84, 0x174, 0x14c, 0x1b0, 0x1ec], owner: 0x220, encoding: 'x86-hotpatch-frame' },
  '2003-sp2-x86': { offsets: [0x94, 0x164, 0x138, 0x1a0, 0x1e4], owner: 0x218, encoding: 'x86-no-frame' },
  'win7-sp1-x86': {
    offsets: [0xb4, 0x16c, 0x140, 0x1a8, 0x22c],
    owner: 0x150,
    encoding: 'x86-hotpatch-frame',
  },
  'win7-sp1-x86-pae': {
    offsets: [0xb4, 0x16c, 0x140, 0x1a8, 0x22c],
    owner: 0x150,
    encoding: 'x86-hotpatch-frame',
  },
};

test.each(Object.keys(X86))(
  'x86 %s: each accessor reads the field the fact sheet places there',
  (profile) => {
    const { offsets, owner, encoding } = X86[profile]!;
    const [pid, name, parent, peb, cid] = offsets as [number, number, number, number, number];
    const layout = resolveLayout({ profile, seed: 1 });
    expect(accessorEncoding(layout)).toBe(encoding);
    const expected: Record<string, number> = {
      PsGetProcessId: pid,
      PsGetProcessImageFileName: name,
      PsGetProcessInheritedFromUniqueProcessId: parent,
      PsGetProcessPeb: peb,
      PsGetThreadId: cid + 4,
      PsGetThreadProcessId: cid,
      PsGetThreadProcess: owner,
      IoThreadToProcess: owner,
    };
    for (const plan of accessorPlans(layout))
      expect(effect(encoding, accessorBytes(encoding, plan)).offset, plan.name).toBe(expected[plan.name]);
  },
);
