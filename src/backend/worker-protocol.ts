// Messages between a session (main thread) and its worker thread. Everything is structured-clone
// safe; addresses travel as "0x…" strings like everywhere else in the API.

import type { MemorySpace, StructureKind } from '../common/api';
import type { AnalysisResult, ImageInfo, Progress } from '../common/model';
import type { EngineOptions } from './engine-contract';

export interface SessionWorkerData {
  path: string;
  options: EngineOptions;
  /** Module exporting `openEngine`; null: the engine bundled beside the worker. */
  engineModule: string | null;
  /** 'analyse' opens and analyses; 'serve' only opens, to answer memory requests after a restart. */
  mode: 'analyse' | 'serve';
}

export type WorkerRequest =
  | { id: number; method: 'readMemory'; space: MemorySpace; address: string; length: number }
  | { id: number; method: 'disassemble'; address: string; count: number }
  | { id: number; method: 'structure'; kind: StructureKind; address: string }
  | { id: number; method: 'extractImage'; base: string; fallbackSize: number | null };

export type WorkerMessage =
  | { type: 'progress'; progress: Progress }
  | { type: 'info'; info: ImageInfo }
  | { type: 'result'; result: AnalysisResult }
  | { type: 'failed'; stage: string; message: string }
  | { type: 'response'; id: number; value?: unknown; error?: string };
