// `irpscope extract`: open an image, analyse it (the drivers and modules say where images are),
// and extract one of them.

import { withAnalysis, type AnalyzeImageOptions } from './analyze';
import { extractImage, type Extraction, type ExtractTarget } from '../extract';

export function extractFromImage(
  path: string,
  target: ExtractTarget,
  options: AnalyzeImageOptions = {},
): Promise<Extraction> {
  return withAnalysis(path, options, (context, result) => extractImage(context, result, target));
}
