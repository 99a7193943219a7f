// The campaign's base images: one infected system per paging mode (x64 from a shared ISF when
// ../shared/isf is there, x86 with and without PAE), random-filled, in every container format,
// built once into .cache/fuzz and kept while the builder is unchanged. For each, where every
// physical page lies in which file, so that mutations can aim at kernel structures.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, type BuildImageOptions, type Truth } from '../../src/builder/index';
import type { ByteSource } from '../../src/core/source';
import { FileSource } from '../../src/core/node/file-source';
import { openImage } from '../../src/core/node/open-image';
import { sharedDirectory } from '../support/shared';

export const FORMATS = ['raw', 'dmp-full', 'dmp-bitmap', 'vmware', 'elf'] as const;
export type Format = (typeof FORMATS)[number];

/** The x64 layout's symbols, beside the checkout (`root`) when the shared data is there. */
function isfPath(root: string): string {
  return join(sharedDirectory(root), 'isf/windows/ntkrnlmp.pdb/1C9875F76C8F0FBF3EB9A9D7C1C27406-1.json.xz');
}

export interface Layout {
  key: string;
  label: string;
  options: Pick<BuildImageOptions, 'isf' | 'profile'>;
}

/** The layouts this machine can build: x64 needs the shared ISF files. */
export function layouts(root: string): { available: Layout[]; skipped: string[] } {
  const isf = isfPath(root);
  const available: Layout[] = [
    { key: 'x86-pae', label: 'x86 PAE (XP SP3)', options: { profile: 'xp-sp3-x86' } },
    { key: 'x86', label: 'x86 (7 SP1, no PAE)', options: { profile: 'win7-sp1-x86' } },
  ];
  const skipped: string[] = [];
  if (existsSync(isf)) available.unshift({ key: 'x64', label: 'x64 (10 2004)', options: { isf } });
  else skipped.push(`x64: no ${isf} beside this checkout (the x86 layouts need nothing outside it)`);
  return { available, skipped };
}

export interface BaseImage {
  key: string;
  layout: Layout;
  format: Format;
  /** The file analysed; `companion` is the .vmss of a .vmem. */
  image: string;
  companion: string | null;
  truth: Truth;
  sources: Map<string, ByteSource>;
  /** The file and offset holding a physical address, or null for a hole. */
  locate(pa: number): { file: string; offset: number } | null;
}

function builderHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(name).update(readFileSync(path));
    }
  };
  walk(join(root, 'src/builder'));
  return hash.digest('hex').slice(0, 10);
}

/** Builds (or reuses) the base images under `cache`. */
export function prepareCorpus(
  root: string,
  cache: string,
  layoutList: Layout[],
  only?: readonly string[],
): BaseImage[] {
  const version = builderHash(root);
  mkdirSync(cache, { recursive: true });
  const out: BaseImage[] = [];
  for (const layout of layoutList) {
    for (const format of FORMATS) {
      const key = `${layout.key}-${format}`;
      if (only && !only.includes(key)) continue;
      const folder = join(cache, `${version}-${key}`);
      if (!existsSync(join(folder, 'truth.json'))) {
        const work = `${folder}.partial-${process.pid}`;
        rmSync(work, { recursive: true, force: true });
        buildImage({
          ...layout.options,
          format,
          scenario: 'infected',
          size: 64 * 1024 * 1024,
          seed: 'fuzz',
          fill: 'random',
          out: work,
        });
        renameSync(work, folder);
      }
      out.push(openBase(key, layout, format, folder));
    }
  }
  // Base images of another builder version are no use any more (the case seeds keep their own).
  if (!only)
    for (const name of readdirSync(cache))
      if (
        !name.startsWith(`${version}-`) &&
        !name.startsWith('cases-') &&
        !['bin', 'crashes'].includes(name) &&
        !name.endsWith('.json')
      )
        rmSync(join(cache, name), { recursive: true, force: true });
  return out;
}

function openBase(key: string, layout: Layout, format: Format, folder: string): BaseImage {
  const files = readdirSync(folder).filter((f) => f.startsWith('image.'));
  const image = join(
    folder,
    files.find((f) => !f.endsWith('.vmss'))!,
  );
  const vmss = files.find((f) => f.endsWith('.vmss'));
  const truth = JSON.parse(readFileSync(join(folder, 'truth.json'), 'utf8')) as Truth;
  const space = openImage(image);
  const runs = Array.from({ length: space.runCount }, (_, i) => space.runAt(i));
  const dataFile = space.format.details.dataFile ?? image;
  space.close();
  const sources = new Map<string, ByteSource>();
  for (const file of [image, ...(vmss ? [join(folder, vmss)] : [])])
    sources.set(file, FileSource.open(file, { cacheBytes: 4 << 20 }));
  return {
    key,
    layout,
    format,
    image,
    companion: vmss ? join(folder, vmss) : null,
    truth,
    sources,
    locate(pa: number) {
      for (const run of runs)
        if (pa >= run.start && pa < run.start + run.length)
          return { file: dataFile, offset: run.fileOffset + (pa - run.start) };
      return null;
    },
  };
}
