// The baseline comparison: a clean image of a system against a suspect one, usually another boot
// of it weeks later. Objects are paired by what they are (identity.ts), never by address; every
// difference is one object (a driver with its handlers and devices, a device stack, a module, a
// link) and carries the findings it explains, why it matters and the facts that paired it. What
// differs between any two boots (PnP hardware, unloaded drivers) is kept apart as variation.

import {
  DIFF_SCHEMA,
  type DiffChange,
  type DiffEntry,
  type DiffPair,
  type DiffResult,
  type DiffSide,
  type PairStatus,
} from '../../common/api';
import { SEVERITIES, severityRank, type FindingKind, type Severity } from '../../common/findings';
import type { AnalysisResult, Device, Driver, Finding, Module, SymbolicLink } from '../../common/model';
import { compareDevices, DriverTokens, type StackDifference } from './devices';
import { compareDriver, driverContents, driverEvidence, pairDrivers } from './drivers';
import { driverDisplay, isEnumeratedName, Side } from './identity';
import { compareLinks, linkText } from './links';
import { compareModule, moduleEvidence, pairModules } from './modules';

const KIND_ORDER: ReadonlyArray<DiffEntry['kind']> = ['driver', 'stack', 'device', 'module', 'link'];

const DRIVER_FINDINGS = new Set<FindingKind>([
  'irp-hook',
  'irp-no-module',
  'inline-hook',
  'fastio-hook',
  'hidden-driver',
  'orphan-driver',
  'suspicious-name',
]);

const STALE_VARIATION =
  'a driver that was loaded and unloaded, its object left in freed pool: which tools load a driver differs from boot to boot';

const WHY: Record<string, string> = {
  'driver added':
    'A driver the clean system did not have: check where its image came from and what its handlers do.',
  'driver removed':
    'A driver of the clean system is gone: unloaded, or stopped (security products are what rootkits stop).',
  'driver changed': 'The code that handles requests to this driver is not the code the clean system ran.',
  'stack changed':
    'Every request to a device passes through the devices stacked on it first: a new member sees (and can change) all of them.',
  'stack added': 'Devices the clean system did not have, of drivers it did have.',
  'stack removed': 'Devices of the clean system that are gone.',
  'device changed': "The device is no longer the clean system's device.",
  'module added': 'Code loaded into the kernel that the clean system did not have.',
  'module removed': 'Kernel code the clean system had is no longer loaded.',
  'module changed': 'The module in memory is not the same file as on the clean system (updated or replaced).',
  'link added': 'A new name user mode can open; check the device it leads to.',
  'link removed': 'A name user mode could open on the clean system is gone.',
  'link changed': 'User mode opening this name now reaches another device.',
};

interface Draft extends DiffEntry {
  findingSeverity: Severity | null;
}

class Entries {
  readonly list: Draft[] = [];
  private readonly ids = new Set<string>();
  readonly driverA = new Map<string, Draft>();
  readonly driverB = new Map<string, Draft>();
  readonly deviceA = new Map<string, Draft>();
  readonly deviceB = new Map<string, Draft>();
  readonly moduleA = new Map<string, Draft>();
  readonly moduleB = new Map<string, Draft>();

  add(entry: Omit<DiffEntry, 'id' | 'findings' | 'why' | 'summary'> & { summary?: string }): Draft {
    let id = `${entry.kind}:${entry.key}`;
    for (let n = 2; this.ids.has(id); n++) id = `${entry.kind}:${entry.key} (${n})`;
    this.ids.add(id);
    const draft: Draft = {
      ...entry,
      id,
      summary: entry.summary ?? '',
      why: '',
      findings: { added: [], removed: [] },
      findingSeverity: null,
    };
    this.list.push(draft);
    return draft;
  }
}

function maxSeverity(severities: Severity[], floor: Severity = 'info'): Severity {
  return severities.reduce((a, b) => (severityRank(b) > severityRank(a) ? b : a), floor);
}

function driverSide(driver: Driver, text: string): DiffSide {
  return { text, driver: driver.id, ...(driver.module ? { module: driver.module } : {}) };
}

function describeChanges(changes: DiffChange[]): string {
  const shown = changes.slice(0, 3).map((c) => `${c.what}: ${c.baseline ?? '—'} → ${c.primary ?? '—'}`);
  return shown.join('; ') + (changes.length > 3 ? `; and ${changes.length - 3} more` : '');
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

  // Drivers.
  const driverPairing = pairDrivers(baseline, image);
  const tokens = new DriverTokens(driverPairing.pairs);
  const driverEvidenceOf = new Map<Driver, string[]>();
  for (const { a, b } of driverPairing.pairs) {
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
  // Unloaded drivers: which differ is a fact of each boot, not of the system.
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

  // Devices and stacks.
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

  // Symbolic links.
  const links = compareLinks(baseline, image, devices.counterpartOfA);
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
      matchedBy: [`name ${key}`],
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

  // Modules (the images of drivers that came, went or changed are inside those drivers' entries).
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

  attachFindings(entries, baseline, image, tokens, devices.counterpartOfA, modulePairing.pairs);

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
  evidence: Map<Device, { matchedBy: string[]; unknown: string[] }>,
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

/** Which object a finding is about, in tokens both images share where the object is paired. */
function findingIdentity(
  finding: Finding,
  s: 'a' | 'b',
  tokens: DriverTokens,
  deviceToken: (s: 'a' | 'b', id: string) => string,
  moduleToken: (s: 'a' | 'b', name: string) => string,
): string {
  const { evidence } = finding;
  if (finding.kind === 'foreign-filter' && evidence.device)
    return `${finding.kind}|${deviceToken(s, evidence.device)}`;
  if (finding.kind === 'unlinked-module') return `${finding.kind}|${moduleToken(s, finding.subject)}`;
  if (DRIVER_FINDINGS.has(finding.kind) && evidence.driver)
    return `${finding.kind}|${tokens.of(s, evidence.driver)}`;
  return `${finding.kind}|${s}|${finding.subject}`;
}

function attachFindings(
  entries: Entries,
  baseline: Side,
  image: Side,
  tokens: DriverTokens,
  counterpartOfA: Map<string, string>,
  modulePairs: Array<{ a: Module; b: Module }>,
): void {
  const deviceToken = (s: 'a' | 'b', id: string) =>
    s === 'a' ? `dev:${counterpartOfA.get(id) ?? `a:${id}`}` : `dev:${id}`;
  const moduleOfA = new Map(modulePairs.map((p) => [p.a.name.toLowerCase(), p.b.name.toLowerCase()]));
  const moduleToken = (s: 'a' | 'b', name: string) =>
    s === 'a'
      ? `mod:${moduleOfA.get(name.toLowerCase()) ?? `a:${name.toLowerCase()}`}`
      : `mod:${name.toLowerCase()}`;
  const relevant = (f: Finding) => f.kind !== 'stale-driver';
  const keysOf = (side: Side, s: 'a' | 'b') =>
    new Set(
      side.result.findings
        .filter(relevant)
        .map((f) => findingIdentity(f, s, tokens, deviceToken, moduleToken)),
    );
  const keysA = keysOf(baseline, 'a');
  const keysB = keysOf(image, 'b');

  for (const [side, s, others, direction] of [
    [image, 'b', keysA, 'added'],
    [baseline, 'a', keysB, 'removed'],
  ] as const) {
    const drivers = s === 'a' ? entries.driverA : entries.driverB;
    const devicesMap = s === 'a' ? entries.deviceA : entries.deviceB;
    const modulesMap = s === 'a' ? entries.moduleA : entries.moduleB;
    for (const finding of side.result.findings.filter(relevant)) {
      if (others.has(findingIdentity(finding, s, tokens, deviceToken, moduleToken))) continue;
      const { evidence } = finding;
      let entry =
        (finding.kind === 'foreign-filter' && evidence.device
          ? devicesMap.get(evidence.device)
          : undefined) ??
        (finding.kind === 'unlinked-module' ? modulesMap.get(finding.subject.toLowerCase()) : undefined) ??
        (evidence.driver ? drivers.get(evidence.driver) : undefined);
      if (!entry) entry = findingOnlyEntry(entries, finding, side, s);
      entry.findings[direction].push(finding.id);
      // Findings come most severe first: the first one attached says best why the entry matters.
      if (!entry.why)
        entry.why =
          direction === 'added'
            ? finding.explanation
            : `The baseline's finding is gone from this image: ${finding.explanation}`;
      if (direction === 'added') {
        entry.findingSeverity = maxSeverity([entry.findingSeverity ?? 'info', finding.severity]);
        entry.variation = null; // a finding is never ordinary variation
      }
    }
  }
}

/** A finding about an object that otherwise looks the same in both images. */
function findingOnlyEntry(entries: Entries, finding: Finding, side: Side, s: 'a' | 'b'): Draft {
  const driver = finding.evidence.driver ? side.driverById.get(finding.evidence.driver) : undefined;
  const ref: DiffSide = {
    text: finding.subject,
    ...(driver ? { driver: driver.id } : {}),
    ...(finding.evidence.device ? { device: finding.evidence.device } : {}),
  };
  const entry = entries.add({
    kind: driver ? 'driver' : finding.kind === 'unlinked-module' ? 'module' : 'device',
    change: 'changed',
    key: finding.subject,
    severity: 'info',
    summary: `the finding "${finding.kind}" is only ${side.where}`,
    matchedBy: [],
    unknown: [],
    changes: [],
    baseline: s === 'a' ? ref : null,
    primary: s === 'b' ? ref : null,
    variation: null,
  });
  if (driver) (s === 'a' ? entries.driverA : entries.driverB).set(driver.id, entry);
  return entry;
}

function finish(draft: Draft): DiffEntry {
  const { findingSeverity, ...entry } = draft;
  const severity =
    entry.variation !== null ? 'info' : maxSeverity([entry.severity, findingSeverity ?? 'info']);
  return {
    ...entry,
    severity,
    summary: entry.summary,
    why:
      entry.variation !== null
        ? `Expected between boots: ${entry.variation}.`
        : entry.why || WHY[`${entry.kind} ${entry.change}`] || '',
  };
}

function compatibilityOf(baseline: Side, image: Side, matched: number): DiffResult['compatibility'] {
  const build = (side: Side) => {
    const info = side.result.image;
    const number = info.build?.value.number;
    return number
      ? `${info.build!.value.name} (${number}${info.arch ? `, ${info.arch}` : ''})`
      : 'unknown build';
  };
  const a = baseline.result.image;
  const b = image.result.image;
  const sameBuild = a.build?.value.number === b.build?.value.number && a.arch === b.arch;
  const warnings: string[] = [];
  if (!sameBuild)
    warnings.push(
      `The baseline is ${build(baseline)} and this image ${build(image)}: driver images and handler offsets differ between builds, so changed images and handlers are expected. Compare with a baseline of the same build where you can.`,
    );
  let unrelated: string | null = null;
  const smaller = Math.min(baseline.drivers.length, image.drivers.length);
  if (smaller === 0) {
    const empty = baseline.drivers.length === 0 ? 'The baseline' : 'This image';
    unrelated = `${empty} holds no driver objects (a triage dump, or an image whose kernel could not be read), so there is nothing to compare.`;
  } else if (matched / smaller < 0.5)
    unrelated = `These images are not of the same system: only ${matched} of ${smaller} drivers match by name, service key or image (${build(baseline)} against ${build(image)}).`;
  return { baselineBuild: build(baseline), primaryBuild: build(image), sameBuild, warnings, unrelated };
}

function status(entry: Draft | undefined, fallback: PairStatus): PairStatus {
  if (!entry) return fallback;
  return entry.variation !== null ? 'variation' : fallback === 'same' ? 'changed' : fallback;
}

function alignDrivers(
  pairing: ReturnType<typeof pairDrivers>,
  entries: Entries,
  evidence: Map<Driver, string[]>,
): DiffPair[] {
  const rows: DiffPair[] = [
    ...pairing.pairs.map(({ a, b }) => {
      const entry = entries.driverB.get(b.id) ?? entries.driverA.get(a.id);
      return {
        key: driverDisplay(b),
        baseline: a.id,
        primary: b.id,
        status: status(entry, 'same'),
        entry: entry?.id ?? null,
        matchedBy: evidence.get(b) ?? [],
      };
    }),
    ...pairing.onlyB.map((d) => pairRow(driverDisplay(d), null, d.id, entries.driverB.get(d.id), 'added')),
    ...pairing.onlyA.map((d) => pairRow(driverDisplay(d), d.id, null, entries.driverA.get(d.id), 'removed')),
  ];
  return rows.sort(byKey);
}

function alignDevices(
  pairing: ReturnType<typeof compareDevices>['pairing'],
  entries: Entries,
  baseline: Side,
  image: Side,
  evidence: Map<Device, { matchedBy: string[]; unknown: string[] }>,
): DiffPair[] {
  const rows: DiffPair[] = [
    ...pairing.pairs.map(({ a, b }) => {
      const entry = entries.deviceB.get(b.id) ?? entries.deviceA.get(a.id);
      return {
        key: image.stableName(b) ?? baseline.stableName(a) ?? image.deviceDisplay(b),
        baseline: a.id,
        primary: b.id,
        status: status(entry, 'same'),
        entry: entry?.id ?? null,
        matchedBy: evidence.get(b)?.matchedBy ?? [],
      };
    }),
    ...pairing.onlyB.map((d) =>
      pairRow(image.deviceDisplay(d), null, d.id, entries.deviceB.get(d.id), 'added'),
    ),
    ...pairing.onlyA.map((d) =>
      pairRow(baseline.deviceDisplay(d), d.id, null, entries.deviceA.get(d.id), 'removed'),
    ),
  ];
  return rows.sort(byKey);
}

function alignModules(pairing: ReturnType<typeof pairModules>, entries: Entries): DiffPair[] {
  const rows: DiffPair[] = [
    ...pairing.pairs.map(({ a, b }) => {
      const entry = entries.moduleB.get(b.name.toLowerCase()) ?? entries.moduleA.get(a.name.toLowerCase());
      return {
        key: b.name,
        baseline: a.name,
        primary: b.name,
        status: status(entry, 'same'),
        entry: entry?.id ?? null,
        matchedBy: moduleEvidence(a, b),
      };
    }),
    ...pairing.onlyB.map((m) =>
      pairRow(m.name, null, m.name, entries.moduleB.get(m.name.toLowerCase()), 'added'),
    ),
    ...pairing.onlyA.map((m) =>
      pairRow(m.name, m.name, null, entries.moduleA.get(m.name.toLowerCase()), 'removed'),
    ),
  ];
  return rows.sort(byKey);
}

function pairRow(
  key: string,
  baseline: string | null,
  primary: string | null,
  entry: Draft | undefined,
  fallback: 'added' | 'removed',
): DiffPair {
  return { key, baseline, primary, status: status(entry, fallback), entry: entry?.id ?? null, matchedBy: [] };
}

function byKey(a: DiffPair, b: DiffPair): number {
  return (
    a.key.localeCompare(b.key) || (a.primary ?? a.baseline ?? '').localeCompare(b.primary ?? b.baseline ?? '')
  );
}
