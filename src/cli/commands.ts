// What the commands of src/cli/main.ts do. Loaded only when a command runs: the engine, the
// capture and the reports are not loaded for --version or --help.

import { availableParallelism } from 'node:os';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ReportFormat } from '../common/api';
import type { AnalysisResult, Progress } from '../common/model';
import { analyzeImage } from '../core/node/analyze';
import {
  CaptureError,
  capture,
  findQmpSockets,
  libvirtSocketFolders,
  toolStatus,
  type CaptureProgress,
  type CaptureSource,
} from '../core/node/capture';
import { diffResults } from '../core/compare';
import { ExtractError, type ExtractTarget } from '../core/extract';
import { extractFromImage } from '../core/node/extract-from-image';
import { imageInfo } from '../core/node/info';
import { noKernelReason } from '../core/kernel/presence';
import { ImageError } from '../core/image';
import { visibleText } from '../common/visible-text';
import {
  OutputError,
  checkOutputFolder,
  checkOutputPath,
  writeFileAtomic,
  writeFolderAtomic,
} from '../core/node/util/atomic-file';
import { PdfError } from '../core/node/report/pdf';
import { csvText, csvTables } from '../core/report';
import { sha256File } from '../core/node/util/file-hash';
import { packageVersion } from '../core/node/util/package-version';
import { renderSummary, renderTable, tableOf } from './render-analysis';
import { TABLES, type TableName } from './table-names';
import { diffExitCode, renderDiff } from './render-diff';
import { buildReport } from './report-command';
import { renderCaptureProgress, renderCaptureResult, renderCaptureTargets } from './render-capture';
import { renderExtraction } from './render-extract';
import { renderInfo } from './render-info';
import { terminalJson, terminalText } from './terminal-text';

const EXIT_UNSUPPORTED = 2;
const VERSION = packageVersion(import.meta.url);

/** What a command prints: image strings in it are made inert for the terminal (terminal-text.ts). */
function print(text: string): void {
  process.stdout.write(terminalText(text));
}

function printJson(value: unknown): void {
  process.stdout.write(terminalJson(value));
}

function fail(error: unknown): never {
  if (
    error instanceof ImageError ||
    error instanceof OutputError ||
    error instanceof CaptureError ||
    error instanceof PdfError ||
    error instanceof ExtractError
  ) {
    process.stderr.write(terminalText(`irpscope: ${error.message}\n`));
    process.exit(EXIT_UNSUPPORTED);
  }
  process.stderr.write(terminalText(`irpscope: internal error: ${(error as Error).stack ?? error}\n`));
  process.exit(1);
}

/** An --out that names a folder: it ends in a separator, or a folder of that name exists. */
function namesFolder(out: string): boolean {
  if (/[\\/]$/.test(out)) return true;
  try {
    return statSync(out).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A report's files as a new folder, created whole (built under a temporary name and renamed): a
 * folder that exists is refused rather than filled file by file beside what it already holds.
 */
function writeNewFolder(out: string, files: ReadonlyArray<{ name: string; content: string }>): void {
  const folder = out.replace(/[\\/]+$/, '') || out;
  if (existsSync(folder))
    throw new OutputError(
      `cannot write ${out}: a folder of that name exists (name a new folder, which is created whole, or a .zip file)`,
      'EEXIST',
    );
  writeFolderAtomic(
    folder,
    files.map((f) => ({ name: f.name, data: f.content })),
  );
}

/** Signals that end a capture: each is a cancel, never an exit while the VM may be paused. */
const CAPTURE_SIGNALS: readonly NodeJS.Signals[] =
  process.platform === 'win32' ? ['SIGINT'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs a capture to its end. The first Ctrl-C (or SIGTERM, SIGHUP) cancels it; later ones do not
 * kill the process — that would leave a VM this capture paused paused — but say what it still
 * waits for (every such wait is bounded).
 */
async function captureUntilDone(source: CaptureSource, out: string) {
  const abort = new AbortController();
  const onSignal = () => {
    if (!abort.signal.aborted) abort.abort();
    else
      process.stderr.write(
        '\nirpscope: still cancelling: a VM this capture paused is resumed as soon as its hypervisor has finished writing; stopping now would leave it paused\n',
      );
  };
  for (const signal of CAPTURE_SIGNALS) process.on(signal, onSignal);
  try {
    return await capture(source, { out, signal: abort.signal, onProgress: captureProgressReporter() });
  } finally {
    for (const signal of CAPTURE_SIGNALS) process.off(signal, onSignal);
  }
}

export interface CaptureCliOptions {
  qmp?: string;
  virsh?: string;
  vbox?: string;
  vmrun?: string;
  out?: string;
  analyze?: boolean;
  baseline?: string;
  json?: boolean;
  symbols?: string;
  list?: boolean;
  dir?: string[];
}

function captureSource(options: CaptureCliOptions): CaptureSource {
  const given = [
    options.qmp !== undefined && ({ kind: 'qmp', endpoint: options.qmp } as const),
    options.virsh !== undefined && ({ kind: 'libvirt', vm: options.virsh } as const),
    options.vbox !== undefined && ({ kind: 'virtualbox', vm: options.vbox } as const),
    options.vmrun !== undefined && ({ kind: 'vmware', vm: options.vmrun } as const),
  ].filter((s) => s !== false);
  if (given.length !== 1)
    throw new CaptureError(
      'bad-target',
      'name one VM to capture: --qmp SOCKET, --virsh DOMAIN, --vbox VM or --vmrun VMX',
    );
  return given[0]!;
}

/** Capture progress on stderr: a live line on a terminal, one line per stage otherwise. */
function captureProgressReporter(): (progress: CaptureProgress) => void {
  let lastStage = '';
  return (progress) => {
    const text = renderCaptureProgress(progress);
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
    else if (progress.stage !== lastStage) process.stderr.write(`irpscope: ${text}\n`);
    if (process.stderr.isTTY && progress.stage === 'finishing') process.stderr.write('\r\x1b[K');
    lastStage = progress.stage;
  };
}

/**
 * The baseline and the image at the same time, the cores shared between their scans: one's
 * kernel discovery and carving run while the other's scan reads, so the pair costs no more than
 * the two analyses one after the other.
 */
async function analyzeBoth(
  baseline: string,
  image: string,
  symbols: string | undefined,
): Promise<[AnalysisResult, AnalysisResult]> {
  const both = startBoth(baseline, image, symbols);
  return Promise.all([both.baseline, both.image]);
}

/** analyzeBoth's two analyses, each settling when it ends (the report stamps when each finished). */
function startBoth(
  baseline: string,
  image: string,
  symbols: string | undefined,
): { baseline: Promise<AnalysisResult>; image: Promise<AnalysisResult> } {
  const workers = Math.max(1, Math.ceil(availableParallelism() / 2));
  const progress = progressReporter();
  const fractions = [0, 0];
  const report = (index: number) =>
    progress &&
    ((p: Progress) => {
      fractions[index] = p.fraction;
      progress({
        stage: index === 0 ? `baseline: ${p.stage}` : `image: ${p.stage}`,
        fraction: (fractions[0]! + fractions[1]!) / 2,
      });
    });
  const abort = new AbortController();
  const run = (path: string, index: number) =>
    analyzeImage(path, { symbols, workers, signal: abort.signal, onProgress: report(index) }).catch(
      (error: unknown) => {
        abort.abort(error);
        throw error;
      },
    );
  const pair = { baseline: run(baseline, 0), image: run(image, 1) };
  void Promise.all([pair.baseline, pair.image]).then(
    () => progress?.({ stage: 'done', fraction: 1 }),
    () => undefined,
  );
  return pair;
}

/** Progress on stderr, only for a terminal (never into piped or JSON output). */
function progressReporter(): ((progress: Progress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = '';
  return (progress) => {
    const text = `${progress.stage} ${Math.round(progress.fraction * 100)}%`;
    if (text === last) return;
    last = text;
    process.stderr.write(`\r\x1b[K${text}${progress.stage === 'done' ? '\r\x1b[K' : ''}`);
  };
}

export async function infoCommand(
  image: string,
  options: { json?: boolean; symbols?: string },
): Promise<void> {
  try {
    const info = await imageInfo(image, { symbols: options.symbols });
    if (options.json) printJson(info);
    else print(renderInfo(info));
    // What could be identified is printed; an image with no kernel in it is still an error.
    const noKernel = noKernelReason(info);
    if (noKernel) fail(new ImageError('no-kernel', noKernel));
  } catch (error) {
    fail(error);
  }
}

export async function analyzeCommand(
  image: string,
  options: { json?: boolean; table?: TableName; csv?: string; symbols?: string },
): Promise<void> {
  try {
    if (options.csv)
      checkOutputFolder(
        options.csv,
        TABLES.map((name) => `${name}.csv`),
      );
    const result = await analyzeImage(image, {
      symbols: options.symbols,
      onProgress: progressReporter(),
    });
    if (options.csv)
      writeFolderAtomic(
        options.csv,
        csvTables(result).map((table) => ({ name: `${table.name}.csv`, data: csvText(table) })),
      );
    if (options.json) printJson(result);
    else if (options.table) print(renderTable(tableOf(result, options.table)));
    else if (!options.csv) print(renderSummary(result));
  } catch (error) {
    fail(error);
  }
}

export async function diffCommand(
  baseline: string,
  image: string,
  options: { json?: boolean; symbols?: string },
): Promise<void> {
  try {
    const [before, after] = await analyzeBoth(baseline, image, options.symbols);
    const diff = diffResults(before, after);
    if (options.json) printJson(diff);
    else print(renderDiff(diff));
    process.exitCode = diffExitCode(diff);
  } catch (error) {
    fail(error);
  }
}

export async function reportCommand(
  image: string,
  options: {
    baseline?: string;
    format: ReportFormat;
    out?: string;
    analyst?: string;
    note?: string;
    hash: boolean;
    symbols?: string;
  },
): Promise<void> {
  try {
    // Before any work: an --out that cannot be replaced is said now, not after the analysis.
    if (options.out !== undefined && options.out !== '-' && !namesFolder(options.out))
      checkOutputPath(options.out);
    const analyses = options.baseline
      ? startBoth(options.baseline, image, options.symbols)
      : { image: analyzeImage(image, { symbols: options.symbols, onProgress: progressReporter() }) };
    const report = await buildReport(
      { ...options, image, generatedBy: `irpscope report (IRPscope ${VERSION})` },
      { analyses, sha256: (path) => sha256File(path), now: () => new Date() },
    );
    const bytes = report.encoding === 'base64' ? Buffer.from(report.content, 'base64') : report.content;
    if (options.out === '-') process.stdout.write(bytes);
    else {
      const out = options.out ?? report.fileName;
      if (report.files && namesFolder(out)) writeNewFolder(out, report.files);
      else writeFileAtomic(out, bytes);
      process.stderr.write(terminalText(`irpscope: wrote ${out}\n`));
    }
  } catch (error) {
    fail(error);
  }
}

export async function extractCommand(
  image: string,
  options: {
    driver?: string;
    module?: string;
    address?: bigint;
    out?: string;
    json?: boolean;
    symbols?: string;
  },
): Promise<void> {
  try {
    const given = [options.driver, options.module, options.address].filter((v) => v !== undefined);
    if (given.length !== 1)
      throw new ExtractError('say what to extract: one of --driver, --module or --address');
    if (options.out !== undefined) checkOutputPath(options.out);
    const target: ExtractTarget =
      options.driver !== undefined
        ? { driver: options.driver }
        : options.module !== undefined
          ? { module: options.module }
          : { address: options.address! };
    const extraction = await extractFromImage(image, target, {
      symbols: options.symbols,
      onProgress: progressReporter(),
    });
    const out = options.out ?? extraction.fileName;
    writeFileAtomic(out, extraction.bytes);
    if (options.json) {
      const { bytes: _bytes, base, ...rest } = extraction;
      printJson({
        schema: 'irpscope-extract/1',
        file: resolve(out),
        base: `0x${base.toString(16)}`,
        size: extraction.bytes.length,
        ...rest,
      });
    } else print(renderExtraction(extraction, out));
  } catch (error) {
    fail(error);
  }
}

export async function captureCommand(options: CaptureCliOptions): Promise<void> {
  try {
    if (options.list) {
      const folders = [...(options.dir ?? []), ...libvirtSocketFolders()];
      const [search, tools] = await Promise.all([findQmpSockets(folders), toolStatus()]);
      process.stdout.write(
        options.json
          ? terminalJson({
              sockets: search.probes,
              skipped: search.skipped,
              unsearched: search.folders,
              tools,
            })
          : renderCaptureTargets(search, tools, folders),
      );
      return;
    }
    const source = captureSource(options);
    if (!options.out && source.kind !== 'vmware')
      throw new CaptureError('bad-target', 'say where the image goes: --out FILE');
    const result = await captureUntilDone(source, options.out ?? '');
    process.stderr.write(`irpscope: captured ${visibleText(result.file)}\n`);
    if (options.baseline) {
      const [before, after] = await analyzeBoth(options.baseline, result.file, options.symbols);
      const diff = diffResults(before, after);
      process.stdout.write(
        options.json
          ? terminalJson({ capture: result, diff })
          : renderCaptureResult(result) + renderDiff(diff),
      );
      process.exitCode = diffExitCode(diff);
    } else if (options.analyze) {
      const analysis = await analyzeImage(result.file, {
        symbols: options.symbols,
        onProgress: progressReporter(),
      });
      process.stdout.write(
        options.json
          ? terminalJson({ capture: result, analysis })
          : renderCaptureResult(result) + renderSummary(analysis),
      );
    } else process.stdout.write(options.json ? terminalJson(result) : renderCaptureResult(result));
  } catch (error) {
    // A capture's messages quote its peers (QEMU's errors, a tool's stderr): shown neutralised.
    fail(error instanceof CaptureError ? new CaptureError(error.kind, visibleText(error.message)) : error);
  }
}

export async function serveCommand(
  images: string[],
  options: { port?: number; symbols?: string; demo: boolean },
): Promise<void> {
  try {
    // Loaded only here: info and analyze stay free of the server and its dependencies.
    const { startServer } = await import('../server/index');
    const server = await startServer({
      images,
      port: options.port ?? 0,
      openDemoIfEmpty: options.demo,
      ...(options.symbols ? { symbols: options.symbols } : {}),
    });
    process.stdout.write(`IRPscope web workbench: ${server.url}\n`);
    const stop = (): void => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    if (error instanceof Error && !(error instanceof ImageError)) {
      process.stderr.write(`irpscope: ${error.message}\n`);
      process.exit(1);
    }
    fail(error);
  }
}
