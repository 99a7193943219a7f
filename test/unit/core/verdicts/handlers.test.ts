// Handler verdicts on code built here: a driver page of 64 dispatch routines, every other one
// patched with a JMP into another module, and one routine whose JMP straddles the page's end.
// Each verdict and target is checked against what was planted; the code is read a page at a
// time, each page once, however many routines share it; and an instruction's text is formatted
// only when something shows it.

import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createHandlerJudge } from '../../../../src/core/verdicts/handlers';
import { ModuleSet, type KnownModule } from '../../../../src/core/verdicts/module-set';
import { decode } from '../../../../src/core/kernel/disasm';
import { KernelMemory } from '../../../../src/core/kernel/memory';
import type { PartialRead } from '../../../../src/core/paging';
import { virtualSpaceOver } from '../../../support/sparse-memory';

const PAGE = 0x1000;
const DRIVER = 0xfffff80040000000n;
const HOOK = 0xfffff80050000000n;
const ROUTINES = 64;
const STRIDE = 0x40;
const CODE_PAGE = DRIVER + 0x1000n;
/** A routine whose JMP's displacement lies half in the next page. */
const STRADDLING = DRIVER + 0x1ffdn;

const module = (name: string, base: bigint): KnownModule => ({
  name,
  path: null,
  base,
  size: 0x10000,
  entryVa: null,
  listed: true,
  scanned: false,
  fromDriver: false,
});
const driver = module('drv.sys', DRIVER);
const modules = new ModuleSet([driver, module('hook.sys', HOOK)]);

const PROLOGUE = [0x48, 0x89, 0x5c, 0x24, 0x08, 0x57, 0x48, 0x83, 0xec, 0x20, 0x48, 0x8b, 0xd9, 0xc3];

/** `jmp rel32` at `at` to `target`. */
function jmp(at: bigint, target: bigint): number[] {
  const rel = Number(BigInt.asIntN(32, target - (at + 5n)));
  return [0xe9, rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, (rel >>> 24) & 0xff];
}

const routine = (i: number) => CODE_PAGE + BigInt(i * STRIDE);
const hookTarget = (i: number) => HOOK + BigInt(i * 0x10);
const patched = (i: number) => i % 2 === 1;

/** The driver's two code pages, and a count of the reads made of them. */
function driverMemory() {
  const image = new Uint8Array(0x10000);
  const put = (va: bigint, bytes: number[]) => image.set(bytes, Number(va - DRIVER));
  for (let i = 0; i < ROUTINES; i++) put(routine(i), patched(i) ? jmp(routine(i), hookTarget(i)) : PROLOGUE);
  put(STRADDLING, jmp(STRADDLING, hookTarget(99)));
  const reads: bigint[] = [];
  const readPartial = (va: bigint, length: number): PartialRead => {
    reads.push(va);
    const offset = Number(va - DRIVER);
    const inside = Math.max(0, Math.min(length, image.length - offset));
    const bytes = image.slice(offset, offset + inside);
    return inside === length
      ? { bytes }
      : {
          bytes,
          failure: { va: va + BigInt(inside), failure: { ok: false, reason: 'not-present', level: 'pte' } },
        };
  };
  const virtual = virtualSpaceOver(readPartial);
  return { memory: new KernelMemory(virtual, 8), reads };
}

describe('handler verdicts', () => {
  test('find each planted JMP, reading each code page once', () => {
    const { memory, reads } = driverMemory();
    const judge = createHandlerJudge(memory, modules, null, () => null);
    for (let i = 0; i < ROUTINES; i++) {
      const handler = judge.judge(routine(i), driver, i, `routine ${i}`, false);
      if (patched(i)) {
        expect(handler.verdict).toBe('inline-patched');
        expect(handler.target).toEqual({ address: `0x${hookTarget(i).toString(16)}`, module: 'hook.sys' });
        // iced writes hex with a leading 0 when it starts with a letter.
        expect(handler.disassembly?.instructions[0]?.toLowerCase()).toContain(
          `jmp 0${hookTarget(i).toString(16)}h`,
        );
      } else {
        expect(handler.verdict).toBe('own-image');
        expect(handler.target).toBeUndefined();
      }
    }
    const straddling = judge.judge(STRADDLING, driver, 0, 'straddling', false);
    expect(straddling.target).toEqual({ address: `0x${hookTarget(99).toString(16)}`, module: 'hook.sys' });
    const pagesRead = reads.map((va) => va & ~0xfffn);
    expect(new Set(pagesRead)).toEqual(new Set([CODE_PAGE, CODE_PAGE + BigInt(PAGE)]));
    expect(reads.length).toBe(2);
  });
});

describe('decoded instructions', () => {
  const iced = createRequire(import.meta.url)('iced-x86') as typeof Iced;
  afterEach(() => vi.restoreAllMocks());

  test('are formatted only when their text is read, and then as iced formats them', () => {
    const format = vi.spyOn(iced.Formatter.prototype, 'format');
    const bytes = Uint8Array.from([...PROLOGUE, ...jmp(0x1000n + 14n, 0x2000n)]);
    const instructions = decode(bytes, 0x1000n, 64, 6);
    expect(instructions.map((i) => i.flow)).toEqual(['next', 'next', 'next', 'next', 'return', 'branch']);
    expect(instructions[5]?.branchTarget).toBe(0x2000n);
    expect(format).not.toHaveBeenCalled();
    expect(instructions.map((i) => i.text)).toEqual([
      'mov [rsp+8],rbx',
      'push rdi',
      'sub rsp,20h',
      'mov rbx,rcx',
      'ret',
      'jmp 0000000000002000h',
    ]);
    expect(format).toHaveBeenCalledTimes(6);
  });
});
