// The system-service table: KeServiceDescriptorTable { Base, Count, Limit, Number } and the
// KiServiceTable it names, found without symbols and decoded.
//
// Routes, in order: the ISF symbol when one matched; the kernel's export (x86 exports the
// descriptor, x64 does not); on x64 the code of KiSystemServiceRepeat, the one place that loads
// both descriptors: `lea r10,[rip+KeServiceDescriptorTable]` (4C 8D 15 rel32) followed by
// `lea r11,[rip+KeServiceDescriptorTableShadow]` (4C 8D 1D rel32). Entries: x86 holds absolute
// routine addresses; x64 holds LONG offsets from the table, shifted left by 4 with the number of
// stack arguments in the low bits (Vista and later; Server 2003 x64 keeps the offset unshifted
// with the low 4 bits masked). Facts: public SSDT readers (pykd samples/km/ssdt.py; Volatility 2
// ssdt_vtypes); service numbers: j00ru/windows-syscalls.

import type { LayoutProfile } from '../profile';
import type { KernelMemory } from './memory';
import { searchKernelCode } from './code-scan';
import type { PeImage } from './pe';

/** Far above any real table (about 500 services); a crafted Limit is bounded here. */
export const MAX_SERVICES = 2048;

export interface ServiceTableLocation {
  descriptor: bigint;
  method: string;
  base: bigint;
  limit: number;
  argumentTable: bigint;
}

export interface RawServiceEntry {
  index: number;
  /** Where the entry sends the call. */
  address: bigint;
}

/** The descriptor at `va`, when it names a table inside the kernel image with a sane limit. */
function readDescriptor(
  memory: KernelMemory,
  pe: PeImage,
  va: bigint,
  method: string,
): ServiceTableLocation | string {
  const ptr = memory.pointerSize;
  const bytes = memory.bytes(va, 4 * ptr);
  if (!bytes) return 'its memory is not in the image';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const word = (i: number) =>
    ptr === 8 ? view.getBigUint64(i * 8, true) : BigInt(view.getUint32(i * 4, true));
  const base = word(0);
  const limit = ptr === 8 ? Number(word(2) & 0xffffffffn) : view.getUint32(8, true);
  const argumentTable = word(3);
  const end = pe.base + BigInt(pe.sizeOfImage);
  if (base < pe.base || base >= end) return `its table 0x${base.toString(16)} is outside the kernel image`;
  if (limit < 1 || limit > MAX_SERVICES) return `its limit ${limit} is not a number of services`;
  if (base + BigInt(limit * 4) > end) return 'its table runs past the kernel image';
  return { descriptor: va, method, base, limit, argumentTable };
}

/** KiSystemServiceRepeat's two LEAs in the kernel's code: the descriptor they load. */
function fromSystemCallCode(
  memory: KernelMemory,
  pe: PeImage,
  rejected: string[],
): ServiceTableLocation | null {
  const pattern = Buffer.from([0x4c, 0x8d, 0x15]);
  const found = searchKernelCode(memory, pe, 16, (bytes, va) => {
    for (
      let at = bytes.indexOf(pattern);
      at >= 0 && at + 14 <= bytes.length;
      at = bytes.indexOf(pattern, at + 1)
    ) {
      if (bytes[at + 7] !== 0x4c || bytes[at + 8] !== 0x8d || bytes[at + 9] !== 0x1d) continue;
      const descriptor = va + BigInt(at + 7 + bytes.readInt32LE(at + 3));
      const loaded = readDescriptor(
        memory,
        pe,
        descriptor,
        `KiSystemServiceRepeat's lea r10 at 0x${(va + BigInt(at)).toString(16)}`,
      );
      if (typeof loaded !== 'string') return loaded;
      if (rejected.length < 4)
        rejected.push(`the descriptor 0x${descriptor.toString(16)} that code loads: ${loaded}`);
    }
    return undefined;
  });
  return found ?? null;
}

export function findServiceTable(
  memory: KernelMemory,
  pe: PeImage,
  exports: ReadonlyMap<string, number>,
  profile: LayoutProfile | null,
): { found: ServiceTableLocation | null; tried: string[] } {
  const tried: string[] = [];
  const symbol = profile?.symbol('KeServiceDescriptorTable');
  if (symbol !== undefined) {
    const found = readDescriptor(memory, pe, pe.base + BigInt(symbol), 'ISF symbol KeServiceDescriptorTable');
    if (typeof found !== 'string') return { found, tried };
    tried.push(`ISF symbol: ${found}`);
  }
  const exported = exports.get('KeServiceDescriptorTable');
  if (exported !== undefined) {
    const found = readDescriptor(
      memory,
      pe,
      pe.base + BigInt(exported),
      'ntoskrnl export KeServiceDescriptorTable',
    );
    if (typeof found !== 'string') return { found, tried };
    tried.push(`export: ${found}`);
  } else tried.push('not exported (x64 kernels do not export it)');
  if (memory.pointerSize === 8) {
    const rejected: string[] = [];
    const found = fromSystemCallCode(memory, pe, rejected);
    if (found) return { found, tried };
    tried.push(rejected.length > 0 ? rejected.join('; ') : "no KiSystemServiceRepeat in the kernel's code");
  }
  return { found: null, tried };
}

/** The entries of the table, each with the address it sends its service to (null: unreadable). */
export function readServiceEntries(
  memory: KernelMemory,
  location: ServiceTableLocation,
  build: number | null,
): Array<RawServiceEntry | { index: number; address: null }> {
  const bytes = memory.virtual.readPartial(location.base, location.limit * 4).bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const entries: Array<RawServiceEntry | { index: number; address: null }> = [];
  for (let index = 0; index < location.limit; index++) {
    if ((index + 1) * 4 > bytes.length) {
      entries.push({ index, address: null });
      continue;
    }
    if (memory.pointerSize === 4) {
      entries.push({ index, address: BigInt(view.getUint32(index * 4, true)) });
      continue;
    }
    const value = view.getInt32(index * 4, true);
    const offset = build !== null && build < 6000 ? value & ~0xf : value >> 4;
    entries.push({ index, address: BigInt.asUintN(64, location.base + BigInt(offset)) });
  }
  return entries;
}
