// What the workbench's backend needs from the engine, per opened image. The backend runs one
// worker thread per session; inside it, an EngineHandle does the work. Keeping this seam narrow
// lets the backend be tested with a stand-in engine and lets the engine change freely behind it.

import type { MemoryChunk, MemorySpace, StructureKind, StructureView } from '../common/api';
import type { AnalysisResult, Disassembly, ImageInfo, Progress } from '../common/model';
import type { ExtractedImage } from './extract/pe-rebuild';

export interface EngineOptions {
  /** A Volatility 3 style symbol directory (ISF files) to use when the kernel's PDB matches. */
  symbols?: string;
  /**
   * The caller analyses right after opening: work that needs only the physical layout (the pool
   * scan) may start while the kernel is still being found, reporting through `onProgress`.
   */
  analyzeAfterOpen?: boolean;
}

export interface EngineHandle {
  /** Image facts (format, arch, DTB, kernel, build...), available right after opening. */
  info(): ImageInfo;
  /** The full analysis; reports progress; stops early (rejecting) when `signal` aborts. */
  analyze(onProgress: (progress: Progress) => void, signal: AbortSignal): Promise<AnalysisResult>;
  readMemory(space: MemorySpace, address: bigint, length: number): MemoryChunk;
  disassemble(address: bigint, count: number): Disassembly;
  structure(kind: StructureKind, address: bigint): StructureView;
  /**
   * The PE image loaded at `base` rebuilt as a file (extract/pe-rebuild.ts); `fallbackSize` is
   * written as raw memory when its headers are not in memory. Throws ExtractError.
   */
  extractImage(base: bigint, fallbackSize: number | null): ExtractedImage;
  close(): void;
}

/** A module that a session worker imports: `export function openEngine(path, options)`. Opening finds the kernel. */
export type OpenEngine = (
  path: string,
  options: EngineOptions,
  onProgress: (progress: Progress) => void,
) => EngineHandle | Promise<EngineHandle>;
