// The interrupt object a gate enters is found from the code it enters, whatever the release's
// DispatchCode offset, and only a header that says KINTERRUPT is taken for one. The layouts:
// Volatility 2's PDB-derived vtypes (x86 DispatchCode 0x3C XP/2003, 0x50 Vista, 0x58 7, 0x54 8;
// x64 0x90 Vista/7); the templates: KiInterruptTemplate as WRK's intsup.asm builds it.

import { describe, expect, test } from 'vitest';
import { interruptObjectAt } from '../../../../src/core/callbacks/interrupt-object';
import { SparsePages } from '../../../support/sparse-memory';

const X86_OBJECT = 0x8a3c1000n;
const X86_ISR = 0x8f012340n;
const X64_OBJECT = 0xfffffa8003c41000n;
const X64_ISR = 0xfffff88001234560n;
/** KiInterruptDispatch. */
const X86_DISPATCHER = 0x82a4f2c0n;
const X64_DISPATCHER = 0xfffff80002a81e40n;

function u32(value: bigint | number): number[] {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, Number(BigInt(value) & 0xffffffffn), true);
  return [...bytes];
}

/**
 * The x86 template at `at`: a trap frame built (with an immediate that names no object), then
 * `mov edi, object; jmp dispatcher`.
 */
function x86Template(object: bigint, at: bigint, dispatcher = X86_DISPATCHER): number[] {
  const head = [
    ...[0x6a, 0x00, 0x55, 0x53, 0x56, 0x57, 0x83, 0xec, 0x54, 0x8b, 0xec],
    ...[0xbb, 0x30, 0x00, 0x00, 0x00, 0x66, 0x8e, 0xe3],
    ...[0xbf, ...u32(object)],
  ];
  return [...head, 0xe9, ...u32(dispatcher - (at + BigInt(head.length + 5)))];
}

/** An x86 KINTERRUPT: Type 0x16, Size, ServiceRoutine @0xC, and `code` at DispatchCode. */
function x86Interrupt(
  pages: SparsePages,
  dispatchCode: number,
  size: number,
  code: number[],
  service = X86_ISR,
): bigint {
  pages.write(X86_OBJECT, [0x16, 0x00, ...[size & 0xff, size >> 8]]);
  pages.write(X86_OBJECT + 0x0cn, u32(service));
  pages.write(X86_OBJECT + BigInt(dispatchCode), code);
  return X86_OBJECT + BigInt(dispatchCode);
}

describe('x86', () => {
  test.each([
    ['XP and 2003', 0x3c, 0x1e4],
    ['Vista', 0x50, 0x270],
    ['7', 0x58, 0x278],
    ['8', 0x54, 0x2a0],
    ['a release not listed', 0x6c, 0x300],
  ])('%s: the object the DispatchCode names, with its ServiceRoutine', (_, dispatchCode, size) => {
    const pages = new SparsePages();
    const code = X86_OBJECT + BigInt(dispatchCode);
    const gate = x86Interrupt(pages, dispatchCode, size, x86Template(X86_OBJECT, code));
    expect(interruptObjectAt(pages.memory(4), gate)).toEqual({
      object: X86_OBJECT,
      service: X86_ISR,
      dispatch: X86_DISPATCHER,
    });
  });

  test('a gate that enters the template at its second dispatch (the `mov edi`) finds the object too', () => {
    const pages = new SparsePages();
    const template = x86Template(X86_OBJECT, X86_OBJECT + 0x58n);
    const start = x86Interrupt(pages, 0x58, 0x278, template);
    const gate = start + BigInt(template.indexOf(0xbf));
    expect(interruptObjectAt(pages.memory(4), gate)?.object).toBe(X86_OBJECT);
  });

  test('a forged header before code that is not the template is no interrupt object: the gate stays code in pool', () => {
    const code = X86_OBJECT + 0x58n;
    const template = x86Template(X86_OBJECT, code);
    const objectAt = template.indexOf(0xbf);
    const cases: Array<[string, number[]]> = [
      ['names no object', [0x90, 0x90, 0xc3]],
      ['calls out before naming it', [0xe8, ...u32(0x8a3e0200n - (code + 5n)), ...template]],
      [
        'branches out of the object before naming it',
        [0x0f, 0x84, ...u32(0x8a3e0200n - (code + 6n)), ...template.slice(0, objectAt)],
      ],
      ['calls out after naming it', [...template.slice(0, objectAt + 5), 0xe8, 0, 0, 0, 0, 0xc3]],
      [
        'names it and never jumps on',
        [...template.slice(0, objectAt + 5), ...new Array<number>(80).fill(0x90)],
      ],
    ];
    for (const [what, bytes] of cases) {
      const pages = new SparsePages();
      const gate = x86Interrupt(pages, 0x58, 0x278, bytes);
      expect(interruptObjectAt(pages.memory(4), gate), what).toBeNull();
    }
  });

  test('code in pool that is no interrupt object is none, whatever it loads', () => {
    const pages = new SparsePages();
    const gate = 0x8a3d0040n;
    // `mov edi` of a block that is no KINTERRUPT, then of one whose ServiceRoutine is in user space.
    pages.write(0x8a3d0000n, [0x05, 0x00, 0x00, 0x04]);
    pages.write(gate, [0xbf, ...u32(0x8a3d0000n), 0xbf, ...u32(0x8a3d0010n), 0xc3]);
    pages.write(0x8a3d0010n, [0x16, 0x00, 0x00, 0x04]);
    pages.write(0x8a3d001cn, u32(0x00401000n));
    expect(interruptObjectAt(pages.memory(4), gate)).toBeNull();
  });

  test('an object too small to hold the code the gate enters is not the gate’s', () => {
    const pages = new SparsePages();
    const gate = x86Interrupt(pages, 0x58, 0x40, x86Template(X86_OBJECT, X86_OBJECT + 0x58n));
    expect(interruptObjectAt(pages.memory(4), gate)).toBeNull();
  });

  test('a DispatchCode patched to jump elsewhere says where it goes', () => {
    const pages = new SparsePages();
    const code = X86_OBJECT + 0x58n;
    const gate = x86Interrupt(pages, 0x58, 0x278, x86Template(X86_OBJECT, code, 0x8a3e0200n));
    expect(interruptObjectAt(pages.memory(4), gate)?.dispatch).toBe(0x8a3e0200n);
  });

  test('a gate into memory the image does not hold is none, and nothing throws', () => {
    expect(interruptObjectAt(new SparsePages().memory(4), 0x8a3c1058n)).toBeNull();
  });
});

describe('x64 before KiIsrThunk', () => {
  test('the object the template loads RIP-relative, with its ServiceRoutine @0x18', () => {
    const pages = new SparsePages();
    const code = X64_OBJECT + 0x90n;
    pages.write(X64_OBJECT, [0x16, 0x00, 0xa0, 0x00]);
    pages.ptr(X64_OBJECT + 0x18n, X64_ISR);
    pages.ptr(X64_OBJECT + 0x50n, X64_DISPATCHER);
    // push rax; push rbp; lea rbp, [rip - 0x99] (the object's start); jmp [rbp + 0x50] (DispatchAddress)
    const displacement = Number(X64_OBJECT - (code + 9n));
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setInt32(0, displacement, true);
    pages.write(code, [0x50, 0x55, 0x48, 0x8d, 0x2d, ...bytes, 0xff, 0x65, 0x50]);
    expect(interruptObjectAt(pages.memory(), code)).toEqual({
      object: X64_OBJECT,
      service: X64_ISR,
      dispatch: X64_DISPATCHER,
    });
  });
});
