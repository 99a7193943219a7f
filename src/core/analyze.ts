// `analyze`: open an image, find its kernel and recover drivers, devices, modules, links and
// findings (issue "Engine, part 2"), as the AnalysisResult document.

import { statSync } from 'node:fs';
import type { AnalysisResult, Progress } from '../common/model';
import { analyzeKernel } from './analysis/analyze';
import { openKernel } from './info';
import type { KernelContext } from './kernel/discover';

export interface AnalyzeImageOptions {
  symbols?: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  workers?: number;
}

/** The file holding the physical pages (a .vmem beside a .vmss, else the image itself). */
export function dataFileOf(context: KernelContext, path: string): string {
  return context.space.format.details.dataFile ?? path;
}

export async function analyzeImage(path: string, options: AnalyzeImageOptions = {}): Promise<AnalysisResult> {
  options.onProgress?.({ stage: 'opening', fraction: 0 });
  const context = await openKernel(path, { symbols: options.symbols });
  try {
    const result = await analyzeKernel(context, {
      dataFile: dataFileOf(context, path),
      onProgress: options.onProgress,
      signal: options.signal,
      workers: options.workers,
    });
    options.onProgress?.({ stage: 'done', fraction: 1 });
    return result;
  } finally {
    context.space.close();
  }
}

export function imageFileSize(path: string): number {
  return statSync(path).size;
}
