// Streams physical memory to a file in large chunks: content pages from the model, noise for
// free RAM, zeros for holes. Memory stays flat whatever the image size; zero chunks are skipped
// (sparse) when asked.

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
    const end = position + bytes.length;
    const zero =
      this.sparse &&
      bytes.length <= CHUNK &&
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).equals(this.zeros.subarray(0, bytes.length));
    if (!zero) {
      let done = 0;
      while (done < bytes.length)
        done += writeSync(this.fd, bytes, done, bytes.length - done, position + done);
    }
    this.length = Math.max(this.length, end);
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
