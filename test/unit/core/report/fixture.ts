// The material of the report tests: the clean and infected builder images (the rootkit's driver
// name carries markup and control characters on purpose) analysed by the real engine, and each
// result as the workbench receives it: through JSON, so no two objects in it are the same object.

import { afterAll, beforeAll } from 'vitest';
import { analyzeImage } from '../../../../src/core/node/analyze';
import type { AnalysisResult } from '../../../../src/common/model';
import { buildTestImages, type TestImages } from '../../backend/images';

export interface ReportMaterial {
  images: TestImages;
  clean: AnalysisResult;
  infected: AnalysisResult;
}

/** Builds and analyses the two images once for the calling test file; read `material()` inside tests. */
export function useReportMaterial(): () => ReportMaterial {
  let material: ReportMaterial | undefined;
  beforeAll(async () => {
    const images = buildTestImages();
    const [clean, infected] = await Promise.all([analyzeImage(images.clean), analyzeImage(images.infected)]);
    material = { images, clean: throughJson(clean), infected: throughJson(infected) };
  });
  afterAll(() => material?.images.remove());
  return () => {
    if (!material) throw new Error('the report material is built in beforeAll');
    return material;
  };
}

export function throughJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** RFC 4180, read by hand: records of fields, quotes doubled inside quoted fields, CRLF between records. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  const endField = () => {
    record.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = true;
    } else if (c === ',') endField();
    else if (c === '\r' && text[i + 1] === '\n') {
      endField();
      records.push(record);
      record = [];
      i++;
    } else if (c === '\n' || c === '\r') throw new Error(`a bare line break at ${i}`);
    else field += c;
  }
  if (quoted) throw new Error('an unterminated quoted field');
  if (field !== '' || record.length) throw new Error('the last record has no CRLF');
  return records;
}
