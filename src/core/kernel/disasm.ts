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

/** Decodes up to `max` instructions from `bytes` at `ip`; stops at the first invalid one. */
export function decode(bytes: Uint8Array, ip: bigint, bitness: 32 | 64, max = 32): DecodedInstruction[] {
  formatter ??= new Formatter(FormatterSyntax.Intel);
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  decoder.ip = ip;
  const out: DecodedInstruction[] = [];
  try {
    while (decoder.canDecode && out.length < max) {
      const instruction = decoder.decode();
      try {
        if (instruction.isInvalid) break;
        const memory = instruction.op0Kind === OpKind.Memory || instruction.op1Kind === OpKind.Memory;
        const ipRelative = memory && instruction.isIpRelMemoryOperand;
        const absolute =
          memory && instruction.memoryBase === Register.None && instruction.memoryIndex === Register.None;
        const mnemonic = instruction.mnemonic;
        const immediateOperand =
          instruction.op1Kind === OpKind.Immediate64 ||
          instruction.op1Kind === OpKind.Immediate32 ||
          instruction.op1Kind === OpKind.Immediate32to64;
        const pushImmediate =
          mnemonic === Mnemonic.Push &&
          (instruction.op0Kind === OpKind.Immediate32 ||
            instruction.op0Kind === OpKind.Immediate32to64 ||
            instruction.op0Kind === OpKind.Immediate8to32);
        out.push({
          ip: instruction.ip,
          length: instruction.length,
          text: formatter.format(instruction),
          mnemonic: Mnemonic[mnemonic] ?? String(mnemonic),
          flow: flowOf(instruction.flowControl),
          branchTarget:
            instruction.op0Kind === OpKind.NearBranch64 || instruction.op0Kind === OpKind.NearBranch32
              ? instruction.nearBranchTarget
              : null,
          memoryAddress: ipRelative
            ? instruction.ipRelMemoryAddress
            : absolute
              ? BigInt.asUintN(bitness, instruction.memoryDisplacementU64)
              : null,
          memoryOperand:
            memory && !ipRelative && !absolute
              ? {
                  base:
                    instruction.memoryBase === Register.None
                      ? null
                      : (Register[instruction.memoryBase] ?? null),
                  index:
                    instruction.memoryIndex === Register.None
                      ? null
                      : (Register[instruction.memoryIndex] ?? null),
                  displacement: BigInt.asIntN(bitness, instruction.memoryDisplacementU64),
                }
              : null,
          sourceRegister:
            instruction.op1Kind === OpKind.Register ? (Register[instruction.op1Register] ?? null) : null,
          immediate: pushImmediate
            ? BigInt.asUintN(32, instruction.immediate(0))
            : immediateOperand
              ? instruction.immediate(1)
              : null,
          register:
            instruction.op0Kind === OpKind.Register ? (Register[instruction.op0Register] ?? null) : null,
          isPush: pushImmediate,
          isMovImmediate:
            mnemonic === Mnemonic.Mov && instruction.op0Kind === OpKind.Register && immediateOperand,
          isMovzxByteMemory:
            mnemonic === Mnemonic.Movzx &&
            instruction.op1Kind === OpKind.Memory &&
            instruction.length === (bitness === 64 ? 7 : 7),
          isLea: mnemonic === Mnemonic.Lea,
          isMovRegMemory:
            mnemonic === Mnemonic.Mov &&
            instruction.op0Kind === OpKind.Register &&
            instruction.op1Kind === OpKind.Memory,
          isXorRegMemory:
            mnemonic === Mnemonic.Xor &&
            instruction.op0Kind === OpKind.Register &&
            instruction.op1Kind === OpKind.Memory,
          isCmpByteMemoryZero:
            mnemonic === Mnemonic.Cmp &&
            instruction.op0Kind === OpKind.Memory &&
            instruction.op1Kind !== OpKind.Register &&
            instruction.immediate(1) === 0n,
          isBswap: mnemonic === Mnemonic.Bswap,
        });
      } finally {
        instruction.free();
      }
    }
  } finally {
    decoder.free();
  }
  return out;
}
