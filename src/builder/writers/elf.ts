// ELF core as QEMU's dump-guest-memory writes it (spec §5.4): a PT_NOTE with one CORE
// NT_PRSTATUS and one "QEMU" CPU-state note per vCPU (CR3 at 0x1A0 of QEMUCPUState), then one
// PT_LOAD per guest RAM block with p_paddr the guest-physical address. ELF64 for x64 guests
// (and for x86 guests with memory above 4 GiB), ELF32 otherwise, as QEMU chooses.

import { ByteWriter } from '../bytes';
import type { BuiltSystem } from '../windows/system';
import { ImageFile, writePhysicalRange } from './stream';

const PT_LOAD = 1;
const PT_NOTE = 4;
const QEMU_CPU_STATE_SIZE = 0x1b8;

function note(name: string, type: number, desc: Uint8Array): Uint8Array {
  const nameSize = name.length + 1;
  const namePadded = Math.ceil(nameSize / 4) * 4;
  const descPadded = Math.ceil(desc.length / 4) * 4;
  const w = new ByteWriter(12 + namePadded + descPadded, 4);
  w.u32(0, nameSize)
    .u32(4, desc.length)
    .u32(8, type)
    .ascii(12, name)
    .set(12 + namePadded, desc);
  return w.bytes;
}

function qemuCpuState(system: BuiltSystem, cpu: number): Uint8Array {
  const w = new ByteWriter(QEMU_CPU_STATE_SIZE, 8);
  const x64 = system.hints.machine === 'x64';
  w.u32(0, 1).u32(4, QEMU_CPU_STATE_SIZE);
  w.u64(0x88, 0xfffff80000001000n + BigInt(cpu * 0x40)); // rip: somewhere in kernel idle code
  w.u64(0x90, 0x246n); // rflags
  // Segments {selector, limit, flags, pad, base}: cs, ds, es, fs, gs, ss.
  const segment = (at: number, selector: number, base: bigint) =>
    w
      .u32(at, selector)
      .u32(at + 4, 0xffffffff)
      .u32(at + 8, 0xa09b00)
      .u64(at + 0x10, base);
  segment(0x98, x64 ? 0x10 : 0x08, 0n);
  segment(0xb0, x64 ? 0x2b : 0x23, 0n);
  segment(0xc8, x64 ? 0x2b : 0x23, 0n);
  segment(0xe0, x64 ? 0x53 : 0x30, x64 ? 0n : 0xffdff000n);
  segment(0xf8, x64 ? 0x2b : 0, x64 ? system.hints.kernelGsBase + BigInt(cpu * 0x8000) : 0n);
  segment(0x110, x64 ? 0x18 : 0x10, 0n);
  w.u64(0x188, 0x80050033n); // cr0
  w.u64(0x198, 0n); // cr2
  w.u64(0x1a0, BigInt(system.hints.dtb)); // cr3
  w.u64(0x1a8, x64 ? 0x3506f8n : system.hints.pae ? 0x6f9n : 0x6d9n); // cr4
  w.u64(0x1b0, 0n); // kernel_gs_base (user GS while in kernel mode)
  return w.bytes;
}

function prstatus(system: BuiltSystem, cpu: number): Uint8Array {
  // elf_prstatus: 336 bytes on x86_64, 144 on i386; pr_pid at 0x20 / 0x18.
  const x64 = system.hints.machine === 'x64';
  const w = new ByteWriter(x64 ? 336 : 144, 4);
  w.u32(x64 ? 0x20 : 0x18, cpu + 1);
  return w.bytes;
}

export function writeElf(system: BuiltSystem, path: string, sparse: boolean): void {
  const runs = system.phys.runs;
  const elf64 = system.hints.machine === 'x64' || system.phys.maxAddress > 0x100000000;
  const notes: Uint8Array[] = [];
  for (let cpu = 0; cpu < system.hints.processors; cpu++) notes.push(note('CORE', 1, prstatus(system, cpu)));
  for (let cpu = 0; cpu < system.hints.processors; cpu++)
    notes.push(note('QEMU', 0, qemuCpuState(system, cpu)));
  const noteBytes = notes.reduce((n, b) => n + b.length, 0);
  const ehSize = elf64 ? 64 : 52;
  const phSize = elf64 ? 56 : 32;
  const phCount = 1 + runs.length;
  const noteOffset = ehSize + phSize * phCount;
  const dataOffset = Math.ceil((noteOffset + noteBytes) / 0x1000) * 0x1000;
  const head = new ByteWriter(dataOffset, elf64 ? 8 : 4);
  head.set(0, Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, elf64 ? 2 : 1, 1, 1, 0));
  head
    .u16(0x10, 4)
    .u16(0x12, system.hints.machine === 'x64' ? 62 : 3)
    .u32(0x14, 1);
  const ph = (index: number) => ehSize + index * phSize;
  if (elf64) {
    head.u64(0x20, BigInt(ehSize)).u16(0x34, ehSize).u16(0x36, phSize).u16(0x38, phCount);
  } else {
    head.u32(0x1c, ehSize).u16(0x28, ehSize).u16(0x2a, phSize).u16(0x2c, phCount);
  }
  const program = (index: number, type: number, offset: number, paddr: number, size: number) => {
    const at = ph(index);
    if (elf64) {
      head
        .u32(at, type)
        .u32(at + 4, type === PT_LOAD ? 7 : 0)
        .u64(at + 8, BigInt(offset))
        .u64(at + 0x10, 0n)
        .u64(at + 0x18, BigInt(paddr));
      head
        .u64(at + 0x20, BigInt(size))
        .u64(at + 0x28, BigInt(size))
        .u64(at + 0x30, 0n);
    } else {
      head
        .u32(at, type)
        .u32(at + 4, offset)
        .u32(at + 8, 0)
        .u32(at + 0xc, paddr)
        .u32(at + 0x10, size)
        .u32(at + 0x14, size);
      head.u32(at + 0x18, type === PT_LOAD ? 7 : 0).u32(at + 0x1c, 0);
    }
  };
  program(0, PT_NOTE, noteOffset, 0, noteBytes);
  let offset = dataOffset;
  runs.forEach((run, i) => {
    program(i + 1, PT_LOAD, offset, run.start, run.end - run.start);
    offset += run.end - run.start;
  });
  let at = noteOffset;
  for (const n of notes) {
    head.set(at, n);
    at += n.length;
  }
  const file = new ImageFile(path, sparse);
  file.writeAt(0, head.bytes);
  offset = dataOffset;
  for (const run of runs) {
    writePhysicalRange(file, system.phys, system.noise, run.start, run.end, offset);
    offset += run.end - run.start;
  }
  file.close();
}
