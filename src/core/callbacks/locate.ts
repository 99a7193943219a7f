// Where the kernel keeps one kind. Routes, in order: the symbol file's address; the code of the
// exported registration routines (code-route.ts), each data address it loads tried as the array
// or list head. A candidate is taken only when it reads as one; an empty one (which any zeroed
// data or idle list also reads as) only when no candidate holds a registration.

import type { KernelMemory } from '../kernel/memory';
import type { PeImage } from '../kernel/pe';
import type { LayoutProfile } from '../profile';
import { rejectArray, usedSlots } from './arrays';
import { dataReferences } from './code-route';
import type { CallbackSource } from './kinds';
import { isEmptyList, rejectListHead } from './lists';

export interface HeadLocation {
  address: bigint;
  /** How it was found: "symbol file: …", "PsSetCreateThreadNotifyRoutine→0x…+0xe: lea rcx,[…]". */
  method: string;
}

function reject(memory: KernelMemory, source: CallbackSource, address: bigint): string | null {
  return source.shape.shape === 'array'
    ? rejectArray(memory, address, source.shape.slots)
    : rejectListHead(memory, address);
}

function holdsRegistrations(memory: KernelMemory, source: CallbackSource, address: bigint): boolean {
  return source.shape.shape === 'array'
    ? usedSlots(memory, address, source.shape.slots) > 0
    : !isEmptyList(memory, address);
}

/** The head, and (when not found) why each route failed. */
export function locateSource(
  memory: KernelMemory,
  pe: PeImage,
  exports: ReadonlyMap<string, number>,
  profile: LayoutProfile | null,
  source: CallbackSource,
): { found: HeadLocation | null; tried: string[] } {
  const tried: string[] = [];
  const symbol = profile?.symbol(source.symbol);
  if (symbol !== undefined) {
    const address = pe.base + BigInt(symbol);
    const rejected = reject(memory, source, address);
    if (rejected === null) return { found: { address, method: `symbol file: ${source.symbol}` }, tried };
    tried.push(`symbol file: ${rejected}`);
  }
  return { found: fromRegistrationCode(memory, pe, exports, source, tried), tried };
}

function fromRegistrationCode(
  memory: KernelMemory,
  pe: PeImage,
  exports: ReadonlyMap<string, number>,
  source: CallbackSource,
  tried: string[],
): HeadLocation | null {
  const valid: HeadLocation[] = [];
  for (const name of source.registrations) {
    const rva = exports.get(name);
    if (rva === undefined) {
      tried.push(`${name} is not exported`);
      continue;
    }
    const references = dataReferences(memory, pe, pe.base + BigInt(rva), name);
    let rejections = 0;
    for (const reference of references) {
      if (reject(memory, source, reference.address) === null)
        valid.push({ address: reference.address, method: reference.where });
      else rejections++;
    }
    if (valid.length > 0) break;
    const what = source.shape.shape === 'array' ? 'a callback array' : 'a list head';
    tried.push(
      references.length === 0
        ? `${name}'s code loads no address in the kernel's data`
        : `none of the ${rejections} data addresses ${name}'s code loads reads as ${what}`,
    );
  }
  return valid.find((v) => holdsRegistrations(memory, source, v.address)) ?? valid[0] ?? null;
}
