// ELF core dumps of virtual machines: QEMU `dump-guest-memory` and VirtualBox `dumpvmcore`
// (spec §5.4; `V3:layers/elf.py`, `V2:addrspaces/elfcoredump.py`, `LC:device_file.c`, `E2D:*`).
// PT_LOAD segments map p_paddr → p_offset; PT_NOTE segments carry per-CPU register state.

import type { ByteSource } from '../source';
import { u16, u32, u64 } from '../util/bytes';
import { ImageError } from './errors';
import { RunSpace } from './run-space';
import { RunTableBuilder } from './run-table';
import type { CpuState, ImageHints, Machine, PhysicalSpace } from './types';

const PT_LOAD = 1;
const PT_NOTE = 4;
const ET_CORE = 4;
/** ELF gABI: e_phnum == PN_XNUM means the real count is in section header 0's sh_info (QEMU uses it). */
const PN_XNUM = 0xffff;
const MAX_PHDRS = 1 << 20;
const MAX_NOTE_BYTES = 64 * 1024 * 1024;
const EM_386 = 3;
const EM_X86_64 = 62;
const EM_ARM = 40;
const EM_AARCH64 = 183;

/** VirtualBox DBGFCOREDESCRIPTOR magic (`include/VBox/vmm/dbgfcorefmt.h`). */
const VBOX_CORE_MAGIC = 0xc01ac0de;
const NT_VBOXCORE = 0xb00;
const NT_VBOXCPU = 0xb01;

interface ProgramHeader {
  readonly type: number;
  readonly offset: number;
  readonly paddr: number;
  readonly filesz: number;
  readonly memsz: number;
}

interface Note {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

export function openElfCore(source: ByteSource): PhysicalSpace {
  const ident = source.read(0, 0x40);
  if (ident.length < 0x34) throw new ImageError('truncated', `${source.name}: ELF header cut short`);
  const elfClass = ident[4];
  if (elfClass !== 1 && elfClass !== 2)
    throw new ImageError('corrupt', `${source.name}: ELF file with unknown class ${elfClass}`);
  const width = elfClass === 2 ? 64 : 32;
  if (width === 64 && ident.length < 0x40)
    throw new ImageError('truncated', `${source.name}: ELF64 header cut short`);
  if (ident[5] !== 1)
    throw new ImageError(
      'not-memory-image',
      `${source.name}: big-endian ELF file: not an x86/x64 memory image`,
    );
  const type = u16(ident, 0x10);
  const machineCode = u16(ident, 0x12);
  if (type !== ET_CORE)
    throw new ImageError(
      'not-memory-image',
      `${source.name}: ELF ${type === 2 ? 'executable' : type === 3 ? 'shared object' : `file of type ${type}`}, not a core dump`,
    );
  if (machineCode === EM_AARCH64 || machineCode === EM_ARM)
    throw new ImageError(
      'unsupported-architecture',
      `${source.name}: ${machineCode === EM_AARCH64 ? 'ARM64' : 'ARM'} ELF core dump; IRPscope analyses x86/x64 images only`,
    );
  const warnings: string[] = [];
  const machine: Machine | undefined =
    machineCode === EM_X86_64 ? 'x64' : machineCode === EM_386 ? 'x86' : undefined;
  if (machine === undefined) warnings.push(`ELF machine type ${machineCode} is not x86/x64`);

  const headers = readProgramHeaders(source, ident, width, warnings);
  const builder = new RunTableBuilder();
  const notes: Note[] = [];
  let shortLoads = 0;
  for (const ph of headers) {
    if (ph.type === PT_LOAD) {
      const length = Math.min(ph.filesz, ph.memsz);
      if (ph.filesz !== ph.memsz) shortLoads++;
      if (length > 0) builder.add(ph.paddr, length, ph.offset);
    } else if (ph.type === PT_NOTE) {
      notes.push(...readNotes(source, ph, warnings));
    }
  }
  if (shortLoads > 0)
    warnings.push(`${shortLoads} PT_LOAD segment(s) store fewer bytes than they span; the rest is a hole`);

  const hints: { -readonly [K in keyof ImageHints]: ImageHints[K] } = {};
  if (machine !== undefined) hints.machine = machine;
  const producer = notes.some((n) => n.name === 'VBCORE' && n.type === NT_VBOXCORE)
    ? 'virtualbox'
    : notes.some((n) => n.name === 'QEMU')
      ? 'qemu'
      : 'unknown';
  const cpus =
    producer === 'virtualbox'
      ? virtualBoxCpus(notes, warnings)
      : producer === 'qemu'
        ? qemuCpus(notes, warnings)
        : [];
  if (cpus.length > 0) {
    hints.cpus = cpus;
    hints.processors = cpus.length;
    // The DTB of a CPU that was in kernel mode (spec §3.1 item 1, `E2D:main.c fix_dtb`).
    const kernel = cpus.find((c) => c.kernelMode) ?? cpus[0]!;
    hints.dtb = Number(kernel.cr3 & 0x000fffffffffffffn);
  }
  if (producer === 'unknown') warnings.push('ELF core without QEMU or VirtualBox notes: no CPU state');

  const table = builder.build(source.size, warnings);
  if (table.count === 0)
    throw new ImageError('corrupt', `${source.name}: ELF core dump with no readable PT_LOAD segment`);
  const producerName =
    producer === 'qemu'
      ? 'QEMU dump-guest-memory'
      : producer === 'virtualbox'
        ? 'VirtualBox dumpvmcore'
        : 'unknown producer';
  return new RunSpace({
    name: source.name,
    format: {
      id: 'elf',
      description: `ELF${width} core dump (${producerName})`,
      holdsPhysicalMemory: true,
      details: { width, elfProducer: producer, elfMachine: machineCode, dataFile: source.name },
    },
    table,
    data: source,
    hints,
    warnings,
  });
}

function readProgramHeaders(
  source: ByteSource,
  ident: Uint8Array,
  width: 32 | 64,
  warnings: string[],
): ProgramHeader[] {
  const phoff = width === 64 ? toSafe(u64(ident, 0x20)) : u32(ident, 0x1c);
  const entrySize = u16(ident, width === 64 ? 0x36 : 0x2a);
  let count = u16(ident, width === 64 ? 0x38 : 0x2c);
  if (phoff < 0) throw new ImageError('corrupt', `${source.name}: ELF program header offset is impossible`);
  const minimum = width === 64 ? 56 : 32;
  if (entrySize < minimum)
    throw new ImageError('corrupt', `${source.name}: ELF program header size ${entrySize} is too small`);
  if (count === PN_XNUM) {
    const shoff = width === 64 ? toSafe(u64(ident, 0x28)) : u32(ident, 0x20);
    const section0 = shoff > 0 ? source.read(shoff, width === 64 ? 0x40 : 0x28) : new Uint8Array(0);
    if (section0.length < (width === 64 ? 0x30 : 0x20))
      throw new ImageError(
        'corrupt',
        `${source.name}: ELF e_phnum is PN_XNUM but section header 0 is missing`,
      );
    count = u32(section0, width === 64 ? 0x2c : 0x1c);
  }
  const fit = Math.floor(Math.max(0, source.size - phoff) / entrySize);
  if (count > Math.min(fit, MAX_PHDRS)) {
    warnings.push(`ELF lists ${count} program headers; only ${Math.min(fit, MAX_PHDRS)} fit the file`);
    count = Math.min(fit, MAX_PHDRS);
  }
  const bytes = source.read(phoff, count * entrySize);
  const headers: ProgramHeader[] = [];
  let impossible = 0;
  for (let at = 0; at + entrySize <= bytes.length; at += entrySize) {
    const type = u32(bytes, at);
    const ph =
      width === 64
        ? {
            type,
            offset: toSafe(u64(bytes, at + 8)),
            paddr: toSafe(u64(bytes, at + 0x18)),
            filesz: toSafe(u64(bytes, at + 0x20)),
            memsz: toSafe(u64(bytes, at + 0x28)),
          }
        : {
            type,
            offset: u32(bytes, at + 4),
            paddr: u32(bytes, at + 0x0c),
            filesz: u32(bytes, at + 0x10),
            memsz: u32(bytes, at + 0x14),
          };
    if ([ph.offset, ph.paddr, ph.filesz, ph.memsz].some((v) => v < 0)) impossible++;
    else headers.push(ph);
  }
  if (impossible > 0)
    warnings.push(`${impossible} ELF program header(s) hold impossibly large values and were ignored`);
  return headers;
}

/** A u64 as a number, or -1 when it does not fit. */
function toSafe(value: bigint): number {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : -1;
}

function readNotes(source: ByteSource, ph: ProgramHeader, warnings: string[]): Note[] {
  const size = Math.min(ph.filesz, MAX_NOTE_BYTES);
  const bytes = source.read(ph.offset, size);
  const notes: Note[] = [];
  let at = 0;
  const align = (n: number): number => (n + 3) & ~3;
  while (at + 12 <= bytes.length) {
    const nameSize = u32(bytes, at);
    const descSize = u32(bytes, at + 4);
    const type = u32(bytes, at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + align(nameSize);
    if (nameSize > bytes.length || descSize > bytes.length || descAt + descSize > bytes.length) {
      warnings.push('an ELF note runs past its PT_NOTE segment; later notes ignored');
      break;
    }
    let name = '';
    for (let i = 0; i < nameSize && bytes[nameAt + i] !== 0; i++)
      name += String.fromCharCode(bytes[nameAt + i]!);
    notes.push({ name, type, desc: bytes.subarray(descAt, descAt + descSize) });
    at = descAt + align(descSize);
  }
  return notes;
}

/**
 * QEMUCPUState (`E2D:qemu_elf.h`, spec §5.4): version u32 @0, size u32 @4, rip @0x88, segment
 * records of 24 bytes with base at +0x10 (gs @0xF8, idt @0x170), cr[0..4] @0x188, kernel_gs_base
 * @0x1B0 when size ≥ 0x1B8.
 */
function qemuCpus(notes: readonly Note[], warnings: string[]): CpuState[] {
  const cpus: CpuState[] = [];
  let bad = 0;
  for (const note of notes) {
    if (note.name !== 'QEMU') continue;
    const d = note.desc;
    if (d.length < 0x1b0) {
      bad++;
      continue;
    }
    const declared = u32(d, 4);
    const gsBase = u64(d, 0xf8 + 0x10);
    const cpu: CpuState = {
      index: cpus.length,
      source: 'qemu',
      rip: u64(d, 0x88),
      cr0: u64(d, 0x188),
      cr3: u64(d, 0x1a0),
      cr4: u64(d, 0x1a8),
      gsBase,
      idtBase: u64(d, 0x170 + 0x10),
      kernelMode: gsBase >> 63n === 1n,
    };
    cpus.push(declared >= 0x1b8 && d.length >= 0x1b8 ? { ...cpu, kernelGsBase: u64(d, 0x1b0) } : cpu);
  }
  if (bad > 0) warnings.push(`${bad} QEMU CPU note(s) too short to hold the register state`);
  return cpus;
}

/**
 * DBGFCORECPU (VirtualBox `include/VBox/vmm/dbgfcorefmt.h`, format 0x0001000x): rip @0x70,
 * segments of 24 bytes from cs @0x90 (gs base @0xF0), cr0/cr2/cr3/cr4 @0x120/0x128/0x130/0x138,
 * idtr base @0x190, msrKernelGSBase @0x218.
 */
function virtualBoxCpus(notes: readonly Note[], warnings: string[]): CpuState[] {
  const core = notes.find((n) => n.name === 'VBCORE' && n.type === NT_VBOXCORE);
  if (core === undefined || core.desc.length < 0x18 || u32(core.desc, 0) !== VBOX_CORE_MAGIC) {
    warnings.push('VirtualBox core descriptor missing or with a bad magic: CPU state ignored');
    return [];
  }
  const formatVersion = u32(core.desc, 4);
  if ((formatVersion & 0xfffffff0) !== 0x00010000) {
    warnings.push(`VirtualBox core format 0x${formatVersion.toString(16)} is not known: CPU state ignored`);
    return [];
  }
  const cpus: CpuState[] = [];
  for (const note of notes) {
    if (note.type !== NT_VBOXCPU) continue;
    const d = note.desc;
    if (d.length < 0x220) continue;
    const gsBase = u64(d, 0xf0);
    cpus.push({
      index: cpus.length,
      source: 'virtualbox',
      rip: u64(d, 0x70),
      cr0: u64(d, 0x120),
      cr3: u64(d, 0x130),
      cr4: u64(d, 0x138),
      gsBase,
      kernelGsBase: u64(d, 0x218),
      idtBase: u64(d, 0x190),
      kernelMode: gsBase >> 63n === 1n,
    });
  }
  return cpus;
}
