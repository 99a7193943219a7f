// Recorded analyses of the real engine (src/core/node/engine.ts), so that the workbench's tests get
// the engine's own outcome without paying for it on every session: the first analysis of an image
// is recorded, every later one (in any process or worker thread) reads the recording.
//
// A recording is keyed by a digest of the image's bytes and of everything that decides the
// engine's outcome (src/core, src/common, the lockfile, the symbol folder asked for): a changed
// engine or a changed image (a test appends to a copy, the builder changed) records again. Kept
// under .cache/engine-recordings/<sources>/, the last few source versions only.

import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import { threadId } from 'node:worker_threads';
import type { EngineHandle, EngineOptions } from '../../src/core/engine-handle';
import { openEngine as openRealEngine } from '../../src/core/node/engine';
import type { AnalysisResult, ImageInfo, Progress } from '../../src/common/model';
import { ROOT } from './shared';

const RECORDINGS = join(ROOT, '.cache', 'engine-recordings');
/** Source versions whose recordings are kept (a checkout switching branches keeps its others). */
const VERSIONS_KEPT = 3;
const FORMAT = 'irpscope-engine-recording/1';

export interface Recording {
  format: typeof FORMAT;
  /** The path the image had when it was recorded: the result names it, a replay renames it. */
  path: string;
  info: ImageInfo;
  /** The first progress event of each stage the engine went through, in order. */
  stages: Progress[];
  result: AnalysisResult;
}

let sourcesDigest: string | undefined;

/** What decides the engine's outcome besides the image: its code and its dependencies. */
function engineSourcesDigest(): string {
  if (sourcesDigest) return sourcesDigest;
  const hash = createHash('sha256').update(FORMAT);
  const walk = (folder: string) => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.[cm]?[jt]s$/.test(name)) hash.update(relative(ROOT, path)).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'src', 'core'));
  walk(join(ROOT, 'src', 'common'));
  hash.update(readFileSync(join(ROOT, 'package-lock.json')));
  sourcesDigest = hash.digest('hex').slice(0, 16);
  return sourcesDigest;
}

/** The image's files: the one opened and those beside it with its stem (a .vmss's .vmem). */
function imageFiles(path: string): string[] {
  const stem = basename(path, extname(path));
  const siblings = readdirSync(dirname(path))
    .filter((name) => name.startsWith(`${stem}.`))
    .map((name) => join(dirname(path), name));
  return [...new Set([path, ...siblings])].sort();
}

/** A digest of the image's bytes, read in chunks (an image is never held whole). */
function imageDigest(path: string): string {
  // A cache key, not a security boundary: the fastest digest OpenSSL offers will do.
  const hash = createHash('sha1');
  const chunk = Buffer.alloc(4 << 20);
  for (const file of imageFiles(path)) {
    hash.update(basename(file)).update(String(statSync(file).size));
    const fd = openSync(file, 'r');
    try {
      for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk))
        hash.update(chunk.subarray(0, read));
    } finally {
      closeSync(fd);
    }
  }
  return hash.digest('hex');
}

/** Where the recording of `path` analysed with `options` is (or will be). */
export function recordingFile(path: string, options: Pick<EngineOptions, 'symbols'> = {}): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ image: imageDigest(path), symbols: options.symbols ?? null }))
    .digest('hex')
    .slice(0, 24);
  return join(RECORDINGS, engineSourcesDigest(), `${key}.json`);
}

/** The recording at `file` as if made at `path`, or null when there is none (or it is unreadable). */
export function readRecording(file: string, path: string): Recording | null {
  let recording: Recording;
  try {
    recording = JSON.parse(readFileSync(file, 'utf8')) as Recording;
  } catch {
    return null;
  }
  if (recording.format !== FORMAT) return null;
  return {
    ...recording,
    path,
    info: { ...recording.info, path },
    result: { ...recording.result, image: { ...recording.result.image, path } },
  };
}

function writeRecording(file: string, recording: Recording): void {
  const folder = dirname(file);
  const isNewVersion = !existsSync(folder);
  mkdirSync(folder, { recursive: true });
  // Written whole under a name of its own, then renamed: a reader sees no recording or all of it.
  const temporary = `${file}.tmp-${process.pid}-${threadId}`;
  writeFileSync(temporary, JSON.stringify(recording));
  renameSync(temporary, file);
  if (isNewVersion) pruneOldVersions(folder);
}

function pruneOldVersions(current: string): void {
  const versions = readdirSync(RECORDINGS)
    .map((name) => join(RECORDINGS, name))
    .filter((folder) => folder !== current)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const folder of versions.slice(VERSIONS_KEPT - 1)) rmSync(folder, { recursive: true, force: true });
}

/**
 * The recording of `path`, made first when there is none: the real engine opens the image and
 * analyses it (its progress going to `onProgress`), and is returned open for reads of the image.
 */
export async function recordingOf(
  path: string,
  options: EngineOptions,
  onProgress: (progress: Progress) => void = () => {},
): Promise<{ recording: Recording; engine: EngineHandle | null }> {
  const file = recordingFile(path, options);
  const recorded = readRecording(file, path);
  if (recorded) return { recording: recorded, engine: null };
  const stages: Progress[] = [];
  const seen = new Set<string>();
  const watch = (progress: Progress) => {
    if (!seen.has(progress.stage)) stages.push(progress);
    seen.add(progress.stage);
    onProgress(progress);
  };
  const engine = await openRealEngine(path, { ...options, analyzeAfterOpen: true }, watch);
  try {
    const result = await engine.analyze(watch, new AbortController().signal);
    const recording: Recording = { format: FORMAT, path, info: engine.info(), stages, result };
    writeRecording(file, recording);
    return { recording, engine };
  } catch (error) {
    engine.close();
    throw error;
  }
}

/** The real engine's analysis of `path`, from its recording (made first when there is none). */
export async function recordedAnalysis(
  path: string,
  options: Pick<EngineOptions, 'symbols'> = {},
): Promise<AnalysisResult> {
  const { recording, engine } = await recordingOf(path, options);
  engine?.close();
  return recording.result;
}
