// Byte sources: where the bytes of an image come from (../shared/DESIGN.md, "source"); a file
// is read by node/file-source.ts.

export { BlockCache } from './block-cache';
export { BufferSource } from './buffer-source';
export { clampRead, SourceError, type ByteSource, type SourceErrorKind, type SourceStats } from './types';
