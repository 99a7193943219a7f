// Every processor's KPCR and KPRCB, from KiProcessorBlock (the symbol file's, or KDBG's), each
// KPCR taken only when its self pointers name it and its KPRCB. The descriptor tables and the
// timer tables are read through it.
//
// Facts: KiProcessorBlock (KDBG +0x218, or the symbol file) lists each processor's KPRCB; x86
// KPCR = KPRCB - 0x120 with SelfPcr @0x1C, Prcb @0x20, IDT @0x38, GDT @0x3C (ReactOS
// sdk/include/ndk/i386/ketypes.h); x64 KPCR = KPRCB - 0x180 with GdtBase @0x0, Self @0x18,
// CurrentPrcb @0x20, IdtBase @0x38 (_KPCR of every ISF in ../shared/isf).

import { hex } from '../../common/hex';
import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';

const MAX_PROCESSORS = 64;
const KDBG_KI_PROCESSOR_BLOCK = 0x218;

export interface ProcessorInputs {
  memory: KernelMemory;
  kernelBase: bigint;
  profile: LayoutProfile | null;
  /** The decoded KDBG, or null when it was not found. */
  kdbg: Uint8Array | null;
}

export interface Processor {
  number: number;
  kpcr: bigint;
  prcb: bigint;
  idt: bigint;
  gdt: bigint;
}

export interface ProcessorList {
  processors: Processor[];
  /** KiProcessorBlock's address, how it was found. */
  address: bigint | null;
  method: string | null;
  problems: string[];
}

function processorBlock(inputs: ProcessorInputs): { address: bigint; method: string } | null {
  const symbol = inputs.profile?.symbol('KiProcessorBlock');
  if (symbol !== undefined)
    return { address: inputs.kernelBase + BigInt(symbol), method: 'symbol file: KiProcessorBlock' };
  const kdbg = inputs.kdbg;
  if (!kdbg || kdbg.length < KDBG_KI_PROCESSOR_BLOCK + 8) return null;
  const raw = new DataView(kdbg.buffer, kdbg.byteOffset).getBigUint64(KDBG_KI_PROCESSOR_BLOCK, true);
  const address = inputs.memory.pointerSize === 8 ? raw : raw & 0xffffffffn;
  return address === 0n ? null : { address, method: 'KDBG KiProcessorBlock' };
}

/** The KPCR holding `prcb`, or why there is none: its self pointers must name it and the KPRCB. */
function kpcrOf(memory: KernelMemory, prcb: bigint, number: number): Processor | string {
  const x64 = memory.pointerSize === 8;
  const kpcr = prcb - (x64 ? 0x180n : 0x120n);
  const self = memory.ptr(kpcr + (x64 ? 0x18n : 0x1cn));
  const current = memory.ptr(kpcr + 0x20n);
  if (self === null || current === null)
    return `processor ${number}: its KPCR ${hex(kpcr)} is not in the image`;
  if (self !== kpcr || current !== prcb)
    return `processor ${number}: ${hex(kpcr)} does not read as its KPCR (Self ${hex(self)}, Prcb ${hex(current)})`;
  const idt = memory.ptr(kpcr + 0x38n) ?? 0n;
  const gdt = memory.ptr(kpcr + (x64 ? 0n : 0x3cn)) ?? 0n;
  return { number, kpcr, prcb, idt, gdt };
}

export function findProcessors(inputs: ProcessorInputs): ProcessorList {
  const { memory } = inputs;
  const block = processorBlock(inputs);
  if (!block)
    return {
      processors: [],
      address: null,
      method: null,
      problems: ['KiProcessorBlock was not found (no symbol file entry, no KDBG)'],
    };
  const processors: Processor[] = [];
  const problems: string[] = [];
  for (let number = 0; number < MAX_PROCESSORS; number++) {
    const prcb = memory.ptr(block.address + BigInt(number * memory.pointerSize));
    if (prcb === null) {
      problems.push(`KiProcessorBlock at ${hex(block.address)} is not in the image`);
      break;
    }
    if (prcb === 0n) break;
    const processor = kpcrOf(memory, prcb, number);
    if (typeof processor === 'string') problems.push(processor);
    else processors.push(processor);
  }
  return { processors, address: block.address, method: block.method, problems };
}
