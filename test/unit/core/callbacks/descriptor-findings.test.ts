// The interrupt gates' verdicts on gates built in the test: a gate belongs to ntoskrnl or the HAL;
// through a connected interrupt object it reaches its driver's service routine, which may be any
// listed driver's but never code in no module or in a module unlinked from PsLoadedModuleList.

import { describe, expect, test } from 'vitest';
import type { Callback, Hex, Module } from '../../../../src/common/model';
import { descriptorFindings } from '../../../../src/core/callbacks/descriptor-findings';

const OWNERS = new Set(['ntkrnlpa.exe', 'hal.dll']);

function module(name: string, base: Hex, unlinked: boolean): Module {
  return {
    name,
    path: null,
    base,
    size: 0x10000,
    timeDateStamp: null,
    checksum: null,
    ldrEntry: null,
    foundBy: unlinked ? ['pool-scan'] : ['module-list'],
    unlinked,
  };
}

const modules = [
  module('ntkrnlpa.exe', '0x82a00000', false),
  module('i8042prt.sys', '0x8f010000', false),
  module('acpiex2.sys', '0xb9d70000', true),
  // A stale loader entry of i8042prt from before it was unloaded and loaded again elsewhere.
  module('i8042prt.sys', '0x8e7a0000', true),
];

/** Vector 0x93's gate on `processor`: through the interrupt object `block` when given. */
function gate(processor: number, address: Hex, owner: string | null, block: Hex | null): Callback {
  return {
    kind: 'idt',
    slot: 0x93,
    entry: `0x80b95${processor}98`,
    block,
    routine: {
      index: 0x93,
      name: `IDT 0x93 of processor ${processor}`,
      address,
      module: owner,
      offset: owner ? '0x2340' : null,
      symbol: null,
      verdict: owner ? 'own-image' : 'no-module',
    },
    owner,
    context: null,
    component: null,
    device: null,
    driver: null,
    processor,
  };
}

describe('interrupt gates', () => {
  test('an interrupt object whose service routine is in an unlinked module: one critical idt-hook for every processor', () => {
    const gates = [0, 1].map((cpu) => gate(cpu, '0xb9d72340', 'acpiex2.sys', `0x8a3c${cpu}000`));
    const findings = descriptorFindings(gates, OWNERS, modules, true);
    expect(findings.map((f) => `${f.severity} ${f.kind} ${f.subject}`)).toEqual([
      'critical idt-hook IDT 0x93',
    ]);
    expect(findings[0]!.explanation).toContain('enters the interrupt object 0x8a3c0000');
    expect(findings[0]!.explanation).toContain(
      'acpiex2.sys+0x2340, in a module unlinked from PsLoadedModuleList',
    );
    expect(findings[0]!.explanation).toContain('Processor(s): 0, 1.');
  });

  test("an interrupt object whose service routine is a listed driver's is that driver's business, whatever stale entry shares its name", () => {
    const gates = [gate(0, '0x8f012340', 'i8042prt.sys', '0x8a3c0000')];
    expect(descriptorFindings(gates, OWNERS, modules, true)).toEqual([]);
  });

  test('an interrupt object whose service routine is in no module is critical, high without the whole module list', () => {
    const gates = [gate(0, '0x8a3e0100', null, '0x8a3c0000')];
    expect(descriptorFindings(gates, OWNERS, modules, true).map((f) => f.severity)).toEqual(['critical']);
    expect(descriptorFindings(gates, OWNERS, modules, false).map((f) => f.severity)).toEqual(['high']);
  });

  test('an interrupt object whose dispatch code jumps outside the kernel and HAL: one critical idt-hook, the jump its evidence', () => {
    const diverted = (cpu: number, address: Hex, module: string | null): Callback => ({
      ...gate(cpu, '0x8f012340', 'i8042prt.sys', `0x8a3c${cpu}000`),
      dispatch: { address, module },
    });
    for (const [address, module, said] of [
      ['0xb9d71800', 'acpiex2.sys', '0xb9d71800 in acpiex2.sys'],
      ['0x8a3e0200', null, '0x8a3e0200, in no module'],
    ] as const) {
      const findings = descriptorFindings(
        [0, 1].map((cpu) => diverted(cpu, address, module)),
        OWNERS,
        modules,
        true,
      );
      expect(findings.map((f) => `${f.severity} ${f.kind} ${f.subject}`)).toEqual([
        'critical idt-hook IDT 0x93',
      ]);
      expect(findings[0]!.explanation).toContain(`whose dispatch code jumps to ${said}`);
      expect(findings[0]!.explanation).toContain('before the service routine i8042prt.sys+0x2340');
      expect(findings[0]!.evidence.addresses).toContain(address);
    }
    const intact = [0, 1].map((cpu) => diverted(cpu, '0x82a4f2c0', 'ntkrnlpa.exe'));
    expect(descriptorFindings(intact, OWNERS, modules, true)).toEqual([]);
  });

  test('a gate straight into a driver, listed or not, is an idt-hook; into the kernel it is none', () => {
    for (const owner of ['i8042prt.sys', 'acpiex2.sys'])
      expect(descriptorFindings([gate(0, '0x8f012340', owner, null)], OWNERS, modules, true)).toHaveLength(1);
    expect(descriptorFindings([gate(0, '0x82a12340', 'ntkrnlpa.exe', null)], OWNERS, modules, true)).toEqual(
      [],
    );
  });
});
