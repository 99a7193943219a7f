// Driver objects, their extensions and IRP tables, device objects and their stacks, and the
// symbolic links that name them — first as a model (so the infected scenario can bend it), then
// written into memory in one pass (spec §1.2–§1.7, §4.4).

import { IRP_MJ_COUNT, IRP_MJ_NAMES, FAST_IO_NAMES } from '../../common/windows';
import type { HandlerVerdict } from '../../common/findings';
import { ByteWriter, alignUp } from '../bytes';
import { field, sizeOf, type KernelLayout } from '../layout/kernel-layout';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import { dispatchRoutine } from './code';
import { applies, DRIVERS, type CatalogDevice, type CatalogDriver, type TransientGroup } from './catalog';
import type { KernelImage } from './kernel-image';
import type { LoadedModule, ModuleLoader } from './modules';
import type { ObjectDirectory } from './objects';
import { type KernelObject, type ObjectManager } from './objects';
import type { PoolRegion } from './pool';

export interface Handler {
  va: bigint;
  verdict: HandlerVerdict;
  /** Module that contains the code, or null. */
  owner: string | null;
}

export interface DeviceModel {
  key: string;
  driver: DriverModel;
  /** Full object name, or null for an unnamed device. */
  name: string | null;
  type: number;
  flags: number;
  characteristics: number;
  extensionSize: number;
  object: KernelObject | null;
  attachedDevice: DeviceModel | null;
  attachedTo: DeviceModel | null;
  links: string[];
  spec: CatalogDevice;
}

export interface DriverModel {
  key: string;
  objectName: string;
  directory: 'Driver' | 'FileSystem';
  /** DRIVER_OBJECT.DriverName, e.g. \Driver\Disk. */
  driverName: string;
  serviceKey: string;
  module: LoadedModule | null;
  object: KernelObject | null;
  devices: DeviceModel[];
  majors: Handler[];
  fastIo: Array<Handler | null> | null;
  fastIoTableVa: bigint;
  startIo: Handler | null;
  unload: Handler | null;
  init: Handler | null;
  addDevice: bigint;
  flags: number;
  builtin: boolean;
  /** Removed from its object directory (hidden driver). */
  hidden: boolean;
  driverNameVa: bigint;
  serviceKeyVa: bigint;
}

export interface SymbolicLinkModel {
  name: string;
  target: string;
  object: KernelObject;
}

interface DelegateTable {
  all?: string;
  map: Partial<Record<number, string>>;
}

/** What a port / class / framework module writes into its client's MajorFunction table (spec §4.5 item 3). */
const DELEGATES: Record<string, DelegateTable> = {
  'classpnp.sys': {
    map: {
      0: 'ClassCreateClose',
      2: 'ClassCreateClose',
      3: 'ClassReadWrite',
      4: 'ClassReadWrite',
      9: 'ClassShutdownFlush',
      0xe: 'ClassDeviceControlDispatch',
      0xf: 'ClassInternalIoctl',
      0x10: 'ClassShutdownFlush',
      0x16: 'ClassDispatchPower',
      0x17: 'ClassSystemControl',
      0x1b: 'ClassDispatchPnp',
    },
  },
  'storport.sys': {
    map: {
      0: 'RaDriverCreateIrp',
      2: 'RaDriverCloseIrp',
      0xe: 'RaDriverDeviceControlIrp',
      0xf: 'RaDriverScsiIrp',
      0x16: 'RaDriverPowerIrp',
      0x17: 'RaDriverSystemControlIrp',
      0x1b: 'RaDriverPnpIrp',
    },
  },
  'ataport.sys': {
    map: {
      0: 'IdePortDispatchCreateClose',
      2: 'IdePortDispatchCreateClose',
      0xe: 'IdePortDispatchDeviceControl',
      0xf: 'IdePortDispatch',
      0x16: 'IdePortDispatchPower',
      0x17: 'IdePortDispatchSystemControl',
      0x1b: 'IdePortDispatchPnp',
    },
  },
  'scsiport.sys': { all: 'ScsiPortGlobalDispatch', map: {} },
  'ndis.sys': {
    all: 'ndisDummyIrpHandler',
    map: {
      0: 'ndisCreateIrpHandler',
      2: 'ndisCloseIrpHandler',
      0xe: 'ndisDeviceControlIrpHandler',
      0x16: 'ndisPowerDispatch',
      0x17: 'ndisWMIDispatch',
      0x1b: 'ndisPnPDispatch',
    },
  },
  'hidclass.sys': { all: 'HidpMajorHandler', map: {} },
  'wdf01000.sys': { all: 'FxDevice::DispatchWithLock', map: {} },
  'portcls.sys': {
    map: {
      0: 'DispatchCreate',
      2: 'DispatchClose',
      0xe: 'PcDispatchIrp',
      0x16: 'DispatchPower',
      0x17: 'PcDispatchIrp',
      0x1b: 'DispatchPnp',
    },
  },
  'ks.sys': {
    map: {
      0: 'DispatchCreate',
      2: 'KsDispatchIrp',
      0xe: 'KsDispatchIrp',
      0x16: 'KsDefaultDispatchPower',
      0x17: 'KsDefaultForwardIrp',
      0x1b: 'KsDefaultDispatchPnp',
    },
  },
  'dxgkrnl.sys': {
    map: {
      0: 'DpiDispatchCreate',
      2: 'DpiDispatchClose',
      0xe: 'DpiDispatchIoctl',
      0xf: 'DpiDispatchInternalIoctl',
      0x16: 'DpiDispatchPower',
      0x17: 'DpiDispatchSystemControl',
      0x1b: 'DpiDispatchPnp',
    },
  },
  'videoprt.sys': {
    map: {
      0: 'pVideoPortDispatch',
      2: 'pVideoPortDispatch',
      0xe: 'pVideoPortDispatch',
      0x10: 'pVideoPortDispatch',
      0x16: 'pVideoPortPowerDispatch',
      0x17: 'pVideoPortSystemControl',
      0x1b: 'pVideoPortPnpDispatch',
    },
  },
  'usbport.sys': { all: 'USBPORT_Dispatch', map: {} },
  'pciidex.sys': {
    map: {
      0: 'PciIdeXDispatchCreateClose',
      2: 'PciIdeXDispatchCreateClose',
      0xe: 'PciIdeXDispatchDeviceControl',
      0x16: 'PciIdeXDispatchPower',
      0x17: 'PciIdeXDispatchWmi',
      0x1b: 'PciIdeXDispatchPnp',
    },
  },
};

/** Kernel routines of the drivers the kernel creates itself (names as in the kernel's symbol table). */
const BUILTIN_ROUTINES: Record<string, Partial<Record<number, string>>> = {
  PnpManager: { 0x1b: 'IopPnPDispatch', 0x16: 'IopPowerDispatch', 0x17: 'IopSystemControlDispatch' },
  WMIxWDM: {
    0: 'WmipOpenCloseCleanup',
    2: 'WmipOpenCloseCleanup',
    0x12: 'WmipOpenCloseCleanup',
    0xe: 'WmipIoControl',
    0x17: 'WmipSystemControl',
  },
  ACPI_HAL: { 0x1b: 'HalpDispatchPnp', 0x16: 'HalpDispatchPower', 0x17: 'HalpDispatchWmi' },
  SoftwareDevice: { 0x1b: 'PiSwPdoPnPDispatch', 0: 'PiSwDispatch', 2: 'PiSwDispatch', 0xe: 'PiSwDispatch' },
  DeviceApi: { 0: 'PiDaDispatch', 2: 'PiDaDispatch', 0x12: 'PiDaDispatch', 0xe: 'PiDaDispatch' },
  RAW: {
    0: 'RawDispatch',
    2: 'RawDispatch',
    3: 'RawDispatch',
    4: 'RawDispatch',
    5: 'RawDispatch',
    6: 'RawDispatch',
    0xa: 'RawDispatch',
    0xd: 'RawDispatch',
    0xe: 'RawDispatch',
    0x12: 'RawDispatch',
  },
};

/** FastIo entries a file system leaves to the kernel's FsRtl routines (e.g. FAT). */
const FSRTL_FAST_IO: Partial<Record<string, string>> = {
  FastIoRead: 'FsRtlCopyRead',
  FastIoWrite: 'FsRtlCopyWrite',
  MdlRead: 'FsRtlMdlReadDev',
  MdlReadComplete: 'FsRtlMdlReadCompleteDev',
  PrepareMdlWrite: 'FsRtlPrepareMdlWriteDev',
  MdlWriteComplete: 'FsRtlMdlWriteCompleteDev',
};

const DO_DEVICE_HAS_NAME = 0x40;
const FILE_AUTOGENERATED_DEVICE_NAME = 0x80;
const DRVO_LEGACY_DRIVER = 0x2;
const DRVO_BUILTIN_DRIVER = 0x4;
const DRVO_INITIALIZED = 0x10;
const IO_TYPE_DEVICE = 3;
const IO_TYPE_DRIVER = 4;
const IO_TYPE_DEVICE_OBJECT_EXTENSION = 13;

export interface DriverContext {
  layout: KernelLayout;
  vm: VirtualMemory;
  /** Facts of the installation (code, table contents): the same on every boot. */
  rng: Rng;
  /** What each boot decides afresh (auto-numbered names, object headers, counts). */
  boot: Rng;
  /** Whether this boot has the devices of a transient group (a USB stick, a VPN adapter). */
  transientPresent: (group: TransientGroup) => boolean;
  objects: ObjectManager;
  kernel: KernelImage;
  kernelModule: LoadedModule;
  halModule: LoadedModule;
  loader: ModuleLoader;
  nonPaged: PoolRegion;
  paged: PoolRegion;
  names: PoolRegion;
  directory: (path: string) => ObjectDirectory;
  /** Full path to the module file for a driver image. */
  imagePath: (image: string) => string;
}

export class DriverSet {
  readonly drivers: DriverModel[] = [];
  readonly links: SymbolicLinkModel[] = [];
  private autoName: number;
  private readonly ptr: 4 | 8;

  constructor(private readonly ctx: DriverContext) {
    this.autoName = ctx.boot.int(0x10, 0x30);
    this.ptr = ctx.layout.pointerSize;
  }

  /** Drivers of the catalogue that this generation has, with their images loaded. */
  populate(): void {
    const { layout } = this.ctx;
    const chosen = DRIVERS.filter((d) => applies(d, layout.version.family, layout.version.build));
    const models = chosen.map((spec) => this.model(spec));
    this.resolveDevices(models, chosen);
  }

  private model(
    spec: CatalogDriver,
    module = spec.image ? this.ctx.loader.load(spec.image, this.ctx.imagePath(spec.image)) : null,
  ): DriverModel {
    const directory = spec.fileSystem ? 'FileSystem' : 'Driver';
    const model: DriverModel = {
      key: spec.name,
      objectName: spec.name,
      directory,
      driverName: `\\${directory}\\${spec.name}`,
      serviceKey: spec.service ?? spec.name,
      module,
      object: null,
      devices: [],
      majors: [],
      fastIo: null,
      fastIoTableVa: 0n,
      startIo: null,
      unload: null,
      init: null,
      addDevice: 0n,
      flags: DRVO_INITIALIZED,
      builtin: module === null,
      hidden: false,
      driverNameVa: 0n,
      serviceKeyVa: 0n,
    };
    this.drivers.push(model);
    this.fillHandlers(model, spec);
    return model;
  }

  /** Adds a driver that is not in the catalogue (the rootkit's). */
  addDriver(spec: CatalogDriver, module: LoadedModule): DriverModel {
    const model = this.model(spec, module);
    this.resolveDevices([model], [spec]);
    return model;
  }

  private kernelHandler(name: string, inHal = false): Handler {
    const ctx = this.ctx;
    if (inHal) {
      return { va: ctx.loader.routine(ctx.halModule, name), verdict: 'kernel', owner: ctx.halModule.name };
    }
    const va = ctx.kernel.symbol(name, 0x80);
    ctx.vm.write(va, dispatchRoutine(ctx.layout.arch, ctx.rng));
    return { va, verdict: 'kernel', owner: ctx.kernelModule.name };
  }

  defaultHandler(): Handler {
    return {
      va: this.ctx.kernel.symbol('IopInvalidDeviceRequest'),
      verdict: 'kernel-default',
      owner: this.ctx.kernelModule.name,
    };
  }

  ownHandler(model: DriverModel, label: string): Handler {
    const module = model.module!;
    return { va: this.ctx.loader.routine(module, label), verdict: 'own-image', owner: module.name };
  }

  private delegateModule(name: string): LoadedModule {
    const module = this.ctx.loader.modules.find((m) => m.name.toLowerCase() === name.toLowerCase());
    if (!module) throw new Error(`delegate module ${name} is not loaded`);
    return module;
  }

  private fillHandlers(model: DriverModel, spec: CatalogDriver): void {
    const ctx = this.ctx;
    const def = this.defaultHandler();
    const majors: Handler[] = Array.from({ length: IRP_MJ_COUNT }, () => def);
    const irp = spec.irp;
    if (irp === 'builtin') {
      const halRoutines = spec.name === 'ACPI_HAL' && !ctx.kernel.hasSymbol('HalpDispatchPnp');
      for (const [index, routine] of Object.entries(BUILTIN_ROUTINES[spec.name] ?? {})) {
        majors[Number(index)] = this.kernelHandler(routine!, halRoutines);
      }
      model.flags = DRVO_BUILTIN_DRIVER | DRVO_INITIALIZED;
      const initName = spec.name === 'DeviceApi' ? 'PiDaDriverEntry' : `Iop${spec.name}DriverEntry`;
      model.init = this.kernelHandler(initName);
      if (spec.name === 'DeviceApi') this.builtinFastIo(model);
    } else if (model.module) {
      const own = (label: string) => this.ownHandler(model, label);
      if (irp === 'wdm') {
        for (const index of spec.handles ?? []) {
          const shared =
            index === 0 || index === 2 ? 'DispatchCreateClose' : `Dispatch${IRP_MJ_NAMES[index]!.slice(7)}`;
          majors[index] = own(shared);
        }
      } else if (irp === 'fs') {
        for (let index = 0; index < IRP_MJ_COUNT; index++) {
          if (index === 1 || index === 0x13) continue; // named pipes / mailslots are not theirs
          majors[index] = own(`Fsd${IRP_MJ_NAMES[index]!.slice(7)}`);
        }
      } else {
        const delegate = irp === 'kmdf' ? 'Wdf01000.sys' : irp.delegate;
        const module = this.delegateModule(delegate);
        const table = DELEGATES[delegate.toLowerCase()];
        if (!table) throw new Error(`no dispatch table known for ${delegate}`);
        for (let index = 0; index < IRP_MJ_COUNT; index++) {
          const routine = table.map[index] ?? table.all;
          if (routine)
            majors[index] = {
              va: ctx.loader.routine(module, routine),
              verdict: 'delegated',
              owner: module.name,
            };
        }
      }
      model.init = { va: model.module.entry, verdict: 'own-image', owner: model.module.name };
      if (spec.unload || irp === 'kmdf')
        model.unload = own(irp === 'kmdf' ? 'FxStubDriverUnload' : 'DriverUnload');
      if (spec.startIo) model.startIo = own('DriverStartIo');
      if (spec.fastIo) this.moduleFastIo(model, spec.fastIo);
      const pnp = (spec.devices ?? []).some((d) => d.attach);
      if (pnp)
        model.addDevice =
          irp === 'kmdf'
            ? ctx.loader.routine(this.delegateModule('Wdf01000.sys'), 'FxDriver::AddDevice')
            : own('AddDevice').va;
      else model.flags |= DRVO_LEGACY_DRIVER;
    }
    model.majors = majors;
  }

  private moduleFastIo(model: DriverModel, style: 'own' | 'fsrtl'): void {
    const module = model.module!;
    const rng = this.ctx.rng.fork(`driver/${model.key}/fastio`);
    model.fastIoTableVa = this.ctx.loader.dataSlot(module, sizeOf(this.ctx.layout, '_FAST_IO_DISPATCH'));
    model.fastIo = FAST_IO_NAMES.map((name) => {
      const fsrtl = style === 'fsrtl' ? FSRTL_FAST_IO[name] : undefined;
      if (fsrtl)
        return {
          va: this.ctx.kernel.symbol(fsrtl),
          verdict: 'kernel',
          owner: this.ctx.kernelModule.name,
        } satisfies Handler;
      if (rng.chance(0.3) && name !== 'FastIoDeviceControl' && name !== 'FastIoRead') return null;
      return this.ownHandler(model, name);
    });
  }

  /** \Driver\DeviceApi's FastIo table lives in ntoskrnl's data; its device control entry is a kernel routine. */
  private builtinFastIo(model: DriverModel): void {
    const size = sizeOf(this.ctx.layout, '_FAST_IO_DISPATCH');
    model.fastIoTableVa = this.ctx.kernel.symbol('PiDaFastIoDispatchTable', size);
    const deviceControl = this.kernelHandler('PiDaFastIoDispatch');
    model.fastIo = FAST_IO_NAMES.map((name) => (name === 'FastIoDeviceControl' ? deviceControl : null));
  }

  /** Keeps the devices whose stacks exist on this boot of the system and creates their models. */
  private resolveDevices(models: DriverModel[], specs: CatalogDriver[]): void {
    models.forEach((model, i) => {
      (specs[i]!.devices ?? []).forEach((spec, index) => {
        if (spec.transient && !this.ctx.transientPresent(spec.transient)) return;
        const key = spec.id ?? String(index);
        model.devices.push({
          key,
          driver: model,
          name: null,
          type: spec.type,
          flags: spec.flags ?? 0,
          // IoCreateDevice records FILE_AUTOGENERATED_DEVICE_NAME in the characteristics.
          characteristics:
            (spec.characteristics ?? 0x100) | (spec.name === 'auto' ? FILE_AUTOGENERATED_DEVICE_NAME : 0),
          extensionSize: spec.ext ?? this.ctx.rng.fork(`device/${model.key}/${key}`).int(0, 12) * 0x10,
          object: null,
          attachedDevice: null,
          attachedTo: null,
          links: spec.links ?? [],
          spec,
        });
      });
    });
    // Drop devices whose stack does not exist here, until nothing changes.
    for (let changed = true; changed;) {
      changed = false;
      for (const model of models) {
        model.devices = model.devices.filter((device) => {
          if (!device.spec.attach || this.findDevice(device.spec.attach)) return true;
          changed = true;
          return false;
        });
      }
    }
  }

  findDevice(reference: string): DeviceModel | undefined {
    for (const alternative of reference.split('|')) {
      const [driverKey, deviceKey] = alternative.split('/');
      const driver = this.drivers.find((d) => d.key === driverKey);
      const device = driver?.devices.find((d) => d.key === deviceKey);
      if (device) return device;
    }
    return undefined;
  }

  findDriver(key: string): DriverModel | undefined {
    return this.drivers.find((d) => d.key === key);
  }

  /** Creates every driver and device object, then builds the stacks in catalogue order. */
  createObjects(): void {
    this.assignAutoNames();
    for (const driver of this.drivers) this.createDriverObject(driver);
    for (const driver of this.drivers) for (const device of driver.devices) this.createDeviceObject(device);
    for (const driver of this.drivers) {
      for (const device of driver.devices)
        if (device.spec.attach) this.attach(device, this.findDevice(device.spec.attach)!);
    }
  }

  /**
   * PnP hands out \\Device\\%08x names as devices are enumerated, which happens in parallel:
   * each boot gives them in another order, from another start, with gaps where a device came
   * and went during boot.
   */
  private assignAutoNames(): void {
    const auto = this.drivers.flatMap((d) => d.devices.filter((x) => x.spec.name === 'auto'));
    for (const device of this.ctx.boot.shuffle(auto)) {
      device.name = `\\Device\\${this.autoName.toString(16).padStart(8, '0')}`;
      this.autoName += 1 + (this.ctx.boot.chance(0.2) ? this.ctx.boot.int(1, 3) : 0);
    }
  }

  createDriverObject(driver: DriverModel): void {
    const ctx = this.ctx;
    const bodySize = sizeOf(ctx.layout, '_DRIVER_OBJECT') + sizeOf(ctx.layout, '_DRIVER_EXTENSION');
    const roll = ctx.boot.float();
    driver.object = ctx.objects.create({
      type: 'Driver',
      bodySize,
      name: driver.objectName,
      directory: ctx.directory(`\\${driver.directory}`),
      pool: ctx.nonPaged,
      permanent: true,
      creatorInfo: roll < 0.15,
      quotaInfo: roll > 0.9,
      extendedInfo: roll > 0.75 && roll <= 0.9,
    });
    driver.driverNameVa = ctx.objects.stringBuffer(ctx.names, 'IoDn', driver.driverName);
    driver.serviceKeyVa = ctx.objects.stringBuffer(ctx.names, 'IoSk', driver.serviceKey);
  }

  createDeviceObject(device: DeviceModel): void {
    const ctx = this.ctx;
    if (device.spec.name === 'auto')
      device.name ??= `\\Device\\${(this.autoName++).toString(16).padStart(8, '0')}`;
    else if (device.spec.name) device.name = device.spec.name;
    const path = device.name ? splitPath(device.name) : null;
    const bodySize = this.deviceBodySize(device);
    const roll = ctx.boot.float();
    device.object = ctx.objects.create({
      type: 'Device',
      bodySize,
      name: path?.leaf,
      directory: path ? ctx.directory(path.directory) : undefined,
      pool: ctx.nonPaged,
      big: bodySize + 0x100 > 0xf00,
      quotaInfo: roll > 0.85,
      creatorInfo: roll < 0.1,
    });
    if (device.name) device.flags |= DO_DEVICE_HAS_NAME;
  }

  private alignment(): number {
    return this.ptr === 8 ? 16 : 8;
  }

  private deviceBodySize(device: DeviceModel): number {
    const layout = this.ctx.layout;
    return (
      alignUp(sizeOf(layout, '_DEVICE_OBJECT') + device.extensionSize, this.alignment()) +
      sizeOf(layout, '_DEVOBJ_EXTENSION')
    );
  }

  /** IoAttachDeviceToDeviceStack: goes on top of the target's current stack. */
  attach(device: DeviceModel, target: DeviceModel): void {
    let top = target;
    for (let guard = 0; top.attachedDevice && guard < 64; guard++) top = top.attachedDevice;
    top.attachedDevice = device;
    device.attachedTo = top;
  }

  createLinks(): void {
    const ctx = this.ctx;
    const globalDir = ctx.directory('\\GLOBAL??');
    const add = (name: string, target: string) => {
      const bodySize = sizeOf(ctx.layout, '_OBJECT_SYMBOLIC_LINK');
      const object = ctx.objects.create({
        type: 'SymbolicLink',
        bodySize,
        name,
        directory: globalDir,
        pool: ctx.paged,
        permanent: true,
      });
      const w = new ByteWriter(bodySize, this.ptr);
      w.u64(
        field(ctx.layout, '_OBJECT_SYMBOLIC_LINK', 'CreationTime'),
        0x01d6a1c2e3f40000n + BigInt(ctx.boot.next()),
      );
      const buffer = target.length ? ctx.objects.stringBuffer(ctx.paged, 'SymT', target) : 0n;
      w.unicodeString(
        field(ctx.layout, '_OBJECT_SYMBOLIC_LINK', 'LinkTarget'),
        target.length * 2,
        target.length * 2,
        buffer,
      );
      ctx.vm.write(object.bodyVa, w.bytes);
      this.links.push({ name: `\\GLOBAL??\\${name}`, target, object });
    };
    add('Global', '\\GLOBAL??');
    add('GLOBALROOT', '');
    for (const driver of this.drivers) {
      for (const device of driver.devices) {
        for (const link of device.links) if (device.name) add(link, device.name);
        const guid = device.name ? this.volumeGuid(device.name) : null;
        if (guid) add(`Volume${guid}`, device.name!);
      }
    }
  }

  /**
   * The mount manager's Volume{GUID} name of a volume: kept in the registry for disks, so the
   * same on every boot; removable media without a unique id get a new one each time.
   */
  private volumeGuid(deviceName: string): string | null {
    const fixed = /^\\Device\\HarddiskVolume\d+$/i.test(deviceName);
    if (!fixed && !/^\\Device\\CdRom\d+$/i.test(deviceName)) return null;
    const bytes = fixed ? this.ctx.rng.fork(`volume/${deviceName}`).guid() : this.ctx.boot.guid();
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    return `{${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}}`;
  }

  /** Writes every DRIVER_OBJECT, DRIVER_EXTENSION, FastIo table, DEVICE_OBJECT and DEVOBJ_EXTENSION. */
  writeAll(hardwareDatabaseVa: bigint): void {
    for (const driver of this.drivers) {
      this.writeDriver(driver, hardwareDatabaseVa);
      this.writeFastIo(driver);
      // IoCreateDevice inserts at the head: the newest device is DriverObject->DeviceObject.
      for (const device of driver.devices) this.writeDevice(device);
    }
  }

  private writeDriver(driver: DriverModel, hardwareDatabaseVa: bigint): void {
    const { layout, vm } = this.ctx;
    const object = driver.object!;
    const size = sizeOf(layout, '_DRIVER_OBJECT');
    const extensionSize = sizeOf(layout, '_DRIVER_EXTENSION');
    const w = new ByteWriter(size + extensionSize, this.ptr);
    const f = (name: string) => field(layout, '_DRIVER_OBJECT', name);
    const e = (name: string) => size + field(layout, '_DRIVER_EXTENSION', name);
    const newest = driver.devices[driver.devices.length - 1];
    w.u16(f('Type'), IO_TYPE_DRIVER).u16(f('Size'), size);
    w.ptr(f('DeviceObject'), newest?.object?.bodyVa ?? 0n);
    w.u32(f('Flags'), driver.flags);
    if (driver.module && !driver.builtin) {
      w.ptr(f('DriverStart'), driver.module.base).u32(f('DriverSize'), driver.module.size);
      w.ptr(f('DriverSection'), driver.module.ldrVa);
    }
    w.ptr(f('DriverExtension'), object.bodyVa + BigInt(size));
    const nameBytes = driver.driverName.length * 2;
    w.unicodeString(f('DriverName'), nameBytes, nameBytes, driver.driverNameVa);
    w.ptr(f('HardwareDatabase'), hardwareDatabaseVa);
    w.ptr(f('FastIoDispatch'), driver.fastIoTableVa);
    w.ptr(f('DriverInit'), driver.init?.va ?? 0n);
    w.ptr(f('DriverStartIo'), driver.startIo?.va ?? 0n);
    w.ptr(f('DriverUnload'), driver.unload?.va ?? 0n);
    driver.majors.forEach((handler, index) => w.ptr(f('MajorFunction') + index * this.ptr, handler.va));
    w.ptr(e('DriverObject'), object.bodyVa).ptr(e('AddDevice'), driver.addDevice).u32(e('Count'), 1);
    const keyBytes = driver.serviceKey.length * 2;
    w.unicodeString(e('ServiceKeyName'), keyBytes, keyBytes, driver.serviceKeyVa);
    vm.write(object.bodyVa, w.bytes);
  }

  private writeFastIo(driver: DriverModel): void {
    if (!driver.fastIo || driver.fastIoTableVa === 0n) return;
    const size = sizeOf(this.ctx.layout, '_FAST_IO_DISPATCH');
    const w = new ByteWriter(size, this.ptr);
    w.u32(0, size);
    driver.fastIo.forEach((handler, i) => w.ptr((i + 1) * this.ptr, handler?.va ?? 0n));
    this.ctx.vm.write(driver.fastIoTableVa, w.bytes);
  }

  private writeDevice(device: DeviceModel): void {
    const { layout, vm, boot } = this.ctx;
    const object = device.object!;
    const f = (name: string) => field(layout, '_DEVICE_OBJECT', name);
    const deviceSize = sizeOf(layout, '_DEVICE_OBJECT');
    const extensionAt = alignUp(deviceSize + device.extensionSize, this.alignment());
    const w = new ByteWriter(this.deviceBodySize(device), this.ptr);
    const index = device.driver.devices.indexOf(device);
    const next = index > 0 ? device.driver.devices[index - 1]! : null;
    w.u16(f('Type'), IO_TYPE_DEVICE).u16(f('Size'), deviceSize + device.extensionSize);
    w.u32(f('ReferenceCount'), boot.int(0, 3));
    w.ptr(f('DriverObject'), device.driver.object!.bodyVa);
    w.ptr(f('NextDevice'), next?.object?.bodyVa ?? 0n);
    w.ptr(f('AttachedDevice'), device.attachedDevice?.object?.bodyVa ?? 0n);
    w.u32(f('Flags'), device.flags).u32(f('Characteristics'), device.characteristics);
    if (device.extensionSize > 0) {
      w.ptr(f('DeviceExtension'), object.bodyVa + BigInt(deviceSize));
      w.ptr(deviceSize, object.bodyVa); // drivers keep their DEVICE_OBJECT at the start of the extension
    }
    w.u32(f('DeviceType'), device.type);
    w.u8(f('StackSize'), stackSize(device));
    w.u32(f('AlignmentRequirement'), device.type === 0x07 ? 1 : 0);
    w.u16(f('SectorSize'), device.type === 0x07 || device.type === 0x08 ? 0x200 : 0);
    w.ptr(f('DeviceObjectExtension'), object.bodyVa + BigInt(extensionAt));
    const x = (name: string) => extensionAt + field(layout, '_DEVOBJ_EXTENSION', name);
    w.u16(x('Type'), IO_TYPE_DEVICE_OBJECT_EXTENSION);
    w.ptr(x('DeviceObject'), object.bodyVa);
    w.ptr(x('AttachedTo'), device.attachedTo?.object?.bodyVa ?? 0n);
    vm.write(object.bodyVa, w.bytes);
  }
}

export function stackSize(device: DeviceModel): number {
  let size = 1;
  for (let below = device.attachedTo, guard = 0; below && guard < 64; below = below.attachedTo, guard++)
    size++;
  return size;
}

export function splitPath(path: string): { directory: string; leaf: string } {
  const at = path.lastIndexOf('\\');
  return { directory: at <= 0 ? '\\' : path.slice(0, at), leaf: path.slice(at + 1) };
}
