// The kernel's own page directory is the System process's: its DirectoryTableBase. The DTB the
// physical routes find first may belong to another process, and on x86 without PAE a process's
// directory receives the kernel's page-directory entries lazily, so a page directory of another
// process can lack recent kernel mappings (a real NT kernel under QEMU showed it). Once the
// kernel is known, the System process names the right one (spec §1.13): switch to it when it
// differs and validates, and say so.

import { hex } from '../../common/hex';
import type { PhysicalSpace } from '../image';
import type { LayoutProfile } from '../profile';
import { checkDtb, type FoundDtb } from './dtb';
import type { KernelMemory } from './memory';

/** The System process's EPROCESS: PsInitialSystemProcess, else the first on PsActiveProcessHead. */
function systemProcess(
  memory: KernelMemory,
  profile: LayoutProfile,
  kernelBase: bigint,
  exports: Map<string, number>,
  processHead: bigint | null,
): { eprocess: bigint; method: string } | null {
  const variable = exports.get('PsInitialSystemProcess') ?? profile.symbol('PsInitialSystemProcess');
  if (variable !== undefined) {
    const eprocess = memory.ptr(kernelBase + BigInt(variable));
    if (eprocess !== null && memory.isKernelAddress(eprocess))
      return { eprocess, method: 'PsInitialSystemProcess' };
  }
  if (processHead !== null) {
    const first = memory.ptr(processHead);
    if (first !== null && memory.isKernelAddress(first) && first !== processHead)
      return {
        eprocess: first - BigInt(profile.field('_EPROCESS', 'ActiveProcessLinks').offset),
        method: 'the first process on PsActiveProcessHead',
      };
  }
  return null;
}

/** The System process's DTB when it differs from `dtb` and validates; null otherwise. */
export function systemProcessDtb(
  space: PhysicalSpace,
  memory: KernelMemory,
  profile: LayoutProfile,
  dtb: FoundDtb,
  kernelBase: bigint,
  exports: Map<string, number>,
  processHead: bigint | null,
): FoundDtb | null {
  const system = systemProcess(memory, profile, kernelBase, exports, processHead);
  if (!system) return null;
  const field = profile.field('_KPROCESS', 'DirectoryTableBase');
  // KPROCESS is the first member of EPROCESS.
  const raw = memory.ptr(system.eprocess + BigInt(field.offset));
  if (raw === null) return null;
  // x64 CR3 carries a PCID in its low 12 bits; a PAE PDPT is only 32-byte aligned.
  const value = Number(dtb.mode === 'pae' ? raw & 0xffffffe0n : raw & 0xffffffffff000n);
  if (value === 0 || value === dtb.dtb) return null;
  const checked = checkDtb(space, {
    dtb: value,
    mode: dtb.mode,
    method: `DirectoryTableBase of the System process (EPROCESS ${hex(system.eprocess)}, by ${system.method}); the DTB found first (${dtb.method}, ${hex(dtb.dtb)}) belongs to another process`,
  });
  if (!checked || checked === 'missing') return null;
  // The kernel must look the same through it.
  const before = dtb.virtual.translate(kernelBase);
  const after = checked.virtual.translate(kernelBase);
  if (!before.ok || !after.ok || before.pa !== after.pa) return null;
  return checked;
}
