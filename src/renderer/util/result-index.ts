// Lookups over one analysis result that every view needs: objects by id and name, the module
// an address falls in, hooked entries per driver, findings per subject.

import { FindingIndex } from '../../common/flow';
import { isSuspiciousVerdict } from '../../common/findings';
import type { AnalysisResult, Device, Driver, Finding, Handler, Module } from '../../common/model';

export interface ResultIndex {
  result: AnalysisResult;
  wide: boolean;
  drivers: Map<string, Driver>;
  driverByName: Map<string, Driver>;
  devices: Map<string, Device>;
  deviceByName: Map<string, Device>;
  modules: Map<string, Module>;
  findings: Map<string, Finding>;
  findingIndex: FindingIndex;
  /** Suspicious handlers (IRP, FastIo, callbacks) per driver id. */
  hooked: Map<string, Handler[]>;
  /** Findings that name a driver, device or module (by name). */
  findingsAbout(subject: string | null | undefined): Finding[];
  moduleAt(address: bigint): Module | null;
  /** "module+0x1a0" for an address, or null outside every module. */
  symbolize(address: string | bigint): string | null;
}

export function indexResult(result: AnalysisResult): ResultIndex {
  const drivers = new Map(result.drivers.map((d) => [d.id, d]));
  const driverByName = new Map<string, Driver>();
  for (const d of result.drivers) {
    if (d.name && !driverByName.has(d.name)) driverByName.set(d.name, d);
  }
  const devices = new Map(result.devices.map((d) => [d.id, d]));
  const deviceByName = new Map<string, Device>();
  for (const d of result.devices) if (d.name && !deviceByName.has(d.name)) deviceByName.set(d.name, d);
  const modules = new Map(result.modules.map((m) => [m.name.toLowerCase(), m]));
  const sorted = [...result.modules]
    .map((m) => ({ m, start: BigInt(m.base), end: BigInt(m.base) + BigInt(m.size) }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const hooked = new Map<string, Handler[]>();
  for (const d of result.drivers) {
    const bad = [...d.irp, ...d.fastIo, ...d.callbacks].filter((h) => isSuspiciousVerdict(h.verdict));
    if (bad.length > 0) hooked.set(d.id, bad);
  }
  const findingIndex = new FindingIndex(result.findings);
  const moduleAt = (address: bigint): Module | null => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const entry = sorted[mid]!;
      if (address < entry.start) hi = mid - 1;
      else if (address >= entry.end) lo = mid + 1;
      else return entry.m;
    }
    return null;
  };
  return {
    result,
    wide: result.image.arch === 'x64',
    drivers,
    driverByName,
    devices,
    deviceByName,
    modules,
    findings: new Map(result.findings.map((f) => [f.id, f])),
    findingIndex,
    hooked,
    findingsAbout: (subject) => findingIndex.about(subject),
    moduleAt,
    symbolize(address) {
      let value: bigint;
      try {
        value = typeof address === 'bigint' ? address : BigInt(address);
      } catch {
        return null;
      }
      const module = moduleAt(value);
      return module ? `${module.name}+0x${(value - BigInt(module.base)).toString(16)}` : null;
    },
  };
}

/** A driver's name, else what identifies it when the name is not in the image. */
export function driverLabel(driver: Driver): string {
  if (driver.name) return driver.name;
  if (driver.objectName) return driver.objectName;
  if (driver.serviceKey) return `(driver of service ${driver.serviceKey})`;
  if (driver.module) return `(unnamed driver of ${driver.module})`;
  return `(unnamed driver ${driver.objectVa})`;
}

export function deviceLabel(device: Device): string {
  return device.name ?? `(unnamed ${device.typeName.toLowerCase()} device)`;
}

/** The label of the device with id `id`, or the id when the result has no such device. */
export function deviceLabelOf(index: ResultIndex, id: string): string {
  const device = index.devices.get(id);
  return device ? deviceLabel(device) : id;
}
