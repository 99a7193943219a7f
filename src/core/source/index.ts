// Byte sources: where the bytes of an image come from (../shared/DESIGN.md, "source").

export { BlockCache } from './block-cache';
export { BufferSource } from './buffer-source';
export { FileSource, type FileSourceOptions } from '../node/file-source';
export { clampRead, SourceError, type ByteSource, type SourceErrorKind, type SourceStats } from './types';
