// Streams physical memory to a file in large chunks: content pages from the model, noise for
// free RAM, zeros for holes. Memory stays flat whatever the image size; all-zero pages are
// skipped (left as holes of a sparse file) when asked.

import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { NoiseFill } from '../memory/fill';
import { PAGE, type PhysicalMemory } from '../memory/physical';

export const CHUNK = 4 * 1024 * 1024;

export class ImageFile {
  private readonly fd: number;
  private length = 0;
  private readonly zeros = Buffer.alloc(CHUNK);

  constructor(
    readonly path: string,
    private readonly sparse: boolean,
  ) {
    this.fd = openSync(path, 'w');
  }

  get size(): number {
    return this.length;
  }

  writeAt(position: number, bytes: Uint8Array): void {
    // Only bytes past the end written so far may be left as holes: earlier bytes may hold data.
    const overwritten = this.sparse
      ? Math.min(bytes.length, Math.max(0, this.length - position))
      : bytes.length;
    if (overwritten > 0) this.writeAll(position, bytes.subarray(0, overwritten));
    if (overwritten < bytes.length)
      this.writeSkippingZeroPages(position + overwritten, bytes.subarray(overwritten));
    this.length = Math.max(this.length, position + bytes.length);
  }

  private writeAll(position: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, position + done);
  }

  /** Writes only the runs of pages that hold a non-zero byte; the holes read back as zeros. */
  private writeSkippingZeroPages(position: number, bytes: Uint8Array): void {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let runStart = -1;
    for (let offset = 0; offset < bytes.length; offset += PAGE) {
      const end = Math.min(offset + PAGE, bytes.length);
      const isZero = view.subarray(offset, end).equals(this.zeros.subarray(0, end - offset));
      if (!isZero && runStart < 0) runStart = offset;
      if (isZero && runStart >= 0) {
        this.writeAll(position + runStart, bytes.subarray(runStart, offset));
        runStart = -1;
      }
    }
    if (runStart >= 0) this.writeAll(position + runStart, bytes.subarray(runStart));
  }

  append(bytes: Uint8Array): void {
    this.writeAt(this.length, bytes);
  }

  close(): void {
    ftruncateSync(this.fd, this.length);
    closeSync(this.fd);
  }
}

/** Composes the bytes of physical range [pa, pa + out.length) (page aligned) into `out`. */
export function composePhysical(phys: PhysicalMemory, noise: NoiseFill, pa: number, out: Uint8Array): void {
  noise.fill(out, pa);
  const page = new Uint8Array(PAGE);
  for (let offset = 0; offset < out.length; offset += PAGE) {
    const pfn = (pa + offset) / PAGE;
    const view = out.subarray(offset, offset + PAGE);
    if (phys.contentOf(pfn, page)) view.set(page);
    else if (!phys.isRam(pfn)) view.fill(0);
  }
}

/** Writes physical [start, end) to `file` from file offset `at`, chunk by chunk. */
export function writePhysicalRange(
  file: ImageFile,
  phys: PhysicalMemory,
  noise: NoiseFill,
  start: number,
  end: number,
  at: number,
): void {
  const buffer = new Uint8Array(CHUNK);
  for (let pa = start; pa < end; pa += CHUNK) {
    const length = Math.min(CHUNK, end - pa);
    const view = buffer.subarray(0, length);
    composePhysical(phys, noise, pa, view);
    file.writeAt(at + (pa - start), view);
  }
}
