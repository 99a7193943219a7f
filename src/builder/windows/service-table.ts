// The system-service table, as the kernel has it: KiServiceTable (x86: absolute routine
// addresses; x64: LONG offsets from the table shifted left by 4 with the number of stack
// arguments in the low 4 bits), KiArgumentTable, and the descriptor KeServiceDescriptorTable
// { Base, Count, Limit, Number } with its shadow copy. x86 exports the descriptor; x64 does not,
// and its KiSystemServiceRepeat loads both tables with `lea r10,[rip+…]; lea r11,[rip+…]`.
//
// Facts: j00ru/windows-syscalls (x86/csv/nt.csv, x64/csv/nt.csv) for the service numbers and
// counts per build; the descriptor and entry encodings as public SSDT readers decode them
// (pykd samples/km/ssdt.py; Volatility 2 ssdt_vtypes). The builder keeps its own copy of these
// numbers: its truth must not come from the engine.

import { BuildError } from '../errors';
import type { KernelLayout } from '../layout/kernel-layout';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import { dispatchRoutine } from './code';
import type { KernelImage } from './kernel-image';

/** Services with a user-mode API on the I/O path (and the classic process-hiding target). */
export const NAMED_SERVICES = [
  'NtClose',
  'NtCreateFile',
  'NtReadFile',
  'NtWriteFile',
  'NtDeviceIoControlFile',
  'NtQuerySystemInformation',
] as const;
export type NamedService = (typeof NAMED_SERVICES)[number];

/** Arguments of each named service (its prototype), for the argument table and x64's stack count. */
const ARGUMENTS: Record<NamedService, number> = {
  NtClose: 1,
  NtCreateFile: 11,
  NtReadFile: 9,
  NtWriteFile: 9,
  NtDeviceIoControlFile: 10,
  NtQuerySystemInformation: 4,
};

/**
 * Service numbers in NAMED_SERVICES order, and the table's length, per build (j00ru). They belong
 * to the kernel binary whose symbols lay the image out (the ISF's build), not to the build a
 * --build image claims: that binary's KiServiceLimit follows its own table.
 */
function servicesOf(layout: KernelLayout): { numbers: number[]; count: number | null } {
  const build = layout.variant.layoutBuild ?? layout.version.build;
  if (layout.arch === 'x86') {
    if (build === 2600) return { numbers: [0x19, 0x25, 0xb7, 0x112, 0x42, 0xad], count: 284 };
    if (build === 3790) return { numbers: [0x1b, 0x27, 0xbf, 0x11c, 0x45, 0xb5], count: 296 };
    if (build === 7600 || build === 7601)
      return { numbers: [0x32, 0x42, 0x111, 0x18c, 0x6b, 0x105], count: 401 };
  } else {
    if (build === 7600 || build === 7601) return { numbers: [0xc, 0x52, 0x3, 0x5, 0x4, 0x33], count: 401 };
    if (build === 9200) return { numbers: [0xd, 0x53, 0x4, 0x6, 0x5, 0x34], count: 429 };
    if (build === 9600) return { numbers: [0xe, 0x54, 0x5, 0x7, 0x6, 0x35], count: 433 };
    if (build >= 10240) {
      const counts: Record<number, number> = {
        10240: 441,
        10586: 444,
        14393: 450,
        15063: 456,
        16299: 460,
        17134: 462,
        17763: 463,
        18362: 464,
        18363: 464,
        19041: 471,
        19042: 471,
        19043: 471,
        19044: 473,
        19045: 473,
      };
      return { numbers: [0xf, 0x55, 0x6, 0x8, 0x7, 0x36], count: counts[build] ?? null };
    }
  }
  throw new BuildError(`no system-service numbers known for ${layout.arch} build ${build}`);
}

export interface ServiceEntry {
  index: number;
  name: NamedService | null;
  /** Where the entry sends the call (what the engine should decode). */
  target: bigint;
}

export interface PlantedServiceTable {
  descriptor: bigint;
  shadow: bigint;
  table: bigint;
  argumentTable: bigint;
  count: number;
  entries: ServiceEntry[];
}

export class ServiceTable {
  readonly planted: PlantedServiceTable;
  readonly numbers: ReadonlyMap<NamedService, number>;
  private readonly argumentCounts: number[];

  constructor(
    private readonly layout: KernelLayout,
    private readonly vm: VirtualMemory,
    private readonly kernel: KernelImage,
    rng: Rng,
  ) {
    const known = servicesOf(layout);
    const entrySize = 4; // x86: a 32-bit pointer; x64: a LONG
    // The ISF's KiServiceLimit sits right after the table on most builds; take it where the
    // published count is not known and it is plausible.
    const table = kernel.symbol('KiServiceTable', 0x800 * entrySize);
    const fromSymbols =
      kernel.hasSymbol('KiServiceLimit') && kernel.hasSymbol('KiServiceTable')
        ? Number(kernel.symbol('KiServiceLimit') - table) / entrySize
        : null;
    const count =
      known.count ?? (fromSymbols !== null && fromSymbols >= 300 && fromSymbols <= 700 ? fromSymbols : 480);
    this.numbers = new Map(NAMED_SERVICES.map((name, i) => [name, known.numbers[i]!]));
    const byNumber = new Map([...this.numbers].map(([name, n]) => [n, name]));
    // Each service's routine is in the kernel's code (well within the x64 encoding's ±128 MiB).
    const entries: ServiceEntry[] = [];
    this.argumentCounts = [];
    for (let index = 0; index < count; index++) {
      const name = byNumber.get(index) ?? null;
      const target = kernel.symbol(name ?? `KiService${index.toString(16).padStart(3, '0')}`, 0x80);
      // Benign code at every routine (the named ones the I/O path uses may already have theirs).
      if (!name || name === 'NtClose' || name === 'NtQuerySystemInformation')
        vm.write(target, dispatchRoutine(layout.arch, rng));
      entries.push({ index, name, target });
      this.argumentCounts.push(name ? ARGUMENTS[name] : rng.int(0, 12));
    }
    this.planted = {
      descriptor: kernel.symbol('KeServiceDescriptorTable', 4 * layout.pointerSize),
      shadow: kernel.symbol('KeServiceDescriptorTableShadow', 8 * layout.pointerSize),
      table,
      argumentTable: kernel.symbol('KiArgumentTable', count),
      count,
      entries,
    };
  }

  /** Points entry `index` somewhere else (a hook); the truth follows. */
  redirect(name: NamedService, target: bigint): void {
    const entry = this.planted.entries[this.numbers.get(name)!]!;
    entry.target = target;
  }

  /** Writes the table, the argument table, the descriptors and (x64) KiSystemServiceRepeat. */
  write(): void {
    const { layout, vm, planted } = this;
    const x64 = layout.arch === 'x64';
    const table = new Uint8Array(planted.count * 4);
    const view = new DataView(table.buffer);
    for (const entry of planted.entries) {
      if (x64) {
        const offset = entry.target - planted.table;
        if (offset < -(1n << 27n) || offset >= 1n << 27n)
          throw new BuildError(`internal: service ${entry.index} is out of the x64 table's reach`);
        const stack = Math.max(0, this.argumentCounts[entry.index]! - 4);
        view.setInt32(entry.index * 4, Number(offset) * 16 + stack, true);
      } else view.setUint32(entry.index * 4, Number(entry.target & 0xffffffffn), true);
    }
    vm.write(planted.table, table);
    vm.write(
      planted.argumentTable,
      Uint8Array.from(this.argumentCounts, (n) => (x64 ? Math.max(0, n - 4) * 8 : n * 4)),
    );
    const ptr = layout.pointerSize;
    const descriptor = (at: bigint) => {
      vm.writePtr(at, planted.table);
      vm.writePtr(at + BigInt(ptr), 0n); // Count: only on checked builds
      if (x64) vm.writePtr(at + 16n, BigInt(planted.count));
      else vm.writeU32(at + 8n, planted.count);
      vm.writePtr(at + BigInt(3 * ptr), planted.argumentTable);
    };
    descriptor(planted.descriptor);
    // The shadow's first descriptor is the same table; win32k's second is filled when win32k.sys
    // loads (it stays empty here: no session is created).
    descriptor(planted.shadow);
    if (x64) {
      const at = this.kernel.symbol('KiSystemServiceRepeat');
      const code = new Uint8Array(0x20).fill(0xcc);
      const dv = new DataView(code.buffer);
      const rel = (from: bigint, to: bigint) => Number(BigInt.asIntN(32, to - from));
      code.set([0x4c, 0x8d, 0x15], 0); // lea r10, [rip+KeServiceDescriptorTable]
      dv.setInt32(3, rel(at + 7n, planted.descriptor), true);
      code.set([0x4c, 0x8d, 0x1d], 7); // lea r11, [rip+KeServiceDescriptorTableShadow]
      dv.setInt32(10, rel(at + 14n, planted.shadow), true);
      code.set([0xf7, 0x43, 0x78, 0x80, 0x00, 0x00, 0x00], 14); // test dword [rbx+78h], 80h
      code.set([0x74, 0x04, 0x4d, 0x8b, 0xd3], 21); // jz +4; mov r10, r11
      vm.write(at, code);
    }
  }
}
