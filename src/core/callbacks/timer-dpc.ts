// A KTIMER's Dpc as the kernel stores it. x64 kernels from Windows 7 keep it encoded with two
// secret qwords and the timer's own address:
//   dpc = KiWaitAlways ^ BSWAP64(ROL64(stored ^ KiWaitNever, KiWaitNever & 0xFF) ^ timer)
// (Volatility 3 symbols/windows/extensions KTIMER.get_dpc; the transform that hides KDBG, spec
// §3.5, kernel/kdbg.ts's unscrambleQword). Whether a kernel encodes is found, not assumed: the stored values are first tried as
// they are, and the keys are taken only when they turn the timers' values into DPC objects. The
// keys' addresses come from the symbol file, else from the code of the exported KeSetTimer family,
// which loads both to encode (each ordered pair of the globals it loads is tried).

import { hex } from '../../common/hex';
import type { KernelMemory } from '../kernel/memory';
import type { PeImage } from '../kernel/pe';
import type { LayoutProfile } from '../profile';
import { dataReferences } from './code-route';
import { unscrambleQword } from '../kernel/kdbg';

/** The routines that encode a timer's DPC, each reaching the encoder within two calls or jumps. */
const ENCODERS = ['KeSetTimerEx', 'KeSetTimer', 'KeSetCoalescableTimer'];
/** Globals loaded by the encoders that are tried as keys (the pair is among the first few). */
const MAX_KEY_CANDIDATES = 12;
/** DpcObject 19; ThreadedDpcObject 24 (Vista, 7) or 26 (8 on) (the _KOBJECTS enum of the ISFs). */
const DPC_TYPES = new Set([19, 24, 26]);

export interface StoredDpc {
  timer: bigint;
  stored: bigint;
}

export interface DpcDecoding {
  decode(timer: bigint, stored: bigint): bigint;
  /** How the pointers were read: "as stored", "decoded with KiWaitNever/KiWaitAlways (…)". */
  method: string;
}

export interface DpcFields {
  routine: number;
  size: number;
}

export function decodeTimerDpc(stored: bigint, timer: bigint, never: bigint, always: bigint): bigint {
  return unscrambleQword(stored, never, always, timer);
}

/** A KDPC: its Type a DPC object's, its DeferredRoutine in kernel space. */
export function isDpc(memory: KernelMemory, va: bigint, fields: DpcFields): boolean {
  if (!memory.isKernelAddress(va)) return false;
  const bytes = memory.bytes(va, fields.size);
  if (!bytes || !DPC_TYPES.has(bytes[0]!)) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const routine =
    memory.pointerSize === 8
      ? view.getBigUint64(fields.routine, true)
      : BigInt(view.getUint32(fields.routine, true));
  return memory.isKernelAddress(routine);
}

/**
 * How many samples read consistently through `decode`: no DPC (0, a thread's wait timer) or a DPC
 * object; 0 when none is a DPC (every stored value 0 proves nothing).
 */
function score(
  memory: KernelMemory,
  samples: readonly StoredDpc[],
  fields: DpcFields,
  decode: (timer: bigint, stored: bigint) => bigint,
): number {
  let dpcs = 0;
  let empty = 0;
  for (const sample of samples) {
    const dpc = decode(sample.timer, sample.stored);
    if (dpc === 0n) empty++;
    else if (isDpc(memory, dpc, fields)) dpcs++;
  }
  return dpcs === 0 ? 0 : dpcs + empty;
}

interface KeyPair {
  never: bigint;
  always: bigint;
  where: string;
}

function symbolKeys(memory: KernelMemory, pe: PeImage, profile: LayoutProfile | null): KeyPair | null {
  const never = profile?.symbol('KiWaitNever');
  const always = profile?.symbol('KiWaitAlways');
  if (never === undefined || always === undefined) return null;
  const neverValue = memory.u64(pe.base + BigInt(never));
  const alwaysValue = memory.u64(pe.base + BigInt(always));
  if (neverValue === null || alwaysValue === null) return null;
  return { never: neverValue, always: alwaysValue, where: 'symbol file: KiWaitNever, KiWaitAlways' };
}

function codeKeyPairs(memory: KernelMemory, pe: PeImage, exports: ReadonlyMap<string, number>): KeyPair[] {
  const globals = new Map<bigint, string>();
  for (const name of ENCODERS) {
    const rva = exports.get(name);
    if (rva === undefined) continue;
    for (const reference of dataReferences(memory, pe, pe.base + BigInt(rva), name))
      if (globals.size < MAX_KEY_CANDIDATES && !globals.has(reference.address))
        globals.set(reference.address, reference.where);
  }
  const values = [...globals]
    .map(([address, where]) => ({ address, where, value: memory.u64(address) }))
    .filter((g): g is { address: bigint; where: string; value: bigint } => g.value !== null);
  const pairs: KeyPair[] = [];
  for (const never of values)
    for (const always of values)
      if (never !== always)
        pairs.push({
          never: never.value,
          always: always.value,
          where: `KiWaitNever at ${hex(never.address)} (${never.where}), KiWaitAlways at ${hex(always.address)} (${always.where})`,
        });
  return pairs;
}

/**
 * How this kernel's timers hold their DPC pointers, or why that could not be told: at least half
 * of the sampled timers must read consistently through it, one of them reaching a DPC object.
 */
export function dpcDecoding(
  memory: KernelMemory,
  pe: PeImage,
  exports: ReadonlyMap<string, number>,
  profile: LayoutProfile | null,
  samples: readonly StoredDpc[],
  fields: DpcFields,
): DpcDecoding | string {
  if (samples.length === 0) return { decode: (_timer, stored) => stored, method: 'no timer to read' };
  const enough = Math.max(1, Math.ceil(samples.length / 2));
  const plain = (_timer: bigint, stored: bigint) => stored;
  if (memory.pointerSize === 4 || score(memory, samples, fields, plain) >= enough)
    return { decode: plain, method: 'as stored' };
  const symbol = symbolKeys(memory, pe, profile);
  const candidates = [...(symbol ? [symbol] : []), ...codeKeyPairs(memory, pe, exports)];
  let best: { pair: KeyPair; score: number } | null = null;
  for (const pair of candidates) {
    const decode = (timer: bigint, stored: bigint) => decodeTimerDpc(stored, timer, pair.never, pair.always);
    const hits = score(memory, samples, fields, decode);
    if (!best || hits > best.score) best = { pair, score: hits };
    if (hits === samples.length) break;
  }
  if (best && best.score >= enough) {
    const { never, always } = best.pair;
    return {
      decode: (timer, stored) => decodeTimerDpc(stored, timer, never, always),
      method: `decoded with KiWaitNever/KiWaitAlways (${best.pair.where})`,
    };
  }
  const tried =
    candidates.length === 0
      ? 'no key pair was found (no symbol file, and the KeSetTimer family loads no globals)'
      : `none of ${candidates.length} key pairs decodes them`;
  return `the timers' DPC pointers are encoded and could not be decoded: ${tried}`;
}
