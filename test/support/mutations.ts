// Seeded mutations of builder images for the fuzz test: the ways a damaged capture or a crafted
// file differs from a good one. Each mutant is applied to the image in place and then undone, or
// (for truncation) made as a truncated copy of the image's folder.

import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Truth } from '../../src/builder/index';
import type { Rng } from '../../src/builder/rng';
import type { TestImage } from './images';

interface Patch {
  offset: number;
  bytes: Buffer;
}

export interface Mutant {
  description: string;
  /** The file (of the image's files) that is changed. */
  file: string;
  patches: Patch[];
  truncateAt?: number;
}

const EXTREME_DWORDS = [0, 1, 0x1000, 0x7fffffff, 0x80000000, 0xffffffff];
const HEADER_SPAN = 0x3000;

function word(value: bigint, width: 4 | 8): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt.asUintN(64, value));
  return out.subarray(0, width);
}

/** The pointer-sized values a rootkit or a bit flip would leave in an object's fields. */
function objectPointer(rng: Rng, truth: Truth, own: bigint): bigint {
  const objects = truth.drivers.flatMap((d) => [d.objectVa, ...d.devices.map((v) => v.objectVa)]);
  switch (rng.int(0, 4)) {
    case 0:
      return BigInt(rng.pick(objects)) + BigInt(rng.int(-2, 2) * 8);
    case 1:
      return own + BigInt(rng.int(0, 0x20) * 8);
    case 2:
      return -1n;
    case 3:
      return 0n;
    default:
      return rng.u64();
  }
}

export function makeMutant(rng: Rng, image: TestImage): Mutant {
  const { truth } = image;
  const width = truth.arch === 'x64' ? 8 : 4;
  // The container's own structures live in the .vmss for VMware, in the image file otherwise.
  const container = image.files.find((f) => f.endsWith('.vmss')) ?? image.image;
  const file = rng.chance(0.5) ? container : image.image;
  const size = statSync(file).size;
  const raw = image.image.endsWith('.raw');
  const kinds = ['header bytes', 'header dwords', 'scattered words', 'truncation'];
  if (raw) kinds.push('object fields', 'object fields', 'page-table entries');
  const kind = rng.pick(kinds);
  const patches: Patch[] = [];
  const count = rng.int(1, 24);
  switch (kind) {
    case 'header bytes':
      for (let i = 0; i < count; i++)
        patches.push({
          offset: rng.int(0, Math.min(size, HEADER_SPAN) - 1),
          bytes: Buffer.from([rng.int(0, 255)]),
        });
      break;
    case 'header dwords':
      for (let i = 0; i < count; i++) {
        const offset = rng.int(0, Math.min(size, HEADER_SPAN) / 4 - 1) * 4;
        patches.push({ offset, bytes: word(BigInt(rng.pick(EXTREME_DWORDS)), 4) });
      }
      break;
    case 'scattered words':
      for (let i = 0; i < count * 8; i++)
        patches.push({ offset: rng.int(0, Math.floor(size / 8) - 1) * 8, bytes: word(rng.u64(), 8) });
      break;
    case 'object fields':
      // Raw images: physical address = file offset. Pool header, object header and body alike.
      for (let i = 0; i < count; i++) {
        const driver = rng.pick(truth.drivers);
        const offset = Number(BigInt(driver.objectPa)) - 0x80 + rng.int(0, 0x1d0 / width - 1) * width;
        patches.push({ offset, bytes: word(objectPointer(rng, truth, BigInt(driver.objectVa)), width) });
      }
      break;
    case 'page-table entries': {
      const table = Number(BigInt(truth.dtb)) & ~0xfff;
      for (let i = 0; i < count; i++) {
        const target = rng.chance(0.5) ? BigInt(table) : BigInt(rng.int(0, size / 0x1000)) * 0x1000n;
        const flags = rng.pick([0x03n, 0x63n, 0xe3n, 0x01n]);
        patches.push({
          offset: table + rng.int(0, 0x1000 / width - 1) * width,
          bytes: word(target | flags, width),
        });
      }
      break;
    }
    case 'truncation': {
      const truncateAt = rng.int(0, size - 1);
      return { description: `${basename(file)} cut at ${truncateAt}`, file, patches, truncateAt };
    }
  }
  return { description: `${kind} ×${patches.length} in ${basename(file)}`, file, patches };
}

/**
 * Applies the mutant and returns the path to analyse and a function that undoes it (restores the
 * patched bytes, or removes the truncated copy).
 */
export function applyMutant(image: TestImage, mutant: Mutant): { path: string; undo: () => void } {
  if (mutant.truncateAt !== undefined) {
    const folder = mkdtempSync(join(tmpdir(), 'irpscope-mutant-'));
    for (const file of image.files) copyFileSync(file, join(folder, basename(file)));
    truncateSync(join(folder, basename(mutant.file)), mutant.truncateAt);
    return {
      path: join(folder, basename(image.image)),
      undo: () => rmSync(folder, { recursive: true, force: true }),
    };
  }
  const fd = openSync(mutant.file, 'r+');
  const saved: Patch[] = [];
  try {
    for (const patch of mutant.patches) {
      const old = Buffer.alloc(patch.bytes.length);
      readSync(fd, old, 0, old.length, patch.offset);
      saved.push({ offset: patch.offset, bytes: old });
      writeSync(fd, patch.bytes, 0, patch.bytes.length, patch.offset);
    }
  } finally {
    closeSync(fd);
  }
  return {
    path: image.image,
    undo: () => {
      const restore = openSync(mutant.file, 'r+');
      for (const patch of saved.reverse())
        writeSync(restore, patch.bytes, 0, patch.bytes.length, patch.offset);
      closeSync(restore);
    },
  };
}
