// Where the first instructions of a routine send control (spec §4.5 item 6): JMP rel, JMP [mem],
// MOV reg,imm + JMP reg, PUSH imm + RET, and short-jump chains (hot-patch hooks), decoded with
// iced-x86. A CALL counts only when it goes nowhere known: calls to imports are normal code.

import { decode, decodeFlow, type FlowInstruction } from '../kernel/disasm';
import type { KernelMemory } from '../kernel/memory';

export interface ControlTransfer {
  target: bigint;
  /** The instructions followed, as text. */
  via: string[];
  kind: 'jump' | 'call';
}

const LOOK_INSTRUCTIONS = 4;
const PAGE = 0x1000n;
/** Pages a code reader keeps: far more than the code pages of the handlers of one image. */
const MAX_CACHED_PAGES = 4096;

/** `length` bytes of code from `address`, up to the first unreadable byte; null when none can be read. */
export type CodeReader = (address: bigint, length: number) => Uint8Array | null;

/**
 * Reads code a page at a time and keeps the pages: thousands of handlers and service routines
 * share a few hundred pages, and each page is translated and read once.
 */
function pageCachedReader(memory: KernelMemory): CodeReader {
  const pages = new Map<bigint, Uint8Array>();
  const page = (start: bigint): Uint8Array => {
    let bytes = pages.get(start);
    if (bytes === undefined) {
      if (pages.size >= MAX_CACHED_PAGES) pages.clear();
      bytes = memory.virtual.readPartial(start, Number(PAGE)).bytes;
      pages.set(start, bytes);
    }
    return bytes;
  };
  return (address, length) => {
    const start = address & ~(PAGE - 1n);
    const first = page(start);
    const offset = Number(address - start);
    // Most routines' opening bytes lie in one page: a view of it, no copy.
    if (offset + length <= first.length) return first.subarray(offset, offset + length);
    if (first.length < Number(PAGE)) return offset < first.length ? first.slice(offset) : null;
    const second = page(start + PAGE);
    const out = new Uint8Array(Math.min(length, first.length - offset + second.length));
    out.set(first.subarray(offset));
    out.set(second.subarray(0, out.length - (first.length - offset)), first.length - offset);
    return out;
  };
}

/**
 * The routines' opening code of one kernel: its pages read once, each routine's first transfer
 * decoded once. The analysis reads the system-service routines' while the pool scan runs (they
 * need only the kernel image); the handler judge reads the rest and finds those already done.
 */
export class Prologues {
  readonly read: CodeReader;
  readonly #transfers = new Map<bigint, ControlTransfer | null>();
  readonly #bitness: 32 | 64;

  constructor(private readonly memory: KernelMemory) {
    this.read = pageCachedReader(memory);
    this.#bitness = memory.pointerSize === 8 ? 64 : 32;
  }

  /** firstTransfer of the routine at `address`, decoded on its first request. */
  transfer(address: bigint): ControlTransfer | null {
    let transfer = this.#transfers.get(address);
    if (transfer === undefined) {
      transfer = firstTransfer(this.memory, this.read, address, this.#bitness);
      this.#transfers.set(address, transfer);
    }
    return transfer;
  }
}

/** The first control transfer out of the routine's opening instructions, following short jumps. */
function firstTransfer(
  memory: KernelMemory,
  read: CodeReader,
  address: bigint,
  bitness: 32 | 64,
): ControlTransfer | null {
  let at = address;
  const via: string[] = [];
  for (let hop = 0; hop < 3; hop++) {
    const bytes = read(at, 32);
    if (!bytes) return null;
    const instructions = decodeFlow(bytes, at, bitness, LOOK_INSTRUCTIONS);
    const transfer = transferIn(memory, instructions, bitness);
    if (!transfer) return null;
    via.push(...transfer.via);
    if (transfer.shortHop) {
      at = transfer.target;
      continue;
    }
    return { target: transfer.target, via, kind: transfer.kind };
  }
  return null;
}

function transferIn(
  memory: KernelMemory,
  instructions: FlowInstruction[],
  bitness: 32 | 64,
): { target: bigint; via: string[]; kind: 'jump' | 'call'; shortHop: boolean } | null {
  for (let i = 0; i < instructions.length; i++) {
    const instruction = instructions[i]!;
    const next = instructions[i + 1];
    if (instruction.flow === 'branch' && instruction.branchTarget !== null) {
      return {
        target: instruction.branchTarget,
        via: [instruction.text],
        kind: 'jump',
        shortHop: instruction.length === 2,
      };
    }
    if (instruction.flow === 'indirect-branch' && instruction.memoryAddress !== null) {
      const pointer = memory.ptr(instruction.memoryAddress);
      if (pointer === null) return null;
      return { target: pointer, via: [instruction.text], kind: 'jump', shortHop: false };
    }
    if (
      instruction.isMovImmediate &&
      instruction.immediate !== null &&
      next &&
      (next.flow === 'indirect-branch' || next.flow === 'indirect-call') &&
      next.register === instruction.register
    ) {
      return {
        target: instruction.immediate,
        via: [instruction.text, next.text],
        kind: next.flow === 'indirect-branch' ? 'jump' : 'call',
        shortHop: false,
      };
    }
    if (instruction.isPush && instruction.immediate !== null && next?.flow === 'return') {
      const target =
        bitness === 64 ? BigInt.asUintN(64, BigInt.asIntN(32, instruction.immediate)) : instruction.immediate;
      return { target, via: [instruction.text, next.text], kind: 'jump', shortHop: false };
    }
    if (instruction.flow === 'call' && instruction.branchTarget !== null) {
      return { target: instruction.branchTarget, via: [instruction.text], kind: 'call', shortHop: false };
    }
    if (instruction.flow === 'return' || instruction.flow === 'conditional') return null;
  }
  return null;
}

/** "address  mnemonic operands" lines and the hex of the bytes at the routine (for evidence and the UI). */
export function disassemble(
  read: CodeReader,
  address: bigint,
  bitness: 32 | 64,
  count = 6,
): { bytes: string; instructions: string[] } | null {
  const bytes = read(address, 48);
  if (!bytes) return null;
  const instructions = decode(bytes, address, bitness, count);
  const used = instructions.reduce((n, i) => n + i.length, 0);
  return {
    bytes: Buffer.from(bytes.subarray(0, Math.min(32, Math.max(used, 16)))).toString('hex'),
    instructions: instructions.map(
      (i) => `${i.ip.toString(16).padStart(bitness === 64 ? 16 : 8, '0')}  ${i.text}`,
    ),
  };
}
