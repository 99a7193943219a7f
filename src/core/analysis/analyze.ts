// From a kernel address space to the driver / device / IRP-handler graph and a verdict on every
// handler. Each stage reads one view or makes one judgement and returns typed records with its own
// warnings; this pipeline composes them and never writes into the kernel context it was given.
// Three views of drivers are merged by object address (the pool scan, the \Driver and \FileSystem
// directories, the module list); devices found along the way add a fourth (the device walk).

import { hex } from '../../common/hex';
import {
  ANALYSIS_SCHEMA,
  CALLBACK_KINDS,
  type AnalysisResult,
  type Coverage,
  type Driver,
  type Finding,
  type Progress,
  type SymbolicLink,
} from '../../common/model';
import type { KernelContext } from '../kernel/discover';
import { activityLayoutsOf, readActivity } from '../activity';
import { readCallbacks } from '../callbacks';
import { CALLBACK_LABELS } from '../../common/callback-labels';
import { compareFindings } from '../../common/findings';
import type { CarveContext } from '../objects/carve';
import { DirectoryIndex } from '../objects/directory-index';
import { ObjectPaths } from '../objects/object-paths';
import type { ScanResult } from '../scan/tags';
import { activityToModel } from './activity';
import { buildFindings } from './findings';
import { createHandlerJudge } from '../verdicts/handlers';
import { Prologues } from '../verdicts/inline';
import { judgeServiceTable, readServiceTable } from './service-table';
import { ModuleSet } from '../verdicts/module-set';
import type { DriverRecord } from './records';
import { resolveLinkTargets } from './link-targets';
import { reverseMap } from './reverse-map';
import { devicesByDriver, linksByTarget, toDevice, toDriver } from './to-model';
import { coverageOf, nothingReadable } from './stages/coverage';
import { readDirectoryView } from './stages/directory-view';
import { mergeDriversAndDevices } from './stages/driver-merge';
import { buildModuleView, readModuleListView, sectionLoaderEntries } from './stages/module-view';
import { carvePoolHits } from './stages/pool-view';
import { readHandlerCode } from './stages/handler-code';
import { compareText } from '../../common/text-order';

export interface AnalyzeOptions {
  /**
   * The physical pool scan, with the pool alignment of the kernel's layouts. It reads the image
   * file on worker threads, so the caller owns it (and may have started it early); it is asked
   * for only when there are layouts to carve its hits with.
   */
  poolScan: (alignment: 8 | 16) => Promise<ScanResult>;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

type Timings = Array<{ stage: string; ms: number }>;

/** Runs one stage: cancellable before it starts, its progress reported and its time recorded. */
function stageRunner(options: AnalyzeOptions, timings: Timings) {
  return async <T>(name: string, fraction: number, work: () => T | Promise<T>): Promise<T> => {
    options.signal?.throwIfAborted();
    options.onProgress?.({ stage: name, fraction });
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings.push({ stage: name, ms: Math.round(performance.now() - started) });
    }
  };
}

export async function analyzeKernel(
  context: KernelContext,
  options: AnalyzeOptions,
): Promise<AnalysisResult> {
  const timings: Timings = [];
  const stage = stageRunner(options, timings);
  const { memory, profile, kernel } = context;
  if (!memory || !profile || !kernel) return withoutLayouts(context, timings);
  const kernelView = { context, memory, profile, kernel };

  const prologues = new Prologues(memory);
  const objects = await readObjects(kernelView, options, stage, prologues);
  const judge = handlerJudge(kernelView, objects, prologues);
  const activityRecords = await stage('processes and IRPs', 0.9, () =>
    readActivity(
      memory,
      profile,
      activityLayoutsOf(context.info.layouts),
      context.psActiveProcessHead?.value ?? null,
      objects.poolView.processes,
      objects.poolView.irps,
    ),
  );
  const activity = activityToModel(activityRecords, {
    memory,
    profile,
    modules: objects.moduleView.set,
    judge,
    devices: objects.graph.devices,
    drivers: objects.graph.drivers,
  });
  const verdicts = await stage('verdicts', 0.92, () => judgeObjects(kernelView, objects, judge, activity));
  const callbacks = await stage('callbacks', 0.95, () =>
    readCallbacks({
      memory,
      kernel,
      profile: context.profile,
      build: context.version?.value.number ?? null,
      modules: objects.moduleView.set,
      moduleList: objects.moduleView.modules,
      moduleListComplete: objects.moduleList.walk === 'complete',
      devices: verdicts.devices,
      drivers: verdicts.drivers,
      judge,
      processes: activityRecords.processes,
      threadsUnavailable: activityRecords.threadsUnavailable,
      kdbg: context.kdbg?.block ?? null,
    }),
  );
  return {
    schema: ANALYSIS_SCHEMA,
    image: {
      ...context.info,
      warnings: [
        ...context.info.warnings,
        ...objects.directoryView.warnings,
        ...objects.moduleList.warnings,
        ...objects.graph.warnings,
        ...summarizeProblems(activityRecords.problems),
        ...objects.moduleView.warnings,
        ...verdicts.serviceWarnings,
        ...callbacks.warnings,
      ],
      bytesRead: context.space.bytesRead,
    },
    coverage: coverageOf({
      directoryView: objects.directoryView,
      moduleList: objects.moduleList,
      graph: objects.graph,
      activity: activityRecords,
      processListFound: context.psActiveProcessHead !== null,
      serviceTable: {
        missing: verdicts.serviceTable
          ? null
          : (verdicts.serviceWarnings[0] ?? 'the system-service table was not found'),
        unreadable: verdicts.serviceTable ? (verdicts.serviceWarnings[0] ?? null) : null,
      },
      callbacksNotFound: callbacks.section.heads
        .filter((h) => h.coverage.state === 'unavailable' && !callbacks.absent.has(h.kind))
        .map((h) => CALLBACK_LABELS[h.kind]),
    }),
    serviceTable: verdicts.serviceTable,
    callbacks: callbacks.section,
    drivers: verdicts.drivers.sort(byName),
    devices: verdicts.devices.sort(byName),
    modules: objects.moduleView.modules.sort((a, b) => compareHex(a.base, b.base)),
    links: verdicts.links.sort(byName),
    processes: activity.processes,
    threads: activity.threads,
    irps: activity.irps,
    findings: mostSevereFirst([...verdicts.findings, ...callbacks.findings]),
    stats: {
      bytesScanned: objects.scan.bytesScanned,
      poolHits: objects.scan.hits.length,
      workers: objects.scan.workers,
      timings,
    },
  };
}

/** A kernel whose layouts are known: what every stage after discovery reads through. */
interface KernelView {
  context: KernelContext;
  memory: NonNullable<KernelContext['memory']>;
  profile: NonNullable<KernelContext['profile']>;
  kernel: NonNullable<KernelContext['kernel']>;
}

type Stage = ReturnType<typeof stageRunner>;
type KernelObjects = Awaited<ReturnType<typeof readObjects>>;

/**
 * Every view of the kernel's objects: the object directories, the module list, the pool scan's
 * carved objects, and drivers and devices merged from them, with the module set they lie in.
 */
async function readObjects(
  { context, memory, profile, kernel }: KernelView,
  options: AnalyzeOptions,
  stage: Stage,
  prologues: Prologues,
) {
  const objects = context.objects;
  const types = objects?.types ?? { cookie: null, byIndex: new Map(), byAddress: new Map() };
  const directories = new DirectoryIndex(memory, profile, types, objects?.rootDirectory?.value ?? null);
  const paths = new ObjectPaths(memory, profile, types, directories.root, (va) =>
    directories.inferredName(va),
  );
  const directoryView = await stage('directory walk', 0.02, () =>
    readDirectoryView(memory, profile, types, objects?.rootDirectory?.value ?? null, directories),
  );
  const moduleList = await stage('module list', 0.04, () =>
    readModuleListView(memory, profile, context.psLoadedModuleList?.value ?? null),
  );
  // Read from kernel memory alone, on the main thread while the scan's workers read the image.
  const serviceTable = await stage('service table', 0.045, () =>
    readServiceTable(context, memory, kernel, prologues),
  );
  await stage('handler code', 0.048, () =>
    readHandlerCode(memory, profile, directoryView.drivers.keys(), prologues),
  );
  const scan = await stage('pool scan', 0.05, () => options.poolScan(profile.pool.alignment));
  const vaOfPa = await stage('address map', 0.8, () =>
    reverseMap(context, new Set(scan.hits.map((h) => Math.floor(h.headerPa / 0x1000)))),
  );
  const carve: CarveContext = {
    space: context.space,
    memory,
    profile,
    cookie: types.cookie,
    driverType: typeKey(context, 'Driver'),
    deviceType: typeKey(context, 'Device'),
    processType: typeKey(context, 'Process'),
    vaOfPa,
  };
  const poolView = await stage('carving', 0.82, () => carvePoolHits(carve, memory, profile, scan.hits));
  const graph = await stage('drivers and devices', 0.86, () =>
    mergeDriversAndDevices({
      memory,
      profile,
      types,
      directories,
      paths,
      directoryView,
      poolView,
      listed: moduleList.entries,
    }),
  );
  const fromDrivers = sectionLoaderEntries(memory, profile, graph.drivers.values(), [
    ...moduleList.entries,
    ...poolView.loaders,
  ]);
  const moduleView = buildModuleView(context, memory, moduleList, poolView.loaders, fromDrivers);
  return { directories, paths, directoryView, moduleList, serviceTable, scan, poolView, graph, moduleView };
}

/** The judge of every routine: its module, and the kernel's names for what it knows. */
function handlerJudge({ context, memory, kernel }: KernelView, objects: KernelObjects, prologues: Prologues) {
  const defaultHandler = findDefaultHandler(
    context,
    [...objects.graph.drivers.values()],
    objects.moduleView.set,
  );
  const exportNames = new Map<bigint, string>();
  for (const [name, rva] of kernel.exports) exportNames.set(kernel.base + BigInt(rva), name);
  const symbolAt = (address: bigint) =>
    address === defaultHandler ? 'IopInvalidDeviceRequest' : (exportNames.get(address) ?? null);
  return createHandlerJudge(memory, objects.moduleView.set, defaultHandler, symbolAt, prologues);
}

/** Drivers, devices and the service table judged, links resolved, and the findings over them all. */
function judgeObjects(
  { kernel }: KernelView,
  objects: KernelObjects,
  judge: ReturnType<typeof createHandlerJudge>,
  activity: ReturnType<typeof activityToModel>,
) {
  const { graph, moduleView, moduleList, directoryView, directories, paths, serviceTable: read } = objects;
  const links: SymbolicLink[] = directoryView.links;
  const serviceWarnings: string[] = [];
  const moduleListComplete = moduleList.walk === 'complete';
  const driverDevices = devicesByDriver(graph.devices.values());
  const drivers: Driver[] = [...graph.drivers.values()].map((record) =>
    toDriver(record, moduleView.set, judge, paths, driverDevices.get(record.va) ?? [], moduleListComplete),
  );
  const linkNames = linksByTarget(links);
  const devices = [...graph.devices.values()].map((d) =>
    toDevice(d, graph.drivers, graph.devices, linkNames),
  );
  resolveLinkTargets(links, devices, directories);
  const serviceTable = judgeServiceTable(read, kernel, moduleView.set, judge, serviceWarnings);
  const findings = buildFindings({
    serviceTable,
    drivers,
    devices,
    modules: moduleView.modules,
    processes: activity.processes,
    irps: activity.irps,
    directoryWalk: directoryView.walk,
    moduleListWalk: moduleList.walk,
    unreadableDrivers: graph.unreadableDrivers,
  });
  return { drivers, devices, links, serviceTable, serviceWarnings, findings };
}

/**
 * A kernel with no structure layouts (an unknown build), or a container with no memory (a triage
 * dump): only what the container lists can be shown, and every other part says why it is missing.
 */
function withoutLayouts(context: KernelContext, timings: Timings): AnalysisResult {
  const triage = context.space.triage;
  const build = context.version?.value.number ?? context.info.build?.value.number;
  const reason = triage
    ? 'a triage dump holds no pool memory: no kernel object can be read from it'
    : `no structure layouts for this kernel (build ${build ?? 'unknown'}): no kernel object can be read`;
  const modules: Coverage | undefined = triage
    ? {
        state: 'partial',
        missing: ["from the dump header's saved module list only: no memory to scan for unlinked modules"],
      }
    : undefined;
  return {
    schema: ANALYSIS_SCHEMA,
    image: context.info,
    coverage: nothingReadable(reason, modules),
    serviceTable: null,
    callbacks: notRead(reason),
    drivers: [],
    devices: [],
    modules: (triage?.modules ?? []).map((m) => ({
      name: m.name,
      path: m.path,
      base: hex(m.base),
      size: m.size,
      timeDateStamp: null,
      checksum: null,
      ldrEntry: null,
      foundBy: ['module-list' as const],
      unlinked: false,
    })),
    links: [],
    processes: [],
    threads: [],
    irps: [],
    findings: [],
    stats: { bytesScanned: 0, poolHits: 0, workers: 0, timings },
  };
}

/** The findings in the order buildFindings gives its own: most severe first, then as the story reads. */
function mostSevereFirst(findings: Finding[]): Finding[] {
  return findings.sort(compareFindings);
}

/** Every kind unavailable, for the same reason as the rest of the analysis. */
function notRead(reason: string): AnalysisResult['callbacks'] {
  return {
    heads: CALLBACK_KINDS.map((kind) => ({
      kind,
      address: null,
      method: null,
      coverage: { state: 'unavailable' as const, missing: [reason] },
    })),
    entries: [],
  };
}

function byName(a: { name: string | null; objectVa: string }, b: { name: string | null; objectVa: string }) {
  return compareText(a.name ?? '\uffff', b.name ?? '\uffff') || compareHex(a.objectVa, b.objectVa);
}

function compareHex(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
/** Win7+: the type index; before Windows 7: the OBJECT_TYPE address (spec §1.8). */
function typeKey(context: KernelContext, name: 'Driver' | 'Device' | 'Process'): number | bigint | null {
  const objects = context.objects;
  if (!objects) return null;
  if (context.profile?.objectHeader.generation === 'win7+') {
    if (name !== 'Process') return objects.typeIndex?.value[name] ?? null;
    return [...objects.types.byIndex].find(([, type]) => type === name)?.[0] ?? null;
  }
  return objects.typeObjects.get(name) ?? null;
}

/** At most a few lines per kind of problem: a corrupted list would otherwise flood the warnings. */
function summarizeProblems(problems: string[]): string[] {
  const limit = 20;
  if (problems.length <= limit) return problems;
  return [
    ...problems.slice(0, limit),
    `… and ${problems.length - limit} more problems reading processes, threads and IRPs`,
  ];
}

/** IopInvalidDeviceRequest: the ISF symbol, else the kernel routine most MajorFunction slots share (spec §1.2). */
function findDefaultHandler(
  context: KernelContext,
  drivers: DriverRecord[],
  modules: ModuleSet,
): bigint | null {
  const rva = context.profile?.symbol('IopInvalidDeviceRequest');
  if (rva !== undefined) return context.kernel!.base + BigInt(rva);
  const counts = new Map<bigint, number>();
  for (const driver of drivers) {
    if (driver.freed) continue;
    for (const address of new Set(driver.object.majorFunction)) {
      const owner = modules.owner(address);
      if (owner && ModuleSet.isKernel(owner)) counts.set(address, (counts.get(address) ?? 0) + 1);
    }
  }
  let best: bigint | null = null;
  let bestCount = 0;
  for (const [address, count] of counts) if (count > bestCount) [best, bestCount] = [address, count];
  return bestCount >= 3 ? best : null;
}
