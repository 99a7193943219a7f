// Field offsets read from the kernel's own code. Exported accessors such as PsGetProcessId are a
// single load from their argument: `mov rax, [rcx+2E8h]` on x64, and on x86 the argument is
// first taken from the stack (`mov eax, [esp+4]`, or `[ebp+8]` after `push ebp; mov ebp, esp`)
// and then `mov eax, [eax+84h]` (PsGetProcessImageFileName: `lea`, or `add eax, imm` on older
// kernels). The displacement is the field's offset in this very kernel, whatever its build.
// (Forms: Microsoft's kernels as disassembled in public write-ups and ReactOS's ps/ sources;
// MemProcFS and Volatility read the same accessors to check EPROCESS offsets.)

import type { KernelMemory } from '../kernel/memory';
import { decode, type DecodedInstruction } from '../kernel/disasm';

export interface AccessorRead {
  /** The field's offset from the accessor's argument. */
  offset: number;
  /** The instruction that reads it, as text ("mov rax,[rcx+2E8h]"). */
  instruction: string;
}

const MAX_INSTRUCTIONS = 12;
/** No field of EPROCESS or ETHREAD lies further than this (the largest are under 0x1000). */
const MAX_OFFSET = 0x2000;

/** The offset the accessor at `address` reads from its first argument, or null when its code is not that shape. */
export function offsetFromAccessor(memory: KernelMemory, address: bigint): AccessorRead | null {
  const bitness = memory.pointerSize === 8 ? 64 : 32;
  const code = readCode(memory, address);
  if (!code) return null;
  const instructions = decode(code, address, bitness, MAX_INSTRUCTIONS);
  return bitness === 64 ? readX64(instructions) : readX86(instructions);
}

function readCode(memory: KernelMemory, address: bigint): Uint8Array | null {
  for (const length of [0x40, 0x20, 0x10]) {
    const bytes = memory.bytes(address, length);
    if (bytes) return bytes;
  }
  return null;
}

/** The access through one of `holders` (registers holding the argument), if this instruction is one. */
function access(instruction: DecodedInstruction, holders: Set<string>): AccessorRead | null {
  const operand = instruction.memoryOperand;
  if (
    (instruction.isMovRegMemory || instruction.isLea || instruction.mnemonic === 'Movzx') &&
    operand &&
    operand.base !== null &&
    operand.index === null &&
    holders.has(canonical(operand.base)) &&
    operand.displacement > 0n &&
    operand.displacement < BigInt(MAX_OFFSET)
  )
    return { offset: Number(operand.displacement), instruction: instruction.text };
  if (
    instruction.mnemonic === 'Add' &&
    instruction.register !== null &&
    holders.has(canonical(instruction.register)) &&
    instruction.immediate !== null &&
    instruction.immediate > 0n &&
    instruction.immediate < BigInt(MAX_OFFSET)
  )
    return { offset: Number(instruction.immediate), instruction: instruction.text };
  return null;
}

/** RCX and ECX are one register for this purpose. */
function canonical(register: string): string {
  return register.replace(/^[RE]/, '').replace(/D$/, '');
}

function ends(instruction: DecodedInstruction): boolean {
  return instruction.flow !== 'next';
}

function readX64(instructions: DecodedInstruction[]): AccessorRead | null {
  const holders = new Set([canonical('RCX')]);
  for (const instruction of instructions) {
    const found = access(instruction, holders);
    if (found) return found;
    if (ends(instruction)) return null;
    trackCopies(instruction, holders);
  }
  return null;
}

function readX86(instructions: DecodedInstruction[]): AccessorRead | null {
  const holders = new Set<string>();
  /** Bytes pushed since entry: the argument is at [esp + 4 + depth]. */
  let depth = 0;
  /** `depth` when EBP was set to ESP: the argument is then at [ebp + 4 + frame]. */
  let frame: number | null = null;
  for (const instruction of instructions) {
    if (holders.size) {
      const found = access(instruction, holders);
      if (found) return found;
    }
    if (ends(instruction)) return null;
    const operand = instruction.memoryOperand;
    if (instruction.mnemonic === 'Push') depth += 4;
    else if (instruction.mnemonic === 'Pop') depth -= 4;
    else if (
      instruction.mnemonic === 'Mov' &&
      instruction.register === 'EBP' &&
      instruction.sourceRegister === 'ESP'
    )
      frame = depth;
    else if (instruction.isMovRegMemory && instruction.register && operand && operand.index === null) {
      const fromStack =
        (operand.base === 'ESP' && operand.displacement === BigInt(4 + depth)) ||
        (operand.base === 'EBP' && frame !== null && operand.displacement === BigInt(4 + frame));
      if (fromStack) holders.add(canonical(instruction.register));
      else holders.delete(canonical(instruction.register));
    } else trackCopies(instruction, holders);
  }
  return null;
}

/** `mov reg, holder` makes reg a holder too; any other write to a holder ends it. */
function trackCopies(instruction: DecodedInstruction, holders: Set<string>): void {
  if (instruction.register === null) return;
  const target = canonical(instruction.register);
  if (
    instruction.mnemonic === 'Mov' &&
    instruction.sourceRegister &&
    holders.has(canonical(instruction.sourceRegister))
  )
    holders.add(target);
  else if (
    instruction.mnemonic !== 'Push' &&
    instruction.mnemonic !== 'Cmp' &&
    instruction.mnemonic !== 'Test'
  )
    holders.delete(target);
}
