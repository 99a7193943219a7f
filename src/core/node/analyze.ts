// `analyze`: open an image, find its kernel and recover drivers, devices, modules, links and
// findings, as the AnalysisResult document.

import { statSync } from 'node:fs';
import type { AnalysisResult, Progress } from '../../common/model';
import { analyzeKernel, type AnalyzeOptions } from '../analysis/analyze';
import type { PhysicalSpace } from '../image';
import { discoverKernel, type KernelContext } from '../kernel/discover';
import { findDtb } from '../kernel/dtb';
import { requireKernel } from '../kernel/presence';
import { establishLayouts } from '../layout';
import type { ScanResult } from '../scan/tags';
import { openImage } from './open-image';
import { symbolFolder } from './profile/symbol-folder';
import { scanPool } from './scan/scan';

export interface AnalyzeImageOptions {
  symbols?: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  workers?: number;
}

type PoolScanOptions = Pick<AnalyzeImageOptions, 'onProgress' | 'signal' | 'workers'>;

/** The file holding the physical pages (a .vmem beside a .vmss, else the image itself). */
export function dataFileOf(context: KernelContext, path: string): string {
  return context.space.format.details.dataFile ?? path;
}

/** Starts the physical pool scan over `dataFile`; progress is reported as the 'pool scan' stage. */
export function startPoolScan(
  space: PhysicalSpace,
  dataFile: string,
  alignment: 8 | 16,
  options: PoolScanOptions,
): Promise<ScanResult> {
  return scanPool(space, {
    dataFile,
    alignment,
    signal: options.signal,
    workers: options.workers,
    onProgress: (fraction) =>
      options.onProgress?.({
        stage: 'pool scan',
        fraction: 0.05 + fraction * 0.75,
        detail: `${Math.round(fraction * 100)}%`,
      }),
  });
}

/** The pool scan an analysis asks for: the one started early, else a new one over the image's pages. */
export function poolScanOf(
  context: KernelContext,
  path: string,
  options: PoolScanOptions,
  early?: Promise<ScanResult>,
): AnalyzeOptions['poolScan'] {
  return (alignment) => early ?? startPoolScan(context.space, dataFileOf(context, path), alignment, options);
}

export interface OpenedForAnalysis {
  context: KernelContext;
  /** The pool scan, already running (absent when no DTB was found: the analysis then has none). */
  scan?: Promise<ScanResult>;
}

/**
 * Opens the image and finds its kernel. The pool scan needs only the physical layout and the
 * pointer width, so it starts right after the DTB is known and runs on the other cores while the
 * main thread finds the kernel. On failure everything opened is closed again.
 */
export async function openForAnalysis(
  path: string,
  options: AnalyzeImageOptions = {},
): Promise<OpenedForAnalysis> {
  const space = openImage(path);
  let scan: Promise<ScanResult> | undefined;
  const stopScan = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopScan.signal]) : stopScan.signal;
  try {
    const dtbSearch = findDtb(space);
    if (dtbSearch.found) {
      const dataFile = space.format.details.dataFile ?? path;
      scan = startPoolScan(space, dataFile, dtbSearch.found.mode === 'x64' ? 16 : 8, { ...options, signal });
      scan.catch(() => undefined); // awaited (and reported) by the analysis
    }
    const discovered = await discoverKernel(space, {
      path,
      fileSize: statSync(path).size,
      symbols: symbolFolder(options.symbols),
      dtbSearch,
    });
    requireKernel(discovered.info);
    const context = establishLayouts(discovered);
    context.info.bytesRead = space.bytesRead;
    return { context, scan };
  } catch (error) {
    stopScan.abort();
    await scan?.catch(() => undefined);
    space.close();
    throw error;
  }
}

/** Opens, discovers and analyses: the CLI's and the tests' one call. */
export function analyzeImage(path: string, options: AnalyzeImageOptions = {}): Promise<AnalysisResult> {
  return withAnalysis(path, options, (_context, result) => result);
}

/**
 * Opens, discovers and analyses, then hands the still-open kernel and the result to `use`
 * (to read more of the image, e.g. an extraction); the image is closed when `use` returns.
 */
export async function withAnalysis<T>(
  path: string,
  options: AnalyzeImageOptions,
  use: (context: KernelContext, result: AnalysisResult) => T,
): Promise<T> {
  options.onProgress?.({ stage: 'opening', fraction: 0 });
  const { context, scan } = await openForAnalysis(path, options);
  try {
    const result = await analyzeKernel(context, {
      poolScan: poolScanOf(context, path, options, scan),
      onProgress: options.onProgress,
      signal: options.signal,
    });
    options.onProgress?.({ stage: 'done', fraction: 1 });
    return use(context, result);
  } finally {
    await scan?.catch(() => undefined);
    context.space.close();
  }
}
