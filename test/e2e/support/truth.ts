// The demo case's ground truth and an independent reader of its raw image, to check what the
// workbench shows against what the builder planted.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Truth } from '../../../src/builder/truth';
import { RawImage, VirtualReader } from '../../support/raw-reader';
import { DEMO } from './paths';

export function demoTruth(scenario: 'infected' | 'clean' = 'infected'): Truth {
  return JSON.parse(readFileSync(join(DEMO, scenario, 'truth.json'), 'utf8')) as Truth;
}

/** Bytes at a kernel virtual address of the demo's infected image, as lowercase hex pairs. */
export function bytesAt(va: string, length: number): string[] {
  const truth = demoTruth();
  const image = new RawImage(join(DEMO, 'infected', 'image.raw'));
  try {
    const bytes = new VirtualReader(image, truth.paging, Number(BigInt(truth.dtb))).read(BigInt(va), length);
    if (!bytes) throw new Error(`${va} is not mapped`);
    return [...bytes].map((b) => b.toString(16).padStart(2, '0'));
  } finally {
    image.close();
  }
}

/**
 * A name as the workbench must show it: each control character as a visible \uXXXX escape (the
 * builder's hostile names hold BEL and ESC). Written here, not taken from the product.
 */
export function shownAs(name: string): string {
  const control = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f);
  return [...name]
    .map((c) => (control(c.charCodeAt(0)) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c))
    .join('');
}
