// A copy of a built image with chosen kernel virtual addresses overwritten (each at the physical
// address the image's page tables give it): how the hostile-input tests craft what a rootkit or a
// damaged capture leaves. The copy is removed when the test finishes.

import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import type { Truth } from '../../src/builder/index';
import { RawImage, VirtualReader } from './raw-reader';

export type ImageEdit = { va: bigint; value: bigint } | { va: bigint; bytes: Buffer };

/** A copy of the image with each pointer-sized `value` (or `bytes`) written at its `va`. */
export function patchedImageCopy(image: string, truth: Truth, edits: readonly ImageEdit[]): string {
  const work = mkdtempSync(join(tmpdir(), 'irpscope-patched-'));
  onTestFinished(() => rmSync(work, { recursive: true, force: true }));
  const copy = join(work, 'image.raw');
  copyFileSync(image, copy);
  const raw = new RawImage(copy);
  const reader = new VirtualReader(raw, truth.paging, Number(BigInt(truth.dtb)));
  const width = truth.arch === 'x64' ? 8 : 4;
  const located = edits.map((edit) => {
    if ('bytes' in edit) return { pa: reader.pa(edit.va), bytes: edit.bytes };
    const bytes = Buffer.alloc(width);
    if (width === 8) bytes.writeBigUInt64LE(edit.value);
    else bytes.writeUInt32LE(Number(edit.value));
    return { pa: reader.pa(edit.va), bytes };
  });
  raw.close();
  const fd = openSync(copy, 'r+');
  try {
    for (const { pa, bytes } of located) {
      expect(pa).not.toBeNull();
      writeSync(fd, bytes, 0, bytes.length, pa!);
    }
  } finally {
    closeSync(fd);
  }
  return copy;
}
