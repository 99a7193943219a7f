// `irpscope extract`: open an image, analyse it (the drivers and modules say where images are),
// and extract one of them.

import { analyzeKernel } from '../analysis/analyze';
import { dataFileOf, openForAnalysis, type AnalyzeImageOptions } from '../analyze';
import { extractImage, type Extraction, type ExtractTarget } from './index';

export async function extractFromImage(
  path: string,
  target: ExtractTarget,
  options: AnalyzeImageOptions = {},
): Promise<Extraction> {
  const { context, scan } = await openForAnalysis(path, options);
  try {
    const result = await analyzeKernel(context, {
      dataFile: dataFileOf(context, path),
      onProgress: options.onProgress,
      signal: options.signal,
      workers: options.workers,
      scan,
    });
    return extractImage(context, result, target);
  } finally {
    await scan?.catch(() => undefined);
    context.space.close();
  }
}
