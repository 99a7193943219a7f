// The baseline comparison: a clean image of a system against a suspect one, usually another boot
// of it weeks later. Objects are paired by what they are (identity.ts), never by address; every
// difference is one object (a driver with its handlers and devices, a device stack, a module, a
// link) and carries the findings it explains, why it matters and the facts that paired it. What
// differs between any two boots (PnP hardware, unloaded drivers) is kept apart as variation.

import type { PairingFact, UnknownFact } from '../../common/pairing';
import { DIFF_SCHEMA, type DiffEntry, type DiffResult, type DiffSide } from '../../common/api';
import { SEVERITIES, severityRank, type Severity } from '../../common/findings';
import type { AnalysisResult, Device, Driver, SymbolicLink } from '../../common/model';
import { alignDevices, alignDrivers, alignModules } from './align';
import { compatibilityOf } from './compatibility';
import { compareDevices, DriverTokens, type StackDifference } from './devices';
import { describeChanges, Entries, finish, maxSeverity, type Draft } from './entries';
import { attachFindings } from './findings';
import { compareDriver, driverContents, driverEvidence, pairDrivers } from './drivers';
import { driverDisplay, isEnumeratedName, Side } from './identity';
import { compareLinks, linkText } from './links';
import { compareModule, moduleEvidence, pairModules } from './modules';
import { compareServices } from './services';
import { compareCallbacks } from './callbacks';

const KIND_ORDER: ReadonlyArray<DiffEntry['kind']> = [
  'driver',
  'service',
  'callback',
  'process',
  'stack',
  'device',
  'module',
  'link',
];

const STALE_VARIATION =
  'a driver that was loaded and unloaded, its object left in freed pool: which tools load a driver differs from boot to boot';

function driverSide(driver: Driver, text: string): DiffSide {
  return { text, driver: driver.id, ...(driver.module ? { module: driver.module } : {}) };
}

export function diffResults(
  baselineResult: AnalysisResult,
  primaryResult: AnalysisResult,
  labels: { baseline: string; primary: string } = {
    baseline: baselineResult.image.path,
    primary: primaryResult.image.path,
  },
): DiffResult {
  const baseline = new Side('baseline', baselineResult);
  const image = new Side('image', primaryResult);
  const entries = new Entries();

  // In this order: a later object that belongs to an earlier one's entry (a driver's devices,
  // image and links) joins that entry instead of making its own.
  const driverPairing = pairDrivers(baseline, image);
  const tokens = new DriverTokens(driverPairing.pairs);
  const driverEvidenceOf = pairedDriverEntries(entries, driverPairing.pairs, baseline, image);
  loneDriverEntries(entries, driverPairing, baseline, image);
  unloadedDriverEntries(entries, baseline, image);
  const devices = deviceEntries(entries, baseline, image, tokens);
  linkEntries(entries, baseline, image, devices.counterpartOfA);
  const modulePairing = moduleEntries(entries, baseline, image);
  compareServices(entries, baseline, image);
  compareCallbacks(entries, baseline, image);

  attachFindings(
    entries,
    baseline,
    image,
    tokens,
    devices.counterpartOfA,
    modulePairing.pairs,
    devices.evidence,
  );

  const compatibility = compatibilityOf(baseline, image, driverPairing.pairs.length);
  const final = compatibility.unrelated ? [] : entries.list.map(finish);
  final.sort(
    (x, y) =>
      Number(x.variation !== null) - Number(y.variation !== null) ||
      severityRank(y.severity) - severityRank(x.severity) ||
      KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind) ||
      (x.key < y.key ? -1 : x.key > y.key ? 1 : 0),
  );
  const differences = final.filter((e) => e.variation === null);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const entry of differences) bySeverity[entry.severity]++;

  return {
    schema: DIFF_SCHEMA,
    baseline: labels.baseline,
    primary: labels.primary,
    compatibility,
    entries: final,
    pairs: {
      drivers: alignDrivers(driverPairing, entries, driverEvidenceOf),
      devices: alignDevices(devices.pairing, entries, baseline, image, devices.evidence),
      modules: alignModules(modulePairing, entries),
    },
    counts: {
      differences: differences.length,
      variations: final.length - differences.length,
      bySeverity,
      drivers: {
        baseline: baseline.drivers.length,
        primary: image.drivers.length,
        matched: driverPairing.pairs.length,
      },
    },
  };
}

type DriverPairing = ReturnType<typeof pairDrivers>;

/** A driver both images have, changed: one entry; returns the facts that paired each. */
function pairedDriverEntries(
  entries: Entries,
  pairs: DriverPairing['pairs'],
  baseline: Side,
  image: Side,
): Map<Driver, PairingFact[]> {
  const driverEvidenceOf = new Map<Driver, PairingFact[]>();
  for (const { a, b } of pairs) {
    const evidence = driverEvidence(a, b, baseline, image);
    driverEvidenceOf.set(b, evidence.matchedBy);
    const { changes, unknown } = compareDriver(a, b, baseline, image);
    if (changes.length === 0) continue;
    const entry = entries.add({
      kind: 'driver',
      change: 'changed',
      key: driverDisplay(b),
      severity: maxSeverity(changes.map((c) => c.severity)),
      summary: describeChanges(changes),
      matchedBy: evidence.matchedBy,
      unknown: [...evidence.unknown, ...unknown],
      changes,
      baseline: driverSide(a, driverDisplay(a)),
      primary: driverSide(b, driverDisplay(b)),
      variation: null,
    });
    entries.driverA.set(a.id, entry);
    entries.driverB.set(b.id, entry);
  }
  return driverEvidenceOf;
}

/** A driver only one image has: one entry holding its devices and its image. */
function loneDriverEntries(
  entries: Entries,
  driverPairing: DriverPairing,
  baseline: Side,
  image: Side,
): void {
  for (const [drivers, side, change] of [
    [driverPairing.onlyB, image, 'added'],
    [driverPairing.onlyA, baseline, 'removed'],
  ] as const) {
    for (const driver of drivers) {
      const hidden = !driver.foundBy.includes('directory') && !driver.foundBy.includes('module-list');
      const changes = driverContents(driver, side);
      const module = side.moduleOf(driver);
      const entry = entries.add({
        kind: 'driver',
        change,
        key: driverDisplay(driver),
        severity: change === 'removed' ? 'medium' : hidden ? 'critical' : 'medium',
        summary: `${driverDisplay(driver)} is only ${side.where}: ${changes[0]!.baseline ?? changes[0]!.primary}; ${driver.devices.length} device${driver.devices.length === 1 ? '' : 's'}; found by ${driver.foundBy.join(', ')}`,
        matchedBy: [],
        unknown: [],
        changes,
        baseline: change === 'removed' ? driverSide(driver, driverDisplay(driver)) : null,
        primary: change === 'added' ? driverSide(driver, driverDisplay(driver)) : null,
        variation: null,
      });
      const byDriver = change === 'added' ? entries.driverB : entries.driverA;
      const byDevice = change === 'added' ? entries.deviceB : entries.deviceA;
      const byModule = change === 'added' ? entries.moduleB : entries.moduleA;
      byDriver.set(driver.id, entry);
      for (const device of driver.devices) byDevice.set(device, entry);
      if (module) byModule.set(module.name.toLowerCase(), entry);
    }
  }
}

/** Unloaded drivers: which differ is a fact of each boot, not of the system. */
function unloadedDriverEntries(entries: Entries, baseline: Side, image: Side): void {
  const staleNames = (side: Side) =>
    new Map(side.freedDrivers.map((d) => [driverDisplay(d).toLowerCase(), d]));
  const staleA = staleNames(baseline);
  const staleB = staleNames(image);
  for (const [names, others, side, change] of [
    [staleB, staleA, image, 'added'],
    [staleA, staleB, baseline, 'removed'],
  ] as const) {
    for (const [name, driver] of names) {
      if (others.has(name)) continue;
      const entry = entries.add({
        kind: 'driver',
        change,
        key: driverDisplay(driver),
        severity: 'info',
        summary: `an unloaded driver's object (${driverDisplay(driver)}) is only ${side.where}`,
        matchedBy: [],
        unknown: [],
        changes: [],
        baseline: change === 'removed' ? driverSide(driver, 'freed driver object') : null,
        primary: change === 'added' ? driverSide(driver, 'freed driver object') : null,
        variation: STALE_VARIATION,
      });
      (change === 'added' ? entries.driverB : entries.driverA).set(driver.id, entry);
    }
  }
}

/** Devices that changed, and device stacks that differ. */
function deviceEntries(entries: Entries, baseline: Side, image: Side, tokens: DriverTokens) {
  const devices = compareDevices(baseline, image, tokens);
  for (const { a, b, changes } of devices.changed) {
    const entry = entries.add({
      kind: 'device',
      change: 'changed',
      key: image.deviceDisplay(b),
      severity: maxSeverity(changes.map((c) => c.severity)),
      summary: describeChanges(changes),
      matchedBy: devices.evidence.get(b)?.matchedBy ?? [],
      unknown: devices.evidence.get(b)?.unknown ?? [],
      changes,
      baseline: { text: baseline.deviceDisplay(a), device: a.id },
      primary: { text: image.deviceDisplay(b), device: b.id },
      variation: null,
    });
    entries.deviceA.set(a.id, entry);
    entries.deviceB.set(b.id, entry);
  }
  for (const stack of devices.stacks) {
    if (stack.ofNewDrivers) continue; // inside the entry of the driver only one image has
    const entry = entries.add(stackEntry(stack, baseline, image, devices.evidence));
    const newMembers = (ids: string[], counterpart: Map<string, string>) =>
      stack.change === 'changed' ? ids.filter((id) => !counterpart.has(id)) : ids;
    for (const id of newMembers(stack.baseline, devices.counterpartOfA)) entries.deviceA.set(id, entry);
    for (const id of newMembers(stack.primary, devices.counterpartOfB)) entries.deviceB.set(id, entry);
  }

  return devices;
}

/** Symbolic links only one image has (inside their device's entry when it has one), or retargeted. */
function linkEntries(
  entries: Entries,
  baseline: Side,
  image: Side,
  counterpartOfA: Map<string, string>,
): void {
  const links = compareLinks(baseline, image, counterpartOfA);
  for (const [list, side, change] of [
    [links.pairing.onlyB, image, 'added'],
    [links.pairing.onlyA, baseline, 'removed'],
  ] as const) {
    const byDevice = change === 'added' ? entries.deviceB : entries.deviceA;
    for (const link of list) {
      const owner = link.device ? byDevice.get(link.device) : ownerOfUnidentifiedTarget(link, side, byDevice);
      const ref: DiffSide = {
        text: linkText(link),
        ...(link.name ? { link: link.name } : {}),
        ...(link.device ? { device: link.device } : {}),
      };
      if (owner && owner.change !== 'changed') {
        owner.changes.push({
          what: link.device ? 'symbolic link' : 'symbolic link (its device unreadable here; by elimination)',
          baseline: change === 'removed' ? ref.text : null,
          primary: change === 'added' ? ref.text : null,
          severity: 'info',
        });
        continue;
      }
      entries.add({
        kind: 'link',
        change,
        key: link.name ?? ref.text,
        severity: 'low',
        summary: `${ref.text} is only ${side.where}`,
        matchedBy: [],
        unknown: links.unknownOf.get(link) ?? [],
        changes: [],
        baseline: change === 'removed' ? ref : null,
        primary: change === 'added' ? ref : null,
        variation: null,
      });
    }
  }
  for (const { a, b } of links.changed) {
    const key = b.name ?? a.name ?? linkText(b);
    entries.add({
      kind: 'link',
      change: 'changed',
      key,
      severity: 'medium',
      summary: `${key} now names ${b.target ?? '?'} (was ${a.target ?? '?'})`,
      matchedBy: [{ fact: 'name', name: key }],
      unknown: links.unknownOf.get(b) ?? [],
      changes: [{ what: 'target', baseline: a.target, primary: b.target, severity: 'medium' }],
      baseline: {
        text: linkText(a),
        ...(a.name ? { link: a.name } : {}),
        ...(a.device ? { device: a.device } : {}),
      },
      primary: {
        text: linkText(b),
        ...(b.name ? { link: b.name } : {}),
        ...(b.device ? { device: b.device } : {}),
      },
      variation: null,
    });
  }
}

/** Modules (the images of drivers that came, went or changed are inside those drivers' entries). */
function moduleEntries(entries: Entries, baseline: Side, image: Side) {
  const modulePairing = pairModules(baseline, image);
  for (const { a, b } of modulePairing.pairs) {
    const driverEntry = [...entries.driverB.values()].find(
      (e) => e.change === 'changed' && e.primary?.module?.toLowerCase() === b.name.toLowerCase(),
    );
    const { changes, unknown } = compareModule(a, b, baseline, image);
    if (changes.length === 0) continue;
    // A driver's image that changed is said by that driver's entry.
    const covered =
      driverEntry?.changes.some((d) => d.what.startsWith('image')) &&
      changes.every((c) => c.what === 'image file' || c.what === 'path');
    if (driverEntry && covered) {
      entries.moduleA.set(a.name.toLowerCase(), driverEntry);
      entries.moduleB.set(b.name.toLowerCase(), driverEntry);
      continue;
    }
    const entry = entries.add({
      kind: 'module',
      change: 'changed',
      key: b.name,
      severity: maxSeverity(changes.map((c) => c.severity)),
      summary: describeChanges(changes),
      matchedBy: moduleEvidence(a, b),
      unknown,
      changes,
      baseline: { text: a.path ?? a.name, module: a.name },
      primary: { text: b.path ?? b.name, module: b.name },
      variation: null,
    });
    entries.moduleA.set(a.name.toLowerCase(), entry);
    entries.moduleB.set(b.name.toLowerCase(), entry);
  }
  for (const [list, side, change] of [
    [modulePairing.onlyB, image, 'added'],
    [modulePairing.onlyA, baseline, 'removed'],
  ] as const) {
    const byModule = change === 'added' ? entries.moduleB : entries.moduleA;
    for (const module of list) {
      if (byModule.has(module.name.toLowerCase())) continue; // an added or removed driver's image
      const entry = entries.add({
        kind: 'module',
        change,
        key: module.name,
        severity: change === 'added' ? (module.unlinked ? 'high' : 'medium') : 'low',
        summary: `${module.name}${module.path ? ` (${module.path})` : ''} is loaded only ${side.where}${module.unlinked ? ', unlinked from PsLoadedModuleList' : ''}`,
        matchedBy: [],
        unknown: [],
        changes: [],
        baseline: change === 'removed' ? { text: module.path ?? module.name, module: module.name } : null,
        primary: change === 'added' ? { text: module.path ?? module.name, module: module.name } : null,
        variation: null,
      });
      byModule.set(module.name.toLowerCase(), entry);
    }
  }

  return modulePairing;
}

const FILE_AUTOGENERATED_DEVICE_NAME = 0x80;

/**
 * A link to an auto-numbered device whose name this image cannot read, and that the other image
 * does not have: the devices it can name are the auto-named ones whose names are unreadable. If
 * some of those came or went with a stack only this image has, the link came or went with it
 * (device interface links do: \GLOBAL??\USBSTOR#Disk&…#{guid} names the stick's PDO). The
 * enumerator at the start of an interface link's name picks among several.
 */
function ownerOfUnidentifiedTarget(
  link: SymbolicLink,
  side: Side,
  byDevice: Map<string, Draft>,
): Draft | undefined {
  if (link.target === null || !isEnumeratedName(link.target)) return undefined;
  const varying = side.result.devices.filter((d) => {
    const owner = byDevice.get(d.id);
    return (
      d.name === null &&
      d.nameStatus !== null &&
      (d.characteristics & FILE_AUTOGENERATED_DEVICE_NAME) !== 0 &&
      owner !== undefined &&
      owner.change !== 'changed'
    );
  });
  const enumerator = link.name ? /^\\GLOBAL\?\?\\([^#\\]+)#/i.exec(link.name)?.[1]?.toLowerCase() : undefined;
  const byEnumerator = varying.find((d) => {
    const driver = side.driverById.get(d.driver);
    return enumerator !== undefined && driver?.serviceKey?.toLowerCase() === enumerator;
  });
  const device = byEnumerator ?? varying[0];
  return device ? byDevice.get(device.id) : undefined;
}

function stackEntry(
  stack: StackDifference,
  baseline: Side,
  image: Side,
  evidence: Map<Device, { matchedBy: PairingFact[]; unknown: UnknownFact[] }>,
): Omit<DiffEntry, 'id' | 'findings' | 'why' | 'summary'> & { summary: string } {
  const anchorB = stack.anchorB;
  const anchorA = stack.anchorA;
  const side = (ids: string[], anchor: Device | null, text: string | null): DiffSide | null =>
    ids.length ? { text: text ?? '', device: anchor?.id ?? ids[ids.length - 1]! } : null;
  return {
    kind: 'stack',
    change: stack.change,
    key: stack.key,
    severity: maxSeverity(stack.changes.map((c) => c.severity)),
    summary: stack.summary,
    matchedBy: anchorB ? (evidence.get(anchorB)?.matchedBy ?? []) : [],
    unknown: anchorB ? (evidence.get(anchorB)?.unknown ?? []) : [],
    changes: stack.changes,
    baseline: side(stack.baseline, anchorA, stack.text.baseline),
    primary: side(stack.primary, anchorB, stack.text.primary),
    variation: stack.variation,
  };
}
