// Container formats → PhysicalSpace (../shared/DESIGN.md, "container"; spec §5).

export { openImageFromSource, type Companions } from './open';
export { ImageError, type ImageErrorKind } from './errors';
export { sniff, type ContainerKind } from './sniff';
export { MAX_PHYSICAL_READ } from './run-space';
export { MAX_RUNS } from './run-table';
export type {
  BugCheck,
  CpuState,
  FormatDetails,
  ImageFormat,
  ImageFormatId,
  ImageHints,
  Machine,
  PhysicalReadOptions,
  PhysicalRun,
  PhysicalSpace,
  TriageDataBlock,
  TriageDump,
  TriageModule,
} from './types';
