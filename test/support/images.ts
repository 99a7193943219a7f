// Builder images for engine tests, built once and cached under .cache/test-images, keyed by the
// build arguments and a hash of the builder's sources (a changed builder rebuilds them).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, type BuildImageOptions, type Truth } from '../../src/builder/index';

const ROOT = join(__dirname, '../..');
export const SHARED = join(ROOT, '../shared');
export const ISF_DIR = join(SHARED, 'isf/windows/ntkrnlmp.pdb');
const CACHE = join(ROOT, '.cache/test-images');

function sourcesHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) hash.update(name).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'src/builder'));
  walk(join(ROOT, 'src/common'));
  return hash.digest('hex').slice(0, 12);
}

let builderHash: string | undefined;

export interface CachedImage {
  image: string;
  files: string[];
  truth: Truth;
}

export function cachedImage(options: Omit<BuildImageOptions, 'out'>): CachedImage {
  builderHash ??= sourcesHash();
  const key = createHash('sha256')
    .update(JSON.stringify({ ...options, builder: builderHash }))
    .digest('hex')
    .slice(0, 16);
  const directory = join(CACHE, key);
  if (!existsSync(join(directory, 'truth.json'))) {
    mkdirSync(CACHE, { recursive: true });
    const work = `${directory}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    buildImage({ ...options, out: work });
    try {
      renameSync(work, directory);
    } catch {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const truth = JSON.parse(readFileSync(join(directory, 'truth.json'), 'utf8')) as Truth;
  const files = readdirSync(directory)
    .filter((f) => f.startsWith('image.'))
    .map((f) => join(directory, f));
  const image = files.find((f) => !f.endsWith('.vmss')) ?? files[0]!;
  return { image, files, truth };
}

export function isfFiles(): Array<{ label: string; isf: string }> {
  return readdirSync(ISF_DIR)
    .filter((f) => f.endsWith('.json.xz'))
    .sort()
    .map((f) => ({ label: f.slice(0, 8), isf: join(ISF_DIR, f) }));
}
