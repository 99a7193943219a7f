// KDDEBUGGER_DATA64 ("KDBG"): one fixed 64-bit-field layout on x86 and x64 whose length grows with
// the Windows version. No ISF file defines it, so these constants serve ISF profiles too.
// Source: ../shared/spec/windows-memory.md §1.15 (V2:overlays/windows/kdbg_vtypes.py, `kdbgsize`).

import { at } from './tables/dsl';
import type { Arch, FieldLayout, StructLayout } from './types';

export const KDBG_STRUCT = '_KDDEBUGGER_DATA64';
/** 'KDBG' as the little-endian u32 at +0x10 (§1.15). */
export const KDBG_OWNER_TAG = 0x4742444b;

/**
 * §1.15. Pointer-valued fields hold the address of the kernel variable, not its value; on x86 only
 * the low 32 bits count (MSVC sign-extends, ReactOS zero-extends).
 */
const KDBG_FIELDS: Readonly<Record<string, FieldLayout>> = {
  List: at(0x00, 0x10),
  OwnerTag: at(0x10, 4),
  Size: at(0x14, 4),
  KernBase: at(0x18, 8),
  BreakpointWithStatus: at(0x20, 8),
  SavedContext: at(0x28, 8),
  KiCallUserMode: at(0x38, 8),
  PsLoadedModuleList: at(0x48, 8),
  PsActiveProcessHead: at(0x50, 8),
  PspCidTable: at(0x58, 8),
  ExpSystemResourcesList: at(0x60, 8),
  KeBugCheckCallbackListHead: at(0x80, 8),
  IopErrorLogListHead: at(0x90, 8),
  ObpRootDirectoryObject: at(0x98, 8),
  ObpTypeObjectType: at(0xa0, 8),
  MmPfnDatabase: at(0xc0, 8),
  MmSystemPtesStart: at(0xc8, 8),
  MmNonPagedPoolStart: at(0x110, 8),
  MmNonPagedPoolEnd: at(0x118, 8),
  MmPagedPoolStart: at(0x120, 8),
  MmPagedPoolEnd: at(0x128, 8),
  PoolTrackTable: at(0x1b8, 8),
  MmHighestUserAddress: at(0x1c8, 8),
  MmSystemRangeStart: at(0x1d0, 8),
  MmLoadedUserImageList: at(0x200, 8),
  NtBuildLab: at(0x208, 8),
  KiProcessorBlock: at(0x218, 8),
  MmUnloadedDrivers: at(0x220, 8),
  MmLastUnloadedDriver: at(0x228, 8),
  CmNtCSDVersion: at(0x268, 8),
  MmPhysicalMemoryBlock: at(0x270, 8),
  SizeEProcess: at(0x2a8, 2),
  OffsetEprocessPeb: at(0x2aa, 2),
  OffsetEprocessParentCID: at(0x2ac, 2),
  OffsetEprocessDirectoryTableBase: at(0x2ae, 2),
  SizeEThread: at(0x2c0, 2),
  KeLoaderBlock: at(0x2d8, 8),
  OffsetPrcbContext: at(0x338, 2),
};

export interface KdbgSize {
  readonly size: number;
  readonly source: string;
}

/** Header.Size by first build (§1.15, `V2:overlays/windows/*.py` kdbgsize). */
const KDBG_SIZES: readonly (readonly [firstBuild: number, size: number, source: string])[] = [
  [2600, 0x290, '§1.15 (XP)'],
  [3790, 0x318, '§1.15 (2003)'],
  [6000, 0x328, '§1.15 (Vista RTM)'],
  [6001, 0x330, '§1.15 (Vista SP1/SP2)'],
  [7600, 0x340, '§1.15 (7)'],
  [9200, 0x360, '§1.15 (8, 8.1, 10 before 14393)'],
  [14393, 0x368, '§1.15 (10 14393–17134)'],
  [17763, 0x380, '§1.15 (10 17763+)'],
  // Not in the spec: in the ISF files for 20348 and 22000 the symbol after KdDebuggerDataBlock is
  // at +0x380, as in 17763–19041 where the block is 0x380 [DERIVED upper bound, consistent].
  [20348, 0x380, 'ISF 20348/22000: next symbol at KdDebuggerDataBlock+0x380 [DERIVED]'],
];

/** KDBG size for a build (the nearest lower known one). Throws below XP. */
export function kdbgSizeForBuild(build: number): KdbgSize {
  let found: KdbgSize | undefined;
  for (const [firstBuild, size, source] of KDBG_SIZES) if (build >= firstBuild) found = { size, source };
  if (found === undefined) throw new RangeError(`no KDDEBUGGER_DATA64 size known for build ${build}`);
  return found;
}

/** The KDBG layout of a given Header.Size: fields that end beyond it are absent in that version. */
export function kdbgLayout(size: number): StructLayout {
  const fields = Object.fromEntries(
    Object.entries(KDBG_FIELDS).filter(([, field]) => field.offset + field.size <= size),
  );
  return { size, fields };
}

/** §1.15: KdVersionBlock in the KPCR (x86 CPU 0's KPCR is at the fixed VA 0xFFDFF000). */
export function kpcrFacts(arch: Arch): { kdVersionBlockOffset: number; cpu0Va?: bigint } {
  return arch === 'x64'
    ? { kdVersionBlockOffset: 0x108 }
    : { kdVersionBlockOffset: 0x34, cpu0Va: 0xffdff000n };
}
