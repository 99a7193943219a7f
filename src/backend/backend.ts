// The workbench's API implemented on Node: sessions with one engine worker each, the demo case,
// practice images, flow graphs, baseline comparisons, reports, the recent list and the folder
// browser. The Electron main process and the web server both serve exactly this object, and both
// decode every request first (src/common/api-decode.ts): the methods here take the contract's
// types as given. A request that decodes but cannot be served (no such session, an image that is
// not ready) is refused with a RequestError; any other error is the program's.

import { hex } from '../common/hex';
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type {
  ApiEvent,
  AppInfo,
  CaseView,
  CaptureSummary,
  CaptureTargets,
  DiffResult,
  DirectoryListing,
  ExtractedFile,
  ExtractionRecord,
  FleetSnapshot,
  FlowGraph,
  IrpscopeApi,
  MemoryChunk,
  ReportFile,
  SessionRole,
  SessionSummary,
  StructureView,
} from '../common/api';
import type { ApiRequest } from '../common/api-decode';
import { RequestError } from '../common/api-errors';
import { diffResults } from '../core/compare';
import { buildFlow, buildIrpFlow } from '../common/flow';
import type { AnalysisResult, Disassembly } from '../common/model';
import {
  windowsBuild,
  type ReportBaseline,
  type ReportCase,
  type Sha256Facts,
  type Sha256State,
} from '../core/report/index';
import { PdfError } from '../core/node/report/pdf';
import { makeReportFile } from '../core/node/report/report-file';
import { ExtractError, resolveTarget, type ExtractTarget } from '../core/extract';
import { listDirectory } from './browse';
import { CaptureJobs } from './captures';
import { engineFingerprint } from '../core/node/engine-fingerprint';
import { CaseKeeper } from './cases/keeper';
import { fleetSnapshot, openFleetHost } from './fleet';
import {
  DEFAULT_DEMO,
  type DemoSettings,
  buildInWorker,
  demoImages,
  ensureImage,
  practiceBuild,
} from './images';
import { AnalysisSlots } from './slots';
import { Session } from './session';
import { CaseLockTimeout } from './cases/lock';

export interface BackendOptions {
  mode: AppInfo['mode'];
  version: string;
  dataDirectory: string;
  symbolsDirectory?: string | null;
  /** Module exporting openEngine; default IRPSCOPE_ENGINE_MODULE, else the engine bundled with the app. */
  engineModule?: string | null;
  workerMemoryMb?: number;
  /** Analyses that run at once; more wait their turn (default: the number of cores). */
  concurrentAnalyses?: number;
  demo?: Partial<DemoSettings>;
  /** Where the folder browser starts (default: the home folder). */
  browseStart?: string;
  /** For tests: the environment the hypervisors' tools are looked up in. */
  toolEnv?: NodeJS.ProcessEnv;
  /** Prints a report's HTML to PDF (the desktop app: Electron's printToPDF); default: an installed Chromium. */
  printPdf?: (html: string) => Promise<Buffer>;
}

/**
 * What a case knows of its image's SHA-256, for a report. A hash the case does not say was
 * verified on the file as it is is reported as not verified, never as a bare fact.
 */
function caseHash(image: {
  sha256: string | null;
  sha256ComputedAt?: string | null;
  sha256State?: Sha256State | null;
  sha256VerifiedAt?: string | null;
}): Sha256Facts {
  if (!image.sha256)
    return { sha256: null, sha256ComputedAt: null, sha256State: null, sha256VerifiedAt: null };
  return {
    sha256: image.sha256,
    sha256ComputedAt: image.sha256ComputedAt ?? null,
    sha256State: image.sha256State ?? 'not-verified',
    sha256VerifiedAt: image.sha256VerifiedAt ?? null,
  };
}

export class Backend implements IrpscopeApi {
  private readonly byId = new Map<string, Session>();
  private readonly listeners = new Set<(event: ApiEvent) => void>();
  private readonly engineModule: string | null;
  private readonly demoSettings: DemoSettings;
  private readonly diffCache = new Map<string, DiffResult>();
  private readonly slots: AnalysisSlots;
  private readonly captureJobs: CaptureJobs;
  private readonly cases: CaseKeeper;
  private nextId = 1;

  constructor(private readonly options: BackendOptions) {
    this.engineModule = options.engineModule ?? process.env.IRPSCOPE_ENGINE_MODULE ?? null;
    this.demoSettings = { ...DEFAULT_DEMO, ...options.demo };
    this.slots = new AnalysisSlots(options.concurrentAnalyses ?? Math.max(1, availableParallelism()));
    this.cases = new CaseKeeper(
      join(options.dataDirectory, 'cases'),
      engineFingerprint(options.version, this.engineModule, import.meta.url),
      (path, view) => {
        for (const session of this.byId.values())
          if (session.summary.path === path)
            this.emit({ type: 'case', session: session.summary.id, case: view });
      },
      (path, note) => {
        for (const session of this.byId.values()) {
          if (session.summary.path !== path) continue;
          this.forgetDiffs(session.summary.id);
          session.analyseAgain(note);
        }
      },
    );
    this.captureJobs = new CaptureJobs({
      outputFolder: join(options.dataDirectory, 'captures'),
      emit: (capture) => this.emit({ type: 'capture', capture }),
      open: (path, role) => this.open({ path, role }),
      ...(options.toolEnv ? { env: options.toolEnv } : {}),
    });
  }

  async appInfo(): Promise<AppInfo> {
    return {
      version: this.options.version,
      mode: this.options.mode,
      platform: process.platform,
      dataDirectory: this.options.dataDirectory,
      symbolsDirectory: this.options.symbolsDirectory ?? null,
    };
  }

  async sessions(): Promise<SessionSummary[]> {
    return [...this.byId.values()].map((s) => structuredClone(s.summary));
  }

  async open(request: ApiRequest<'open'>): Promise<SessionSummary> {
    const path = resolve(request.path);
    const role = request.role ?? 'primary';
    const symbols = request.symbols ?? this.options.symbolsDirectory ?? undefined;
    let stat;
    try {
      stat = statSync(path);
    } catch (error) {
      throw fileSystemRefusal(error, `cannot open ${path}`);
    }
    if (!stat.isFile()) throw new RequestError(`cannot open ${path}: not a file`);
    const existing = this.findOpen(path, role);
    if (existing) return structuredClone(existing.summary);
    // Two images called image.raw are told apart by their folders.
    const taken = [...this.byId.values()].some((s) => s.summary.label === basename(path));
    const label = taken ? `${basename(dirname(path))}/${basename(path)}` : basename(path);
    const session = this.createSession(path, label, role, symbols);
    session.start();
    return structuredClone(session.summary);
  }

  async cancel(id: ApiRequest<'cancel'>): Promise<void> {
    this.session(id).cancel();
  }

  async close(id: ApiRequest<'close'>): Promise<void> {
    const session = this.session(id);
    session.close();
    this.byId.delete(id);
    this.forgetDiffs(id);
    this.emit({ type: 'session-closed', id });
  }

  private forgetDiffs(id: string): void {
    for (const key of this.diffCache.keys()) if (key.split('|').includes(id)) this.diffCache.delete(key);
  }

  async result(id: ApiRequest<'result'>): Promise<AnalysisResult> {
    return this.ready(id);
  }

  async readMemory(request: ApiRequest<'readMemory'>): Promise<MemoryChunk> {
    const { session, space, address, length } = request;
    return this.openSession(session).readMemory(space, address, length);
  }

  async disassemble(request: ApiRequest<'disassemble'>): Promise<Disassembly> {
    return this.openSession(request.session).disassemble(request.address, request.count);
  }

  async structure(request: ApiRequest<'structure'>): Promise<StructureView> {
    return this.openSession(request.session).structure(request.kind, request.address);
  }

  /**
   * An IRP or a device the image does not hold is the request's fault; anything else that goes
   * wrong while the graph is built is the program's, and is not dressed up as the client's.
   */
  async flow(request: ApiRequest<'flow'>): Promise<FlowGraph> {
    const result = this.ready(request.session);
    if (request.irp !== undefined) {
      const wanted = BigInt(request.irp);
      if (!result.irps.some((irp) => BigInt(irp.address) === wanted))
        throw new RequestError(`no IRP ${request.irp} in this image`);
      return buildIrpFlow(result, request.irp);
    }
    // A device by its id, or by its name (as buildFlow looks it up).
    if (!result.devices.some((d) => d.id === request.device || d.name === request.device))
      throw new RequestError(`no device ${request.device} in this image`);
    return buildFlow(result, request.device, request.operation);
  }

  async diff(request: ApiRequest<'diff'>): Promise<DiffResult> {
    const { baseline: baselineId, primary: primaryId } = request;
    const key = `${baselineId}|${primaryId}`;
    let diff = this.diffCache.get(key);
    if (!diff) {
      diff = diffResults(this.ready(baselineId), this.ready(primaryId), {
        baseline: this.session(baselineId).summary.label,
        primary: this.session(primaryId).summary.label,
      });
      this.diffCache.set(key, diff);
    }
    // The case names the baseline last compared with, also when that comparison was cached: going
    // back to an earlier baseline must not leave the case naming another. The pairing is a
    // convenience for the next reopen; a case that cannot be written loses it.
    await this.cases
      .pairBaseline(this.session(primaryId).summary.path, this.session(baselineId).summary.path)
      .catch(() => undefined);
    return diff;
  }

  async report(request: ApiRequest<'report'>): Promise<ReportFile> {
    const { session: id, format, baseline } = request;
    const result = this.ready(id);
    const diff = baseline ? await this.diff({ baseline, primary: id }) : undefined;
    try {
      return await makeReportFile(result, format, {
        label: this.session(id).summary.label,
        ...(diff ? { diff } : {}),
        generatedBy: `IRPscope ${this.options.version}`,
        case: this.reportCase(id, baseline ?? null),
        // Made now, after both analyses finished: never earlier than either.
        generatedAt: new Date().toISOString(),
        ...(this.options.printPdf ? { print: this.options.printPdf } : {}),
      });
    } catch (error) {
      if (error instanceof PdfError) throw new RequestError(error.message);
      throw error;
    }
  }

  /** The case of a ready session's image for its report, and its baseline's file, as the cases record them. */
  private reportCase(id: string, baselineId: string | null): ReportCase {
    const path = this.session(id).summary.path;
    const result = this.ready(id);
    const record = this.cases.record(path);
    return {
      imagePath: record?.image.path ?? path,
      imageSize: record?.image.size ?? result.image.fileSize,
      ...this.hashFacts(path),
      analyzedAt: record?.analyzedAt ?? null,
      analyst: record?.analyst ?? '',
      note: record?.note ?? '',
      annotations: record?.annotations ?? {},
      extractions: record?.extractions ?? [],
      ...(baselineId ? { baseline: this.reportBaseline(baselineId) } : {}),
    };
  }

  /** The file's hash with when it was computed and whether the file as it is now was verified to have it. */
  private hashFacts(path: string): Sha256Facts {
    const reported = this.cases.reported(path);
    return caseHash(
      reported
        ? {
            sha256: reported.sha256,
            sha256ComputedAt: reported.sha256ComputedAt,
            sha256VerifiedAt: reported.sha256VerifiedAt,
            sha256State: reported.sha256Check,
          }
        : { sha256: null },
    );
  }

  private reportBaseline(id: string): ReportBaseline {
    const path = this.session(id).summary.path;
    const result = this.ready(id);
    const record = this.cases.record(path);
    return {
      path: record?.image.path ?? path,
      size: record?.image.size ?? result.image.fileSize,
      ...this.hashFacts(path),
      build: windowsBuild(result.image),
      analyzedAt: record?.analyzedAt ?? null,
    };
  }

  async extractImage(request: ApiRequest<'extractImage'>): Promise<ExtractedFile> {
    const { session: id, target: wanted } = request;
    const target: ExtractTarget = 'address' in wanted ? { address: BigInt(wanted.address) } : wanted;
    const result = this.ready(id);
    const session = this.session(id);
    let resolved;
    try {
      resolved = resolveTarget(result, target);
    } catch (error) {
      if (error instanceof ExtractError) throw new RequestError(error.message);
      throw error;
    }
    let image;
    try {
      image = await session.extractImage(resolved.base, resolved.size);
    } catch (error) {
      // The worker's answer carries only a message, so a target whose image is not in memory
      // (the expected case) cannot be told from a fault here: both are passed on as they were.
      throw new RequestError((error as Error).message);
    }
    const record: ExtractionRecord = {
      label: resolved.label,
      fileName: resolved.fileName,
      base: hex(resolved.base),
      layout: image.layout,
      size: image.bytes.length,
      sha256: image.sha256,
      missingPages: image.missing.reduce((n, m) => n + Math.ceil(m.size / 0x1000), 0),
      pages: Math.ceil(image.sizeOfImage / 0x1000),
      at: new Date().toISOString(),
    };
    // No case yet (or it cannot be written): the file is still the analyst's.
    await this.cases.extracted(session.summary.path, record).catch(() => undefined);
    return {
      fileName: resolved.fileName,
      mimeType: 'application/octet-stream',
      content: Buffer.from(image.bytes).toString('base64'),
      encoding: 'base64',
      record,
      machine: image.machine,
      entryPoint: image.entryPoint === null ? null : hex(resolved.base + BigInt(image.entryPoint)),
      sections: image.sections.map((s) => ({
        name: s.name,
        virtualAddress: hex(s.virtualAddress),
        virtualSize: s.virtualSize,
        pointerToRawData: s.pointerToRawData,
        sizeOfRawData: s.sizeOfRawData,
      })),
      imports: image.imports,
      missing: image.missing.map((m) => ({
        address: hex(resolved.base + BigInt(m.rva)),
        size: m.size,
        where: m.where,
        status: m.status,
      })),
      notes: image.notes,
    };
  }

  async openDemo(): Promise<SessionSummary[]> {
    const images = demoImages(this.options.dataDirectory, this.demoSettings);
    const summaries: SessionSummary[] = [];
    // Both images build in parallel; each session starts analysing as soon as its image exists.
    for (const image of images) {
      const role: SessionRole = image.scenario === 'clean' ? 'baseline' : 'primary';
      const existing = this.findOpen(image.path, role);
      if (existing) {
        summaries.push(structuredClone(existing.summary));
        continue;
      }
      const session = this.createSession(
        image.path,
        image.label,
        role,
        this.options.symbolsDirectory ?? undefined,
      );
      session.start(ensureImage(image), 'building the demo image');
      summaries.push(structuredClone(session.summary));
    }
    return summaries;
  }

  async practiceImage(request: ApiRequest<'practiceImage'>): Promise<SessionSummary> {
    const { scenario, format, size, seed, isf, symbolsDir, profile, infections } = request;
    const plan = practiceBuild(
      {
        scenario,
        format,
        size,
        ...(seed !== undefined ? { seed } : {}),
        ...(isf ? { isf } : {}),
        ...(symbolsDir ? { symbolsDir } : {}),
        ...(profile ? { profile } : {}),
        ...(infections ? { infections } : {}),
      },
      this.options.dataDirectory,
    );
    if (!plan.options.isf && !plan.options.profile)
      throw new RequestError('x64 practice images need a symbol folder with a kernel ISF');
    const session = this.createSession(
      plan.path,
      plan.label,
      'primary',
      symbolsDir ?? this.options.symbolsDirectory ?? undefined,
    );
    session.start(buildInWorker(plan.options), 'building the practice image');
    return structuredClone(session.summary);
  }

  /** Every image with a case and a result in the data folder, the most recently opened first. */
  async recent(): Promise<string[]> {
    return this.cases.recent();
  }

  async browse(path: ApiRequest<'browse'>): Promise<DirectoryListing> {
    try {
      return listDirectory(path, this.options.browseStart);
    } catch (error) {
      throw fileSystemRefusal(error, `cannot list ${path ?? 'the start folder'}`);
    }
  }

  async captureTargets(request: ApiRequest<'captureTargets'>): Promise<CaptureTargets> {
    return this.captureJobs.targets(request.folder ? resolve(request.folder) : undefined);
  }

  async capture(request: ApiRequest<'capture'>): Promise<CaptureSummary> {
    const label = request.label?.slice(0, 100);
    return this.captureJobs.start(request.source, request.name, request.role ?? 'primary', label);
  }

  async cancelCapture(id: ApiRequest<'cancelCapture'>): Promise<void> {
    this.captureJobs.cancel(id);
  }

  async captures(): Promise<CaptureSummary[]> {
    return this.captureJobs.list();
  }

  async caseOf(id: ApiRequest<'caseOf'>): Promise<CaseView | null> {
    return this.cases.refreshed(this.session(id).summary.path);
  }

  async annotate(request: ApiRequest<'annotate'>): Promise<CaseView> {
    const { target, status, note } = request;
    return this.caseCall(request.session, (path) => this.cases.annotate(path, target, status, note));
  }

  async updateCase(request: ApiRequest<'updateCase'>): Promise<CaseView> {
    // An empty string clears either.
    const { analyst, note } = request;
    return this.caseCall(request.session, (path) =>
      this.cases.update(path, {
        ...(analyst !== undefined ? { analyst } : {}),
        ...(note !== undefined ? { note } : {}),
      }),
    );
  }

  async hashImage(request: ApiRequest<'hashImage'>): Promise<CaseView> {
    return this.caseCall(request.session, (path) =>
      request.action === 'start' ? this.cases.startHash(path) : this.cases.cancelHash(path),
    );
  }

  /**
   * A change to the case of a session's image. An image with no case yet, and a case another
   * workbench is writing, are refusals the analyst can act on; any other failure is the program's.
   */
  private async caseCall(
    session: string,
    call: (path: string) => Promise<CaseView | null> | CaseView | null,
  ): Promise<CaseView> {
    const path = this.session(session).summary.path;
    const noCase = () => new RequestError('the image has no case yet (its analysis is not done)');
    if (!this.cases.record(path)) throw noCase();
    let view;
    try {
      view = await call(path);
    } catch (error) {
      if (error instanceof CaseLockTimeout) throw new RequestError(error.message);
      throw error;
    }
    if (!view) throw noCase();
    return view;
  }

  async fleet(request: ApiRequest<'fleet'>): Promise<FleetSnapshot> {
    return fleetSnapshot(request);
  }

  async openFleetHost(
    request: ApiRequest<'openFleetHost'>,
  ): Promise<{ primary: SessionSummary; baseline: SessionSummary | null }> {
    return openFleetHost(request, (path, role) => this.open({ path, role }));
  }

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends every session's worker (on quit). */
  dispose(): void {
    this.captureJobs.dispose();
    this.cases.dispose();
    for (const session of this.byId.values()) session.close();
    this.byId.clear();
    this.listeners.clear();
  }

  private createSession(
    path: string,
    label: string,
    role: SessionRole,
    symbols: string | undefined,
  ): Session {
    const id = `s${this.nextId++}`;
    const session = new Session(id, path, label, role, symbols ? { symbols } : {}, {
      engineModule: this.engineModule,
      slots: this.slots,
      workerMemoryMb: this.options.workerMemoryMb ?? 2048,
      cases: {
        reuse: async () => {
          const reused = await this.cases.reuse(path);
          // A reopened image brings back the baseline it was compared with.
          const baseline = reused.result && role === 'primary' ? this.cases.record(path)?.baseline : null;
          if (baseline && existsSync(baseline.path) && !this.findOpen(baseline.path, 'baseline'))
            setImmediate(
              () => void this.open({ path: baseline.path, role: 'baseline' }).catch(() => undefined),
            );
          return reused;
        },
        analysed: (result) => this.cases.analysed(path, result),
      },
      emit: (summary) => this.emit({ type: 'session', session: summary }),
    });
    this.byId.set(id, session);
    return session;
  }

  private findOpen(path: string, role: SessionRole): Session | undefined {
    return [...this.byId.values()].find(
      (s) =>
        s.summary.path === path && s.summary.role === role && s.state !== 'failed' && s.state !== 'cancelled',
    );
  }

  private session(id: string): Session {
    const session = this.byId.get(id);
    if (!session) throw new RequestError(`no session ${id}`);
    return session;
  }

  /** A session whose image is open (or opening) in its worker, to read from. */
  private openSession(id: string): Session {
    const session = this.session(id);
    const state = session.state;
    if (state === 'failed' || state === 'cancelled' || state === 'queued')
      throw new RequestError(`the image of ${session.summary.label} is not open (analysis ${state})`);
    return session;
  }

  private ready(id: string): AnalysisResult {
    const session = this.session(id);
    if (!session.result)
      throw new RequestError(`the analysis of ${session.summary.label} is ${session.state}, not ready`);
    return session.result;
  }

  private emit(event: ApiEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One broken listener (a closed window) must not stop the others.
      }
    }
  }
}

/** A file-system refusal (no such file, not allowed) of what the client named, with its code. */
function fileSystemRefusal(error: unknown, what: string): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? new RequestError(`${what}: ${code}`) : (error as Error);
}
