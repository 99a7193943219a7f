// x86/x64 decoding with iced-x86 (a maintained decoder) for the few places the engine reads code:
// following the first instructions of dispatch routines (inline hooks, spec §4.5) and locating
// globals referenced by kernel routines (ObGetObjectType, KdCopyDataBlock; spec §1.8.4, §3.5).
//
// The package is imported like any other, because this folder names no Node module (loading it on
// first use took node:module's createRequire): its WebAssembly is now compiled when the engine
// loads, a few tens of milliseconds, rather than during discovery. iced-x86 as published is
// wasm-pack's Node build (it reads its .wasm from disk); the engine in a browser would need its
// web build.

import {
  Decoder,
  DecoderOptions,
  FlowControl,
  Formatter,
  FormatterSyntax,
  Instruction,
  Mnemonic,
  OpKind,
  Register,
} from 'iced-x86';

export interface DecodedInstruction {
  ip: bigint;
  length: number;
  text: string;
  mnemonic: string;
  flow: 'next' | 'branch' | 'conditional' | 'indirect-branch' | 'call' | 'indirect-call' | 'return' | 'other';
  /** Direct branch/call target. */
  branchTarget: bigint | null;
  /** RIP-relative memory operand's absolute address (x64), or a 32-bit absolute one (x86). */
  memoryAddress: bigint | null;
  /** A register-based memory operand ([base + index*scale + displacement]), not RIP-relative. */
  memoryOperand: { base: string | null; index: string | null; displacement: bigint } | null;
  /** The register an instruction's second operand reads (MOV reg, reg). */
  sourceRegister: string | null;
  /** MOV reg, imm / PUSH imm value. */
  immediate: bigint | null;
  /** Register written by MOV reg, imm or read by JMP/CALL reg. */
  register: string | null;
  isPush: boolean;
  isMovImmediate: boolean;
  isMovzxByteMemory: boolean;
  isLea: boolean;
  isMovRegMemory: boolean;
  isXorRegMemory: boolean;
  isCmpByteMemoryZero: boolean;
  isBswap: boolean;
}

/**
 * What following control flow needs of an instruction (decodeFlow): a routine's opening jump,
 * call or return, and the MOV reg, imm / PUSH imm that feed a register jump or a RET.
 */
export type FlowInstruction = Pick<
  DecodedInstruction,
  | 'ip'
  | 'length'
  | 'text'
  | 'flow'
  | 'branchTarget'
  | 'memoryAddress'
  | 'immediate'
  | 'register'
  | 'isPush'
  | 'isMovImmediate'
>;

let formatter: Formatter | null = null;

function flowOf(value: number): DecodedInstruction['flow'] {
  switch (value) {
    case FlowControl.Next:
      return 'next';
    case FlowControl.UnconditionalBranch:
      return 'branch';
    case FlowControl.ConditionalBranch:
      return 'conditional';
    case FlowControl.IndirectBranch:
      return 'indirect-branch';
    case FlowControl.Call:
      return 'call';
    case FlowControl.IndirectCall:
      return 'indirect-call';
    case FlowControl.Return:
      return 'return';
    default:
      return 'other';
  }
}

/** Intel-syntax text of the one instruction in `bytes`. */
function formatAt(bytes: Uint8Array, ip: bigint, bitness: 32 | 64): string {
  formatter ??= new Formatter(FormatterSyntax.Intel);
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  decoder.ip = ip;
  const instruction = decoder.decode();
  try {
    return formatter.format(instruction);
  } finally {
    instruction.free();
    decoder.free();
  }
}

/** The one instruction every decode fills in turn (decodeOut): none is allocated per instruction. */
let scratch: Instruction | null = null;

/** Decodes up to `max` instructions from `bytes` at `ip`; stops at the first invalid one. */
export function decode(bytes: Uint8Array, ip: bigint, bitness: 32 | 64, max = 32): DecodedInstruction[] {
  return decodeWith(
    bytes,
    ip,
    bitness,
    max,
    (instruction, offset, at) => new Decoded(instruction, bytes, offset, at, bitness),
  );
}

/**
 * As decode, reading of each instruction only what following control flow needs: the opening
 * instructions of thousands of handlers are decoded for their flow alone, and every fact read of
 * an instruction is a call into WebAssembly.
 */
export function decodeFlow(bytes: Uint8Array, ip: bigint, bitness: 32 | 64, max = 32): FlowInstruction[] {
  return decodeWith(
    bytes,
    ip,
    bitness,
    max,
    (instruction, offset, at) => new FlowDecoded(instruction, bytes, offset, at, bitness),
  );
}

function decodeWith<T extends { length: number }>(
  bytes: Uint8Array,
  ip: bigint,
  bitness: 32 | 64,
  max: number,
  /** The facts wanted of the instruction just decoded into `instruction`, which the next decode overwrites. */
  read: (instruction: Instruction, offset: number, ip: bigint) => T,
): T[] {
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  decoder.ip = ip;
  scratch ??= new Instruction();
  const out: T[] = [];
  let offset = 0;
  try {
    while (offset < bytes.length && out.length < max) {
      decoder.decodeOut(scratch);
      if (scratch.isInvalid) break;
      const decoded = read(scratch, offset, BigInt.asUintN(bitness, ip + BigInt(offset)));
      out.push(decoded);
      offset += decoded.length;
    }
  } finally {
    decoder.free();
  }
  return out;
}

/** An instruction's facts for control flow (see FlowInstruction), each read only when its kind can use it. */
class FlowDecoded implements FlowInstruction {
  declare readonly length: number;
  declare readonly flow: DecodedInstruction['flow'];
  declare readonly branchTarget: bigint | null;
  declare readonly memoryAddress: bigint | null;
  declare readonly immediate: bigint | null;
  declare readonly register: string | null;
  declare readonly isPush: boolean;
  declare readonly isMovImmediate: boolean;

  constructor(
    instruction: Instruction,
    private readonly bytes: Uint8Array,
    private readonly start: number,
    readonly ip: bigint,
    private readonly bitness: 32 | 64,
  ) {
    this.length = instruction.length;
    this.flow = flowOf(instruction.flowControl);
    const op0 = instruction.op0Kind;
    const branch = op0 === OpKind.NearBranch64 || op0 === OpKind.NearBranch32;
    this.branchTarget = branch ? instruction.nearBranchTarget : null;
    const indirect = this.flow === 'indirect-branch' || this.flow === 'indirect-call';
    let memoryAddress: bigint | null = null;
    if (indirect && op0 === OpKind.Memory) {
      if (instruction.isIpRelMemoryOperand) memoryAddress = instruction.ipRelMemoryAddress;
      else if (instruction.memoryBase === Register.None && instruction.memoryIndex === Register.None)
        memoryAddress = BigInt.asUintN(bitness, instruction.memoryDisplacementU64);
    }
    this.memoryAddress = memoryAddress;
    let immediate: bigint | null = null;
    let movImmediate = false;
    let pushImmediate = false;
    if (this.flow === 'next' && !branch) {
      const mnemonic = instruction.mnemonic;
      if (mnemonic === Mnemonic.Mov && op0 === OpKind.Register) {
        const op1 = instruction.op1Kind;
        movImmediate =
          op1 === OpKind.Immediate64 || op1 === OpKind.Immediate32 || op1 === OpKind.Immediate32to64;
        if (movImmediate) immediate = instruction.immediate(1);
      } else if (
        mnemonic === Mnemonic.Push &&
        (op0 === OpKind.Immediate32 || op0 === OpKind.Immediate32to64 || op0 === OpKind.Immediate8to32)
      ) {
        pushImmediate = true;
        immediate = BigInt.asUintN(32, instruction.immediate(0));
      }
    }
    this.immediate = immediate;
    this.isMovImmediate = movImmediate;
    this.isPush = pushImmediate;
    this.register =
      op0 === OpKind.Register && (movImmediate || indirect) ? registerName(instruction.op0Register) : null;
  }

  get text(): string {
    return formatAt(this.bytes.subarray(this.start, this.start + this.length), this.ip, this.bitness);
  }
}

function registerName(register: number): string | null {
  return register === Register.None ? null : (Register[register] ?? null);
}

/**
 * The facts the engine reads of one instruction. Each property of an iced Instruction is a call
 * into WebAssembly: each is read once, and only when the instruction's kind can use it. The text
 * is formatted when read: a verdict decodes thousands of prologues and shows few of them.
 */
class Decoded implements DecodedInstruction {
  declare readonly ip: bigint;
  declare readonly length: number;
  declare readonly mnemonic: string;
  declare readonly flow: DecodedInstruction['flow'];
  declare readonly branchTarget: bigint | null;
  declare readonly memoryAddress: bigint | null;
  declare readonly memoryOperand: DecodedInstruction['memoryOperand'];
  declare readonly sourceRegister: string | null;
  declare readonly immediate: bigint | null;
  declare readonly register: string | null;
  declare readonly isPush: boolean;
  declare readonly isMovImmediate: boolean;
  declare readonly isMovzxByteMemory: boolean;
  declare readonly isLea: boolean;
  declare readonly isMovRegMemory: boolean;
  declare readonly isXorRegMemory: boolean;
  declare readonly isCmpByteMemoryZero: boolean;
  declare readonly isBswap: boolean;

  constructor(
    instruction: Instruction,
    private readonly bytes: Uint8Array,
    private readonly start: number,
    ip: bigint,
    private readonly bitness: 32 | 64,
  ) {
    const op0 = instruction.op0Kind;
    const op1 = instruction.op1Kind;
    const mnemonic = instruction.mnemonic;
    const memory = op0 === OpKind.Memory || op1 === OpKind.Memory;
    const ipRelative = memory && instruction.isIpRelMemoryOperand;
    const base = memory && !ipRelative ? instruction.memoryBase : Register.None;
    const index = memory && !ipRelative ? instruction.memoryIndex : Register.None;
    const absolute = memory && !ipRelative && base === Register.None && index === Register.None;
    const displacement = memory && !ipRelative ? instruction.memoryDisplacementU64 : 0n;
    const immediateOperand =
      op1 === OpKind.Immediate64 || op1 === OpKind.Immediate32 || op1 === OpKind.Immediate32to64;
    const pushImmediate =
      mnemonic === Mnemonic.Push &&
      (op0 === OpKind.Immediate32 || op0 === OpKind.Immediate32to64 || op0 === OpKind.Immediate8to32);
    this.ip = ip;
    this.length = instruction.length;
    this.mnemonic = Mnemonic[mnemonic] ?? String(mnemonic);
    this.flow = flowOf(instruction.flowControl);
    this.branchTarget =
      op0 === OpKind.NearBranch64 || op0 === OpKind.NearBranch32 ? instruction.nearBranchTarget : null;
    this.memoryAddress = ipRelative
      ? instruction.ipRelMemoryAddress
      : absolute
        ? BigInt.asUintN(bitness, displacement)
        : null;
    this.memoryOperand =
      memory && !ipRelative && !absolute
        ? {
            base: registerName(base),
            index: registerName(index),
            displacement: BigInt.asIntN(bitness, displacement),
          }
        : null;
    this.sourceRegister = op1 === OpKind.Register ? registerName(instruction.op1Register) : null;
    this.immediate = pushImmediate
      ? BigInt.asUintN(32, instruction.immediate(0))
      : immediateOperand
        ? instruction.immediate(1)
        : null;
    this.register = op0 === OpKind.Register ? registerName(instruction.op0Register) : null;
    this.isPush = pushImmediate;
    this.isMovImmediate = mnemonic === Mnemonic.Mov && op0 === OpKind.Register && immediateOperand;
    this.isMovzxByteMemory = mnemonic === Mnemonic.Movzx && op1 === OpKind.Memory && this.length === 7;
    this.isLea = mnemonic === Mnemonic.Lea;
    this.isMovRegMemory = mnemonic === Mnemonic.Mov && op0 === OpKind.Register && op1 === OpKind.Memory;
    this.isXorRegMemory = mnemonic === Mnemonic.Xor && op0 === OpKind.Register && op1 === OpKind.Memory;
    this.isCmpByteMemoryZero =
      mnemonic === Mnemonic.Cmp &&
      op0 === OpKind.Memory &&
      op1 !== OpKind.Register &&
      instruction.immediate(1) === 0n;
    this.isBswap = mnemonic === Mnemonic.Bswap;
  }

  get text(): string {
    return formatAt(this.bytes.subarray(this.start, this.start + this.length), this.ip, this.bitness);
  }
}
