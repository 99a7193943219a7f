// KDDEBUGGER_DATA64 ("KDBG", spec §1.15): found from the dump header, the ISF symbol, or a scan
// of the kernel's data sections; on Windows 8+ x64 decoded with the values KdCopyDataBlock uses
// (spec §3.5), whose addresses come from the ISF or from decoding KdCopyDataBlock's code.
// KdCopyDataBlock is found where the kernel's own code calls it: the exported
// KeCapturePersistentThreadState copies the block into the dump header it fills (beside
// &KdDebuggerDataBlock at DUMP_HEADER64+0x80). Only when that export does not lead to it (missing,
// unreadable, or none of its callees is the routine) are the kernel's code sections searched for
// the routine's pattern.

import type { LayoutProfile } from '../profile';
import { u32, u64 } from '../util/bytes';
import { decode } from './disasm';
import type { KernelMemory } from './memory';
import { searchKernelCode } from './code-scan';
import { IMAGE_SCN_MEM_EXECUTE, type PeImage } from './pe';

const KDBG_TAG = 0x4742444b; // "KDBG"

export interface FoundKdbg {
  va: bigint;
  encoded: boolean;
  /** The decoded block (Header.Size bytes, or what could be read). */
  block: Uint8Array;
  method: string;
}

interface DecodeKeys {
  waitNever: bigint;
  waitAlways: bigint;
  flagVa: bigint;
  source: string;
}

function rol64(value: bigint, bits: number): bigint {
  const n = BigInt(bits & 63);
  return BigInt.asUintN(64, (value << n) | (value >> ((64n - n) % 64n)));
}

function bswap64(value: bigint): bigint {
  let out = 0n;
  for (let i = 0; i < 8; i++) out = (out << 8n) | ((value >> BigInt(i * 8)) & 0xffn);
  return out;
}

/**
 * One qword hidden with KiWaitNever/KiWaitAlways and an address, as Windows 8+ x64 hides KDBG
 * (the address of KdpDataBlockEncoded) and Windows 7+ x64 a timer's DPC (the timer's address):
 * KiWaitAlways ^ BSWAP64(ROL64(q ^ KiWaitNever, KiWaitNever & 0xFF) ^ address).
 */
export function unscrambleQword(q: bigint, waitNever: bigint, waitAlways: bigint, address: bigint): bigint {
  const rotated = rol64(q ^ waitNever, Number(waitNever & 0xffn));
  return BigInt.asUintN(64, bswap64(rotated ^ address) ^ waitAlways);
}

/** Decodes an encoded block in place of a copy (spec §3.5; identical in Volatility 2 and elf2dmp). */
export function decodeKdbgBlock(block: Uint8Array, keys: DecodeKeys): Uint8Array {
  const out = new Uint8Array(block.length);
  const input = new DataView(block.buffer, block.byteOffset, block.length);
  const output = new DataView(out.buffer);
  for (let at = 0; at + 8 <= block.length; at += 8) {
    const q = input.getBigUint64(at, true);
    output.setBigUint64(at, unscrambleQword(q, keys.waitNever, keys.waitAlways, keys.flagVa), true);
  }
  return out;
}

function plainBlock(memory: KernelMemory, va: bigint, kernelBase: bigint): Uint8Array | null {
  const header = memory.bytes(va, 0x20);
  if (!header || u32(header, 0x10) !== KDBG_TAG) return null;
  const size = u32(header, 0x14);
  if (size < 0x200 || size > 0x1000) return null;
  const kernBase = memory.pointerSize === 8 ? u64(header, 0x18) : u64(header, 0x18) & 0xffffffffn;
  if (kernBase !== kernelBase) return null;
  return memory.bytes(va, size);
}

function decodedBlock(
  memory: KernelMemory,
  va: bigint,
  kernelBase: bigint,
  keys: DecodeKeys,
): Uint8Array | null {
  const head = memory.bytes(va, 0x20);
  if (!head) return null;
  const header = decodeKdbgBlock(head, keys);
  if (u32(header, 0x10) !== KDBG_TAG || u64(header, 0x18) !== kernelBase) return null;
  const size = u32(header, 0x14);
  if (size < 0x200 || size > 0x1000) return null;
  const raw = memory.bytes(va, size);
  return raw ? decodeKdbgBlock(raw, keys) : null;
}

const DATA_CHUNK = 0x10000;
const TAG_OFFSET = 0x10;

/**
 * Scans the kernel's non-code sections on 4-byte steps for 'KDBG' with KernBase == base (MemProcFS).
 * A page that cannot be read reads as zeros and the rest of its chunk is still searched; a tag is
 * seen across a chunk's end, and a header that begins in the chunk before its tag.
 */
function scanDataSections(memory: KernelMemory, pe: PeImage): bigint[] {
  const hits: bigint[] = [];
  for (const section of pe.sections) {
    if (section.characteristics & IMAGE_SCN_MEM_EXECUTE || section.size === 0 || section.size > 0x2000000)
      continue;
    const start = pe.base + BigInt(section.rva);
    for (let offset = 0; offset < section.size; offset += DATA_CHUNK) {
      const length = Math.min(DATA_CHUNK, section.size - offset);
      const va = start + BigInt(offset);
      const bytes = memory.scanBytes(va, Math.min(length + 3, section.size - offset));
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      for (let at = buffer.indexOf('KDBG'); at >= 0 && at < length; at = buffer.indexOf('KDBG', at + 1)) {
        const header = va + BigInt(at - TAG_OFFSET);
        if ((section.rva + offset + at) % 4 === 0 && header >= start) hits.push(header);
      }
    }
  }
  return hits;
}

/**
 * KdCopyDataBlock located by its code (spec §3.5, Volatility 2's generate_suggestions): a
 * `cmp byte [rip+d],0` whose next ~300 bytes hold, before the RET, a BSWAP, a LEA of the block,
 * a MOV of KiWaitNever and a MOV/XOR of KiWaitAlways.
 */
function keysFromCode(
  memory: KernelMemory,
  pe: PeImage,
  kdbgSize: number,
): { keys: DecodeKeys; blockVa: bigint } | null {
  const sizeDword = Buffer.from(new Uint32Array([kdbgSize / 8]).buffer);
  const cmp = Buffer.from([0x80, 0x3d]); // cmp byte [rip+disp32], imm8
  const found = searchKernelCode(memory, pe, 0x200, (bytes, va) => {
    for (let at = bytes.indexOf(cmp); at >= 0 && at < bytes.length - 7; at = bytes.indexOf(cmp, at + 1)) {
      if (bytes[at + 6] !== 0) continue;
      const window = bytes.subarray(at, Math.min(at + 300, bytes.length));
      if (window.indexOf(sizeDword) < 0) continue;
      const keys = interpret(decode(window, va + BigInt(at), 64, 96));
      if (keys) return keys;
    }
    return undefined;
  });
  return found ?? null;
}

function interpret(
  instructions: ReturnType<typeof decode>,
  leadingBlockVa: bigint | null = null,
): { keys: DecodeKeys; blockVa: bigint } | null {
  let flagVa: bigint | null = null;
  let blockVa: bigint | null = leadingBlockVa;
  let waitNeverVa: bigint | null = null;
  let waitAlwaysVa: bigint | null = null;
  let bswap = false;
  for (const instruction of instructions) {
    if (instruction.flow === 'return') break;
    if (flagVa === null) {
      if (!instruction.isCmpByteMemoryZero || instruction.memoryAddress === null) return null;
      flagVa = instruction.memoryAddress;
      continue;
    }
    if (instruction.isBswap) bswap = true;
    if (instruction.memoryAddress === null) continue;
    if (blockVa === null && instruction.isLea) blockVa = instruction.memoryAddress;
    else if (blockVa !== null && waitNeverVa === null && instruction.isMovRegMemory)
      waitNeverVa = instruction.memoryAddress;
    else if (
      waitNeverVa !== null &&
      waitAlwaysVa === null &&
      (instruction.isMovRegMemory || instruction.isXorRegMemory)
    ) {
      waitAlwaysVa = instruction.memoryAddress;
    }
  }
  if (!bswap || flagVa === null || blockVa === null || waitNeverVa === null || waitAlwaysVa === null)
    return null;
  return {
    keys: { waitNever: waitNeverVa, waitAlways: waitAlwaysVa, flagVa, source: 'KdCopyDataBlock code' },
    blockVa,
  };
}

/** The exported routine that fills a dump header and calls KdCopyDataBlock to copy the KDBG into it. */
const CALLER = 'KeCapturePersistentThreadState';
/** More than the routine's length (about 0x650 bytes on 19041); the sweep may run past its end. */
const CALLER_BYTES = 0x1000;
/** The routine makes a few dozen calls; a crafted one is not followed further. */
const MAX_CALLEES = 64;

/**
 * The targets of the `call rel32` (E8) in `code` that land in the kernel's code sections. Read as
 * bytes, not decoded: a byte that only looks like a call leads to code that is not
 * KdCopyDataBlock, which the callee's own code then shows.
 */
function callTargets(code: Uint8Array, va: bigint, pe: PeImage): Set<bigint> {
  const view = new DataView(code.buffer, code.byteOffset, code.length);
  const targets = new Set<bigint>();
  for (let at = code.indexOf(0xe8); at >= 0 && at + 5 <= code.length; at = code.indexOf(0xe8, at + 1)) {
    const target = va + BigInt(at + 5 + view.getInt32(at + 1, true));
    const rva = target - pe.base;
    const inCode = pe.sections.some(
      (section) =>
        section.characteristics & IMAGE_SCN_MEM_EXECUTE &&
        rva >= BigInt(section.rva) &&
        rva < BigInt(section.rva + section.size),
    );
    if (inCode) targets.add(target);
    if (targets.size >= MAX_CALLEES) break;
  }
  return targets;
}

/**
 * KdCopyDataBlock's code read from its entry: the CMP of KdpDataBlockEncoded within its first
 * instructions (a LEA of the block may come first), then what `interpret` requires.
 */
function interpretEntry(
  instructions: ReturnType<typeof decode>,
): { keys: DecodeKeys; blockVa: bigint } | null {
  const cmp = instructions.findIndex((instruction, index) => index < 4 && instruction.isCmpByteMemoryZero);
  if (cmp < 0) return null;
  const leadingLea = instructions
    .slice(0, cmp)
    .find((instruction) => instruction.isLea && instruction.memoryAddress !== null);
  return interpret(instructions.slice(cmp), leadingLea?.memoryAddress ?? null);
}

/**
 * KdCopyDataBlock located by the code that calls it (spec §3.5): the direct calls of the exported
 * KeCapturePersistentThreadState, each callee that holds the block's size in quadwords read from
 * its entry until one is KdCopyDataBlock.
 */
function keysFromCaller(
  memory: KernelMemory,
  pe: PeImage,
  exports: ReadonlyMap<string, number>,
  kdbgSize: number,
): { keys: DecodeKeys; blockVa: bigint } | string {
  const rva = exports.get(CALLER);
  if (rva === undefined) return `${CALLER} is not exported`;
  const callerVa = pe.base + BigInt(rva);
  const code = memory.virtual.readPartial(callerVa, CALLER_BYTES).bytes;
  if (code.length === 0) return `${CALLER}'s code is not in the image`;
  const sizeDword = Buffer.from(new Uint32Array([kdbgSize / 8]).buffer);
  const callees = callTargets(code, callerVa, pe);
  for (const callee of callees) {
    const window = Buffer.from(memory.virtual.readPartial(callee, 300).bytes);
    if (window.indexOf(sizeDword) < 0) continue;
    const found = interpretEntry(decode(window, callee, 64, 96));
    if (found) return found;
  }
  return `none of the ${callees.size} routines ${CALLER} calls is KdCopyDataBlock`;
}

export function findKdbg(
  memory: KernelMemory,
  pe: PeImage,
  exports: ReadonlyMap<string, number>,
  profile: LayoutProfile,
  hintVa: bigint | undefined,
): { found: FoundKdbg | null; tried: string[] } {
  const tried: string[] = [];
  const base = pe.base;
  const done = (va: bigint, encoded: boolean, block: Uint8Array, method: string) => ({
    found: { va, encoded, block, method },
    tried,
  });
  if (hintVa !== undefined) {
    const block = plainBlock(memory, hintVa, base);
    tried.push(`crash dump header KdDebuggerDataBlock: ${block ? 'found' : 'not a plain KDBG'}`);
    if (block) return done(hintVa, false, block, 'crash dump header');
  }
  const symbol = profile.symbol('KdDebuggerDataBlock');
  if (symbol !== undefined) {
    const va = base + BigInt(symbol);
    const block = plainBlock(memory, va, base);
    tried.push(`ISF symbol KdDebuggerDataBlock: ${block ? 'plain' : 'not plain'}`);
    if (block) return done(va, false, block, 'ISF symbol KdDebuggerDataBlock');
  }
  for (const va of scanDataSections(memory, pe)) {
    const block = plainBlock(memory, va, base);
    if (block) {
      tried.push('scan of the kernel data sections: found');
      return done(va, false, block, "scan of ntoskrnl's data sections for 'KDBG'");
    }
  }
  tried.push('scan of the kernel data sections: nothing');
  if (memory.pointerSize !== 8 || profile.build < 9200) return { found: null, tried };

  // Windows 8+ x64: the block is encoded (spec §3.5).
  const readKey = (va: bigint) => memory.u64(va);
  const isf = ['KiWaitNever', 'KiWaitAlways', 'KdpDataBlockEncoded', 'KdDebuggerDataBlock'].map((n) =>
    profile.symbol(n),
  );
  if (isf.every((rva) => rva !== undefined)) {
    const [never, always, flag, block] = isf.map((rva) => base + BigInt(rva!)) as [
      bigint,
      bigint,
      bigint,
      bigint,
    ];
    const waitNever = readKey(never);
    const waitAlways = readKey(always);
    if (waitNever !== null && waitAlways !== null) {
      const decoded = decodedBlock(memory, block, base, {
        waitNever,
        waitAlways,
        flagVa: flag,
        source: 'ISF',
      });
      tried.push(`decoding with the ISF's KiWaitNever/KiWaitAlways: ${decoded ? 'found' : 'failed'}`);
      if (decoded)
        return done(block, true, decoded, 'decoded with KiWaitNever/KiWaitAlways from the ISF symbols');
    }
  }
  const decodeWith = (located: { keys: DecodeKeys; blockVa: bigint }): Uint8Array | null => {
    const waitNever = readKey(located.keys.waitNever);
    const waitAlways = readKey(located.keys.waitAlways);
    if (waitNever === null || waitAlways === null) return null;
    return decodedBlock(memory, located.blockVa, base, { ...located.keys, waitNever, waitAlways });
  };
  const called = keysFromCaller(memory, pe, exports, profile.kdbg.size);
  if (typeof called === 'string') tried.push(`KdCopyDataBlock from its caller: ${called}`);
  else {
    const decoded = decodeWith(called);
    tried.push(
      `decoding with keys located through KdCopyDataBlock, called from ${CALLER}: ${decoded ? 'found' : 'failed'}`,
    );
    if (decoded)
      return done(
        called.blockVa,
        true,
        decoded,
        `decoded with keys located by disassembling KdCopyDataBlock, called from the exported ${CALLER}`,
      );
  }
  // The kernel's code searched for the routine: only when its caller did not lead to it.
  const code = keysFromCode(memory, pe, profile.kdbg.size);
  if (code) {
    const decoded = decodeWith(code);
    tried.push(`decoding with keys located through KdCopyDataBlock's code: ${decoded ? 'found' : 'failed'}`);
    if (decoded)
      return done(code.blockVa, true, decoded, 'decoded with keys located by disassembling KdCopyDataBlock');
  } else {
    tried.push('KdCopyDataBlock code pattern: not found');
  }
  return { found: null, tried };
}
