// Builder images for engine tests. The suite needs well over a hundred 64 MiB images, so by default
// each is built into a temporary folder and removed as soon as its test (or its file) is done: the
// disk footprint stays at a few images whatever the suite grows to. With IRPSCOPE_TEST_IMAGE_CACHE=1
// they are kept under .cache/test-images instead, keyed by the build arguments and a hash of the
// builder's sources (a changed builder rebuilds them), which makes repeated local runs faster.

import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';
import { buildImage, type BuildImageOptions, type Truth } from '../../src/builder/index';

const ROOT = join(__dirname, '../..');
export { ISF_DIR, SHARED } from './shared';
import { ISF_DIR } from './shared';
const CACHE = join(ROOT, '.cache/test-images');
const KEEP = process.env.IRPSCOPE_TEST_IMAGE_CACHE === '1';

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

export interface TestImage {
  image: string;
  files: string[];
  truth: Truth;
}

type ImageOptions = Omit<BuildImageOptions, 'out'>;

function describeFolder(directory: string): TestImage {
  const truth = JSON.parse(readFileSync(join(directory, 'truth.json'), 'utf8')) as Truth;
  const files = readdirSync(directory)
    .filter((f) => f.startsWith('image.'))
    .map((f) => join(directory, f));
  const image = files.find((f) => !f.endsWith('.vmss')) ?? files[0]!;
  return { image, files, truth };
}

function keptImage(options: ImageOptions): TestImage {
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
  return describeFolder(directory);
}

function temporaryImage(options: ImageOptions, registerRemoval: (remove: () => void) => void): TestImage {
  const directory = mkdtempSync(join(tmpdir(), 'irpscope-test-image-'));
  registerRemoval(() => rmSync(directory, { recursive: true, force: true }));
  buildImage({ ...options, out: directory });
  return describeFolder(directory);
}

/** An image for the running test: call it inside a test; it is removed when the test finishes. */
export function imageForTest(options: ImageOptions): TestImage {
  return KEEP ? keptImage(options) : temporaryImage(options, (remove) => onTestFinished(remove));
}

/** An image for the tests of a describe block or file: removed after the last of them. */
export function imageForSuite(options: ImageOptions): TestImage {
  return KEEP ? keptImage(options) : temporaryImage(options, (remove) => afterAll(remove));
}

export function isfFiles(): Array<{ label: string; isf: string }> {
  return readdirSync(ISF_DIR)
    .filter((f) => f.endsWith('.json.xz'))
    .sort()
    .map((f) => ({ label: f.slice(0, 8), isf: join(ISF_DIR, f) }));
}
