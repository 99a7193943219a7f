// Where things live in a Windows kernel's address space, per generation: the System DTB, the
// page-table self-map, the kernel's large-page window, the driver image area, the pools.
// Values follow what each generation shows in practice (WinDbg, Volatility output): fixed
// kernel mappings on XP/2003/7 (VA = PA + 0x80000000 or + 0xFFFFF80000000000, spec §3.2),
// KASLR and a randomised self-map index on Windows 10 1607+ (§2.4).

import type { KernelLayout } from '../layout/kernel-layout';
import { canonical } from '../memory/page-tables';
import { PAGE, type PhysicalMemory } from '../memory/physical';
import type { Rng } from '../rng';
import { KernelImage, type KernelPlacement } from './kernel-image';

export interface AddressMap {
  dtbPfn: number;
  selfMapIndex: number;
  kernel: KernelPlacement;
  /** HAL inside the kernel's window (XP, 2003, 7), or null when it is loaded like a driver. */
  halBase: bigint | null;
  driverArea: bigint;
  nonPagedPool: bigint;
  pagedPool: bigint;
  namePool: bigint;
  pfnDatabase: bigint;
  kuser: bigint;
  /** x86 XP/2003: the processor control region of CPU 0. */
  kpcr: bigint | null;
  lowStubPa: number | null;
}

const KUSER_X64 = 0xfffff78000000000n;
const KUSER_X86 = 0xffdf0000n;

function claimRange(phys: PhysicalMemory, pa: number, size: number): void {
  for (let p = pa / PAGE; p < (pa + size) / PAGE; p++) phys.claim(p);
}

export function planAddressMap(
  layout: KernelLayout,
  phys: PhysicalMemory,
  rng: Rng,
  lowStub: boolean,
): AddressMap {
  const family = layout.version.family;
  const imageSize = KernelImage.imageSize(layout);
  if (layout.arch === 'x86') return planX86(layout, phys, rng, imageSize);
  const large = 0x200000;
  const lowStubPa = lowStub ? 0x13000 : null;
  if (lowStubPa !== null) phys.claim(lowStubPa / PAGE);

  if (family === 'win7') {
    // Fixed mapping: VA = PA + 0xFFFFF80000000000; HAL just below the kernel in the same window.
    const halOffset = 0x16000;
    const kernelOffset = 0x5f000 + rng.int(0, 0x20) * PAGE;
    const windowSize = Math.ceil((kernelOffset + imageSize) / large) * large;
    const windowPfn = phys.allocateContiguous(rng, windowSize / PAGE, large / PAGE, 0x2000000);
    const windowPa = windowPfn * PAGE;
    const windowVa = 0xfffff80000000000n + BigInt(windowPa);
    const dtbPfn = 0x187;
    phys.claim(dtbPfn);
    return {
      dtbPfn,
      selfMapIndex: 0x1ed,
      kernel: { base: windowVa + BigInt(kernelOffset), windowVa, windowPa, windowSize },
      halBase: windowVa + BigInt(halOffset),
      driverArea: 0xfffff88000c00000n + BigInt(rng.int(0, 0x10) * 0x100000),
      nonPagedPool: 0xfffffa8000c00000n + BigInt(rng.int(0, 0x40) * 0x100000),
      pagedPool: 0xfffff8a000000000n + BigInt(rng.int(0, 0x40) * 0x100000),
      namePool: 0xfffff8a004000000n + BigInt(rng.int(0, 0x40) * 0x100000),
      pfnDatabase: 0xfffffa8000000000n,
      kuser: KUSER_X64,
      kpcr: null,
      lowStubPa,
    };
  }

  // Windows 8.1 and later: KASLR kernel at 0xFFFFF800'00000000–0xFFFFF807'FFFFFFFF, 2 MiB aligned.
  const windowSize = Math.ceil(imageSize / large) * large;
  const windowPfn = phys.allocateContiguous(rng, windowSize / PAGE, large / PAGE, 0x1000000);
  const windowPa = windowPfn * PAGE;
  const kernelVa =
    0xfffff80000000000n + BigInt(rng.int(0x100, layout.randomSelfMap ? 0x3fff : 0x1fff)) * BigInt(large);
  const dtbPfn = family === 'win81' ? 0x1a7 : 0x1aa + rng.int(0, 3);
  phys.claim(dtbPfn);
  const kernel = { base: kernelVa, windowVa: kernelVa, windowPa, windowSize };
  const driverArea = kernelVa + BigInt(windowSize) + BigInt(rng.int(4, 32) * large);
  if (!layout.randomSelfMap) {
    return {
      dtbPfn,
      selfMapIndex: 0x1ed,
      kernel,
      halBase: null,
      driverArea,
      nonPagedPool: 0xffffe00000000000n + BigInt(rng.int(0x10, 0xfff)) * 0x100000n,
      pagedPool: 0xffffc00000000000n + BigInt(rng.int(0x10, 0xfff)) * 0x100000n,
      namePool: 0xffffc00100000000n + BigInt(rng.int(0x10, 0xfff)) * 0x100000n,
      pfnDatabase: 0xfffffa8000000000n,
      kuser: KUSER_X64,
      kpcr: null,
      lowStubPa,
    };
  }
  // Windows 10 1607+: self-map and the dynamic kernel regions at random PML4 slots.
  const taken = new Set([0x1ef, 0x1f0]);
  const slot = () => {
    for (;;) {
      const index = rng.int(0x101, 0x1fe);
      if (!taken.has(index)) {
        taken.add(index);
        return index;
      }
    }
  };
  const selfMapIndex = slot();
  const region = (index: number) =>
    canonical(BigInt(index) << 39n) + BigInt(rng.int(0x10, 0x3fff)) * 0x100000n;
  return {
    dtbPfn,
    selfMapIndex,
    kernel,
    halBase: null,
    driverArea,
    nonPagedPool: region(slot()),
    pagedPool: region(slot()),
    namePool: region(slot()),
    pfnDatabase: canonical(BigInt(slot()) << 39n),
    kuser: KUSER_X64,
    kpcr: null,
    lowStubPa,
  };
}

function planX86(layout: KernelLayout, phys: PhysicalMemory, rng: Rng, imageSize: number): AddressMap {
  const family = layout.version.family;
  const pae = layout.paging === 'pae';
  const large = pae ? 0x200000 : 0x400000;
  // Kernel VA = PA + 0x80000000 on every x86 generation here (spec §3.2, fixed mapping).
  let kernelVa: bigint;
  let halOffset: number;
  let dtbPfn: number;
  if (family === 'xp') {
    kernelVa = 0x804d7000n;
    halOffset = 0x1f8000 + 0xd7000; // HAL follows the kernel (0x806cf000)
    dtbPfn = 0x319;
  } else if (family === '2003') {
    kernelVa = 0x80800000n;
    halOffset = 0x2d6000;
    dtbPfn = 0x39;
  } else {
    kernelVa = 0x8284b000n + BigInt(rng.int(0, 0x10) * PAGE);
    halOffset = 0x10000; // Windows 7: HAL below the kernel
    dtbPfn = 0x185;
  }
  const windowVa = (kernelVa / BigInt(large)) * BigInt(large);
  const windowPa = Number(windowVa - 0x80000000n);
  const kernelOffset = Number(kernelVa - windowVa);
  const halBase =
    family === 'win7' ? windowVa + BigInt(halOffset) : kernelVa + BigInt(imageSize) + BigInt(PAGE);
  const halEnd = Number(halBase - windowVa) + 0x40000;
  const windowSize = Math.ceil(Math.max(kernelOffset + imageSize, halEnd) / large) * large;
  claimRange(phys, windowPa, windowSize);
  for (let k = 0; k < (pae ? 5 : 1); k++) phys.claim(dtbPfn + k);
  const legacy = family !== 'win7';
  return {
    dtbPfn,
    selfMapIndex: pae ? 3 : 0x300,
    kernel: { base: kernelVa, windowVa, windowPa, windowSize },
    halBase,
    driverArea: legacy
      ? 0xb8000000n + BigInt(rng.int(0, 0x20) * 0x10000)
      : 0x88000000n + BigInt(rng.int(0, 0x20) * 0x10000),
    nonPagedPool: legacy
      ? 0x82000000n + BigInt(rng.int(0, 0x40) * 0x10000)
      : 0x84800000n + BigInt(rng.int(0, 0x40) * 0x10000),
    pagedPool: legacy
      ? 0xe1000000n + BigInt(rng.int(0, 0x40) * 0x10000)
      : 0x94000000n + BigInt(rng.int(0, 0x40) * 0x10000),
    namePool: legacy
      ? 0xe1800000n + BigInt(rng.int(0, 0x40) * 0x10000)
      : 0x96000000n + BigInt(rng.int(0, 0x40) * 0x10000),
    pfnDatabase: legacy ? 0x81000000n : 0x83400000n,
    kuser: KUSER_X86,
    kpcr: legacy ? 0xffdff000n : null,
    lowStubPa: null,
  };
}
