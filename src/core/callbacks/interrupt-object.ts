// The interrupt object (KINTERRUPT) a gate enters when the IDT sends a device interrupt into pool:
// on x86 Windows before 8.1, and x64 Windows before the KiIsrThunk builds, the gate points at the
// object's DispatchCode, a copy of KiInterruptTemplate, and the routine that matters is the
// object's ServiceRoutine (the driver's ISR). A gate into pool that is not such an object is code
// in no module.
//
// Where DispatchCode sits in the object changed with every release (x86: 0x3C on XP and 2003,
// 0x50 on Vista, 0x58 on 7, 0x54 on 8; x64: 0x90 on Vista and 7, from the PDB-derived Volatility 2
// vtypes and wdbgark's layout tables), and a build not listed may move it again. So the object is
// found from the code the gate enters, which names it: KeInitializeInterrupt patches the object's
// own address into the x86 template's `mov edi, imm32` (KiInterruptTemplateObject - 4, WRK
// ke/i386/intobj.c and intsup.asm; ReactOS patches a `mov edx` there), and the x64 template loads
// it with `lea rbp, [rip - …]`, relative and so still right in the copy (WRK ke/amd64/intsup.asm).
//
// The template is copied, so it can hold no relative jump or call out of the object, and it calls
// nothing before its final jump to the dispatcher. Code that does either, or names no object, is
// not a template however its neighbourhood looks: a rootkit's gate code behind a forged header
// stays code in no module. An object counts only when its header says so: Type 0x16
// (InterruptObject), a Size that holds the code the gate enters, and a ServiceRoutine in kernel
// space (x86 @0xC, x64 @0x18).

import { decode, type DecodedInstruction } from '../kernel/disasm';
import type { KernelMemory } from '../kernel/memory';

const INTERRUPT_OBJECT_TYPE = 0x16;
/** The most of the dispatch code read and decoded: the x86 template's frame-building prologue is about 0xA5 bytes. */
const CODE_BYTES = 0x180;
const CODE_INSTRUCTIONS = 64;
/** The farthest the gate's code lies from its object's start (the largest KINTERRUPT seen is 0x3F8 bytes). */
const MAX_CODE_OFFSET = 0x400n;

export interface InterruptObject {
  object: bigint;
  service: bigint;
  /**
   * Where the DispatchCode goes on to (ntoskrnl's KiInterruptDispatch or a sibling): the jump
   * after the instruction that loads the object, through the object's DispatchAddress on x64;
   * null when that cannot be read.
   */
  dispatch: bigint | null;
}

/** The KINTERRUPT whose dispatch code `handler` is, with its ServiceRoutine; null when it is not one. */
export function interruptObjectAt(memory: KernelMemory, handler: bigint): InterruptObject | null {
  const bytes = memory.virtual.readPartial(handler, CODE_BYTES).bytes;
  const code = decode(bytes, handler, memory.pointerSize === 8 ? 64 : 32, CODE_INSTRUCTIONS);
  for (const [at, instruction] of code.entries()) {
    if (instruction.flow !== 'next' && instruction.flow !== 'conditional') return null;
    const object = objectNamedBy(instruction, memory.pointerSize, handler);
    if (object === null) continue;
    const header = verified(memory, object, handler);
    if (header === null) continue;
    const end = object + BigInt(header.size);
    const inside = (target: bigint | null) => target !== null && target >= object && target < end;
    // Before the object is named, only branches within the copy; after it, the jump on.
    if (code.slice(0, at).some((i) => i.flow === 'conditional' && !inside(i.branchTarget))) return null;
    const rest = code.slice(at + 1);
    const onwardAt = rest.findIndex((i) => i.flow !== 'next' && i.flow !== 'conditional');
    if (onwardAt < 0) return null;
    const onward = rest[onwardAt]!;
    if (rest.slice(0, onwardAt).some((i) => i.flow === 'conditional' && !inside(i.branchTarget))) return null;
    if (onward.flow !== 'branch' && onward.flow !== 'indirect-branch') return null;
    return { object, service: header.service, dispatch: onwardTarget(memory, instruction, onward, object) };
  }
  return null;
}

/** Where the jump after the object's naming goes: its target, or the object's field it jumps through. */
function onwardTarget(
  memory: KernelMemory,
  naming: DecodedInstruction,
  jump: DecodedInstruction,
  object: bigint,
): bigint | null {
  if (jump.branchTarget !== null) return jump.branchTarget;
  const operand = jump.memoryOperand;
  if (!operand || operand.base !== naming.register || operand.index !== null) return null;
  return memory.ptr(object + operand.displacement);
}

/** The address `instruction` loads into a register when it could be its own object's start, else null. */
function objectNamedBy(instruction: DecodedInstruction, pointerSize: 4 | 8, handler: bigint): bigint | null {
  const value =
    pointerSize === 8
      ? instruction.isLea
        ? instruction.memoryAddress
        : null
      : instruction.isMovImmediate
        ? instruction.immediate
        : null;
  return value !== null && value < handler && handler - value <= MAX_CODE_OFFSET ? value : null;
}

/** The object's ServiceRoutine and Size when `object` is a KINTERRUPT that holds the code at `handler`, else null. */
function verified(
  memory: KernelMemory,
  object: bigint,
  handler: bigint,
): { service: bigint; size: number } | null {
  const x64 = memory.pointerSize === 8;
  const header = memory.bytes(object, x64 ? 0x20 : 0x10);
  if (!header) return null;
  const view = new DataView(header.buffer, header.byteOffset, header.length);
  if (view.getUint16(0, true) !== INTERRUPT_OBJECT_TYPE) return null;
  const size = view.getUint16(2, true);
  if (BigInt(size) < handler - object + 4n) return null;
  const service = x64 ? view.getBigUint64(0x18, true) : BigInt(view.getUint32(0x0c, true));
  return memory.isKernelAddress(service) ? { service, size } : null;
}
