// The seed corpora of the targets that are not whole images. Each input of such a target is one
// of these seeds, mutated:
// - "pe-headers": the first page of the kernel and of every driver in the base images (read
//   through their page tables, as the engine reads them), and crafted edge cases;
// - "qmp-replies": transcripts of real captures (test/fuzz/qmp-transcripts, see record-qmp.ts), each
//   with the replay options its capture had;
// - "case-files": case.json files and stored results the Backend wrote for base images
//   (case-corpus.ts makes them into the cache), and the first version's case.json.

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseCaseFile } from '../../src/backend/cases/case-file';
import { SCN_CODE, SCN_DATA, peHeaders } from '../../src/builder/windows/pe';
import type { QmpReplayOptions } from '../../src/core/node/capture/replay';
import { openImage } from '../../src/core/node/open-image';
import { VirtualSpace } from '../../src/core/paging';
import type { BaseImage } from './corpus';

export const BYTES_TARGETS = ['pe-headers', 'qmp-replies', 'case-files'] as const;
export type BytesTarget = (typeof BYTES_TARGETS)[number];

export interface Seed {
  /** Unique within its target: where the seed came from. */
  key: string;
  target: BytesTarget;
  bytes: Uint8Array;
  /** pe-headers: where the image was loaded (page-aligned). */
  base?: bigint;
  /** qmp-replies: the replay options of the capture it was recorded from. */
  qmp?: QmpReplayOptions;
}

export type Seeds = Record<BytesTarget, Seed[]>;

const PAGE = 0x1000;

// ---------------------------------------------------------------- pe-headers

/** The header page of every module of a base image, as its page tables map it. */
export function moduleHeaderSeeds(base: BaseImage): Seed[] {
  const space = openImage(base.image);
  try {
    const virtual = new VirtualSpace(space, { mode: base.truth.paging, dtb: Number(BigInt(base.truth.dtb)) });
    const seeds: Seed[] = [];
    for (const module of base.truth.modules) {
      const va = BigInt(module.base);
      const read = virtual.read(va, PAGE);
      if (!read.ok) continue;
      seeds.push({
        key: `${base.layout.key}:${module.name}`,
        target: 'pe-headers',
        bytes: read.bytes.slice(),
        base: va,
      });
    }
    return seeds;
  } finally {
    space.close();
  }
}

function put(bytes: Uint8Array, at: number, value: number, size: 2 | 4): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 2) view.setUint16(at, value, true);
  else view.setUint32(at, value >>> 0, true);
  return bytes;
}

/**
 * Headers at the edges of what a parser must survive, each made from a well-formed one: the NT
 * headers at the very end of the bytes, an optional header of size 0, a section table running
 * past the bytes, the most sections a count can say, the most the loader takes, none at all,
 * only a DOS header, a directory count far past the optional header, PE32 and PE32+.
 */
export function craftedPeSeeds(): Seed[] {
  const base = 0xfffff80012340000n;
  const sections = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      name: i === 0 ? '.text' : `.s${i}`,
      rva: PAGE * (i + 1),
      virtualSize: 0x800,
      characteristics: i === 0 ? SCN_CODE : SCN_DATA,
    }));
  const header = (machine: 'x86' | 'x64', count = 2) =>
    peHeaders({
      machine,
      imageBase: machine === 'x64' ? base : 0x80400000n,
      sizeOfImage: PAGE * (count + 1),
      entryRva: PAGE,
      timeDateStamp: 0x5f000000,
      checksum: 0x1234,
      sections: sections(count),
      debugDirectory: { rva: 0x1100, size: 0x1c },
    });
  const lfanew = 0xe8;
  const fileHeader = lfanew + 4;
  const table = fileHeader + 20 + 0xf0;
  const x64 = header('x64');
  // More sections than a page holds after the headers: two pages, every section one page long.
  const manySections = (count: number) => {
    const bytes = new Uint8Array(2 * PAGE);
    bytes.set(header('x64', 1));
    for (let i = 1; i < count; i++) {
      bytes.set(bytes.subarray(table, table + 40), table + i * 40);
      put(bytes, table + i * 40 + 12, PAGE * (i + 1), 4);
    }
    put(bytes, lfanew + 24 + 0x38, PAGE * (count + 1), 4);
    return put(bytes, fileHeader + 2, count, 2);
  };
  const seed = (key: string, bytes: Uint8Array): Seed => ({
    key: `crafted:${key}`,
    target: 'pe-headers',
    bytes,
    base,
  });
  const ntAtEnd = (room: number) => {
    const bytes = new Uint8Array(PAGE);
    bytes.set(x64.subarray(0, 0x40));
    bytes.set(x64.subarray(lfanew, lfanew + room), PAGE - room);
    return put(bytes, 0x3c, PAGE - room, 4);
  };
  return [
    seed('pe32+', x64),
    seed('pe32', header('x86')),
    seed('e_lfanew-at-the-end', ntAtEnd(4)),
    seed('file-header-at-the-end', ntAtEnd(4 + 20 + 2)),
    seed('optional-header-size-0', put(x64.slice(), fileHeader + 0x10, 0, 2)),
    seed('section-table-past-the-end', x64.slice(0, lfanew + 4 + 20 + 0xf0 + 40)),
    seed('huge-section-count', put(x64.slice(), fileHeader + 2, 0xffff, 2)),
    seed('most-sections-in-a-page', header('x64', Math.floor((PAGE - table) / 40))),
    seed('loader-limit-of-sections', manySections(96)),
    seed('one-past-the-loader-limit', manySections(97)),
    seed('no-sections', header('x64', 0)),
    seed('dos-header-only', x64.slice(0, 0x40)),
    seed('directory-count-huge', put(x64.slice(), lfanew + 24 + 0x6c, 0xffffffff, 4)),
  ];
}

// ---------------------------------------------------------------- qmp-replies

/** A line the replay cannot read as QMP: the recorder puts one where the peer ended a connection. */
export const CONNECTION_BREAK = 'the peer ended this connection here';

/** One recorded capture (test/fuzz/qmp-transcripts/NAME.json). */
export interface QmpSeedFile {
  about: string;
  source: string;
  /** How the live capture ended: 'result' or its CaptureError's kind, and its message. */
  live: { kind: string; message: string };
  /** The commands the live capture sent, with the connection each went on. */
  commands: Array<{ connection: number; command: string }>;
  options: QmpReplayOptions;
  /** How the peer ended its lines on the wire. */
  lineEnd: '\n' | '\r\n';
  lines: string[];
}

export function qmpSeedFolder(root: string): string {
  return join(root, 'test/fuzz/qmp-transcripts');
}

export function readQmpSeedFiles(root: string): Array<{ name: string; file: QmpSeedFile }> {
  const folder = qmpSeedFolder(root);
  return readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({
      name: name.replace(/\.json$/, ''),
      file: JSON.parse(readFileSync(join(folder, name), 'utf8')) as QmpSeedFile,
    }));
}

export function transcriptBytes(file: Pick<QmpSeedFile, 'lines' | 'lineEnd'>): Uint8Array {
  return new TextEncoder().encode(file.lines.map((line) => `${line}${file.lineEnd}`).join(''));
}

export function qmpSeeds(root: string): Seed[] {
  return readQmpSeedFiles(root).map(({ name, file }) => ({
    key: name,
    target: 'qmp-replies',
    bytes: transcriptBytes(file),
    qmp: file.options,
  }));
}

// ---------------------------------------------------------------- case-files

/** The sources whose change changes what the Backend writes into a case folder. */
function caseSourcesHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path.slice(root.length)).update(readFileSync(path));
    }
  };
  for (const dir of ['src/backend/cases', 'src/common', 'src/builder']) walk(join(root, dir));
  return hash.digest('hex').slice(0, 10);
}

/**
 * The case files of `images` as the Backend writes them, made once into the cache by
 * case-corpus.ts (in a child process: the Backend's workers load the engine from the sources).
 */
export function prepareCaseSeeds(root: string, cache: string, images: BaseImage[]): Seed[] {
  const folder = join(cache, `cases-${caseSourcesHash(root)}`);
  if (!existsSync(folder)) {
    const work = `${folder}.partial-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const made = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'test/fuzz/case-corpus.ts'),
        work,
        ...images.map((image) => `${image.layout.key}=${image.image}`),
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] },
    );
    if (made.status !== 0)
      throw new Error(
        `the case files could not be made: ${made.stderr.trim().split('\n').slice(-3).join(' | ')}`,
      );
    renameSync(work, folder);
  }
  for (const name of readdirSync(cache))
    if (name.startsWith('cases-') && name !== folder.split('/').pop())
      rmSync(join(cache, name), { recursive: true, force: true });
  const seeds = readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({
      key: name.replace(/\.json$/, ''),
      target: 'case-files' as const,
      bytes: new Uint8Array(readFileSync(join(folder, name))),
    }));
  // A seed the parser refuses as it is would fuzz the refusal only.
  for (const seed of seeds)
    try {
      parseCaseFile(seed.bytes);
    } catch (error) {
      throw new Error(`the case seed ${seed.key} is refused unmutated: ${(error as Error).message}`, {
        cause: error,
      });
    }
  return seeds;
}
