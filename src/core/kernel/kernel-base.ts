// Finding ntoskrnl's image base (spec §3.2) with small reads: hints from the container (module
// list head, low-stub entry, IDT), then a walk of the kernel's own page tables for its large-page
// window (MemProcFS' route), then the fixed 32-bit window. A base is accepted when the image is
// a PE of the right machine named ntoskrnl.exe in its exports or a kernel PDB in its RSDS record.

import type { PhysicalSpace } from '../image';
import { exportName, readCodeView, readPe, type PeImage } from './pe';
import type { KernelMemory } from './memory';

const KERNEL_PDB_NAMES = ['ntkrnlmp.pdb', 'ntkrnlpa.pdb', 'ntkrpamp.pdb', 'ntoskrnl.pdb'];
const LARGE_X64 = 0x200000n;

export interface FoundKernel {
  base: bigint;
  pe: PeImage;
  method: string;
}

/** The image at `base` is the NT kernel of the given machine. */
export function isKernelImage(memory: KernelMemory, base: bigint): PeImage | null {
  const pe = readPe(memory, base);
  if (!pe) return null;
  const machine = memory.pointerSize === 8 ? 0x8664 : 0x14c;
  if (pe.machine !== machine || pe.sizeOfImage < 0x100000 || pe.sizeOfImage > 0x4000000) return null;
  if (exportName(memory, pe)?.toLowerCase() === 'ntoskrnl.exe') return pe;
  const codeView = readCodeView(memory, pe);
  if (codeView && KERNEL_PDB_NAMES.includes(codeView.pdbName.toLowerCase())) return pe;
  return null;
}

/**
 * Steps down from an address inside the kernel to its MZ header (MemProcFS' hint scan, ≤ 32 MiB):
 * 2 MiB-aligned bases first (where KASLR loads the kernel), then every page (fixed mappings).
 */
function scanBack(memory: KernelMemory, inside: bigint): FoundKernel | null {
  const limit = 0x2000000n;
  for (const step of [0x200000n, 0x1000n]) {
    const start = inside - (inside % step);
    for (let offset = 0n; offset <= limit; offset += step) {
      const base = start - offset;
      const head = memory.bytes(base, 2);
      if (!head || head[0] !== 0x4d || head[1] !== 0x5a) continue;
      const pe = isKernelImage(memory, base);
      if (pe) return { base, pe, method: '' };
    }
  }
  return null;
}

export function findKernelBase(
  memory: KernelMemory,
  space: PhysicalSpace,
  lowStubEntry: bigint | null,
): { found: FoundKernel | null; tried: string[] } {
  const tried: string[] = [];
  const attempt = (method: string, find: () => FoundKernel | null): FoundKernel | null => {
    const found = find();
    tried.push(`${method}: ${found ? 'found' : 'nothing'}`);
    return found ? { ...found, method } : null;
  };
  const hints = space.hints;
  const ptr = memory.pointerSize;
  const routes: Array<[string, () => FoundKernel | null]> = [];
  if (hints.psLoadedModuleList !== undefined) {
    routes.push([
      "first loader entry of the dump header's PsLoadedModuleList",
      () => {
        const first = memory.ptr(hints.psLoadedModuleList!);
        const base = first === null ? null : memory.ptr(first + BigInt(ptr === 8 ? 0x30 : 0x18));
        const pe = base ? isKernelImage(memory, base) : null;
        return pe && base ? { base, pe, method: '' } : null;
      },
    ]);
  }
  if (lowStubEntry !== null)
    routes.push(["scan back from the low stub's kernel entry point", () => scanBack(memory, lowStubEntry)]);
  for (const cpu of hints.cpus ?? []) {
    if (cpu.idtBase === 0n) continue;
    routes.push([
      `scan back from IDT[0] of CPU ${cpu.index}`,
      () => {
        const gate = memory.bytes(cpu.idtBase, ptr === 8 ? 16 : 8);
        if (!gate) return null;
        const view = new DataView(gate.buffer, gate.byteOffset);
        const low = BigInt(view.getUint16(0, true)) | (BigInt(view.getUint16(6, true)) << 16n);
        const handler = ptr === 8 ? low | (BigInt(view.getUint32(8, true)) << 32n) : low;
        return memory.isKernelAddress(handler) ? scanBack(memory, handler) : null;
      },
    ]);
  }
  if (ptr === 8)
    routes.push([
      'kernel large-page window walk (0xFFFFF800`00000000–0xFFFFF807`FFFFFFFF)',
      () => scanX64Window(memory),
    ]);
  else routes.push(['kernel window scan (0x80000000–0x88000000)', () => scanX86Window(memory)]);
  for (const [method, find] of routes) {
    const found = attempt(method, find);
    if (found) return { found, tried };
  }
  return { found: null, tried };
}

/**
 * Walks the System page tables over 0xFFFFF800'00000000–0xFFFFF807'FFFFFFFF and checks page
 * starts inside large-page runs first (the loader maps the kernel with large pages), then every
 * mapped page start (spec §3.2, `MPFS VmmWinInit_FindNtosScan64`).
 */
function scanX64Window(memory: KernelMemory): FoundKernel | null {
  const large: bigint[] = [];
  const small: bigint[] = [];
  memory.virtual.forEachMapping(
    0xfffff80000000000n,
    0xfffff80800000000n,
    (m) => {
      if (BigInt(m.size) >= LARGE_X64) large.push(m.va);
      else if (small.length < 262144) small.push(m.va);
    },
    { maxMappings: 1 << 20 },
  );
  for (const start of large) {
    for (let offset = 0n; offset < LARGE_X64; offset += 0x1000n) {
      const found = probe(memory, start + offset);
      if (found) return found;
    }
  }
  for (const va of small) {
    const found = probe(memory, va);
    if (found) return found;
  }
  return null;
}

function scanX86Window(memory: KernelMemory): FoundKernel | null {
  let found: FoundKernel | null = null;
  memory.virtual.forEachMapping(
    0x80000000n,
    0x88000000n,
    (m) => {
      for (let offset = 0; offset < m.size && !found; offset += 0x1000)
        found = probe(memory, m.va + BigInt(offset));
      return found === null;
    },
    { maxMappings: 1 << 16 },
  );
  return found;
}

function probe(memory: KernelMemory, va: bigint): FoundKernel | null {
  const head = memory.bytes(va, 2);
  if (!head || head[0] !== 0x4d || head[1] !== 0x5a) return null;
  const pe = isKernelImage(memory, va);
  return pe ? { base: va, pe, method: '' } : null;
}
