// From a kernel address space (part 1) to the driver / device / IRP-handler graph and a verdict on
// every handler (issue "Engine, part 2"). Three independent views of drivers are merged by object
// address: the pool scan, the \Driver and \FileSystem directories, and the module list; devices
// found along the way add a fourth (the device walk).

import {
  ANALYSIS_SCHEMA,
  type AnalysisResult,
  type Driver,
  type DriverView,
  type Module,
  type Progress,
  type SymbolicLink,
} from '../../common/model';
import type { KernelContext } from '../kernel/discover';
import { readPe } from '../kernel/pe';
import { readActivity } from '../activity';
import { carveLoaderEntry, carveObject, carvePoolBlock, type CarveContext } from '../objects/carve';
import { readDeviceObject } from '../objects/device';
import { listDirectory } from '../objects/directory';
import { DirectoryIndex } from '../objects/directory-index';
import { isPlausibleDriver, readDriverObject } from '../objects/driver';
import { readLoaderEntry, walkModuleList, type LoaderEntry } from '../objects/modules';
import { nameProblem, readObjectHeader } from '../objects/object-header';
import { ObjectPaths, readLinkTarget } from '../objects/object-paths';
import { scanPool, type ScanResult } from '../scan/scan';
import { activityToModel } from './activity';
import { buildFindings, type Completeness } from './findings';
import { createHandlerJudge } from './handlers';
import { judgeServiceTable } from './service-table';
import { ModuleSet } from './module-set';
import { buildModuleSet, plausibleLoaderEntry } from './modules';
import type { DeviceRecord, DriverRecord } from './records';
import { resolveLinkTargets } from './link-targets';
import { reverseMap } from './reverse-map';
import { toDevice, toDriver } from './to-model';

export interface AnalyzeOptions {
  dataFile: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  workers?: number;
  /** A pool scan the caller started early (it only needs the physical layout and the alignment). */
  scan?: Promise<ScanResult>;
}

/** Starts the physical pool scan; progress is reported as the 'pool scan' stage. */
export function startPoolScan(
  space: KernelContext['space'],
  dataFile: string,
  alignment: 8 | 16,
  options: Pick<AnalyzeOptions, 'onProgress' | 'signal' | 'workers'>,
): Promise<ScanResult> {
  return scanPool(space, {
    dataFile,
    alignment,
    signal: options.signal,
    workers: options.workers,
    onProgress: (fraction) =>
      options.onProgress?.({
        stage: 'pool scan',
        fraction: 0.05 + fraction * 0.75,
        detail: `${Math.round(fraction * 100)}%`,
      }),
  });
}

const hex = (value: bigint | number) => `0x${value.toString(16)}`;
const MAX_DEVICES = 100_000;
const MAX_CHAIN = 4096;

export async function analyzeKernel(
  context: KernelContext,
  options: AnalyzeOptions,
): Promise<AnalysisResult> {
  const timings: Array<{ stage: string; ms: number }> = [];
  const stage = async <T>(name: string, fraction: number, work: () => T | Promise<T>): Promise<T> => {
    options.signal?.throwIfAborted();
    options.onProgress?.({ stage: name, fraction });
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings.push({ stage: name, ms: Math.round(performance.now() - started) });
    }
  };
  // Without a kernel address space only what the container lists can be shown (a triage dump's modules).
  const empty = (): AnalysisResult => ({
    schema: ANALYSIS_SCHEMA,
    image: context.info,
    serviceTable: null,
    drivers: [],
    devices: [],
    modules: (context.space.triage?.modules ?? []).map((m) => ({
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
  });
  const { memory, profile, objects, kernel } = context;
  if (!memory || !profile || !kernel) return empty();
  const types = objects?.types ?? { cookie: null, byIndex: new Map(), byAddress: new Map() };
  const warnings = context.info.warnings;
  const directories = new DirectoryIndex(memory, profile, types, objects?.rootDirectory?.value ?? null);
  const paths = new ObjectPaths(memory, profile, types, directories.root, (va) =>
    directories.inferredName(va),
  );

  // View 1: the object directories.
  const directoryDrivers = new Map<bigint, string>();
  // Objects a driver directory lists but whose headers cannot be read: listed all the same.
  const directoryUnknown = new Map<bigint, string>();
  let directoryWalk = 'none' as Completeness;
  const links: SymbolicLink[] = [];
  await stage('directory walk', 0.02, () => {
    const root = objects?.rootDirectory?.value;
    if (root === undefined) return;
    warnings.push(...listDirectory(memory, profile, types, root).problems.map((p) => `\\: ${p}`));
    for (const directory of ['\\Driver', '\\FileSystem']) {
      const va = directories.lookup(directory);
      if (va === null) {
        warnings.push(`object directory ${directory} not found`);
        // Without \Driver (walked first) nothing can be judged hidden; without \FileSystem only suspected.
        if (directory === '\\Driver') break;
        directoryWalk = 'partial';
        continue;
      }
      const listing = listDirectory(memory, profile, types, va);
      warnings.push(...listing.problems.map((p) => `${directory}: ${p}`));
      for (const entry of listing.entries)
        if (entry.header.typeName === 'Driver') directoryDrivers.set(entry.header.bodyVa, directory);
      for (const body of listing.unreadable) directoryUnknown.set(body, directory);
      if (!listing.complete) directoryWalk = 'partial';
      else if (directoryWalk === 'none') directoryWalk = 'complete';
    }
    const globalVa = directories.lookup('\\GLOBAL??') ?? directories.lookup('\\??');
    warnings.push(...directories.inferences);
    if (globalVa !== null) {
      for (const entry of directories.listing(globalVa).entries) {
        if (entry.header.typeName !== 'SymbolicLink') continue;
        const target = readLinkTarget(memory, profile, entry.header.bodyVa);
        links.push({
          name: entry.name === null ? null : `\\GLOBAL??\\${entry.name}`,
          nameStatus: nameProblem(entry.header.name),
          nameHash: { bucket: entry.bucket, value: entry.hash },
          target: 'text' in target ? target.text : null,
          targetStatus: 'problem' in target ? target.problem : null,
          objectVa: hex(entry.header.bodyVa),
          device: null,
        });
      }
    }
  });

  // View 2: the module list.
  let moduleListWalk = 'none' as Completeness;
  const listed: LoaderEntry[] = await stage('module list', 0.04, () => {
    if (!context.psLoadedModuleList) return [];
    const walk = walkModuleList(memory, profile, context.psLoadedModuleList.value);
    warnings.push(...walk.problems);
    moduleListWalk = walk.problems.length === 0 ? 'complete' : 'partial';
    return walk.entries;
  });

  // View 3: one pass over physical memory for pool tags.
  const alignment = profile.pool.alignment;
  const scan = await stage(
    'pool scan',
    0.05,
    () => options.scan ?? startPoolScan(context.space, options.dataFile, alignment, options),
  );
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
  const scannedDrivers: Array<{ va: bigint | null; pa: number; freed: boolean }> = [];
  const scannedDevices: bigint[] = [];
  const scannedLoaders: LoaderEntry[] = [];
  const scannedProcesses: bigint[] = [];
  const scannedIrps: Array<{ va: bigint; room: number }> = [];
  await stage('carving', 0.82, () => {
    for (const hit of scan.hits) {
      if (hit.kind === 'irp') {
        const block = carvePoolBlock(carve, hit);
        if (block && !block.freed && block.dataVa !== null)
          scannedIrps.push({ va: block.dataVa, room: block.room });
        continue;
      }
      if (hit.kind === 'loader') {
        const entry = carveLoaderEntry(carve, hit);
        if (!entry || entry.freed || entry.entryVa === null) continue;
        const loader = readLoaderEntry(memory, profile, entry.entryVa);
        if (loader && plausibleLoaderEntry(memory, loader)) scannedLoaders.push(loader);
        continue;
      }
      const object = carveObject(carve, hit);
      if (!object) continue;
      if (object.kind === 'driver')
        scannedDrivers.push({ va: object.bodyVa, pa: object.bodyPa, freed: object.freed });
      else if (object.bodyVa === null || object.freed) continue;
      else if (object.kind === 'device') scannedDevices.push(object.bodyVa);
      else scannedProcesses.push(object.bodyVa);
    }
  });

  // Drivers from every view, merged by object address.
  const drivers = new Map<bigint, DriverRecord>();
  const addDriver = (va: bigint, view: DriverView, pa: number | null, freed: boolean) => {
    const existing = drivers.get(va);
    if (existing) {
      existing.views.add(view);
      return existing;
    }
    const object = readDriverObject(memory, profile, va);
    if (!object || !isPlausibleDriver(object)) return null;
    const translated = memory.virtual.translate(va);
    const record: DriverRecord = {
      va,
      pa: pa ?? (translated.ok ? translated.pa : null),
      object,
      header: readObjectHeader(memory, profile, types, va),
      views: new Set([view]),
      directory: null,
      freed,
    };
    drivers.set(va, record);
    return record;
  };
  const devices = new Map<bigint, DeviceRecord>();
  /** Driver objects named by devices whose memory the image does not hold. */
  const unreadableDrivers = new Set<string>();
  await stage('drivers and devices', 0.86, () => {
    for (const [va, directory] of directoryDrivers) {
      const record = addDriver(va, 'directory', null, false);
      if (record) record.directory = directory;
    }
    for (const found of scannedDrivers) {
      if (found.va === null) continue;
      addDriver(found.va, 'pool-scan', found.pa, found.freed);
    }
    const listedEntries = new Set(listed.map((e) => e.entryVa));
    const listedBases = new Set(listed.map((e) => e.base));
    const pending: bigint[] = [];
    const queueDevice = (va: bigint) => {
      if (va !== 0n && memory.isKernelAddress(va) && !devices.has(va) && devices.size < MAX_DEVICES)
        pending.push(va);
    };
    const walkChain = (driver: DriverRecord) => {
      const seen = new Set<bigint>();
      for (
        let device = driver.object.deviceObject;
        device !== 0n && !seen.has(device) && seen.size < MAX_CHAIN;
      ) {
        seen.add(device);
        queueDevice(device);
        const next = memory.ptr(device + BigInt(profile.field('_DEVICE_OBJECT', 'NextDevice').offset));
        if (next === null) break;
        device = next;
      }
    };
    for (const driver of drivers.values()) if (!driver.freed) walkChain(driver);
    for (const va of scannedDevices) queueDevice(va);
    while (pending.length) {
      const va = pending.pop()!;
      if (devices.has(va)) continue;
      const object = readDeviceObject(memory, profile, va);
      if (!object || object.type !== 3) continue;
      const header = readObjectHeader(memory, profile, types, va);
      const path = header ? paths.of(header) : { name: null, status: null };
      const directoryEntry =
        header?.directory !== null && header?.directory !== undefined
          ? directories.entryOf(va, header.directory)
          : null;
      devices.set(va, { va, object, header, name: path.name, nameStatus: path.status, directoryEntry });
      queueDevice(object.attachedDevice);
      if (object.attachedTo !== null) queueDevice(object.attachedTo);
      if (!drivers.has(object.driverObject) && memory.isKernelAddress(object.driverObject)) {
        const driver = addDriver(object.driverObject, 'device-walk', null, false);
        if (driver) walkChain(driver);
        else {
          warnings.push(
            `device ${hex(va)} names a driver object at ${hex(object.driverObject)} that cannot be read as one`,
          );
          if (memory.bytes(object.driverObject, 1) === null) unreadableDrivers.add(hex(object.driverObject));
        }
      }
    }
    for (const driver of drivers.values()) {
      const directory = directoryUnknown.get(driver.va);
      if (directory !== undefined && !driver.views.has('directory')) {
        driver.views.add('directory');
        driver.directory = directory;
      }
      if (
        listedEntries.has(driver.object.driverSection) ||
        (driver.object.driverStart !== 0n && listedBases.has(driver.object.driverStart))
      ) {
        driver.views.add('module-list');
      }
    }
  });

  // Loader entries by structure, whatever their pool tag: a driver object's DriverSection names
  // its entry (kernels other than Windows' tag them otherwise; ReactOS uses 'klmo').
  const knownEntries = new Set([...listed, ...scannedLoaders].map((e) => e.entryVa));
  const sectionLoaders: LoaderEntry[] = [];
  for (const driver of drivers.values()) {
    const section = driver.object.driverSection;
    if (driver.freed || section === 0n || knownEntries.has(section) || !memory.isKernelAddress(section))
      continue;
    const entry = readLoaderEntry(memory, profile, section);
    if (
      entry &&
      plausibleLoaderEntry(memory, entry) &&
      entry.base === driver.object.driverStart &&
      entry.size === driver.object.driverSize
    ) {
      sectionLoaders.push(entry);
      knownEntries.add(section);
    }
  }
  const modules = buildModuleSet(listed, scannedLoaders, context, sectionLoaders);

  // Handlers and verdicts.
  const defaultHandler = findDefaultHandler(context, [...drivers.values()], modules);
  const exportNames = new Map<bigint, string>();
  for (const [name, rva] of kernel.exports) exportNames.set(kernel.base + BigInt(rva), name);
  const symbolAt = (address: bigint) =>
    address === defaultHandler ? 'IopInvalidDeviceRequest' : (exportNames.get(address) ?? null);
  const judge = createHandlerJudge(memory, modules, defaultHandler, symbolAt);

  const activity = await stage('processes and IRPs', 0.9, () => {
    const records = readActivity(
      memory,
      profile,
      context.psActiveProcessHead?.value ?? null,
      scannedProcesses,
      scannedIrps,
    );
    warnings.push(...summarizeProblems(records.problems));
    return activityToModel(records, { memory, profile, modules, judge, devices, drivers });
  });

  const result = await stage('verdicts', 0.92, () => {
    const driverList: Driver[] = [];
    for (const record of drivers.values())
      driverList.push(toDriver(record, modules, judge, paths, devices, moduleListWalk === 'complete'));
    const deviceList = [...devices.values()].map((d) => toDevice(d, drivers, devices, links));
    resolveLinkTargets(links, deviceList, directories);
    const moduleList: Module[] = modules.modules.map((m) => {
      const pe = readPe(memory, m.base);
      return {
        name: m.name,
        path: m.path,
        base: hex(m.base),
        size: m.size,
        timeDateStamp: pe?.timeDateStamp ?? null,
        checksum: pe?.checksum ?? null,
        ldrEntry: m.entryVa === null ? null : hex(m.entryVa),
        foundBy: [
          ...(m.listed ? (['module-list'] as const) : []),
          ...(m.scanned ? (['pool-scan'] as const) : []),
          ...(m.fromDriver ? (['driver-section'] as const) : []),
        ],
        // Off a list that could not be walked to its end, a module is not known to be unlinked.
        unlinked: moduleListWalk === 'complete' && !m.listed && (m.scanned || m.fromDriver),
      };
    });
    const unjudged = modules.modules.filter((m) => !m.listed && (m.scanned || m.fromDriver)).length;
    if (moduleListWalk !== 'complete' && unjudged > 0)
      warnings.push(
        `${unjudged} module${unjudged === 1 ? '' : 's'} found only by the pool scan ${unjudged === 1 ? 'is' : 'are'} not judged unlinked: PsLoadedModuleList ${moduleListWalk === 'none' ? 'was not found' : 'could not be walked to its end'}`,
      );
    const serviceTable = judgeServiceTable(context, memory, kernel, modules, judge, warnings);
    const findings = buildFindings({
      serviceTable,
      drivers: driverList,
      devices: deviceList,
      modules: moduleList,
      processes: activity.processes,
      irps: activity.irps,
      directoryWalk,
      moduleListWalk,
      unreadableDrivers,
    });
    return { driverList, deviceList, moduleList, serviceTable, findings };
  });

  const byName = (
    a: { name: string | null; objectVa: string },
    b: { name: string | null; objectVa: string },
  ) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || compareHex(a.objectVa, b.objectVa);
  return {
    schema: ANALYSIS_SCHEMA,
    image: { ...context.info, bytesRead: context.space.bytesRead },
    serviceTable: result.serviceTable,
    drivers: result.driverList.sort(byName),
    devices: result.deviceList.sort(byName),
    modules: result.moduleList.sort((a, b) => compareHex(a.base, b.base)),
    links: links.sort(
      (a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || compareHex(a.objectVa, b.objectVa),
    ),
    processes: activity.processes,
    threads: activity.threads,
    irps: activity.irps,
    findings: result.findings,
    stats: { bytesScanned: scan.bytesScanned, poolHits: scan.hits.length, workers: scan.workers, timings },
  };
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
