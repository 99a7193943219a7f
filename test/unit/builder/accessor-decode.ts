// Reads a one-field accessor routine the way a symbol-free reader would: decodes it with
// iced-x86 (independent of the builder's encoder) up to its return, and says which offset from
// its argument it loads, or returns the address of.

import iced from 'iced-x86';

const { Decoder, DecoderOptions, Mnemonic, OpKind, Register } = iced;

export interface AccessorEffect {
  kind: 'load' | 'address';
  offset: number;
  /** Bytes up to and including the return. */
  length: number;
  /** Bytes the return pops (stdcall: 4 for the one argument; 0 on x64). */
  pops: number;
  /** The instructions' mnemonics, for shape checks. */
  mnemonics: string[];
}

interface Instruction {
  mnemonic: number;
  op0Register: number;
  op1Kind: number;
  memoryBase: number;
  displacement: number;
  immediate: number;
  length: number;
}

function decodeToReturn(bytes: Uint8Array, bitness: 32 | 64): Instruction[] {
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  const out: Instruction[] = [];
  try {
    while (decoder.canDecode && out.length < 16) {
      const i = decoder.decode();
      const immediateOperand = [0, 1].find(
        (n) =>
          n < i.opCount && [OpKind.Immediate16, OpKind.Immediate32].includes(n === 0 ? i.op0Kind : i.op1Kind),
      );
      out.push({
        mnemonic: i.isInvalid ? -1 : i.mnemonic,
        op0Register: i.opCount > 0 && i.op0Kind === OpKind.Register ? i.op0Register : -1,
        op1Kind: i.opCount > 1 ? i.op1Kind : -1,
        memoryBase: i.memoryBase,
        displacement: Number(BigInt.asIntN(32, BigInt(i.memoryDisplacement))),
        immediate: immediateOperand === undefined ? 0 : Number(i.immediate(immediateOperand)),
        length: i.length,
      });
      i.free();
      if (out.at(-1)!.mnemonic === Mnemonic.Ret || out.at(-1)!.mnemonic === -1) break;
    }
  } finally {
    decoder.free();
  }
  return out;
}

/** The accessor's effect, or an Error naming what is not an accessor's shape. */
export function decodeAccessor(bytes: Uint8Array, bitness: 32 | 64): AccessorEffect {
  const code = decodeToReturn(bytes, bitness);
  const names = code.map((i) => (i.mnemonic === -1 ? '(invalid)' : String(Mnemonic[i.mnemonic])));
  const fail = (why: string) => new Error(`not an accessor (${why}): ${names.join('; ')}`);
  const ret = code.at(-1);
  if (!ret || ret.mnemonic !== Mnemonic.Ret) throw fail('no return');
  const body = code.slice(0, -1);
  const result = bitness === 64 ? Register.RAX : Register.EAX;
  let object = Register.RCX;
  let at = 0;
  if (bitness === 32) {
    // The argument: [esp+4], or [ebp+8] after `mov edi, edi; push ebp; mov ebp, esp`.
    at = body.findIndex((i) => i.op0Register === Register.EAX && i.op1Kind === OpKind.Memory);
    const load = body[at];
    if (!load) throw fail('no argument load');
    const frame = load.memoryBase === Register.EBP && load.displacement === 8;
    const stack = load.memoryBase === Register.ESP && load.displacement === 4;
    if (!frame && !stack) throw fail('argument not at [esp+4] or [ebp+8]');
    if (frame && names.slice(0, 3).join() !== 'Mov,Push,Mov') throw fail('no frame');
    object = Register.EAX;
    at += 1;
  }
  const field = body[at];
  if (!field || field.op0Register !== result) throw fail('no result');
  const effect = (kind: 'load' | 'address', offset: number): AccessorEffect => ({
    kind,
    offset,
    length: code.reduce((n, i) => n + i.length, 0),
    pops: ret.immediate,
    mnemonics: names,
  });
  if (field.mnemonic === Mnemonic.Add && bitness === 32) return effect('address', field.immediate);
  if (field.memoryBase !== object) throw fail('field not read from the argument');
  if (field.mnemonic === Mnemonic.Lea) return effect('address', field.displacement);
  if (field.mnemonic === Mnemonic.Mov) return effect('load', field.displacement);
  throw fail('neither a load nor an address');
}
