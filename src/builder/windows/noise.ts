// What makes a memory image messy and so worth parsing carefully: driver objects left in freed
// pool by drivers that were unloaded, "Driv" byte strings that are not objects, user-mode
// leftovers of NtQuerySystemInformation(SystemModuleInformation), and pageable pool pages that
// are in the page file or on the transition list.

import { ByteWriter, asciiBytes } from '../bytes';
import { IRP_MJ_COUNT } from '../../common/windows';
import { field, sizeOf, type KernelLayout } from '../layout/kernel-layout';
import { MM_READWRITE } from '../memory/page-tables';
import { PAGE, type PhysicalMemory } from '../memory/physical';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import type { DriverContext } from './drivers';
import type { LoadedModule } from './modules';
import { tagBytes, type PoolRegion } from './pool';

export interface StaleDriver {
  name: string;
  objectVa: bigint;
  headerVa: bigint;
  /** Where DriverName's text is (kept resident so that the ground truth can name the driver). */
  nameVa: bigint;
}

/** Drivers of tools that load, work and unload (their objects linger in freed pool). */
const UNLOADED_DRIVERS = [
  'PROCEXP152',
  'WinRing0_1_2_0',
  'cpuz149',
  'RTCore64',
  'GPU-Z',
  'PROCMON24',
  'HWiNFO_200',
];

export function plantStaleDrivers(ctx: DriverContext, count: number): StaleDriver[] {
  const { layout, vm, boot: rng } = ctx;
  const stale: StaleDriver[] = [];
  const ptr = layout.pointerSize;
  for (const name of rng.shuffle(UNLOADED_DRIVERS).slice(0, count)) {
    const size = sizeOf(layout, '_DRIVER_OBJECT');
    const extension = sizeOf(layout, '_DRIVER_EXTENSION');
    const object = ctx.objects.create({
      type: 'Driver',
      bodySize: size + extension,
      name,
      pool: ctx.nonPaged,
      freed: true,
    });
    const driverName = `\\Driver\\${name}`;
    const nameBlock = ctx.names.allocateFreed('IoDn', driverName.length * 2);
    vm.write(
      nameBlock.dataVa,
      new TextEncoder()
        .encode(driverName)
        .reduce((bytes, c, i) => (bytes.set([c, 0], i * 2), bytes), new Uint8Array(driverName.length * 2)),
    );
    const imageBase =
      ctx.loader.modules[ctx.loader.modules.length - 1]!.base + BigInt(rng.int(0x40, 0x400) * PAGE);
    const w = new ByteWriter(size + extension, ptr);
    const f = (n: string) => field(layout, '_DRIVER_OBJECT', n);
    w.u16(f('Type'), 4)
      .u16(f('Size'), size)
      .u32(f('Flags'), 0x12 | 0x1); // LEGACY | INITIALIZED | UNLOAD_INVOKED
    w.ptr(f('DriverStart'), imageBase).u32(f('DriverSize'), rng.int(4, 40) * PAGE);
    w.ptr(f('DriverExtension'), object.bodyVa + BigInt(size));
    w.unicodeString(f('DriverName'), driverName.length * 2, driverName.length * 2, nameBlock.dataVa);
    for (let i = 0; i < IRP_MJ_COUNT; i++)
      w.ptr(
        f('MajorFunction') + i * ptr,
        i % 3 === 0 ? imageBase + BigInt(0x1000 + i * 0x40) : ctx.kernel.symbol('IopInvalidDeviceRequest'),
      );
    vm.write(object.bodyVa, w.bytes);
    // The allocator reuses the first bytes of a freed block for its free-list links.
    const block = object.block!;
    vm.writePtr(block.dataVa, ctx.nonPaged.baseVa + BigInt(rng.int(1, 0x400) * 0x10));
    vm.writePtr(block.dataVa + BigInt(ptr), ctx.nonPaged.baseVa + BigInt(rng.int(1, 0x400) * 0x10));
    stale.push({
      name: driverName,
      objectVa: object.bodyVa,
      headerVa: object.headerVa,
      nameVa: nameBlock.dataVa,
    });
  }
  return stale;
}

/** Free physical pages (never mapped by the kernel) that the builder may scribble on. */
function freePages(phys: PhysicalMemory, rng: Rng, count: number): number[] {
  const pages: number[] = [];
  for (let attempt = 0; pages.length < count && attempt < count * 50; attempt++) {
    const pfn = rng.int(0x100, phys.maxAddress / PAGE - 1);
    if (phys.isRam(pfn) && !phys.isUsed(pfn) && !phys.hasContent(pfn)) {
      phys.markUsed(pfn);
      pages.push(pfn);
    }
  }
  return pages;
}

/**
 * "Driv" where no driver object is: pool headers whose tag matches but whose body is garbage,
 * and text that happens to contain the tag. Returns their physical addresses.
 */
export function plantStrayTags(
  layout: KernelLayout,
  phys: PhysicalMemory,
  rng: Rng,
  count: number,
): number[] {
  const positions: number[] = [];
  const tag = layout.protectedPoolTags ? 'Dri\u00f6' : 'Driv';
  const headerSize = layout.pointerSize === 8 ? 16 : 8;
  for (const pfn of freePages(phys, rng, count)) {
    const offset = rng.int(1, 200) * headerSize;
    const header = new Uint8Array(headerSize);
    if (headerSize === 16) header.set([0, 0, rng.int(0x10, 0x30), 2]);
    else header.set([0, 0, rng.int(0x20, 0x60), 4]);
    header.set(tagBytes(tag), 4);
    phys.write(pfn * PAGE + offset, header);
    positions.push(pfn * PAGE + offset + 4);
    const text = asciiBytes('\\SystemRoot\\System32\\Drivers\\', false);
    phys.write(pfn * PAGE + 0xc00 + rng.int(0, 0x100), text);
  }
  return positions;
}

/**
 * RTL_PROCESS_MODULES as NtQuerySystemInformation(SystemModuleInformation) returns it, left in a
 * freed user page: ImageBase sits 16 + pointer-size bytes before "\SystemRoot\system32\nt…"
 * (the pattern of Volatility 3's method_module_offset, spec §3.2).
 */
export function plantModuleInformation(
  layout: KernelLayout,
  phys: PhysicalMemory,
  rng: Rng,
  modules: LoadedModule[],
): number {
  const [pfn] = freePages(phys, rng, 1);
  if (pfn === undefined) return 0;
  const ptr = layout.pointerSize;
  const entrySize = ptr === 8 ? 0x128 : 0x11c;
  const count = Math.min(modules.length, Math.floor((PAGE - 16) / entrySize));
  const w = new ByteWriter(16 + count * entrySize, ptr);
  w.u32(0, modules.length);
  modules.slice(0, count).forEach((module, i) => {
    const at = (ptr === 8 ? 8 : 4) + i * entrySize;
    const imageBase = ptr === 8 ? 0x10 : 0x8;
    const nameAt = ptr === 8 ? 0x28 : 0x1c;
    w.ptr(at + imageBase, module.base).u32(at + imageBase + ptr, module.size);
    w.u16(at + imageBase + ptr + 8, i)
      .u16(at + imageBase + ptr + 10, i)
      .u16(at + imageBase + ptr + 12, 1);
    const path = module.path.replace(/^\\SystemRoot\\System32\\/i, '\\SystemRoot\\system32\\');
    w.u16(at + imageBase + ptr + 14, path.lastIndexOf('\\') + 1);
    w.ascii(at + nameAt, path);
  });
  phys.write(pfn * PAGE, w.bytes);
  return pfn * PAGE;
}

/** Puts some pages of a pageable pool out to the page file or onto the transition list. */
export function pageOut(
  vm: VirtualMemory,
  rng: Rng,
  pool: PoolRegion,
  pinned: readonly bigint[],
): { pagedOut: bigint[]; transition: bigint[] } {
  const pinnedPages = new Set(pinned.map((va) => va & ~0xfffn));
  const pagedOut: bigint[] = [];
  const transition: bigint[] = [];
  for (const page of pool.pages) {
    if (pinnedPages.has(page)) continue;
    const roll = rng.float();
    if (roll < 0.04) {
      vm.markNotResident(page, {
        kind: 'pagefile',
        pageFile: 0,
        offsetPages: rng.int(0x100, 0x7ffff),
        protection: MM_READWRITE,
      });
      pagedOut.push(page);
    } else if (roll < 0.08) {
      vm.markNotResident(page, { kind: 'transition', pfn: vm.pa(page) / PAGE, protection: MM_READWRITE });
      transition.push(page);
    }
  }
  return { pagedOut, transition };
}
