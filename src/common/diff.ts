// Baseline comparison: what differs between a clean image and a suspect one. Objects are matched
// by stable identity, never by address (addresses change from boot to boot): a driver is its
// name, a device its name (or its driver and position among that driver's devices), a module its
// name, a handler "driver slot" with its value as module+offset, a link its name.

import type { DiffEntry, DiffResult } from './api';
import { severityRank, type Severity } from './findings';
import type { AnalysisResult, Device, Driver, Handler } from './model';

type Kind = DiffEntry['kind'];

interface Keyed {
  key: string;
  /** One line describing the object, compared to tell "changed" from equal. */
  text: string;
  /** Severity when this object appears in the primary image. */
  addedSeverity: Severity;
  changedSeverity: Severity;
}

const SUSPICIOUS_HANDLER: Readonly<Record<string, Severity>> = {
  'other-module': 'high',
  'no-module': 'critical',
  'inline-patched': 'critical',
};

export function driverKey(driver: Driver): string {
  return (
    driver.name ??
    (driver.objectName
      ? `(object) ${driver.objectName}`
      : `(unnamed driver of ${driver.module ?? 'no module'})`)
  );
}

export function deviceKey(device: Device, result: AnalysisResult): string {
  if (device.name) return device.name;
  const driver = result.drivers.find((d) => d.id === device.driver);
  const position = driver ? driver.devices.indexOf(device.id) : -1;
  return `${driver ? driverKey(driver) : (device.driverName ?? '(unknown driver)')} device #${position}`;
}

export function handlerText(handler: Handler): string {
  const where = handler.module
    ? `${handler.module}+${handler.offset ?? '?'}`
    : `no module (${handler.address})`;
  return `${where} [${handler.verdict}]`;
}

function drivers(result: AnalysisResult): Keyed[] {
  return result.drivers
    .filter((d) => d.state === 'live')
    .map((d) => ({
      key: driverKey(d),
      text: `module ${d.module ?? '-'}, size ${d.size.toString(16)}h, ${d.devices.length} devices, found by ${[...d.foundBy].sort().join('+')}`,
      addedSeverity: d.foundBy.length === 1 && d.foundBy[0] === 'pool-scan' ? 'critical' : 'medium',
      changedSeverity: 'low',
    }));
}

function devices(result: AnalysisResult): Keyed[] {
  const names = new Map(result.devices.map((d) => [d.id, deviceKey(d, result)]));
  return result.devices.map((d) => ({
    key: deviceKey(d, result),
    text: `${d.driverName ?? '?'} · FILE_DEVICE_${d.typeName} · stack ${[...d.stack]
      .reverse()
      .map((id) => names.get(id) ?? '?')
      .join(' > ')}`,
    addedSeverity: 'medium',
    changedSeverity: d.stack.length > 1 ? 'medium' : 'low',
  }));
}

function modules(result: AnalysisResult): Keyed[] {
  return result.modules.map((m) => ({
    key: m.name.toLowerCase(),
    text: `${m.path ?? m.name}, size ${m.size.toString(16)}h${m.unlinked ? ', unlinked' : ''}`,
    addedSeverity: m.unlinked ? 'high' : 'medium',
    changedSeverity: m.unlinked ? 'high' : 'low',
  }));
}

function handlers(result: AnalysisResult): Keyed[] {
  return result.drivers
    .filter((d) => d.state === 'live')
    .flatMap((d) =>
      [...d.irp, ...d.fastIo, ...d.callbacks].map((h) => ({
        key: `${driverKey(d)} ${h.name}`,
        text: handlerText(h),
        addedSeverity: SUSPICIOUS_HANDLER[h.verdict] ?? 'info',
        changedSeverity: SUSPICIOUS_HANDLER[h.verdict] ?? 'low',
      })),
    );
}

function links(result: AnalysisResult): Keyed[] {
  return result.links.map((l) => ({
    key: l.name,
    text: `→ ${l.target}`,
    addedSeverity: 'low',
    changedSeverity: 'medium',
  }));
}

function findings(result: AnalysisResult): Keyed[] {
  return result.findings.map((f) => ({
    key: `${f.kind} ${f.subject}`,
    text: `${f.severity}: ${f.explanation}`,
    addedSeverity: f.severity,
    changedSeverity: f.severity,
  }));
}

function compare(kind: Kind, baseline: Keyed[], primary: Keyed[]): DiffEntry[] {
  const before = groupByKey(baseline);
  const after = groupByKey(primary);
  const entries: DiffEntry[] = [];
  for (const [key, item] of after) {
    const old = before.get(key);
    if (!old) {
      entries.push({
        kind,
        change: 'added',
        key,
        baseline: null,
        primary: item.text,
        severity: item.addedSeverity,
      });
    } else if (old.text !== item.text) {
      entries.push({
        kind,
        change: 'changed',
        key,
        baseline: old.text,
        primary: item.text,
        severity: item.changedSeverity,
      });
    }
  }
  for (const [key, item] of before) {
    if (!after.has(key))
      entries.push({ kind, change: 'removed', key, baseline: item.text, primary: null, severity: 'low' });
  }
  return entries;
}

/** Same-keyed objects (two unnamed devices of one driver...) are told apart by their order. */
function groupByKey(items: Keyed[]): Map<string, Keyed> {
  const map = new Map<string, Keyed>();
  for (const item of items) {
    let key = item.key;
    for (let n = 2; map.has(key); n++) key = `${item.key} (${n})`;
    map.set(key, { ...item, key });
  }
  return map;
}

const KIND_ORDER: readonly Kind[] = ['finding', 'handler', 'driver', 'device', 'module', 'link'];

export function diffResults(
  baseline: AnalysisResult,
  primary: AnalysisResult,
  labels: { baseline: string; primary: string } = {
    baseline: baseline.image.path,
    primary: primary.image.path,
  },
): DiffResult {
  const driverChanges = compare('driver', drivers(baseline), drivers(primary));
  const newDrivers = driverChanges.filter((e) => e.change !== 'changed').map((e) => `${e.key} `);
  // A driver that appears or disappears is one entry; its ordinary handlers would only repeat it.
  const handlerChanges = compare('handler', handlers(baseline), handlers(primary)).filter(
    (e) =>
      e.change === 'changed' ||
      e.severity !== 'info' ||
      !newDrivers.some((prefix) => e.key.startsWith(prefix)),
  );
  const entries = [
    ...compare('finding', findings(baseline), findings(primary)),
    ...handlerChanges,
    ...driverChanges,
    ...compare('device', devices(baseline), devices(primary)),
    ...compare('module', modules(baseline), modules(primary)),
    ...compare('link', links(baseline), links(primary)),
  ];
  entries.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return { baseline: labels.baseline, primary: labels.primary, entries };
}
