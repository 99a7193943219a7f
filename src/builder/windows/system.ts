// Assembles a whole Windows kernel in physical memory and records what it built. The order
// follows boot: page tables and the kernel's large pages, shared data, pools and the object
// manager, loaded modules, drivers and devices, then the kernel's bookkeeping (module and process
// lists, KDBG), and last the mess a running system leaves behind.

import { FAST_IO_NAMES, IRP_MJ_NAMES, deviceTypeName } from '../../common/windows';
import { ByteWriter, utf16le } from '../bytes';
import type { KernelLayout } from '../layout/kernel-layout';
import { NoiseFill, type FillMode } from '../memory/fill';
import { PageTables } from '../memory/page-tables';
import { PAGE, PhysicalMemory } from '../memory/physical';
import { VirtualMemory } from '../memory/virtual';
import { Rng } from '../rng';
import { hx, truthLayout, type Truth, type TruthDriver, type TruthHandler } from '../truth';
import { planAddressMap, type AddressMap } from './address-map';
import { applies, LIBRARY_MODULES, TRANSIENT_GROUPS } from './catalog';
import { writeAccessors, type PlacedAccessor } from './accessors';
import { dispatchRoutine } from './code';
import { DriverSet, type DeviceModel, type DriverContext, type DriverModel, type Handler } from './drivers';
import {
  encodeKdbg,
  invalidDeviceRequestBytes,
  kdCopyDataBlockBytes,
  capturePersistentThreadStateBytes,
  kdbgBlock,
  lowStubBytes,
  ntBuildLab,
  obGetObjectTypeBytes,
  obGetObjectTypeX86Bytes,
  versionBlock,
  writeKuserSharedData,
} from './kernel-data';
import { KernelImage } from './kernel-image';
import { ModuleLoader, type LoadedModule } from './modules';
import { pageOut, plantModuleInformation, plantStaleDrivers, plantStrayTags } from './noise';
import { ObjectDirectory, ObjectManager } from './objects';
import { PoolRegion } from './pool';
import { Activity } from './activity';
import { createProcesses, writeProcesses } from './processes';
import {
  HIDDEN_PROCESS_NAME,
  plantCallbacks,
  plantOrphanThread,
  plantIdtHook,
  plantTimerDpc,
  plantRootkit,
  plantServiceHooks,
  writePatches,
  type Infection,
  type Rootkit,
} from './rootkit';
import { ServiceTable } from './service-table';
import { Callbacks } from './callbacks';
import { DescriptorTables } from './descriptors';
import { encodesTimerDpc, KernelTimers, type WaitKeys } from './timers';

export interface SystemOptions {
  layout: KernelLayout;
  ramBytes: number;
  seed: string;
  fill: FillMode;
  scenario: 'clean' | 'infected';
  infections: ReadonlySet<Infection>;
  /** x64: write the PROCESSOR_START_BLOCK low stub (present on physical machines, often absent on VMs). */
  lowStub: boolean;
  format: string;
  source: string;
  /** The --build and --future the image was asked for (the layout already follows them). */
  requested: { build: number | null; future: boolean };
  /**
   * Which boot of the system this is. The seed is the installation (drivers, module images and
   * their code, the rootkit of the infected scenario); the boot decides what moves from one boot
   * to the next: KASLR bases, pool and physical placement, paged-out pages, auto-numbered device
   * names, unloaded drivers, processes, and the PnP devices that come and go.
   */
  boot: number;
}

/** Facts a crash-dump or ELF writer puts in its headers. */
export interface ContainerHints {
  dtb: number;
  pae: boolean;
  machine: 'x86' | 'x64';
  build: number;
  kdbgVa: bigint;
  psLoadedModuleList: bigint;
  psActiveProcessHead: bigint;
  pfnDatabase: bigint;
  processors: number;
  kernelGsBase: bigint;
}

export interface BuiltSystem {
  phys: PhysicalMemory;
  noise: NoiseFill;
  truth: Truth;
  hints: ContainerHints;
}

const NUMBER_OF_PROCESSORS = 2;

export function buildSystem(options: SystemOptions): BuiltSystem {
  const { layout } = options;
  // Facts of the installation: the same on every boot (and in RAM of any size).
  const system = new Rng(options.seed, 'system');
  // Everything a boot decides afresh.
  const bootSeed = bootSeedText(options.seed, options.boot);
  const boot = new Rng(bootSeed, `boot/${layout.layoutIdentity}/${options.ramBytes}`);
  const phys = new PhysicalMemory(options.ramBytes);
  const noise = new NoiseFill(options.fill, bootSeed);
  phys.noise = (out, pa) => noise.fill(out, pa);
  const map = planAddressMap(layout, phys, boot.fork('map'), options.lowStub && layout.arch === 'x64');
  const tables = new PageTables(phys, boot.fork('tables'), layout.paging, {
    dtbPfn: map.dtbPfn,
    selfMapIndex: map.selfMapIndex,
  });
  const vm = new VirtualMemory(phys, tables, boot.fork('frames'));

  // The kernel's large-page window and its image.
  const large = tables.largePageSize;
  for (let offset = 0; offset < map.kernel.windowSize; offset += large) {
    tables.mapLarge(map.kernel.windowVa + BigInt(offset), (map.kernel.windowPa + offset) / PAGE, {
      writable: true,
      executable: true,
    });
  }
  const kernel = new KernelImage(layout, vm, system.fork('kernel'), map.kernel);
  kernel.writeImage();

  const kuserPfn = phys.allocate(boot);
  phys.zeroPage(kuserPfn);
  tables.map(map.kuser, kuserPfn, { writable: true });
  writeKuserSharedData(layout, vm, map.kuser, phys.ramPages);
  vm.mapFresh(map.pfnDatabase, PAGE * 4, { writable: true });

  const rng = system.fork('content');
  const bootContent = boot.fork('content');
  const nonPaged = new PoolRegion(vm, layout, boot.fork('pool/nonpaged'), 'nonpaged', map.nonPagedPool);
  const paged = new PoolRegion(vm, layout, boot.fork('pool/paged'), 'paged', map.pagedPool);
  const names = new PoolRegion(vm, layout, boot.fork('pool/names'), 'paged', map.namePool);
  const cookie = layout.typeIndexEncoded ? bootContent.int(1, 255) : 0;
  const objects = new ObjectManager(layout, vm, boot.fork('objects'), names, cookie);
  const directories = new Map<string, ObjectDirectory>();
  const rootDirectory = new ObjectDirectory(objects, vm, paged, paged, '\\', undefined);
  directories.set('\\', rootDirectory);
  const directory = (path: string): ObjectDirectory => {
    const existing = directories.get(path);
    if (existing) return existing;
    const at = path.lastIndexOf('\\');
    const parent = directory(at <= 0 ? '\\' : path.slice(0, at));
    const created = new ObjectDirectory(objects, vm, paged, paged, path.slice(at + 1), parent);
    directories.set(path, created);
    return created;
  };
  for (const name of [
    'ObjectTypes',
    'KernelObjects',
    'Callback',
    'Driver',
    'FileSystem',
    'Device',
    'GLOBAL??',
    'Windows',
    'Sessions',
    'RPC Control',
    'BaseNamedObjects',
    'KnownDlls',
    'NLS',
    'Security',
    'ArcName',
  ]) {
    directory(`\\${name}`);
  }
  const typeTable =
    layout.objectHeader === 'type-index'
      ? kernel.symbol('ObTypeIndexTable', 0x100 * layout.pointerSize)
      : undefined;
  objects.createTypes(paged, directory('\\ObjectTypes'), typeTable);

  // Loaded modules: the kernel, the HAL, libraries; drivers load as the catalogue is walked.
  const loader = new ModuleLoader(layout, vm, system.fork('modules'), boot.fork('modules'), map.driverArea);
  const systemRoot = layout.version.build < 6000 ? '\\WINDOWS\\system32' : '\\SystemRoot\\system32';
  const kernelModule = loader.addExternal(
    kernel.fileName,
    `${systemRoot}\\${kernel.fileName}`,
    kernel.base,
    kernel.size,
    kernel.symbol('KiSystemStartup'),
    kernel.timeDateStamp,
    kernel.checksum,
    kernel.sections,
  );
  const halModule =
    map.halBase !== null
      ? loader.load('hal.dll', `${systemRoot}\\hal.dll`, {
          at: map.halBase,
          size: 0x36000,
          preMapped: true,
          dll: true,
        })
      : loader.load('hal.dll', `${systemRoot}\\hal.dll`, { dll: true });
  const driversPath =
    layout.version.build < 6000 ? '\\SystemRoot\\System32\\DRIVERS' : '\\SystemRoot\\System32\\drivers';
  for (const library of LIBRARY_MODULES) {
    if (library.image === 'hal.dll' || !applies(library, layout.version.family, layout.version.build))
      continue;
    const inSystem32 = /\.dll$/i.test(library.image);
    loader.load(library.image, `${inSystem32 ? systemRoot : driversPath}\\${library.image}`, { dll: true });
  }

  const transient = transientDevicesOf(options.boot);
  const ctx: DriverContext = {
    layout,
    vm,
    rng,
    boot: bootContent,
    transientPresent: (group) => transient.get(group) ?? true,
    objects,
    kernel,
    kernelModule,
    halModule,
    loader,
    nonPaged,
    paged,
    names,
    directory,
    imagePath: (image) => `${driversPath}\\${image}`,
  };
  const drivers = new DriverSet(ctx);
  drivers.populate();
  drivers.createObjects();
  // The stock drivers' notify routines, placed while their modules hold only what every boot
  // places (later routines, such as thread start addresses, differ from boot to boot).
  const callbacks = new Callbacks(ctx, boot.fork('notify'));
  callbacks.registerSystem(drivers);
  // The interrupt handlers too: ntoskrnl's and the HAL's, and the keyboard's service routine.
  const descriptors = new DescriptorTables(ctx);
  descriptors.prepare(drivers);
  // And the DPC routines of the timers the system has armed (how many of each: this boot's).
  const timers = new KernelTimers(ctx, boot.fork('timers'));
  timers.registerSystem(drivers, NUMBER_OF_PROCESSORS);
  const rootkit = options.scenario === 'infected' ? plantRootkit(ctx, drivers, options.infections) : null;
  // Its registrations before the driver objects are written (a shutdown handler joins its IRP table).
  if (rootkit) plantCallbacks(ctx, rootkit, callbacks, options.infections);
  if (rootkit && options.infections.has('timerDpc')) plantTimerDpc(ctx, rootkit, timers);
  if (rootkit && options.infections.has('idtHook'))
    plantIdtHook(ctx, rootkit, descriptors, NUMBER_OF_PROCESSORS);
  drivers.createLinks();
  const stale = plantStaleDrivers(ctx, bootContent.int(2, 3));

  // Kernel routines that readers decode, and the kernel's global variables.
  const globals = writeKernelGlobals(
    layout,
    vm,
    kernel,
    map,
    objects,
    rootDirectory,
    system.fork('kernel-routines'),
  );
  // The system-service table (and, infected, its hooks) before the rootkit's patches go in.
  const serviceTable = new ServiceTable(layout, vm, kernel, system.fork('service-table'));
  if (rootkit) plantServiceHooks(ctx, rootkit, serviceTable, options.infections);
  serviceTable.write();
  // Loader entries first: each DRIVER_OBJECT.DriverSection points at its module's entry.
  loader.writeLoaderEntries(nonPaged, globals.psLoadedModuleList);
  drivers.writeAll(globals.hardwareDatabase);
  if (rootkit) writePatches(ctx, rootkit);

  const processes = createProcesses(
    layout,
    vm,
    phys,
    boot.fork('processes'),
    objects,
    nonPaged,
    tables,
    kernel.symbol('KiInitialProcess', 0x800),
    kuserPfn,
    rootkit && options.infections.has('hiddenProcess') ? HIDDEN_PROCESS_NAME : null,
  );
  writeProcesses(layout, vm, processes, globals.psActiveProcessHead);
  const activity = new Activity(ctx, boot.fork('activity'));
  const orphanStart =
    rootkit && options.infections.has('orphanThread') ? plantOrphanThread(ctx, rootkit) : null;
  activity.createThreads(processes, drivers, rootkit, orphanStart);
  activity.createRequests(drivers, rootkit, options.infections.has('completionHook'));
  activity.write(processes);
  // The arrays, lists, blocks and records last in pool: they shift nothing the rest placed.
  callbacks.write();
  if (rootkit && options.infections.has('hiddenProcess'))
    rootkit.planted.push({
      kind: 'hidden-process',
      subject: HIDDEN_PROCESS_NAME,
      severity: 'critical',
      detail: 'process object in pool, unlinked from PsActiveProcessHead',
    });
  vm.writePtr(kernel.symbol('PsInitialSystemProcess'), processes.find((p) => p.pid === 4)!.eprocessVa);
  // The secrets that hide KDBG (Windows 8 on) and the timers' DPC pointers (Windows 7 on), x64.
  const keysRng = boot.fork('kdbg');
  const waitKeys =
    layout.kdbgEncoded || encodesTimerDpc(layout) ? { never: keysRng.u64(), always: keysRng.u64() } : null;
  if (waitKeys) {
    vm.writeU64(kernel.symbol('KiWaitNever', 8), waitKeys.never);
    vm.writeU64(kernel.symbol('KiWaitAlways', 8), waitKeys.always);
  }
  const kdbgVa = writeDebuggerData(layout, vm, kernel, map, globals, waitKeys);
  // After the XP/2003 KPCR's first fields; pool last, as the callbacks' records.
  descriptors.write(map.kpcr, NUMBER_OF_PROCESSORS);
  // In each processor's KPRCB (or the kernel's data), their timers and DPCs in pool after it.
  timers.write(descriptors.processors, encodesTimerDpc(layout) ? waitKeys : null);
  if (map.lowStubPa !== null)
    phys.write(map.lowStubPa, lowStubBytes(kernel.symbol('KiSystemStartup'), tables.dtb));
  kernel.writeHeadersAndExports();

  for (const pool of [nonPaged, paged, names]) pool.finish();
  const pinned = [...pinnedStrings(drivers, rootkit), ...stale.map((s) => s.nameVa)];
  const paging = pageOut(vm, boot.fork('pageout'), names, pinned);
  const strayTags = plantStrayTags(layout, phys, boot.fork('stray'), 24);
  const moduleInformationPa = plantModuleInformation(layout, phys, boot.fork('modinfo'), loader.modules);

  const truth: Truth = {
    schema: 'irpscope-truth/1',
    generator: {
      tool: 'irpscope build-image',
      source: options.source,
      format: options.format,
      scenario: options.scenario,
      infections: options.scenario === 'infected' ? [...options.infections] : [],
      seed: options.seed,
      boot: options.boot,
      size: options.ramBytes,
      fill: options.fill,
      build: options.requested.build,
      future: options.requested.future,
    },
    boot: {
      number: options.boot,
      transient: TRANSIENT_GROUPS.map((group) => ({
        group: group.id,
        description: group.description,
        present: transient.get(group.id) ?? true,
        devices: drivers.drivers.flatMap((d) =>
          d.devices.filter((x) => transientGroupOf(x) === group.id).map((x) => hx(x.object!.bodyVa)),
        ),
      })),
      varies: BOOT_VARIES,
    },
    arch: layout.arch,
    paging: layout.paging,
    build: layout.version.build,
    version: {
      major: layout.version.major,
      minor: layout.version.minor,
      build: layout.version.build,
      revision: layout.version.revision,
      servicePack: layout.version.servicePack,
      name: layout.version.name,
    },
    pdb: layout.pdb,
    layout: truthLayout(layout),
    accessors: globals.accessors.map((a) => ({
      name: a.name,
      va: hx(a.va),
      rva: Number(a.va - kernel.base),
      reads: a.reads,
      offset: a.offset,
      returns: a.returns,
      encoding: a.encoding,
      bytes: Buffer.from(a.bytes).toString('hex'),
    })),
    dtb: hx(tables.dtb),
    selfMapIndex: tables.selfMapIndex,
    kernelBase: hx(kernel.base),
    kernelSize: kernel.size,
    kdbg: hx(kdbgVa),
    kdbgEncoded: layout.kdbgEncoded,
    psLoadedModuleList: hx(globals.psLoadedModuleList),
    psActiveProcessHead: hx(globals.psActiveProcessHead),
    objectRootDirectory: hx(rootDirectory.object.bodyVa),
    objectDirectories: [...directories].map(([path, d]) => ({
      path,
      objectVa: hx(d.object.bodyVa),
      nameVa: d.object.nameBufferVa === undefined ? null : hx(d.object.nameBufferVa),
      nameResident: resident(vm, d.object.nameBufferVa),
    })),
    obHeaderCookie: layout.typeIndexEncoded ? cookie : null,
    typeIndex:
      layout.objectHeader === 'type-index'
        ? { Driver: objects.typeIndex('Driver'), Device: objects.typeIndex('Device') }
        : null,
    iopInvalidDeviceRequest: hx(kernel.symbol('IopInvalidDeviceRequest')),
    kuserSharedData: hx(map.kuser),
    lowStub: map.lowStubPa === null ? null : hx(map.lowStubPa),
    moduleInformationPa: moduleInformationPa ? hx(moduleInformationPa) : null,
    physicalRuns: phys.runs.map((r) => ({ start: hx(r.start), length: r.end - r.start })),
    serviceTable: {
      descriptor: hx(serviceTable.planted.descriptor),
      shadow: hx(serviceTable.planted.shadow),
      table: hx(serviceTable.planted.table),
      count: serviceTable.planted.count,
      entries: serviceTable.planted.entries.map((e) => ({
        index: e.index,
        name: e.name,
        target: hx(e.target),
        module:
          loader.modules.find((m) => e.target >= m.base && e.target < m.base + BigInt(m.size))?.name ?? null,
      })),
    },
    callbackHeads: [...callbacks.heads].map(([kind, address]) => {
      const objectType = callbacks.objectTypes.get(kind);
      return { kind, address: hx(address), ...(objectType ? { objectType: hx(objectType) } : {}) };
    }),
    processors: descriptors.processors.map((p) => ({
      kpcr: hx(p.kpcr),
      prcb: hx(p.prcb),
      idt: hx(p.idt),
      gdt: hx(p.gdt),
    })),
    idtEntries: descriptors.entries.map((e) => ({
      processor: e.processor,
      vector: e.vector,
      entry: hx(e.entry),
      handler: hx(e.handler),
      routine: hx(e.routine),
      interrupt: e.interrupt === null ? null : hx(e.interrupt),
      dispatch: e.dispatch === null ? null : hx(e.dispatch),
      owner: e.owner,
      planted: e.planted,
    })),
    registeredCallbacks: callbacks.registered.map((r) => ({
      kind: r.kind,
      slot: r.slot,
      entry: hx(r.entry),
      block: r.block === null ? null : hx(r.block),
      routine: hx(r.routine),
      owner: r.owner,
      context: hx(r.context),
      component: r.component,
      device: r.device?.object ? hx(r.device.object.bodyVa) : null,
      driver: r.driver?.object ? hx(r.driver.object.bodyVa) : null,
      planted: r.planted,
      ...(r.operation ? { operation: r.operation } : {}),
    })),
    timerTables: timers.tables.map((t) => ({
      processor: t.processor,
      first: hx(t.first),
      count: t.count,
      stride: t.stride,
    })),
    timers: timers.timers.map((t) => ({
      timer: hx(t.timer),
      dpc: hx(t.dpc),
      routine: hx(t.routine),
      owner: t.owner,
      processor: t.processor,
      index: t.index,
      period: t.period,
      planted: t.planted,
    })),
    drivers: drivers.drivers.map((d) => truthDriver(d, vm)),
    modules: loader.modules.map((m) => ({
      name: m.name,
      path: m.path,
      base: hx(m.base),
      size: m.size,
      timeDateStamp: m.timeDateStamp,
      checksum: m.checksum,
      ldrEntry: hx(m.ldrVa),
      unlinked: m.unlinked,
    })),
    irp: drivers.drivers.flatMap((d) => d.majors.map((h, i) => truthHandler(d, i, IRP_MJ_NAMES[i]!, h))),
    fastIo: drivers.drivers.flatMap((d) =>
      (d.fastIo ?? []).flatMap((h, i) => (h ? [truthHandler(d, i, FAST_IO_NAMES[i]!, h)] : [])),
    ),
    callbacks: drivers.drivers.flatMap((d) =>
      (
        [
          ['DriverInit', d.init],
          ['DriverStartIo', d.startIo],
          ['DriverUnload', d.unload],
        ] as const
      ).flatMap(([name, h], i) => (h ? [truthHandler(d, i, name, h)] : [])),
    ),
    links: drivers.links.map((l) => ({
      name: l.name,
      nameResident: resident(vm, l.object.nameBufferVa),
      target: l.target,
      objectVa: hx(l.object.bodyVa),
    })),
    processes: processes.map((p) => ({
      name: p.name,
      pid: p.pid,
      parent: p.parent,
      eprocess: hx(p.eprocessVa),
      dtb: hx(p.dtb),
      peb: p.peb === 0n ? null : hx(p.peb),
      hidden: p.hidden === true,
    })),
    threads: activity.threads.map((t) => ({
      ethread: hx(t.ethreadVa),
      tid: t.tid,
      pid: t.process.pid,
      startAddress: hx(t.startAddress),
      win32StartAddress: hx(t.win32StartAddress),
      planted: t.planted,
    })),
    irps: activity.irps.map((irp) => ({
      address: hx(irp.va),
      thread: hx(irp.thread.ethreadVa),
      tid: irp.thread.tid,
      pid: irp.thread.process.pid,
      major: irp.major,
      stackCount: irp.stackCount,
      currentLocation: irp.currentLocation,
      size: irp.size,
      flags: irp.flags,
      fileObject: hx(irp.fileObjectVa),
      fileName: irp.fileName,
      device: irp.target.name!,
      pendingOn: hx(irp.pendingOn.object!.bodyVa),
      locations: irp.locations.map((l) => ({
        index: l.index,
        major: l.major,
        device: hx(l.device.object!.bodyVa),
        driver: l.device.driver.driverName,
        completionRoutine: l.completionRoutine === 0n ? null : hx(l.completionRoutine),
        completionModule:
          l.completionRoutine === 0n
            ? null
            : (loader.modules.find(
                (m) => l.completionRoutine >= m.base && l.completionRoutine < m.base + BigInt(m.size),
              )?.name ?? null),
      })),
    })),
    staleDrivers: stale.map((s) => ({
      name: s.name,
      objectVa: hx(s.objectVa),
      objectPa: hx(vm.pa(s.objectVa)),
    })),
    strayTagsPa: strayTags.map(hx),
    pagedOutPages: paging.pagedOut.map(hx),
    transitionPages: paging.transition.map(hx),
    findings: [
      ...(rootkit?.planted ?? []),
      ...stale.map((s) => ({
        kind: 'stale-driver' as const,
        subject: s.name,
        severity: 'info' as const,
        detail: 'driver object in a freed pool block (unloaded driver)',
      })),
    ],
  };
  const hints: ContainerHints = {
    dtb: tables.dtb,
    pae: layout.paging === 'pae',
    machine: layout.arch,
    build: layout.version.build,
    kdbgVa,
    psLoadedModuleList: globals.psLoadedModuleList,
    psActiveProcessHead: globals.psActiveProcessHead,
    pfnDatabase: map.pfnDatabase,
    processors: NUMBER_OF_PROCESSORS,
    kernelGsBase: kernel.symbol('KiInitialPCR', 0x100),
  };
  return { phys, noise, truth, hints };
}

/** What another boot of the same system changes, as truth.json states it. */
const BOOT_VARIES = [
  'kernel and module base addresses (KASLR where the generation has it)',
  'pool placement of every object, and the physical pages behind everything',
  'which pageable pages (names, service keys, object names) are paged out',
  'the order in which auto-numbered device names (\\Device\\%08x) are handed out',
  'the volume GUID of removable media',
  'PnP devices that come and go (see transient)',
  'unloaded drivers left in freed pool, processes, the object header cookie',
];

function bootSeedText(seed: string, boot: number): string {
  return `${seed}/boot ${boot}`;
}

/** Which transient device groups this boot has. */
function transientDevicesOf(boot: number): Map<string, boolean> {
  return new Map(TRANSIENT_GROUPS.map((group) => [group.id, group.presentOn(boot)]));
}

/** The transient group a device belongs to: its own, or that of the device it is attached to. */
function transientGroupOf(device: DeviceModel): string | null {
  for (let at: DeviceModel | null = device, guard = 0; at && guard < 64; at = at.attachedTo, guard++)
    if (at.spec.transient) return at.spec.transient;
  return null;
}

function driverStrings(driver: DriverModel): bigint[] {
  return [
    driver.driverNameVa,
    driver.serviceKeyVa,
    driver.object?.nameBufferVa ?? 0n,
    ...driver.devices.map((d) => d.object?.nameBufferVa ?? 0n),
  ];
}

/**
 * Names that stay resident: the rootkit's, and those of every driver and device a planted
 * finding is about, so that the ground truth can name each subject.
 */
function pinnedStrings(drivers: DriverSet, rootkit: Rootkit | null): bigint[] {
  if (!rootkit) return [];
  const subjects = new Set(rootkit.planted.map((f) => f.subject));
  const pinned = driverStrings(rootkit.driver);
  for (const driver of drivers.drivers) {
    if (subjects.has(driver.driverName)) pinned.push(...driverStrings(driver));
    for (const device of driver.devices)
      if (device.name !== null && subjects.has(device.name)) pinned.push(device.object?.nameBufferVa ?? 0n);
  }
  return pinned;
}

function resident(vm: VirtualMemory, va: bigint | undefined): boolean {
  if (va === undefined || va === 0n) return false;
  const state = vm.tables.residency(va);
  return state === 'present' || state === 'transition';
}

function truthDriver(driver: DriverModel, vm: VirtualMemory): TruthDriver {
  const object = driver.object!;
  return {
    name: driver.driverName,
    nameResident: resident(vm, driver.driverNameVa),
    objectName: driver.objectName,
    objectNameResident: resident(vm, object.nameBufferVa),
    directory: driver.directory === 'Driver' ? '\\Driver' : '\\FileSystem',
    serviceKey: driver.serviceKey,
    objectVa: hx(object.bodyVa),
    objectPa: hx(vm.pa(object.bodyVa)),
    start: hx(driver.builtin || !driver.module ? 0n : driver.module.base),
    size: driver.builtin || !driver.module ? 0 : driver.module.size,
    module: driver.builtin ? null : (driver.module?.name ?? null),
    builtin: driver.builtin,
    hidden: driver.hidden,
    flags: driver.flags,
    fastIoDispatch: driver.fastIoTableVa ? hx(driver.fastIoTableVa) : null,
    devices: driver.devices.map((d) => ({
      name: d.name,
      nameResident: d.name !== null && resident(vm, d.object!.nameBufferVa),
      objectVa: hx(d.object!.bodyVa),
      type: d.type,
      typeName: deviceTypeName(d.type),
      flags: d.flags,
      characteristics: d.characteristics,
      driver: driver.driverName,
      transient: transientGroupOf(d),
      attachedDevice: d.attachedDevice?.object ? hx(d.attachedDevice.object.bodyVa) : null,
      attachedTo: d.attachedTo?.object ? hx(d.attachedTo.object.bodyVa) : null,
    })),
  };
}

function truthHandler(driver: DriverModel, index: number, name: string, handler: Handler): TruthHandler {
  return {
    driver: driver.driverName,
    index,
    name,
    handler: hx(handler.va),
    owner: handler.owner,
    verdict: handler.verdict,
  };
}

interface KernelGlobals {
  psLoadedModuleList: bigint;
  psActiveProcessHead: bigint;
  hardwareDatabase: bigint;
  ntBuildLab: bigint;
  debuggerDataList: bigint;
  rootDirectoryVar: bigint;
  accessors: PlacedAccessor[];
}

function writeKernelGlobals(
  layout: KernelLayout,
  vm: VirtualMemory,
  kernel: KernelImage,
  map: AddressMap,
  objects: ObjectManager,
  rootDirectory: ObjectDirectory,
  rng: Rng,
): KernelGlobals {
  const ptr = layout.pointerSize;
  const arch = layout.arch;
  vm.write(kernel.symbol('IopInvalidDeviceRequest'), invalidDeviceRequestBytes(arch));
  vm.write(kernel.symbol('KiSystemStartup'), dispatchRoutine(arch, rng));
  for (const routine of [
    'FsRtlCopyRead',
    'FsRtlCopyWrite',
    'FsRtlMdlReadDev',
    'FsRtlMdlReadCompleteDev',
    'FsRtlPrepareMdlWriteDev',
    'FsRtlMdlWriteCompleteDev',
    'NtWriteFile',
    'NtReadFile',
    'NtCreateFile',
    'NtDeviceIoControlFile',
    'IofCallDriver',
    'IofCompleteRequest',
  ]) {
    vm.write(kernel.symbol(routine), dispatchRoutine(arch, rng));
  }
  if (layout.objectHeader === 'type-index') {
    const table = kernel.symbol('ObTypeIndexTable');
    if (arch === 'x64') {
      const at = kernel.symbol('ObGetObjectType');
      vm.write(at, obGetObjectTypeBytes(at, kernel.symbol('ObHeaderCookie', 1), table));
    } else {
      vm.write(kernel.symbol('ObGetObjectType'), obGetObjectTypeX86Bytes(table));
    }
    // ObpInfoMaskToOffset[mask] = size of the optional headers selected by the mask.
    const infoMask = new Uint8Array(0x100);
    for (let mask = 0; mask < 0x100; mask++) {
      infoMask[mask] =
        layout.optionalHeaders.filter((h) => (mask & h.bit) !== 0).reduce((n, h) => n + h.size, 0) & 0xff;
    }
    vm.write(kernel.symbol('ObpInfoMaskToOffset', 0x100), infoMask);
  }
  if (layout.typeIndexEncoded) vm.write(kernel.symbol('ObHeaderCookie', 1), Uint8Array.of(objects.cookie));
  for (const [variable, type] of [
    ['IoDriverObjectType', 'Driver'],
    ['IoDeviceObjectType', 'Device'],
    ['IoFileObjectType', 'File'],
    ['PsProcessType', 'Process'],
    ['PsThreadType', 'Thread'],
    ['ObpTypeObjectType', 'Type'],
    ['ObpDirectoryObjectType', 'Directory'],
    ['ObpSymbolicLinkObjectType', 'SymbolicLink'],
  ] as const) {
    vm.writePtr(kernel.symbol(variable, ptr), objects.typeObject(type).bodyVa);
  }
  const rootDirectoryVar = kernel.symbol('ObpRootDirectoryObject', ptr);
  vm.writePtr(rootDirectoryVar, rootDirectory.object.bodyVa);
  vm.writeU32(kernel.symbol('NtBuildNumber', 4), (0xf0000000 | layout.version.build) >>> 0);
  const buildLab = kernel.symbol('NtBuildLab', 0x80);
  vm.write(buildLab, ntBuildLab(layout));
  vm.writePtr(kernel.symbol('MmPfnDatabase', ptr), map.pfnDatabase);
  vm.writePtr(kernel.symbol('MmSystemRangeStart', ptr), arch === 'x64' ? 0xffff800000000000n : 0x80000000n);
  vm.writePtr(kernel.symbol('MmHighestUserAddress', ptr), arch === 'x64' ? 0x7ffffffeffffn : 0x7ffeffffn);
  vm.writeU32(kernel.symbol('KeNumberProcessors', 4), NUMBER_OF_PROCESSORS);
  // \REGISTRY\MACHINE\HARDWARE\DESCRIPTION\SYSTEM: what every DRIVER_OBJECT.HardwareDatabase points to.
  const hardwareText = '\\REGISTRY\\MACHINE\\HARDWARE\\DESCRIPTION\\SYSTEM';
  const hardwareDatabase = kernel.symbol('CmRegistryMachineHardwareDescriptionSystemName', 0x10);
  const hardwareBuffer = kernel.symbol('CmpHardwareDescriptionSystemNameBuffer', hardwareText.length * 2 + 2);
  vm.write(hardwareBuffer, utf16le(hardwareText));
  const us = new ByteWriter(ptr === 8 ? 16 : 8, ptr).unicodeString(
    0,
    hardwareText.length * 2,
    hardwareText.length * 2 + 2,
    hardwareBuffer,
  );
  vm.write(hardwareDatabase, us.bytes);
  const psLoadedModuleList = kernel.symbol('PsLoadedModuleList', 2 * ptr);
  const psActiveProcessHead = kernel.symbol('PsActiveProcessHead', 2 * ptr);
  const debuggerDataList = kernel.symbol('KdpDebuggerDataListHead', 0x10);
  return {
    psLoadedModuleList,
    psActiveProcessHead,
    hardwareDatabase,
    ntBuildLab: buildLab,
    debuggerDataList,
    rootDirectoryVar,
    accessors: writeAccessors(layout, vm, kernel),
  };
}

/** KDBG (encoded on Windows 8+ x64), DBGKD_GET_VERSION64, and on XP/2003 the KPCR that points at it. */
function writeDebuggerData(
  layout: KernelLayout,
  vm: VirtualMemory,
  kernel: KernelImage,
  map: AddressMap,
  globals: KernelGlobals,
  waitKeys: WaitKeys | null,
): bigint {
  const ptr = layout.pointerSize;
  const kdbgVa = kernel.symbol('KdDebuggerDataBlock', layout.kdbgSize);
  const block = kdbgBlock(layout, {
    listHead: globals.debuggerDataList,
    kernBase: kernel.base,
    psLoadedModuleList: globals.psLoadedModuleList,
    psActiveProcessHead: globals.psActiveProcessHead,
    pspCidTable: kernel.symbol('PspCidTable', ptr),
    obpRootDirectoryObject: globals.rootDirectoryVar,
    obpTypeObjectType: kernel.symbol('ObpTypeObjectType'),
    mmPfnDatabase: kernel.symbol('MmPfnDatabase'),
    mmHighestUserAddress: kernel.symbol('MmHighestUserAddress'),
    mmSystemRangeStart: kernel.symbol('MmSystemRangeStart'),
    ntBuildLab: globals.ntBuildLab,
    kiProcessorBlock: kernel.symbol('KiProcessorBlock', ptr * 64),
    mmUnloadedDrivers: kernel.symbol('MmUnloadedDrivers', ptr),
  });
  // The debugger data list head links to the block (a one-element list).
  const listHead = globals.debuggerDataList;
  vm.writeU64(listHead, layout.arch === 'x64' ? kdbgVa : kdbgVa & 0xffffffffn);
  vm.writeU64(listHead + 8n, layout.arch === 'x64' ? kdbgVa : 0n);
  if (layout.kdbgEncoded) {
    if (!waitKeys) throw new Error('internal: an encoded KDBG needs KiWaitNever and KiWaitAlways');
    const waitNever = waitKeys.never;
    const waitAlways = waitKeys.always;
    const flag = kernel.symbol('KdpDataBlockEncoded', 1);
    const waitNeverVa = kernel.symbol('KiWaitNever', 8);
    const waitAlwaysVa = kernel.symbol('KiWaitAlways', 8);
    vm.writeU64(waitNeverVa, waitNever);
    vm.writeU64(waitAlwaysVa, waitAlways);
    vm.write(flag, Uint8Array.of(1));
    vm.write(kdbgVa, encodeKdbg(block, waitNever, waitAlways, flag));
    const copy = kernel.symbol('KdCopyDataBlock');
    vm.write(
      copy,
      kdCopyDataBlockBytes(
        copy,
        flag,
        kdbgVa,
        waitNeverVa,
        waitAlwaysVa,
        layout.kdbgSize,
        layout.version.build,
      ),
    );
    // Its exported caller, where a reader without symbols finds it (spec §3.5).
    const caller = kernel.symbol('KeCapturePersistentThreadState');
    vm.write(
      caller,
      capturePersistentThreadStateBytes(caller, kdbgVa, copy, kernel.symbol('RtlGetNtProductType')),
    );
  } else {
    vm.write(kdbgVa, block);
  }
  const versionVa = kernel.symbol('KdVersionBlock', 0x28);
  vm.write(
    versionVa,
    versionBlock(layout, kernel.base, globals.psLoadedModuleList, globals.debuggerDataList),
  );
  if (map.kpcr !== null) {
    // XP/2003 x86 KPCR of CPU 0 at 0xFFDFF000: SelfPcr, Prcb, KdVersionBlock (spec §1.15).
    vm.mapFresh(map.kpcr, PAGE, { writable: true });
    const w = new ByteWriter(0x40, 4);
    w.u32(0x1c, Number(map.kpcr))
      .u32(0x20, Number(map.kpcr) + 0x120)
      .u32(0x34, Number(versionVa & 0xffffffffn));
    vm.write(map.kpcr, w.bytes);
  }
  return kdbgVa;
}

export type { Rootkit, LoadedModule };
