// The workbench's API implemented on Node: sessions with one engine worker each, the demo case,
// practice images, flow graphs, baseline comparisons, reports, the recent list and the folder
// browser. The Electron main process and the web server both serve exactly this object.

import { hex } from '../common/hex';
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type {
  AnnotationStatus,
  ApiEvent,
  AppInfo,
  CaseView,
  CaptureSource,
  CaptureSummary,
  CaptureTargets,
  DiffResult,
  DirectoryListing,
  ExtractedFile,
  ExtractionRecord,
  ExtractTargetRequest,
  FleetSnapshot,
  FleetSource,
  FlowGraph,
  IrpscopeApi,
  MemoryChunk,
  MemoryRequest,
  PracticeImageRequest,
  ReportFile,
  ReportFormat,
  SessionRole,
  SessionSummary,
  StructureKind,
  StructureView,
  UserOperation,
} from '../common/api';
import { diffResults } from '../core/compare';
import { USER_OPERATIONS, buildFlow, buildIrpFlow } from '../common/flow';
import type { AnalysisResult, Disassembly } from '../common/model';
import {
  PdfError,
  makeReportFile,
  windowsBuild,
  type ReportBaseline,
  type ReportCase,
  type Sha256Facts,
  type Sha256State,
} from '../core/report/index';
import { resolveTarget, type ExtractTarget } from '../core/extract';
import { listDirectory } from './browse';
import { CaptureJobs } from './captures';
import { engineFingerprint } from './cases/fingerprint';
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
import { MAX_ANALYST, MAX_NOTE } from './cases/case-file';
import {
  RequestError,
  optionalString,
  optionalText,
  requireHex,
  requireInt,
  requireObject,
  requireOneOf,
  requireString,
} from './validate';

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

const STRUCTURE_KINDS: readonly StructureKind[] = [
  'DRIVER_OBJECT',
  'DEVICE_OBJECT',
  'DRIVER_EXTENSION',
  'DEVOBJ_EXTENSION',
  'FAST_IO_DISPATCH',
  'OBJECT_HEADER',
];
const FORMATS = ['raw', 'dmp-full', 'dmp-bitmap', 'vmware', 'elf'] as const;
const MAX_READ = 0x10000;

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

  async open(request: { path: string; role?: SessionRole; symbols?: string }): Promise<SessionSummary> {
    const body = requireObject(request, 'open request');
    const path = resolve(requireString(body.path, 'path'));
    const role =
      body.role === undefined ? 'primary' : requireOneOf(body.role, 'role', ['primary', 'baseline'] as const);
    const symbols = optionalString(body.symbols, 'symbols') ?? this.options.symbolsDirectory ?? undefined;
    let stat;
    try {
      stat = statSync(path);
    } catch (error) {
      throw new RequestError(
        `cannot open ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
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

  async cancel(id: string): Promise<void> {
    this.session(id).cancel();
  }

  async close(id: string): Promise<void> {
    const session = this.session(id);
    session.close();
    this.byId.delete(id);
    this.forgetDiffs(id);
    this.emit({ type: 'session-closed', id });
  }

  private forgetDiffs(id: string): void {
    for (const key of this.diffCache.keys()) if (key.split('|').includes(id)) this.diffCache.delete(key);
  }

  async result(id: string): Promise<AnalysisResult> {
    return this.ready(id);
  }

  async readMemory(request: MemoryRequest): Promise<MemoryChunk> {
    const body = requireObject(request, 'memory request');
    const space = requireOneOf(body.space, 'space', ['virtual', 'physical'] as const);
    const address = requireHex(body.address, 'address');
    const length = requireInt(body.length, 'length', 1, MAX_READ);
    return this.openSession(requireString(body.session, 'session')).readMemory(space, address, length);
  }

  async disassemble(request: { session: string; address: string; count: number }): Promise<Disassembly> {
    const body = requireObject(request, 'disassembly request');
    const address = requireHex(body.address, 'address');
    const count = requireInt(body.count, 'count', 1, 256);
    return this.openSession(requireString(body.session, 'session')).disassemble(address, count);
  }

  async structure(request: {
    session: string;
    kind: StructureKind;
    address: string;
  }): Promise<StructureView> {
    const body = requireObject(request, 'structure request');
    const kind = requireOneOf(body.kind, 'kind', STRUCTURE_KINDS);
    const address = requireHex(body.address, 'address');
    return this.openSession(requireString(body.session, 'session')).structure(kind, address);
  }

  async flow(request: {
    session: string;
    device: string;
    operation: UserOperation;
    irp?: string;
  }): Promise<FlowGraph> {
    const body = requireObject(request, 'flow request');
    const operation = requireOneOf(body.operation, 'operation', USER_OPERATIONS);
    const irp = body.irp === undefined ? undefined : requireHex(body.irp, 'irp');
    const result = this.ready(requireString(body.session, 'session'));
    try {
      if (irp !== undefined) return buildIrpFlow(result, irp);
      return buildFlow(result, requireString(body.device, 'device'), operation);
    } catch (error) {
      throw new RequestError((error as Error).message);
    }
  }

  async diff(request: { baseline: string; primary: string }): Promise<DiffResult> {
    const body = requireObject(request, 'diff request');
    const baselineId = requireString(body.baseline, 'baseline');
    const primaryId = requireString(body.primary, 'primary');
    const key = `${baselineId}|${primaryId}`;
    const cached = this.diffCache.get(key);
    if (cached) return cached;
    const diff = diffResults(this.ready(baselineId), this.ready(primaryId), {
      baseline: this.session(baselineId).summary.label,
      primary: this.session(primaryId).summary.label,
    });
    this.diffCache.set(key, diff);
    // The pairing is a convenience for the next reopen; a case that cannot be written loses it.
    await this.cases
      .pairBaseline(this.session(primaryId).summary.path, this.session(baselineId).summary.path)
      .catch(() => undefined);
    return diff;
  }

  async report(request: { session: string; format: ReportFormat; baseline?: string }): Promise<ReportFile> {
    const body = requireObject(request, 'report request');
    const id = requireString(body.session, 'session');
    const format = requireOneOf(body.format, 'format', ['html', 'pdf', 'json', 'csv'] as const);
    const baseline = optionalString(body.baseline, 'baseline');
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

  async extractImage(request: { session: string; target: ExtractTargetRequest }): Promise<ExtractedFile> {
    const body = requireObject(request, 'extract request');
    const id = requireString(body.session, 'session');
    const wanted = requireObject(body.target, 'target');
    const keys = Object.keys(wanted);
    if (keys.length !== 1) throw new RequestError('target: give exactly one of driver, module or address');
    const target: ExtractTarget =
      'driver' in wanted
        ? { driver: requireString(wanted.driver, 'target.driver', 1024) }
        : 'module' in wanted
          ? { module: requireString(wanted.module, 'target.module', 1024) }
          : 'address' in wanted
            ? { address: BigInt(requireHex(wanted.address, 'target.address')) }
            : (() => {
                throw new RequestError('target: give exactly one of driver, module or address');
              })();
    const result = this.ready(id);
    const session = this.session(id);
    let resolved;
    try {
      resolved = resolveTarget(result, target);
    } catch (error) {
      throw new RequestError((error as Error).message);
    }
    let image;
    try {
      image = await session.extractImage(resolved.base, resolved.size);
    } catch (error) {
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

  async practiceImage(request: PracticeImageRequest): Promise<SessionSummary> {
    const body = requireObject(request, 'practice image request');
    const scenario = requireOneOf(body.scenario, 'scenario', ['clean', 'infected'] as const);
    const format = requireOneOf(body.format, 'format', FORMATS);
    const size = requireInt(body.size, 'size', 64 * 1024 * 1024, 16 * 1024 * 1024 * 1024);
    const seed = body.seed === undefined ? undefined : requireInt(body.seed, 'seed', 0, 2 ** 31);
    const isf = optionalString(body.isf, 'isf');
    const symbolsDir = optionalString(body.symbolsDir, 'symbolsDir');
    const profile = optionalString(body.profile, 'profile');
    const infections = Array.isArray(body.infections)
      ? body.infections.map((i) => requireString(i, 'infection'))
      : undefined;
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

  async browse(path: string | null): Promise<DirectoryListing> {
    const folder = path === null || path === undefined ? null : requireString(path, 'path');
    try {
      return listDirectory(folder, this.options.browseStart);
    } catch (error) {
      throw new RequestError(
        `cannot list ${folder ?? 'the start folder'}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }

  async captureTargets(request: { folder?: string }): Promise<CaptureTargets> {
    const body = requireObject(request ?? {}, 'capture targets request');
    const folder = optionalString(body.folder, 'folder');
    return this.captureJobs.targets(folder ? resolve(folder) : undefined);
  }

  async capture(request: {
    source: CaptureSource;
    name?: string;
    role?: SessionRole;
    label?: string;
  }): Promise<CaptureSummary> {
    const body = requireObject(request, 'capture request');
    const source = requireObject(body.source, 'source');
    const kind = requireOneOf(source.kind, 'source.kind', [
      'qmp',
      'libvirt',
      'virtualbox',
      'vmware',
    ] as const);
    const parsed: CaptureSource =
      kind === 'qmp'
        ? { kind, endpoint: requireString(source.endpoint, 'source.endpoint') }
        : { kind, vm: requireString(source.vm, 'source.vm') };
    const role =
      body.role === undefined ? 'primary' : requireOneOf(body.role, 'role', ['primary', 'baseline'] as const);
    const label = optionalString(body.label, 'label')?.slice(0, 100);
    return this.captureJobs.start(parsed, optionalString(body.name, 'name'), role, label);
  }

  async cancelCapture(id: string): Promise<void> {
    this.captureJobs.cancel(requireString(id, 'capture'));
  }

  async captures(): Promise<CaptureSummary[]> {
    return this.captureJobs.list();
  }

  async caseOf(id: string): Promise<CaseView | null> {
    return this.cases.refreshed(this.session(requireString(id, 'session')).summary.path);
  }

  async annotate(request: {
    session: string;
    target: string;
    status: AnnotationStatus | null;
    note: string;
  }): Promise<CaseView> {
    const body = requireObject(request, 'annotation');
    const target = requireString(body.target, 'target');
    if (target.length > 400 || !/^(finding|driver|device|handler):\S/.test(target))
      throw new RequestError(
        'target must be finding:<id>, driver:<va>, device:<va> or handler:<driver va>:<table>:<name>',
      );
    const status =
      body.status === null
        ? null
        : requireOneOf(body.status, 'status', ['suspicious', 'benign', 'to-check'] as const);
    const note = optionalText(body.note, 'note', MAX_NOTE) ?? '';
    return this.caseCall(body.session, (path) => this.cases.annotate(path, target, status, note));
  }

  async updateCase(request: { session: string; analyst?: string; note?: string }): Promise<CaseView> {
    const body = requireObject(request, 'case update');
    // An empty string clears either.
    const analyst = optionalText(body.analyst, 'analyst', MAX_ANALYST);
    const note = optionalText(body.note, 'note', MAX_NOTE);
    return this.caseCall(body.session, (path) =>
      this.cases.update(path, {
        ...(analyst !== undefined ? { analyst } : {}),
        ...(note !== undefined ? { note } : {}),
      }),
    );
  }

  async hashImage(request: { session: string; action: 'start' | 'cancel' }): Promise<CaseView> {
    const body = requireObject(request, 'hash request');
    const action = requireOneOf(body.action, 'action', ['start', 'cancel'] as const);
    return this.caseCall(body.session, (path) =>
      action === 'start' ? this.cases.startHash(path) : this.cases.cancelHash(path),
    );
  }

  private async caseCall(
    session: unknown,
    call: (path: string) => Promise<CaseView | null> | CaseView | null,
  ): Promise<CaseView> {
    const path = this.session(requireString(session, 'session')).summary.path;
    try {
      const view = await call(path);
      if (!view) throw new Error('the image has no case yet (its analysis is not done)');
      return view;
    } catch (error) {
      if (error instanceof RequestError) throw error;
      throw new RequestError((error as Error).message);
    }
  }

  async fleet(request: { source: FleetSource; fleet?: string }): Promise<FleetSnapshot> {
    return fleetSnapshot(request);
  }

  async openFleetHost(request: {
    source: FleetSource;
    fleet: string;
    host: string;
  }): Promise<{ primary: SessionSummary; baseline: SessionSummary | null }> {
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

  /** For tests: the live worker of a session. */
  workerThreadId(id: string): number | null {
    return this.session(id).workerThreadId;
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

  private session(id: unknown): Session {
    const session = typeof id === 'string' ? this.byId.get(id) : undefined;
    if (!session) throw new RequestError(`no session ${String(id)}`);
    return session;
  }

  private openSession(id: string): Session {
    return this.session(id);
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
