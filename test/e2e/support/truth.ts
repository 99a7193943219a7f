// The demo case's ground truth and an independent reader of its raw image, to check what the
// workbench shows against what the builder planted.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Truth } from '../../../src/builder/truth';
import { RawImage, VirtualReader } from '../../support/raw-reader';
import { DEMO } from './paths';

export function demoTruth(scenario: 'infected' | 'clean' = 'infected'): Truth {
  return JSON.parse(readFileSync(join(DEMO, scenario, 'truth.json'), 'utf8')) as Truth;
}

/**
 * How many rows the Callbacks view has under "every kind": the registered routines, the System
 * process's threads and every processor's interrupt gates (a GDT call gate only when planted).
 */
export function callbackEntryCount(truth: Truth): number {
  return (
    truth.registeredCallbacks.length +
    truth.threads.filter((t) => t.pid === 4).length +
    truth.idtEntries.length +
    truth.timers.length
  );
}

/** Bytes at a kernel virtual address of the demo's infected image, as lowercase hex pairs. */
export function bytesAt(va: string, length: number): string[] {
  const bytes = bytesIfMapped(va, length);
  if (!bytes) throw new Error(`${va} is not mapped`);
  return bytes;
}

/** The same, or null where the image does not hold the page (paged out, never mapped). */
export function bytesIfMapped(va: string, length: number): string[] | null {
  const truth = demoTruth();
  const image = new RawImage(join(DEMO, 'infected', 'image.raw'));
  try {
    const bytes = new VirtualReader(image, truth.paging, Number(BigInt(truth.dtb))).read(BigInt(va), length);
    return bytes ? [...bytes].map((b) => b.toString(16).padStart(2, '0')) : null;
  } finally {
    image.close();
  }
}

/**
 * A name as the workbench must show it: each control character as a visible \uXXXX escape (the
 * builder's hostile names hold BEL and ESC). Written here, not taken from the product.
 */
export function shownAs(name: string): string {
  const control = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f);
  return [...name]
    .map((c) => (control(c.charCodeAt(0)) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c))
    .join('');
}

/** A kernel address as the workbench writes it for the demo's architecture (WinDbg's style). */
export function shownAddress(va: string): string {
  const n = BigInt(va);
  if (demoTruth().arch === 'x86') return n.toString(16).padStart(8, '0');
  const text = n.toString(16).padStart(16, '0');
  return `${text.slice(0, 8)}\`${text.slice(8)}`;
}

/** Where an x86 `jmp rel32` (E9) or `push imm32; ret` (68 … C3) at `va` goes, decoded here from its bytes. */
export function patchTarget(va: string, bytes: string[]): string | null {
  const value = (from: number) => Buffer.from(bytes.slice(from, from + 4).join(''), 'hex').readInt32LE(0);
  if (bytes[0] === 'e9') return `0x${BigInt.asUintN(32, BigInt(va) + 5n + BigInt(value(1))).toString(16)}`;
  if (bytes[0] === '68' && bytes[5] === 'c3') return `0x${(value(1) >>> 0).toString(16)}`;
  return null;
}
