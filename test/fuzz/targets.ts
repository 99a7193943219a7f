// Runs one fuzz input against one of the engine's entry points and judges the outcome: a result
// that keeps the engine's promises, or a clear ImageError. Anything else — another exception, a
// multi-line or empty message, a result without reasons, an unbounded string — is a crash. The
// targets fed seeds of their own (PE headers, QMP replies, case files) are judged in
// targets-bytes.ts.

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { analyzeKernel } from '../../src/core/analysis/analyze';
import { ImageError, openImageFromSource, type PhysicalSpace } from '../../src/core/image';
import { discoverKernel } from '../../src/core/kernel/discover';
import { findDtb } from '../../src/core/kernel/dtb';
import { segmentsOf } from '../../src/core/scan/segments';
import { SCAN_TAGS, findTags, type TagHit } from '../../src/core/scan/tags';
import type { ScanResult } from '../../src/core/scan/tags';
import type { ByteSource } from '../../src/core/source';
import type { AnalysisResult } from '../../src/common/model';
import type { BaseImage } from './corpus';
import { isBytesInput, type FuzzInput, type ImageInput } from './mutate';
import type { BytesInput } from './mutate-bytes';
import { OverlaySource } from './overlay-source';
import { runCaseFile, runPeHeaders, runQmpReplies } from './targets-bytes';

/** 'image-error': an image target's ImageError; 'refused': another target's documented refusal. */
export type Status = 'result' | 'image-error' | 'refused' | 'crash';

export interface Outcome {
  status: Status;
  /** The error's first line, or what broke a promise. */
  message?: string;
  stack?: string;
}

/** A promise the engine broke, found by checking a result. */
class BrokenPromise extends Error {}

/** The longest name a validated string may give (MAX_STRING_BYTES of UTF-16, plus a marker). */
const MAX_NAME_CHARS = 0x800 / 2 + 64;
const NAME_KEYS = new Set(['name', 'path', 'target', 'inferredName', 'serviceKey', 'objectName']);

function sourcesFor(base: BaseImage, input: ImageInput): { main: ByteSource; companion?: ByteSource } {
  const wrap = (file: string) => {
    const source = base.sources.get(file)!;
    return file === input.file
      ? new OverlaySource(source, input.patches, input.truncateAt)
      : new OverlaySource(source, []);
  };
  // VMware: the state file is opened with the memory file as its companion.
  if (base.companion) return { main: wrap(base.companion), companion: wrap(base.image) };
  return { main: wrap(base.image) };
}

function open(base: BaseImage, input: ImageInput): { space: PhysicalSpace; size: number } {
  const { main, companion } = sourcesFor(base, input);
  const space = openImageFromSource(main, companion ? { vmwareMemory: companion } : {});
  return { space, size: main.size };
}

function checkSpace(space: PhysicalSpace): void {
  let end = -1;
  let covered = 0;
  for (let i = 0; i < space.runCount; i++) {
    const run = space.runAt(i);
    if (!(run.length > 0) || run.start < end || !Number.isSafeInteger(run.start + run.length))
      throw new BrokenPromise(`run ${i} is empty, out of order or overlapping`);
    end = run.start + run.length;
    covered += run.length;
  }
  if (covered !== space.bytesCovered) throw new BrokenPromise('bytesCovered is not the sum of the runs');
  // A few reads across the space: each gives the length asked for, or null.
  for (let i = 0; i < Math.min(space.runCount, 8); i++) {
    const run = space.runAt(Math.floor((i * space.runCount) / 8));
    for (const pa of [run.start, Math.max(run.start, run.start + run.length - 0x10)]) {
      const bytes = space.read(pa, 0x10);
      if (bytes !== null && bytes.length !== 0x10)
        throw new BrokenPromise(`read at ${pa} gave ${bytes.length} bytes`);
    }
  }
}

/** The pool scan, in-process over the mutated bytes (the real one streams the file in workers). */
function scanInProcess(space: PhysicalSpace, alignment: 8 | 16): ScanResult {
  const hits: TagHit[] = [];
  let bytes = 0;
  const chunk = 1 << 20;
  for (const segment of segmentsOf(space, alignment)) {
    for (let done = 0; done < segment.length; done += chunk) {
      const length = Math.min(chunk, segment.length - done);
      const read = space.read(segment.pa + done, length);
      if (read === null) continue;
      const aligned = read.byteOffset % 4 === 0 ? read : read.slice();
      findTags(
        aligned.subarray(0, aligned.length - (aligned.length % alignment)),
        segment.pa + done,
        alignment,
        SCAN_TAGS,
        hits,
      );
      bytes += read.length;
    }
  }
  hits.sort((a, b) => a.headerPa - b.headerPa);
  return { hits, bytesScanned: bytes, workers: 1 };
}

function checkResult(result: AnalysisResult): void {
  JSON.stringify(result);
  if (result.drivers.length === 0 && result.image.warnings.length === 0)
    throw new BrokenPromise('no drivers and no warning saying why');
  const walk = (value: unknown, key: string): void => {
    if (typeof value === 'string') {
      if (NAME_KEYS.has(key) && value.length > MAX_NAME_CHARS)
        throw new BrokenPromise(`a ${key} of ${value.length} characters`);
    } else if (Array.isArray(value)) value.forEach((v) => walk(v, key));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk([result.drivers, result.devices, result.modules, result.links], '');
}

async function runInProcess(base: BaseImage, input: ImageInput): Promise<void> {
  const { space, size } = open(base, input);
  try {
    checkSpace(space);
    if (input.target === 'open') return;
    const dtbSearch = findDtb(space);
    const context = await discoverKernel(space, { path: base.image, fileSize: size, dtbSearch });
    if (input.target === 'discover') {
      JSON.stringify(context.info);
      return;
    }
    const alignment = dtbSearch.found?.mode === 'x64' ? 16 : 8;
    const scan = dtbSearch.found
      ? scanInProcess(space, alignment)
      : { hits: [], bytesScanned: 0, workers: 1 };
    checkResult(await analyzeKernel(context, { poolScan: () => Promise.resolve(scan) }));
  } finally {
    space.close();
  }
}

function judgeError(error: unknown): Outcome {
  if (error instanceof ImageError) {
    const message = error.message;
    if (message.length === 0 || message.includes('\n') || message.length > 600)
      return {
        status: 'crash',
        message: `ImageError message not one clear line: ${JSON.stringify(message.slice(0, 200))}`,
      };
    return { status: 'image-error', message };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { status: 'crash', message: `${e.name}: ${e.message.split('\n')[0]}`, stack: e.stack };
}

/**
 * Through the CLI process: the mutated files are written to `scratch` (RAM-backed), and
 * `irpscope analyze --json` must exit 0 with a JSON document or 2 with one line on stderr.
 */
function runCli(
  base: BaseImage,
  input: ImageInput,
  cli: string,
  scratch: string,
  timeoutMs: number,
): Outcome {
  const folder = join(scratch, `input-${input.index}`);
  mkdirSync(folder, { recursive: true });
  try {
    const files = [base.image, ...(base.companion ? [base.companion] : [])];
    for (const file of files) {
      const source = base.sources.get(file)!;
      const view = file === input.file ? new OverlaySource(source, input.patches, input.truncateAt) : source;
      const out = Buffer.allocUnsafe(view.size);
      for (let at = 0; at < view.size; at += 1 << 24)
        out.set(view.readDirect(at, Math.min(1 << 24, view.size - at)), at);
      writeFileSync(join(folder, basename(file)), out);
    }
    const child = spawnSync(
      process.execPath,
      [cli, 'analyze', join(folder, basename(base.image)), '--json'],
      {
        encoding: 'utf8',
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 256 << 20,
      },
    );
    const stderr = child.stderr.trim();
    if (child.error || child.signal)
      return {
        status: 'crash',
        message: `CLI did not end by itself (${child.signal ?? child.error?.message})`,
      };
    if (child.status === 0) {
      try {
        checkResult(JSON.parse(child.stdout) as AnalysisResult);
      } catch (error) {
        return { status: 'crash', message: `CLI exit 0 but ${(error as Error).message}` };
      }
      return { status: 'result' };
    }
    if (child.status === 2 && stderr.length > 0 && !stderr.includes('\n'))
      return { status: 'image-error', message: stderr };
    return {
      status: 'crash',
      message: `CLI exit ${child.status}: ${stderr.split('\n').slice(0, 2).join(' | ')}`,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export interface RunContext {
  cli: string;
  scratch: string;
  timeoutMs: number;
}

function runBytes(input: BytesInput): Outcome | Promise<Outcome> {
  switch (input.target) {
    case 'pe-headers':
      return runPeHeaders(input.bytes, input.seed.base ?? 0n, input.peMemory ?? 'absent');
    case 'qmp-replies':
      return runQmpReplies(input.bytes, input.qmp ?? {});
    case 'case-files':
      return runCaseFile(input.bytes);
  }
}

/** Runs `input`; `base` is its base image (none for the targets fed seeds of their own). */
export async function runInput(
  base: BaseImage | undefined,
  input: FuzzInput,
  context: RunContext,
): Promise<Outcome> {
  if (isBytesInput(input)) return runBytes(input);
  if (!base) throw new Error(`no base image ${input.base}`);
  if (input.target === 'cli') return runCli(base, input, context.cli, context.scratch, context.timeoutMs);
  try {
    await runInProcess(base, input);
    return { status: 'result' };
  } catch (error) {
    if (error instanceof BrokenPromise)
      return { status: 'crash', message: `broken promise: ${error.message}` };
    return judgeError(error);
  }
}
