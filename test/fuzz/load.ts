// What a campaign's targets need, loaded once per thread: the base images with the places of
// their kernel structures (for the image targets) and the seed corpora of the other targets.

import { openImageFromSource } from '../../src/core/image';
import { layouts, prepareCorpus, type BaseImage } from './corpus';
import { isBytesTarget, sitesOf, type Bases, type FuzzInput, type ImageTarget, type Target } from './mutate';
import { OverlaySource } from './overlay-source';
import {
  craftedPeSeeds,
  moduleHeaderSeeds,
  prepareCaseSeeds,
  qmpSeeds,
  type BytesTarget,
  type Seed,
} from './seeds';
import type { SerialInput } from './worker';

/** Which kinds of input `only` (the campaign's --target; all image targets when absent) makes. */
export function needs(only?: readonly Target[]): { images: boolean; bytes: BytesTarget[] } {
  return {
    images: !only || only.some((target) => !isBytesTarget(target)),
    bytes: (only ?? []).filter(isBytesTarget),
  };
}

function withSites(list: BaseImage[]): Bases['sites'] {
  const sites: Bases['sites'] = new Map();
  for (const base of list) {
    const main = base.sources.get(base.companion ?? base.image)!;
    const companion = base.companion
      ? { vmwareMemory: new OverlaySource(base.sources.get(base.image)!, []) }
      : {};
    sites.set(base.key, sitesOf(base, openImageFromSource(new OverlaySource(main, []), companion)));
  }
  return sites;
}

/**
 * The bases and seeds for `only`, built into `cache` when missing. The PE headers and the case
 * files come from the raw base image of each layout.
 */
export function loadBases(root: string, cache: string, only?: readonly Target[]): Bases {
  const { available } = layouts(root);
  const { images, bytes } = needs(only);
  const list = images ? prepareCorpus(root, cache, available) : [];
  const fromImages = bytes.includes('pe-headers') || bytes.includes('case-files');
  const raw = !fromImages
    ? []
    : images
      ? list.filter((base) => base.format === 'raw')
      : prepareCorpus(
          root,
          cache,
          available,
          available.map((layout) => `${layout.key}-raw`),
        );
  const seeds: Bases['seeds'] = {
    'pe-headers': bytes.includes('pe-headers')
      ? [...raw.flatMap(moduleHeaderSeeds), ...craftedPeSeeds()]
      : [],
    'qmp-replies': bytes.includes('qmp-replies') ? qmpSeeds(root) : [],
    'case-files': bytes.includes('case-files') ? prepareCaseSeeds(root, cache, raw) : [],
  };
  if (!images) for (const base of raw) for (const source of base.sources.values()) source.close();
  return { list, sites: withSites(list), seeds };
}

/** Closes the files of the base images. */
export function closeBases(bases: Bases): void {
  for (const base of bases.list) for (const source of base.sources.values()) source.close();
}

/** A saved input (a crash, a hang, a regression) made again over `bases` (seed-fed targets need none). */
export function savedInput(saved: SerialInput, bases: Pick<Bases, 'list'>): FuzzInput {
  if (isBytesTarget(saved.target)) {
    const bytes = new Uint8Array(Buffer.from(saved.data ?? '', 'base64'));
    const seed: Seed = {
      key: saved.base,
      target: saved.target,
      bytes,
      ...(saved.peBase ? { base: BigInt(saved.peBase) } : {}),
      ...(saved.qmp ? { qmp: saved.qmp } : {}),
    };
    return {
      index: saved.index,
      base: saved.base,
      target: saved.target,
      seed,
      steps: [],
      stepLabels: [],
      campaignSeed: saved.seed,
      bytes,
      ...(saved.qmp ? { qmp: saved.qmp } : {}),
      ...(saved.peMemory ? { peMemory: saved.peMemory } : {}),
      description: saved.description,
    };
  }
  const base = bases.list.find((b) => b.key === saved.base);
  if (!base) throw new Error(`no base image ${saved.base} on this machine`);
  const file = [base.image, base.companion].find((f) => f && f.endsWith(`/${saved.file}`));
  if (!file) throw new Error(`base ${saved.base} has no file ${saved.file}`);
  return {
    index: saved.index,
    base: saved.base,
    target: saved.target as ImageTarget,
    file,
    description: saved.description,
    truncateAt: saved.truncateAt,
    patches: saved.patches.map((p) => ({ offset: p.offset, bytes: Buffer.from(p.hex, 'hex') })),
  };
}
