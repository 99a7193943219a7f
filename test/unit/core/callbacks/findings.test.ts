// The orphan-thread verdict on System threads built in the test: in no module it is a finding,
// critical only when PsLoadedModuleList was read to its end; a thread in a module (listed or
// unlinked) is the thread views' business, not a callback finding.

import { describe, expect, test } from 'vitest';
import type { Callback, Hex, Module } from '../../../../src/common/model';
import { callbackFindings } from '../../../../src/core/callbacks/findings';

function systemThread(address: Hex, module: string | null, tid: number): Callback {
  return {
    kind: 'system-thread',
    slot: 0,
    entry: '0x81f00000',
    block: null,
    routine: {
      index: 0,
      name: `System thread ${tid}`,
      address,
      module,
      offset: module ? '0x1000' : null,
      symbol: null,
      verdict: module ? 'own-image' : 'no-module',
      disassembly: { bytes: '55 8b ec', instructions: ['push ebp', 'mov ebp,esp'] },
    },
    owner: module,
    context: null,
    component: null,
    device: null,
    driver: null,
    tid,
  };
}

const rootkit: Module = {
  name: 'acpiex2.sys',
  path: null,
  base: '0xb9d70000',
  size: 0x9000,
  timeDateStamp: null,
  checksum: null,
  ldrEntry: null,
  foundBy: ['pool-scan'],
  unlinked: true,
};

describe('orphan threads', () => {
  test('a System thread in no module is critical with a complete module list, high without', () => {
    const orphan = systemThread('0x82c41000', null, 0x1a4);
    const [complete] = callbackFindings([orphan], [], true);
    expect(complete).toMatchObject({ kind: 'orphan-thread', severity: 'critical', subject: '0x82c41000' });
    expect(complete!.explanation).toContain('System thread 420 (ETHREAD 0x81f00000)');
    expect(complete!.evidence.addresses).toEqual(['0x81f00000', '0x82c41000']);
    expect(complete!.evidence.disassembly?.instructions).toEqual(['push ebp', 'mov ebp,esp']);
    const [partial] = callbackFindings([orphan], [], false);
    expect(partial).toMatchObject({ kind: 'orphan-thread', severity: 'high' });
    expect(partial!.explanation).toContain('could not be read completely');
  });

  test('a System thread in a module, even an unlinked one, is no callback finding', () => {
    const threads = [
      systemThread('0xb9d71000', 'acpiex2.sys', 8),
      systemThread('0x804e1000', 'ntoskrnl.exe', 12),
    ];
    expect(callbackFindings(threads, [rootkit], true)).toEqual([]);
  });
});
