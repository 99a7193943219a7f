// ELF core dumps: QEMU dump-guest-memory with QEMUCPUState notes, VirtualBox dumpvmcore with
// VBCORE/VBCPU notes, ELF32, PN_XNUM, and refusals (spec §5.4).

import { describe, expect, it } from 'vitest';
import { ImageError, openImageFromSource, type PhysicalSpace } from '../../../../src/core/image';
import { BufferSource } from '../../../../src/core/source';
import { concat, elf64, PAGE, pages, pfnAt, Writer } from './build';
import { HOSTILE_HEADERS } from './hostile-headers';

function note(name: string, type: number, desc: Uint8Array): Uint8Array {
  const nameBytes = name.length + 1;
  const w = new Writer(12 + align4(nameBytes) + align4(desc.length));
  w.u32(0, nameBytes).u32(4, desc.length).u32(8, type).ascii(12, name);
  w.set(12 + align4(nameBytes), desc);
  return w.bytes;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** QEMUCPUState (spec §5.4): version 1, size, rip @0x88, gs base @0x108, idt base @0x180, cr[] @0x188, kernel_gs_base @0x1B0. */
function qemuCpu(cr3: bigint, gsBase: bigint): Uint8Array {
  const w = new Writer(0x1b8);
  w.u32(0, 1).u32(4, 0x1b8).u64(0x88, 0xfffff8047ba01234n).u64(0x108, gsBase).u64(0x180, 0xfffff80480a00000n);
  w.u64(0x188, 0x80050033n).u64(0x1a0, cr3).u64(0x1a8, 0x350ef8n).u64(0x1b0, 0x000000c0ffee0000n);
  return w.bytes;
}

function open(bytes: Uint8Array): PhysicalSpace {
  return openImageFromSource(new BufferSource(bytes, 'guest.core'));
}

function failure(action: () => unknown): ImageError {
  try {
    action();
  } catch (error) {
    if (error instanceof ImageError) return error;
    throw error;
  }
  throw new Error('expected an ImageError');
}

describe('QEMU dump-guest-memory', () => {
  const notes = concat(
    note('CORE', 1, new Uint8Array(336)),
    note('QEMU', 0, qemuCpu(0x7b4000n, 0x000000d4f4b5c000n)),
    note('CORE', 1, new Uint8Array(336)),
    note('QEMU', 0, qemuCpu(0x1ad002n, 0xfffff80479e00000n)),
  );
  const space = open(
    elf64(notes, [
      { paddr: 0, data: pages(0, 1) },
      { paddr: 0x100000, data: pages(0x100) },
    ]),
  );

  it('maps PT_LOAD segments by p_paddr', () => {
    expect(space.format).toMatchObject({
      id: 'elf',
      details: { width: 64, elfProducer: 'qemu', elfMachine: 62 },
    });
    expect(space.runs.map((r) => [r.start, r.length])).toEqual([
      [0, 2 * PAGE],
      [0x100000, PAGE],
    ]);
    expect(pfnAt(space.read(0x100000, 8))).toBe(0x100);
    expect(space.read(0x2000, 4)).toBeNull();
  });

  it('exposes each vCPU and takes the DTB from the one in kernel mode', () => {
    const cpus = space.hints.cpus!;
    expect(cpus.length).toBe(2);
    expect(cpus[0]).toMatchObject({ source: 'qemu', cr3: 0x7b4000n, kernelMode: false });
    expect(cpus[1]).toMatchObject({
      index: 1,
      cr3: 0x1ad002n,
      gsBase: 0xfffff80479e00000n,
      kernelGsBase: 0x000000c0ffee0000n,
      idtBase: 0xfffff80480a00000n,
      rip: 0xfffff8047ba01234n,
      kernelMode: true,
    });
    expect(space.hints.dtb).toBe(0x1ad002);
    expect(space.hints.machine).toBe('x64');
    expect(space.hints.processors).toBe(2);
  });

  it('finds program headers through PN_XNUM and clips a segment past the end of the file', () => {
    const bytes = elf64(
      note('QEMU', 0, qemuCpu(0x1000n, 1n << 63n)),
      [
        { paddr: 0, data: pages(0) },
        { paddr: 0x5000, data: pages(5, 6) },
      ],
      { xnum: true },
    );
    const cut = open(bytes.slice(0, bytes.length - PAGE));
    expect(cut.runs.map((r) => [r.start, r.length])).toEqual([
      [0, PAGE],
      [0x5000, PAGE],
    ]);
    expect(cut.warnings.join('\n')).toMatch(/truncated/);
  });

  it('treats a PT_LOAD with p_filesz < p_memsz as holding only its file bytes', () => {
    const space2 = open(elf64(new Uint8Array(0), [{ paddr: 0, data: pages(0), memsz: 4 * PAGE }]));
    expect(space2.runs).toEqual([{ start: 0, length: PAGE, fileOffset: expect.any(Number) }]);
    expect(space2.warnings.join('\n')).toMatch(/fewer bytes than they span/);
    expect(space2.format.details.elfProducer).toBe('unknown');
  });
});

describe('VirtualBox dumpvmcore', () => {
  it('reads the VBCORE descriptor and VBCPU register notes', () => {
    const descriptor = new Writer(24).u32(0, 0xc01ac0de).u32(4, 0x00010006).u32(8, 24).u32(0x14, 1).bytes;
    const cpu = new Writer(0x400);
    cpu
      .u64(0x70, 0xfffff80000001000n)
      .u64(0xf0, 0xfffff80000abc000n)
      .u64(0x130, 0x187000n)
      .u64(0x190, 0xfffff80000def000n);
    cpu.u64(0x120, 0x80050031n).u64(0x138, 0x6f8n).u64(0x218, 0x7ff600000000n);
    const notes = concat(note('VBCORE', 0xb00, descriptor), note('VBCPU', 0xb01, cpu.bytes));
    const space = open(elf64(notes, [{ paddr: 0, data: pages(0, 1, 2) }]));
    expect(space.format.details.elfProducer).toBe('virtualbox');
    expect(space.format.description).toMatch(/VirtualBox/);
    expect(space.hints.cpus).toEqual([
      {
        index: 0,
        source: 'virtualbox',
        rip: 0xfffff80000001000n,
        cr0: 0x80050031n,
        cr3: 0x187000n,
        cr4: 0x6f8n,
        gsBase: 0xfffff80000abc000n,
        kernelGsBase: 0x7ff600000000n,
        idtBase: 0xfffff80000def000n,
        kernelMode: true,
      },
    ]);
    expect(space.hints.dtb).toBe(0x187000);
  });
});

describe('ELF32 and refusals', () => {
  it('reads an ELF32 core (Phdr32 fields)', () => {
    const w = new Writer(PAGE);
    w.u8(0, 0x7f).ascii(1, 'ELF').u8(4, 1).u8(5, 1).u8(6, 1).u16(0x10, 4).u16(0x12, 3).u32(0x14, 1);
    w.u32(0x1c, 52).u16(0x2a, 32).u16(0x2c, 1);
    w.u32(52, 1)
      .u32(52 + 4, PAGE)
      .u32(52 + 0xc, 0x3000)
      .u32(52 + 0x10, 2 * PAGE)
      .u32(52 + 0x14, 2 * PAGE);
    const space = open(concat(w.bytes, pages(3, 4)));
    expect(space.format.details).toMatchObject({ width: 32, elfMachine: 3 });
    expect(space.hints.machine).toBe('x86');
    expect(space.runs).toEqual([{ start: 0x3000, length: 2 * PAGE, fileOffset: PAGE }]);
    expect(pfnAt(space.read(0x4000, 8))).toBe(4);
  });

  it('refuses ELF executables, ARM64 cores, and cores with no readable segment', () => {
    const executable = failure(() =>
      open(elf64(new Uint8Array(0), [{ paddr: 0, data: pages(0) }], { type: 2 })),
    );
    expect(executable.kind).toBe('not-memory-image');
    expect(executable.message).toMatch(/executable, not a core dump/);
    const arm = failure(() =>
      open(elf64(new Uint8Array(0), [{ paddr: 0, data: pages(0) }], { machine: 183 })),
    );
    expect(arm.kind).toBe('unsupported-architecture');
    expect(failure(() => open(elf64(new Uint8Array(0), []))).kind).toBe('corrupt');
  });

  it('bounds a hostile program header count by what fits the file', () => {
    const bytes = HOSTILE_HEADERS.hugeProgramHeaderCount();
    const source = new BufferSource(bytes, 'guest.core');
    const space = openImageFromSource(source);
    // e_phoff is 64 and an ELF64 program header 56 bytes: what the file can hold from there.
    const fit = Math.floor((bytes.length - 64) / 56);
    expect(space.warnings).toContain(`ELF lists 65534 program headers; only ${fit} fit the file`);
    expect(space.runs).toEqual([{ start: 0, length: PAGE, fileOffset: expect.any(Number) }]);
    // The program headers are read in one go, not one read per claimed header.
    const sane = new BufferSource(elf64(new Uint8Array(0), [{ paddr: 0, data: pages(0) }]), 'guest.core');
    openImageFromSource(sane);
    expect(source.stats.reads).toBeLessThanOrEqual(sane.stats.reads);
  });
});
