// What a host's comparison found, as evidence other hosts can share: built only from facts that
// are the same on every boot of every machine the same tampering reached — an added driver's image
// file (size, PE timestamp, checksum; not its name, which a dropper may vary), a hooked entry's
// target as module+offset (not its address), a patched service's name and where it now goes.

import type { DiffEntry, DiffResult } from '../common/api';
import { hex } from '../common/hex';
import { isSuspiciousVerdict } from '../common/findings';
import type { AnalysisResult, Driver, Handler, Module } from '../common/model';
import type { Evidence } from './types';

function moduleNamed(result: AnalysisResult, name: string | null, near?: string): Module | null {
  if (!name) return null;
  const candidates = result.modules.filter((m) => m.name.toLowerCase() === name.toLowerCase());
  if (near !== undefined && candidates.length > 1) {
    const at = BigInt(near);
    const containing = candidates.find((m) => at >= BigInt(m.base) && at < BigInt(m.base) + BigInt(m.size));
    if (containing) return containing;
  }
  return candidates[0] ?? null;
}

/** Where a suspicious handler sends the call, as module+offset ("no module" for pool code). */
export function handlerTarget(handler: Handler, result: AnalysisResult): string {
  if (handler.verdict === 'inline-patched' && handler.target) {
    const module = moduleNamed(result, handler.target.module, handler.target.address);
    if (!module) return 'no module';
    return `${module.name}+${hex(Number(BigInt(handler.target.address) - BigInt(module.base)))}`;
  }
  if (!handler.module || handler.offset === null) return 'no module';
  return `${handler.module}+${handler.offset}`;
}

function addedDriver(entry: DiffEntry, result: AnalysisResult): Evidence | null {
  const driver = result.drivers.find((d) => d.id === entry.primary?.driver);
  if (!driver) return null;
  const module = moduleNamed(result, driver.module, driver.start);
  if (module && module.timeDateStamp !== null && module.checksum !== null)
    return {
      kind: 'added-driver',
      key: `added-driver|${module.size}|${module.timeDateStamp}|${module.checksum}`,
      label: `added driver ${module.name} (${hex(module.size)} bytes, timestamp ${hex(module.timeDateStamp)}, checksum ${hex(module.checksum)})`,
      severity: entry.severity,
    };
  // Without the PE header's facts the file is not identified: the name has to join them.
  const name = module?.name ?? driver.name ?? entry.key;
  const size = module?.size ?? driver.size;
  return {
    kind: 'added-driver',
    key: `added-driver|${size}|?|?|${name.toLowerCase()}`,
    label: `added driver ${name} (${hex(size)} bytes, PE timestamp and checksum unknown)`,
    severity: entry.severity,
  };
}

function handlersOf(driver: Driver): Handler[] {
  return [...driver.irp, ...driver.fastIo, ...driver.callbacks];
}

function hookedEntries(entry: DiffEntry, result: AnalysisResult): Evidence[] {
  const driver = result.drivers.find((d) => d.id === entry.primary?.driver);
  if (!driver) return [];
  const byName = new Map(handlersOf(driver).map((h) => [h.name, h]));
  const found: Evidence[] = [];
  for (const change of entry.changes) {
    const handler = byName.get(change.what);
    if (!handler || !isSuspiciousVerdict(handler.verdict)) continue;
    const target = handlerTarget(handler, result);
    found.push({
      kind: 'hooked-entry',
      key: `hooked-entry|${entry.key.toLowerCase()}|${handler.name}|${target.toLowerCase()}`,
      label: `${entry.key} ${handler.name} → ${target}`,
      severity: change.severity,
    });
  }
  return found;
}

function patchedService(entry: DiffEntry, result: AnalysisResult): Evidence | null {
  const service = result.serviceTable?.entries.find((h) => h.name === entry.key);
  if (!service || !isSuspiciousVerdict(service.verdict)) return null;
  const target = handlerTarget(service, result);
  return {
    kind: 'patched-service',
    key: `patched-service|${service.name}|${target.toLowerCase()}`,
    label: `service ${service.name} → ${target}`,
    severity: entry.severity,
  };
}

function other(entry: DiffEntry): Evidence {
  return {
    kind: 'other',
    key: `other|${entry.kind}|${entry.change}|${entry.key.toLowerCase()}`,
    label: `${entry.kind} ${entry.change}: ${entry.key}`,
    severity: entry.severity,
  };
}

function evidenceOf(entry: DiffEntry, result: AnalysisResult): Evidence[] {
  if (entry.kind === 'driver' && entry.change === 'added')
    return [addedDriver(entry, result) ?? other(entry)];
  if (entry.kind === 'driver' && entry.change === 'changed') {
    const hooks = hookedEntries(entry, result);
    return hooks.length > 0 ? hooks : [other(entry)];
  }
  if (entry.kind === 'service') return [patchedService(entry, result) ?? other(entry)];
  return [other(entry)];
}

/** The evidence of every difference (not the variations between boots), each key once, sorted. */
export function comparisonEvidence(diff: DiffResult, image: AnalysisResult): Evidence[] {
  const byKey = new Map<string, Evidence>();
  for (const entry of diff.entries)
    if (entry.variation === null)
      for (const evidence of evidenceOf(entry, image))
        if (!byKey.has(evidence.key)) byKey.set(evidence.key, evidence);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
