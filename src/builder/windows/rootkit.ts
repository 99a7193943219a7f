// The infected scenario: what real kernel rootkits did to the I/O path, each part switchable.
// IRP table hooks on a disk and a network driver (TDL/TDSS-style, and connection hiding through
// nsiproxy), inline patches of dispatch routines, a driver unlinked from PsLoadedModuleList and
// removed from \Driver (DKOM), dispatch code in a pool allocation, a keyboard filter (keylogger),
// a redirected FastIo entry, and a driver name with characters hostile to any HTML view.

import { IRP_MJ, FAST_IO_NAMES } from '../../common/windows';
import type { FindingKind, Severity } from '../../common/findings';
import { PAGE } from '../memory/physical';
import { inlineHookPatch, shellcodeStub, type InlineHookForm } from './code';
import type { CatalogDriver } from './catalog';
import type { DeviceModel, DriverContext, DriverModel, DriverSet, Handler } from './drivers';
import type { LoadedModule } from './modules';
import type { Rng } from '../rng';
import type { ServiceTable } from './service-table';
import type { Callbacks } from './callbacks';
import { OBJECT_CALLBACKS_FROM_BUILD } from './object-callbacks';
import type { DescriptorTables } from './descriptors';
import type { KernelTimers } from './timers';

export const INFECTIONS = [
  'irpHook',
  'inlineHook',
  'hiddenDriver',
  'poolCode',
  'filterDevice',
  'fastIoHook',
  'hostileName',
  'ssdtHook',
  'ssdtInline',
  'hiddenProcess',
  'completionHook',
  'notifyPoolCode',
  'notifyHiddenModule',
  'registryCallback',
  'shutdownNotify',
  'orphanThread',
  'idtHook',
  'timerDpc',
  'objectCallback',
] as const;
export type Infection = (typeof INFECTIONS)[number];

/** The rootkit's user-mode half, unlinked from the process list (FU-style DKOM). */
export const HIDDEN_PROCESS_NAME = 'winlogsvc.exe';

/**
 * What `--scenario infected` plants unless --infections names a subset: every infection, so the
 * demo case and the default image show each door the rootkit opened.
 */
export const DEFAULT_INFECTIONS: readonly Infection[] = INFECTIONS;

export interface PlantedFinding {
  kind: FindingKind;
  subject: string;
  severity: Severity;
  detail: string;
}

export interface Rootkit {
  module: LoadedModule;
  driver: DriverModel;
  planted: PlantedFinding[];
  /** Patches to write once every routine exists: [VA, bytes]. */
  patches: Array<{ va: bigint; bytes: Uint8Array }>;
  poolCode: bigint | null;
  filterDevice: DeviceModel | null;
}

const NAMES = ['netfltx', 'storflt', 'kbdsrvc', 'acpiex2', 'wmifltr', 'ndisprot2'];
/** Characters that break naive HTML, CSV and terminal output: markup, both quotes, ampersand, BEL, ESC. */
const HOSTILE_SUFFIX = '<img src=x onerror=alert(1)>"\'&\u0007\u001b[31m';

/** Code in untagged nonpaged pool (as ExAllocatePool without a tag gives) that jumps on to `next`. */
export function plantPoolCode(ctx: DriverContext, rng: Rng, next: bigint): bigint {
  const stub = shellcodeStub(ctx.layout.arch, rng, next);
  const block = ctx.nonPaged.allocate('None', stub.length + 0x40);
  ctx.vm.write(block.dataVa, stub);
  const pageVa = block.dataVa & ~0xfffn;
  ctx.vm.tables.map(pageVa, ctx.vm.pa(pageVa) / PAGE, { writable: true, executable: true });
  return block.dataVa;
}

export function plantRootkit(
  ctx: DriverContext,
  drivers: DriverSet,
  enabled: ReadonlySet<Infection>,
): Rootkit {
  const { loader, layout } = ctx;
  // Its own stream: the infected system is the clean one plus the rootkit, nothing shifted.
  const rng = ctx.rng.fork('rootkit');
  const base = rng.pick(NAMES);
  const objectName = enabled.has('hostileName') ? `${base}${HOSTILE_SUFFIX}` : base;
  // Loaded from a user-writable folder, as dropped rootkits are (not \SystemRoot\System32\drivers).
  const module = loader.load(`${base}.sys`, `\\??\\C:\\Windows\\Temp\\${base}.sys`, {
    size: 0x9000 + rng.int(0, 6) * PAGE,
  });
  const spec: CatalogDriver = {
    name: objectName,
    irp: 'wdm',
    handles: [IRP_MJ.IRP_MJ_CREATE, IRP_MJ.IRP_MJ_CLOSE, IRP_MJ.IRP_MJ_DEVICE_CONTROL],
    devices: [{ name: `\\Device\\${base}`, type: 0x22, links: [base] }],
  };
  const driver = drivers.addDriver(spec, module);
  drivers.createDriverObject(driver);
  for (const device of driver.devices) drivers.createDeviceObject(device);
  const planted: PlantedFinding[] = [];
  const patches: Rootkit['patches'] = [];
  const hook = (label: string): Handler => ({
    va: loader.routine(module, label),
    verdict: 'other-module',
    owner: module.name,
  });
  const rootkit: Rootkit = { module, driver, planted, patches, poolCode: null, filterDevice: null };

  if (enabled.has('irpHook')) {
    const disk = required(drivers.findDriver('Disk'), 'Disk');
    disk.majors[IRP_MJ.IRP_MJ_DEVICE_CONTROL] = hook('HookDiskDeviceControl');
    disk.majors[IRP_MJ.IRP_MJ_INTERNAL_DEVICE_CONTROL] = hook('HookDiskScsi');
    planted.push({
      kind: 'irp-hook',
      subject: disk.driverName,
      severity: 'high',
      detail: 'IRP_MJ_DEVICE_CONTROL and IRP_MJ_INTERNAL_DEVICE_CONTROL point into the rootkit',
    });
    const network = drivers.findDriver('nsiproxy') ?? required(drivers.findDriver('Tcpip'), 'Tcpip');
    network.majors[IRP_MJ.IRP_MJ_DEVICE_CONTROL] = hook('HookNetworkDeviceControl');
    planted.push({
      kind: 'irp-hook',
      subject: network.driverName,
      severity: 'high',
      detail: 'IRP_MJ_DEVICE_CONTROL points into the rootkit',
    });
  }

  if (enabled.has('inlineHook')) {
    const forms: [InlineHookForm, InlineHookForm] =
      layout.arch === 'x64' ? ['jmp-rip-indirect', 'mov-rax-jmp'] : ['jmp-rel32', 'push-ret'];
    const targets: Array<[string, number, InlineHookForm]> = [
      ['Ntfs', IRP_MJ.IRP_MJ_CREATE, forms[0]],
      ['AFD', IRP_MJ.IRP_MJ_DEVICE_CONTROL, forms[1]],
    ];
    for (const [key, index, form] of targets) {
      const victim = required(drivers.findDriver(key), key);
      const routine = victim.majors[index]!;
      const detour = loader.routine(module, `Detour${key}`);
      patches.push({ va: routine.va, bytes: inlineHookPatch(form, routine.va, detour) });
      for (const [i, handler] of victim.majors.entries()) {
        if (handler.va === routine.va) victim.majors[i] = { ...handler, verdict: 'inline-patched' };
      }
      planted.push({
        kind: 'inline-hook',
        subject: victim.driverName,
        severity: 'critical',
        detail: `${form} patch at the start of its dispatch routine jumps into the rootkit`,
      });
    }
  }

  if (enabled.has('poolCode')) {
    const victim = required(drivers.findDriver('i8042prt'), 'i8042prt');
    const original = victim.majors[IRP_MJ.IRP_MJ_INTERNAL_DEVICE_CONTROL]!;
    const code = plantPoolCode(ctx, rng, original.va);
    victim.majors[IRP_MJ.IRP_MJ_INTERNAL_DEVICE_CONTROL] = {
      va: code,
      verdict: 'no-module',
      owner: null,
    };
    rootkit.poolCode = code;
    planted.push({
      kind: 'irp-no-module',
      subject: victim.driverName,
      severity: 'critical',
      detail: 'IRP_MJ_INTERNAL_DEVICE_CONTROL points to code in a pool allocation',
    });
  }

  if (enabled.has('filterDevice')) {
    const target = required(drivers.findDevice('kbdclass/kbd0'), 'KeyboardClass0');
    const filter: DeviceModel = {
      key: 'filter',
      driver,
      name: null,
      type: 0x0b,
      flags: 0x4,
      characteristics: 0x100,
      extensionSize: 0x40,
      object: null,
      attachedDevice: null,
      attachedTo: null,
      links: [],
      spec: { type: 0x0b },
    };
    driver.devices.push(filter);
    drivers.createDeviceObject(filter);
    drivers.attach(filter, target);
    driver.majors[IRP_MJ.IRP_MJ_READ] = drivers.ownHandler(driver, 'KeyloggerRead');
    rootkit.filterDevice = filter;
    planted.push({
      kind: 'foreign-filter',
      subject: target.name!,
      severity: 'high',
      detail: 'an unnamed device of the rootkit driver sits on top of the keyboard stack',
    });
  }

  if (enabled.has('fastIoHook')) {
    const victim = required(drivers.findDriver('Ntfs'), 'Ntfs');
    const slot = FAST_IO_NAMES.indexOf('FastIoDeviceControl');
    victim.fastIo![slot] = hook('HookFastIoDeviceControl');
    planted.push({
      kind: 'fastio-hook',
      subject: victim.driverName,
      severity: 'high',
      detail: 'FastIoDeviceControl points into the rootkit',
    });
  }

  if (enabled.has('hiddenDriver')) {
    driver.hidden = true;
    module.unlinked = true;
    ctx.directory('\\Driver').unlink(driver.object!.bodyVa);
    planted.push({
      kind: 'hidden-driver',
      subject: driver.driverName,
      severity: 'critical',
      detail: 'removed from \\Driver; found only by scanning pool memory',
    });
    planted.push({
      kind: 'unlinked-module',
      subject: module.name,
      severity: 'high',
      detail: 'loader entry unlinked from PsLoadedModuleList',
    });
  }

  if (enabled.has('hostileName')) {
    planted.push({
      kind: 'suspicious-name',
      subject: driver.driverName,
      severity: 'medium',
      detail: 'driver name contains markup and control characters',
    });
  }
  return rootkit;
}

/**
 * The system-service table, bent as rootkits bent it: on x86 NtQuerySystemInformation's entry
 * points into the rootkit (process hiding); on x64, where the entry can only reach ±128 MiB of
 * the table, it points at a trampoline in the kernel's own code that jumps into the rootkit; and
 * NtWriteFile's first bytes are patched to jump into the rootkit.
 */
export function plantServiceHooks(
  ctx: DriverContext,
  rootkit: Rootkit,
  table: ServiceTable,
  enabled: ReadonlySet<Infection>,
): void {
  const { loader, layout, kernel } = ctx;
  const x64 = layout.arch === 'x64';
  if (enabled.has('ssdtHook')) {
    const detour = loader.routine(rootkit.module, 'HookQuerySystemInformation');
    if (x64) {
      const trampoline = kernel.symbol('IrpscopeServiceTrampoline', 0x20);
      rootkit.patches.push({
        va: trampoline,
        bytes: inlineHookPatch('jmp-rip-indirect', trampoline, detour),
      });
      table.redirect('NtQuerySystemInformation', trampoline);
    } else table.redirect('NtQuerySystemInformation', detour);
    rootkit.planted.push({
      kind: x64 ? 'ssdt-inline' : 'ssdt-hook',
      subject: 'NtQuerySystemInformation',
      severity: 'critical',
      detail: x64
        ? 'its service-table entry points at a trampoline in the kernel that jumps into the rootkit'
        : 'its service-table entry points into the rootkit',
    });
  }
  if (enabled.has('ssdtInline')) {
    const routine = kernel.symbol('NtWriteFile');
    const detour = loader.routine(rootkit.module, 'HookWriteFile');
    rootkit.patches.push({
      va: routine,
      bytes: inlineHookPatch(x64 ? 'mov-rax-jmp' : 'jmp-rel32', routine, detour),
    });
    rootkit.planted.push({
      kind: 'ssdt-inline',
      subject: 'NtWriteFile',
      severity: 'critical',
      detail: 'the first bytes of the routine its service-table entry names jump into the rootkit',
    });
  }
}

/**
 * Callbacks as rootkits register them: a process-notify routine in untagged pool code (it then
 * runs on every process creation, to inject or hide); an image-load routine and a registry
 * callback (to hide its service key) in the rootkit's own module; a shutdown notification on the
 * rootkit's device (its driver gets IRP_MJ_SHUTDOWN, to write itself back to disk). Those in its
 * module are findings when hiddenDriver unlinks the module too.
 */
export function plantCallbacks(
  ctx: DriverContext,
  rootkit: Rootkit,
  callbacks: Callbacks,
  enabled: ReadonlySet<Infection>,
): void {
  const rng = ctx.rng.fork('rootkit-notify');
  const { module } = rootkit;
  const inHiddenModule = (detail: string) => {
    if (module.unlinked)
      rootkit.planted.push({
        kind: 'callback-hidden-module',
        subject: module.name,
        severity: 'critical',
        detail,
      });
  };
  if (enabled.has('notifyPoolCode')) {
    const next = ctx.loader.routine(module, 'ProcessNotifyWorker');
    const code = plantPoolCode(ctx, rng, next);
    callbacks.add('process-notify', code, null, { planted: true });
    rootkit.planted.push({
      kind: 'callback-no-module',
      subject: `0x${code.toString(16)}`,
      severity: 'critical',
      detail: 'a process-notify routine in a pool allocation',
    });
  }
  if (enabled.has('notifyHiddenModule')) {
    callbacks.add('image-load-notify', ctx.loader.routine(module, 'ImageLoadNotify'), module, {
      planted: true,
    });
    inHiddenModule('an image-load notify routine in the module unlinked from PsLoadedModuleList');
  }
  if (enabled.has('registryCallback')) {
    callbacks.add('registry', ctx.loader.routine(module, 'RegistryCallback'), module, { planted: true });
    inHiddenModule('a registry callback in the module unlinked from PsLoadedModuleList');
  }
  if (enabled.has('objectCallback')) plantObjectCallback(ctx, rootkit, callbacks, inHiddenModule);
  if (enabled.has('shutdownNotify')) {
    callbacks.addShutdown('shutdown', rootkit.driver, rootkit.driver.devices[0]!, true);
    inHiddenModule("a shutdown notification on the rootkit's device, its routine in the unlinked module");
  }
}

/**
 * The rootkit protects its user-mode half (winlogsvc.exe) as anti-malware drivers protect theirs:
 * a process pre-operation callback (ObRegisterCallbacks, Vista SP1 on) that strips the access a
 * handle to it would give. Its routine is in the rootkit's module.
 */
function plantObjectCallback(
  ctx: DriverContext,
  rootkit: Rootkit,
  callbacks: Callbacks,
  inHiddenModule: (detail: string) => void,
): void {
  if (ctx.layout.version.build < OBJECT_CALLBACKS_FROM_BUILD) return;
  const pre = ctx.loader.routine(rootkit.module, 'ProcessProtectCallback');
  callbacks.addObject({
    module: rootkit.module,
    altitude: '321000',
    context: 0n,
    operations: [{ kind: 'process-object', pre, post: null }],
    planted: true,
  });
  inHiddenModule('a process object pre-operation callback in the module unlinked from PsLoadedModuleList');
}

/**
 * The start routine of a system thread the rootkit starts in pool code (PsCreateSystemThread on a
 * copy of its worker, which then runs on after the module is gone): no module holds it.
 */
export function plantOrphanThread(ctx: DriverContext, rootkit: Rootkit): bigint {
  const rng = ctx.rng.fork('rootkit-thread');
  const start = plantPoolCode(ctx, rng, ctx.loader.routine(rootkit.module, 'SystemThreadWorker'));
  rootkit.planted.push({
    kind: 'orphan-thread',
    subject: `0x${start.toString(16)}`,
    severity: 'critical',
    detail: 'a System thread whose start address is pool code',
  });
  return start;
}

/**
 * A periodic timer the rootkit arms with a DPC in pool code (a copy of its beacon routine): every
 * minute the kernel runs it, with no thread and no module to show for it.
 */
export function plantTimerDpc(ctx: DriverContext, rootkit: Rootkit, timers: KernelTimers): void {
  const rng = ctx.rng.fork('rootkit-timer');
  const routine = plantPoolCode(ctx, rng, ctx.loader.routine(rootkit.module, 'BeaconDpc'));
  timers.add(routine, null, 60_000, 0, true, 'None');
  rootkit.planted.push({
    kind: 'callback-no-module',
    subject: `0x${routine.toString(16)}`,
    severity: 'critical',
    detail: 'a periodic timer whose DPC routine is pool code',
  });
}

/** The system-call gate (0x2E) of every processor sent into the rootkit: x86 only, as rootkits did. */
export function plantIdtHook(
  ctx: DriverContext,
  rootkit: Rootkit,
  descriptors: DescriptorTables,
  processors: number,
): void {
  if (ctx.layout.arch !== 'x86') return;
  const handler = ctx.loader.routine(rootkit.module, 'InterruptHook');
  descriptors.hook(IDT_HOOK_VECTOR, handler, rootkit.module.name);
  rootkit.planted.push({
    kind: 'idt-hook',
    subject: `IDT 0x${IDT_HOOK_VECTOR.toString(16)}`,
    severity: 'critical',
    detail: `the system-call gate of all ${processors} processors sent to ${rootkit.module.name}`,
  });
}

export const IDT_HOOK_VECTOR = 0x2e;

export function writePatches(ctx: DriverContext, rootkit: Rootkit): void {
  for (const patch of rootkit.patches) ctx.vm.write(patch.va, patch.bytes);
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the infected scenario needs ${what}, which this system lacks`);
  return value;
}
