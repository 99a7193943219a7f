// `irpscope extract`: open an image, analyse it (the drivers and modules say where images are),
// and extract one of them, with the SHA-256 of the file it becomes.

import { createHash } from 'node:crypto';
import type { AnalysisResult } from '../../common/model';
import {
  pageReaderOf,
  rebuildPe,
  resolveTarget,
  type ExtractedImage,
  type Extraction,
  type ExtractTarget,
  type RebuiltImage,
} from '../extract';
import type { KernelContext } from '../kernel/discover';
import { withAnalysis, type AnalyzeImageOptions } from './analyze';

/** The image with the SHA-256 of its bytes. */
export function withSha256(image: RebuiltImage): ExtractedImage {
  return { ...image, sha256: createHash('sha256').update(image.bytes).digest('hex') };
}

/** The target's image rebuilt from the kernel (still open) that `result` was analysed from. */
export function extractImage(
  context: KernelContext,
  result: AnalysisResult,
  target: ExtractTarget,
): Extraction {
  const resolved = resolveTarget(result, target);
  const image = withSha256(rebuildPe(pageReaderOf(context), resolved.base, resolved.size));
  return { ...image, label: resolved.label, fileName: resolved.fileName };
}

export function extractFromImage(
  path: string,
  target: ExtractTarget,
  options: AnalyzeImageOptions = {},
): Promise<Extraction> {
  return withAnalysis(path, options, (context, result) => extractImage(context, result, target));
}
