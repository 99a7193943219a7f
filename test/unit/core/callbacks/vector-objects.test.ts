// The x64 per-processor table of interrupt objects (KPRCB.InterruptObject[256]) found by its
// structure wherever a release puts it: the slots whose KINTERRUPTs each name their slot's vector
// (Vector @0x58, ServiceRoutine @0x18, Type 0x16: every ISF in ../shared/isf).

import { expect, test } from 'vitest';
import { findVectorObjects } from '../../../../src/core/callbacks/vector-objects';
import type { Processor } from '../../../../src/core/callbacks/processors';
import { SparsePages } from '../../../support/sparse-memory';

const PRCB = 0xfffff80012a00180n;
const processor: Processor = { number: 0, kpcr: PRCB - 0x180n, prcb: PRCB, idt: 0n, gdt: 0n };
const POOL = 0xffffb50348950000n;

/** A KINTERRUPT claiming `vector`, its ServiceRoutine `service`. */
function interrupt(pages: SparsePages, at: bigint, vector: number, service: bigint): bigint {
  pages.write(at, [0x16, 0x00, 0x20, 0x01]);
  pages.ptr(at + 0x18n, service);
  pages.write(at + 0x58n, [vector, 0, 0, 0]);
  return at;
}

test('an array at an offset no release listed is found by its objects, and each vector answers with its own', () => {
  const pages = new SparsePages();
  const table = PRCB + 0x4a00n;
  const keyboard = interrupt(pages, POOL, 0x80, 0xfffff80036d93790n);
  const acpi = interrupt(pages, POOL + 0x200n, 0x70, 0xfffff80035a2d540n);
  pages.ptr(table + 0x80n * 8n, keyboard);
  pages.ptr(table + 0x70n * 8n, acpi);
  // Elsewhere in the KPRCB: a pointer to one of them (a DPC's context, say) that votes alone.
  pages.ptr(PRCB + 0x5000n, keyboard);
  // A slot holding an object that names another vector is not that vector's.
  pages.ptr(table + 0x90n * 8n, acpi);
  const found = findVectorObjects({ memory: pages.memory(), profile: null }, processor);
  if (found === null || typeof found === 'string') throw new Error(`not found: ${found}`);
  expect(found.base).toBe(table);
  expect(found.method).toBe(
    'found by structure: KPRCB+0x4a00, each interrupt object at the slot of its vector',
  );
  expect(found.at(0x80)).toEqual({ object: keyboard, service: 0xfffff80036d93790n });
  expect(found.at(0x70)).toEqual({ object: acpi, service: 0xfffff80035a2d540n });
  expect(found.at(0x90)).toBeNull();
  expect(found.at(0x2e)).toBeNull();
});

test('a KPRCB with no interrupt object says so; x86 kernels have no such table', () => {
  const pages = new SparsePages();
  pages.ptr(PRCB + 0x3140n + 0x80n * 8n, POOL); // points at nothing the image holds
  expect(findVectorObjects({ memory: pages.memory(), profile: null }, processor)).toBe(
    'none found in the KPRCB (kernels whose gates do not enter KiIsrThunk have no such table)',
  );
  expect(findVectorObjects({ memory: pages.memory(4), profile: null }, processor)).toBeNull();
});
