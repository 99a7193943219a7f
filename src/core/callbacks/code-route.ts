// The kernel's own code as a route to a global: the addresses an exported routine loads (a
// RIP-relative LEA or MOV on x64; an absolute operand, MOV reg,imm32 or PUSH imm32 on x86) that
// land in one of the kernel's data sections, in the order the code meets them, following at most
// two near calls or jumps into the kernel's code (the exported routine is often a thunk to an
// internal one: PsSetCreateProcessNotifyRoutine → PspSetCreateProcessNotifyRoutine).

import { decode, type DecodedInstruction } from '../kernel/disasm';
import type { KernelMemory } from '../kernel/memory';
import { IMAGE_SCN_MEM_EXECUTE, type PeImage } from '../kernel/pe';

/** Instructions read per routine: the reference sits in the first few dozen in every build. */
const INSTRUCTIONS_PER_ROUTINE = 64;
const BYTES_PER_ROUTINE = 0x180;
/** Routines followed beyond the exported one. */
const MAX_FOLLOWED = 2;

export interface CodeReference {
  /** The global the code loads. */
  address: bigint;
  /** The instruction, "PsSetCreateThreadNotifyRoutine+0x12: lea rcx,[…]". */
  where: string;
}

function inSection(pe: PeImage, va: bigint, executable: boolean): boolean {
  if (va < pe.base) return false;
  const rva = Number(va - pe.base);
  return pe.sections.some(
    (s) =>
      rva >= s.rva &&
      rva < s.rva + s.size &&
      ((s.characteristics & IMAGE_SCN_MEM_EXECUTE) !== 0) === executable,
  );
}

function loadedAddress(instruction: DecodedInstruction): bigint | null {
  if ((instruction.isLea || instruction.isMovRegMemory) && instruction.memoryAddress !== null)
    return instruction.memoryAddress;
  if (instruction.isMovImmediate || instruction.isPush) return instruction.immediate;
  return null;
}

/** The data addresses `routine`'s code loads, and those of the routines it calls or jumps to. */
export function dataReferences(
  memory: KernelMemory,
  pe: PeImage,
  routine: bigint,
  name: string,
): CodeReference[] {
  const bitness = memory.pointerSize === 8 ? 64 : 32;
  const references: CodeReference[] = [];
  const queue: Array<{ at: bigint; name: string }> = [{ at: routine, name }];
  const visited = new Set<bigint>();
  while (queue.length > 0 && visited.size <= MAX_FOLLOWED) {
    const next = queue.shift()!;
    if (visited.has(next.at)) continue;
    visited.add(next.at);
    const bytes = memory.virtual.readPartial(next.at, BYTES_PER_ROUTINE).bytes;
    for (const instruction of decode(bytes, next.at, bitness, INSTRUCTIONS_PER_ROUTINE)) {
      const where = `${next.name}+0x${(instruction.ip - next.at).toString(16)}: ${instruction.text}`;
      const loaded = loadedAddress(instruction);
      if (loaded !== null && inSection(pe, loaded, false)) references.push({ address: loaded, where });
      const target = instruction.branchTarget;
      const leaves = instruction.flow === 'call' || instruction.flow === 'branch';
      if (leaves && target !== null && inSection(pe, target, true) && !visited.has(target))
        queue.push({ at: target, name: `${next.name}→0x${target.toString(16)}` });
      if (instruction.flow === 'return' || instruction.flow === 'branch') break;
    }
  }
  return references;
}
