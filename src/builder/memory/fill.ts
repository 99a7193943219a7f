// Noise for unused physical pages. "random" is the AES-128-CTR keystream of a key derived from
// the seed, addressed by physical offset, so any page's noise can be produced independently
// and fast (AES-NI) when the image is streamed to disk.

import { createCipheriv, createHash } from 'node:crypto';

export type FillMode = 'random' | 'zero';

export class NoiseFill {
  private readonly key: Buffer;

  constructor(
    readonly mode: FillMode,
    seed: string,
  ) {
    this.key = createHash('sha256').update(`irpscope-fill/${seed}`).digest().subarray(0, 16);
  }

  /** Fills `target` with the noise of physical bytes [pa, pa + target.length); pa is 16-aligned. */
  fill(target: Uint8Array, pa: number): void {
    if (this.mode === 'zero') {
      target.fill(0);
      return;
    }
    if (pa % 16 !== 0) throw new Error('noise fill must start on a 16-byte boundary');
    const iv = Buffer.alloc(16);
    const block = pa / 16;
    iv.writeUInt32BE(Math.floor(block / 0x100000000) >>> 0, 8);
    iv.writeUInt32BE(block >>> 0, 12);
    const cipher = createCipheriv('aes-128-ctr', this.key, iv);
    const zeros = Buffer.alloc(target.length);
    const stream = cipher.update(zeros);
    target.set(stream);
  }
}
