// Fuzz inputs: each is a base image with one to three mutations laid over it, chosen by a stream
// seeded from (campaign seed, input index), so any input can be made again from those two.
// Mutations aim where parsers and pointer chases live: container headers and run tables, the
// page tables on the way to kernel objects, the objects themselves (driver, device, loader entry,
// directory, process, KDBG, list heads, the kernel's PE header), and anywhere at all.

import { Rng } from '../../src/builder/rng';
import { VirtualSpace } from '../../src/core/paging';
import type { PhysicalSpace } from '../../src/core/image';
import type { BaseImage } from './corpus';
import { makeBytesInput, type BytesInput } from './mutate-bytes';
import type { Patch } from './overlay-source';
import { BYTES_TARGETS, type BytesTarget, type Seeds } from './seeds';

/** The engine's entry points, each fed whole mutated images. */
export const IMAGE_TARGETS = ['open', 'discover', 'analyze', 'cli'] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];
/** Every target: the image entry points, then those fed a mutated seed of their own (seeds.ts). */
export const TARGETS = [...IMAGE_TARGETS, ...BYTES_TARGETS] as const;
export type Target = ImageTarget | BytesTarget;

export function isBytesTarget(target: Target): target is BytesTarget {
  return (BYTES_TARGETS as readonly string[]).includes(target);
}

export type FuzzInput = ImageInput | BytesInput;

export function isBytesInput(input: FuzzInput): input is BytesInput {
  return isBytesTarget(input.target);
}

export interface ImageInput {
  index: number;
  base: string;
  target: ImageTarget;
  /** The file of the base image that is changed. */
  file: string;
  patches: Patch[];
  truncateAt?: number;
  description: string;
}

/** A place in a file where a kernel structure (or a table entry leading to one) lies. */
export interface Site {
  label: string;
  file: string;
  offset: number;
  /** Bytes from `offset` worth hitting. */
  span: number;
  /** The structure's virtual address, for self-pointers (list loops). */
  va: bigint | null;
}

export interface BaseSites {
  /** Container metadata: the header, run tables, notes (the .vmss for VMware). */
  container: { file: string; span: number };
  data: { file: string; size: number };
  structures: Site[];
  pageTables: Site[];
  /** Kernel object addresses, for pointers that lead somewhere real. */
  objectVas: bigint[];
}

const EXTREME = [
  0n,
  1n,
  0x1000n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0xffffffffffffffffn,
  0x8000000000000000n,
];

function le(value: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let v = BigInt.asUintN(width * 8, value);
  for (let i = 0; i < width; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Reads the recorded addresses of one page-table walk: the entries that lead to `va`. */
function walkEntries(space: PhysicalSpace, mode: 'x86' | 'pae' | 'x64', dtb: number, va: bigint): number[] {
  const reads: number[] = [];
  const recorder = {
    maxAddress: space.maxAddress,
    isPresent: (pa: number) => space.isPresent(pa),
    read: (pa: number, length: number) => {
      reads.push(pa);
      return space.read(pa, length);
    },
  };
  new VirtualSpace(recorder, { mode, dtb }).translate(va);
  return reads;
}

/** Where the base image's structures are in its files (computed once per base, per worker). */
export function sitesOf(base: BaseImage, space: PhysicalSpace): BaseSites {
  const { truth } = base;
  const width = truth.arch === 'x64' ? 8 : 4;
  const dtb = Number(BigInt(truth.dtb));
  const virtual = new VirtualSpace(space, { mode: truth.paging, dtb });
  const structures: Site[] = [];
  const pageTables: Site[] = [];
  const seenTables = new Set<number>();
  const add = (label: string, vaText: string | null, before: number, span: number) => {
    if (vaText === null) return;
    const va = BigInt(vaText);
    const translation = virtual.translate(va - BigInt(before));
    if (!translation.ok) return;
    const where = base.locate(translation.pa);
    if (where) structures.push({ label, file: where.file, offset: where.offset, span, va });
    for (const pa of walkEntries(space, truth.paging, dtb, va)) {
      const entry = base.locate(pa);
      if (!entry || seenTables.has(pa)) continue;
      seenTables.add(pa);
      pageTables.push({
        label: `table entry for ${label}`,
        file: entry.file,
        offset: entry.offset,
        span: width,
        va: null,
      });
    }
  };
  const headerRoom = width === 8 ? 0x80 : 0x40;
  for (const driver of truth.drivers) {
    add('driver object', driver.objectVa, headerRoom, headerRoom + (width === 8 ? 0x150 : 0xa8));
    for (const device of driver.devices)
      add('device object', device.objectVa, headerRoom, headerRoom + 0x150);
  }
  for (const module of truth.modules)
    add('loader entry', module.ldrEntry, 0x10, 0x10 + (width === 8 ? 0x90 : 0x50));
  for (const directory of truth.objectDirectories)
    add('object directory', directory.objectVa, headerRoom, headerRoom + 0x160);
  for (const process of truth.processes) add('process', process.eprocess, 0, 0x400);
  add('KDBG', truth.kdbg, 0, 0x340);
  add('PsLoadedModuleList', truth.psLoadedModuleList, 0, 2 * width);
  add('PsActiveProcessHead', truth.psActiveProcessHead, 0, 2 * width);
  add('kernel PE header', truth.kernelBase, 0, 0x400);
  const top = base.locate(dtb & ~0xfff);
  if (top)
    pageTables.push({ label: 'top-level table', file: top.file, offset: top.offset, span: 0x1000, va: null });

  const containerFile = base.companion ?? base.image;
  const containerSize = base.sources.get(containerFile)!.size;
  const firstData = Math.min(
    ...truth.physicalRuns.map((r) => base.locate(Number(BigInt(r.start)))?.offset ?? Infinity),
  );
  const containerSpan = base.companion
    ? containerSize
    : Math.min(containerSize, firstData > 0 && Number.isFinite(firstData) ? firstData : 0x3000);
  const dataFile = base.locate(Number(BigInt(truth.physicalRuns[0]!.start)))!.file;
  return {
    container: { file: containerFile, span: containerSpan },
    data: { file: dataFile, size: base.sources.get(dataFile)!.size },
    structures,
    pageTables,
    objectVas: structures.flatMap((s) => (s.va === null ? [] : [s.va])),
  };
}

type Kind =
  | 'container bytes'
  | 'container words'
  | 'container bit flips'
  | 'structure pointers'
  | 'structure strings'
  | 'list loops'
  | 'page-table entries'
  | 'page splice'
  | 'scattered words'
  | 'truncation';

/** What an input that only opens the container can meet: its metadata, its size, its pages. */
const CONTAINER_KINDS: Array<[Kind, number]> = [
  ['container bytes', 10],
  ['container words', 12],
  ['container bit flips', 6],
  ['page splice', 3],
  ['truncation', 8],
];

const KINDS: Array<[Kind, number]> = [
  ['container bytes', 10],
  ['container words', 12],
  ['container bit flips', 6],
  ['structure pointers', 18],
  ['structure strings', 8],
  ['list loops', 8],
  ['page-table entries', 12],
  ['page splice', 6],
  ['scattered words', 8],
  ['truncation', 12],
];

function weighted<T>(rng: Rng, items: ReadonlyArray<readonly [T, number]>): T {
  const total = items.reduce((n, [, w]) => n + w, 0);
  let x = rng.float() * total;
  for (const [item, w] of items) {
    x -= w;
    if (x < 0) return item;
  }
  return items[items.length - 1]![0];
}

/**
 * The share of inputs per target when no target is named: the engine's entry points, cheapest
 * first. The other targets run when named (--target); the mix stays as it was, so a seed's plan
 * is what it always was.
 */
export const TARGET_WEIGHTS: ReadonlyArray<readonly [ImageTarget, number]> = [
  ['open', 60],
  ['discover', 35.97],
  ['analyze', 4],
  ['cli', 0.03],
];

export interface Bases {
  /** The base images: all of them when an image target runs (the draw picks among them). */
  list: BaseImage[];
  sites: Map<string, BaseSites>;
  /** The seed corpora of the other targets that run. */
  seeds: Seeds;
}

/**
 * The first draws of input `index` of the campaign `seed`: its base image (one of `list`;
 * undefined when it is empty) and its entry point — the weighted mix, or one of `only` (a list
 * shares the inputs equally). Both take one number from the stream whatever the list, so that
 * what follows is the same. `makeInput` goes on drawing from the same generator; `--plan` stops
 * here, so it can count a range's inputs per format and target without building anything.
 */
export function drawPlan<T>(
  seed: string,
  index: number,
  list: readonly T[],
  only?: Target | readonly Target[],
): { rng: Rng; base: T | undefined; target: Target } {
  const rng = new Rng(seed, `input ${index}`);
  const base = list[rng.int(0, Math.max(0, list.length - 1))];
  const targets = typeof only === 'string' ? [only] : only;
  const target = targets && targets.length > 0 ? rng.pick(targets) : weighted(rng, TARGET_WEIGHTS);
  return { rng, base, target };
}

/** Builds input `index` of the campaign `seed`. */
export function makeInput(
  seed: string,
  index: number,
  bases: Bases,
  only?: Target | readonly Target[],
): FuzzInput {
  const { rng, base: drawn, target } = drawPlan(seed, index, bases.list, only);
  if (isBytesTarget(target)) return makeBytesInput(seed, index, rng, target, bases.seeds);
  const base = drawn!;
  const sites = bases.sites.get(base.key)!;
  const width = base.truth.arch === 'x64' ? 8 : 4;
  const kindCount = rng.chance(0.7) ? 1 : rng.int(2, 3);
  const kinds = Array.from({ length: kindCount }, () =>
    weighted(rng, target === 'open' ? CONTAINER_KINDS : KINDS),
  );
  // All mutations of one input go to one file (the container's for container kinds).
  const file = kinds.some((k) => k.startsWith('container')) ? sites.container.file : sites.data.file;
  const patches: Patch[] = [];
  let truncateAt: number | undefined;
  const size = base.sources.get(file)!.size;
  const pointer = (own: bigint | null): bigint => {
    switch (rng.int(0, 5)) {
      case 0:
        return rng.pick(sites.objectVas) + BigInt(rng.int(-4, 4) * width);
      case 1:
        return (own ?? 0n) + BigInt(rng.int(0, 0x40) * width);
      case 2:
        return rng.pick(EXTREME);
      case 3:
        return BigInt(rng.int(0, 0x10)) << BigInt(rng.int(0, 40));
      default:
        return rng.u64();
    }
  };
  const inFile = (site: Site) => site.file === file;
  for (const kind of kinds) {
    const count = rng.int(1, 16);
    switch (kind) {
      case 'container bytes':
        for (let i = 0; i < count; i++)
          patches.push({
            offset: rng.int(0, sites.container.span - 1),
            bytes: new Uint8Array([rng.int(0, 255)]),
          });
        break;
      case 'container words':
        for (let i = 0; i < count; i++) {
          const w = rng.pick([4, 8]);
          const offset = rng.int(0, Math.max(0, Math.floor(sites.container.span / w) - 1)) * w;
          patches.push({ offset, bytes: le(rng.chance(0.6) ? rng.pick(EXTREME) : rng.u64(), w) });
        }
        break;
      case 'container bit flips':
        for (let i = 0; i < count; i++) {
          const offset = rng.int(0, sites.container.span - 1);
          const original = base.sources.get(file)!.read(offset, 1)[0] ?? 0;
          patches.push({ offset, bytes: new Uint8Array([original ^ (1 << rng.int(0, 7))]) });
        }
        break;
      case 'structure pointers':
      case 'structure strings':
      case 'list loops': {
        const candidates = sites.structures.filter(inFile);
        if (candidates.length === 0) break;
        for (let i = 0; i < count; i++) {
          const site = rng.pick(candidates);
          const offset = site.offset + rng.int(0, Math.floor(site.span / width) - 1) * width;
          if (kind === 'structure pointers') patches.push({ offset, bytes: le(pointer(site.va), width) });
          else if (kind === 'list loops')
            // A LIST_ENTRY pointing at itself or at a neighbour: a cycle for any walk through it.
            patches.push({ offset, bytes: le((site.va ?? 0n) + BigInt(rng.int(-2, 8) * width), width) });
          else {
            // A UNICODE_STRING: Length, MaximumLength, then (aligned) Buffer.
            const length = rng.pick([0, 1, 2, 0x7fff, 0xfffe, 0xffff, rng.int(0, 0xffff)]);
            const maximum = rng.chance(0.5) ? length : rng.int(0, 0xffff);
            const bytes = new Uint8Array(2 * width);
            bytes.set(le(BigInt(length), 2), 0);
            bytes.set(le(BigInt(maximum), 2), 2);
            bytes.set(le(pointer(site.va), width), width);
            patches.push({ offset, bytes });
          }
        }
        break;
      }
      case 'page-table entries': {
        const candidates = sites.pageTables.filter(inFile);
        if (candidates.length === 0) break;
        const entry = base.truth.paging === 'x86' ? 4 : 8;
        const dtb = BigInt(base.truth.dtb) & ~0xfffn;
        for (let i = 0; i < count; i++) {
          const site = rng.pick(candidates);
          const offset = site.offset + rng.int(0, Math.floor(site.span / entry) - 1) * entry;
          const frame = rng.pick([dtb, BigInt(rng.int(0, 0x10000)) << 12n, rng.u64() & 0xffffff000n]);
          const flags = rng.pick([0x01n, 0x03n, 0x63n, 0xe3n, 0x83n, 0x800n, 0x8000000000000003n]);
          patches.push({ offset, bytes: le(frame | flags, entry) });
        }
        break;
      }
      case 'page splice': {
        // One page of the file copied over another: a duplicated table, object or header.
        const pages = Math.floor(size / 0x1000);
        if (pages < 2) break;
        const from = rng.int(0, pages - 1) * 0x1000;
        const to =
          rng.chance(0.5) && sites.pageTables.some(inFile)
            ? rng.pick(sites.pageTables.filter(inFile)).offset & ~0xfff
            : rng.int(0, pages - 1) * 0x1000;
        patches.push({ offset: to, bytes: base.sources.get(file)!.read(from, 0x1000).slice() });
        break;
      }
      case 'scattered words':
        for (let i = 0; i < count * 16; i++)
          patches.push({ offset: rng.int(0, Math.floor(size / 8) - 1) * 8, bytes: le(rng.u64(), 8) });
        break;
      case 'truncation':
        truncateAt = rng.chance(0.4) ? rng.int(0, Math.min(size, 0x10000)) : rng.int(0, size - 1);
        break;
    }
  }
  const parts = kinds.map((k) => k);
  const description = `${parts.join(' + ')} in ${file.split('/').pop()}${truncateAt === undefined ? '' : `, cut at ${truncateAt}`} (${patches.length} patch${patches.length === 1 ? '' : 'es'})`;
  return { index, base: base.key, target, file, patches, truncateAt, description };
}
