// x86, PAE and x64 translation over a PhysicalSpace (../shared/DESIGN.md, "paging"; spec §2).

export { clampBound, numberToVa, vaToNumber } from './address';
export { MODES, normaliseDtb, type LevelSpec, type ModeSpec } from './modes';
export { looksLikePaePdpt, looksLikeX64Pml4, looksLikeX86Pd, type TableCheckOptions } from './validators';
export { VirtualSpace, type VirtualSpaceOptions } from './virtual-space';
export type {
  MappingWalkOptions,
  MappingWalkResult,
  Mapped,
  PageMapping,
  PagingMode,
  PartialRead,
  PhysicalReader,
  TableLevel,
  Translation,
  TranslationFailureReason,
  Unmapped,
  VirtualRead,
  WalkLevel,
} from './types';
