// Findings of the two images joined to the differences they explain: a finding of the image whose
// object (paired across the images) has no such finding in the baseline is new, and the reverse
// is gone. A finding never leaves an entry classed as ordinary boot-to-boot variation.

import type { DiffSide } from '../../common/api';
import type { PairingFact, UnknownFact } from '../../common/pairing';
import type { FindingKind } from '../../common/findings';
import type { Device, Finding, Module } from '../../common/model';
import type { DriverTokens } from './devices';
import { maxSeverity, type Draft, type Entries } from './entries';
import type { Side } from './identity';

const DRIVER_FINDINGS = new Set<FindingKind>([
  'irp-hook',
  'irp-no-module',
  'inline-hook',
  'fastio-hook',
  'hidden-driver',
  'orphan-driver',
  'suspicious-name',
]);

/** Findings about one device (evidence.device): paired across the images by that device. */
const DEVICE_FINDINGS = new Set<FindingKind>(['foreign-filter', 'completion-hook']);

/** Which object a finding is about, in tokens both images share where the object is paired. */
function findingIdentity(
  finding: Finding,
  s: 'a' | 'b',
  tokens: DriverTokens,
  deviceToken: (s: 'a' | 'b', id: string) => string,
  moduleToken: (s: 'a' | 'b', name: string) => string,
): string {
  const { evidence } = finding;
  if (DEVICE_FINDINGS.has(finding.kind) && evidence.device)
    return `${finding.kind}|${deviceToken(s, evidence.device)}`;
  if (finding.kind === 'unlinked-module') return `${finding.kind}|${moduleToken(s, finding.subject)}`;
  // A service is its name (its number in the build's table): the same in both images.
  if (finding.kind === 'ssdt-hook' || finding.kind === 'ssdt-inline')
    return `${finding.kind}|${finding.subject}`;
  // A callback's finding id is its identity (kind and module+offset, or its code): the same on every boot.
  if (isCallbackFinding(finding)) return `${finding.kind}|${finding.id}`;
  // A process is its image name: PIDs and addresses change every boot.
  if (finding.kind === 'hidden-process') return `${finding.kind}|${finding.subject.toLowerCase()}`;
  if (DRIVER_FINDINGS.has(finding.kind) && evidence.driver)
    return `${finding.kind}|${tokens.of(s, evidence.driver)}`;
  return `${finding.kind}|${s}|${finding.subject}`;
}

/** A finding about callback entries (an orphan thread, an IDT or GDT gate too): its id carries the entry's identity. */
const ENTRY_FINDINGS: ReadonlySet<string> = new Set(['orphan-thread', 'idt-hook', 'gdt-call-gate']);
function isCallbackFinding(finding: Finding): boolean {
  return finding.kind.startsWith('callback-') || ENTRY_FINDINGS.has(finding.kind);
}

/** The callback identity a callback finding's id carries ("callback-no-module:<identity>"). */
function callbackKeyOf(finding: Finding): string {
  return finding.id.slice(finding.id.indexOf(':') + 1);
}

export function attachFindings(
  entries: Entries,
  baseline: Side,
  image: Side,
  tokens: DriverTokens,
  counterpartOfA: Map<string, string>,
  modulePairs: Array<{ a: Module; b: Module }>,
  deviceEvidence: ReadonlyMap<Device, { matchedBy: PairingFact[]; unknown: UnknownFact[] }>,
): void {
  const pairedDevices = devicePairs(baseline, image, counterpartOfA, deviceEvidence);
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
    const servicesMap = s === 'a' ? entries.serviceA : entries.serviceB;
    const callbacksMap = s === 'a' ? entries.callbackA : entries.callbackB;
    for (const finding of side.result.findings.filter(relevant)) {
      if (others.has(findingIdentity(finding, s, tokens, deviceToken, moduleToken))) continue;
      const { evidence } = finding;
      let entry =
        (finding.kind === 'foreign-filter' && evidence.device
          ? devicesMap.get(evidence.device)
          : undefined) ??
        (finding.kind === 'unlinked-module' ? modulesMap.get(finding.subject.toLowerCase()) : undefined) ??
        (finding.kind.startsWith('ssdt') ? servicesMap.get(finding.subject) : undefined) ??
        (isCallbackFinding(finding) ? callbacksMap.get(callbackKeyOf(finding)) : undefined) ??
        (evidence.driver ? drivers.get(evidence.driver) : undefined);
      if (!entry) entry = findingOnlyEntry(entries, finding, side, s, pairedDevices);
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

/** A device of either image with its counterpart in the other and the facts that paired them. */
interface DevicePair {
  baseline: DiffSide;
  primary: DiffSide;
  matchedBy: PairingFact[];
  unknown: UnknownFact[];
}

/** Each paired device by its id in its own image ('a:' the baseline's, 'b:' the image's). */
function devicePairs(
  baseline: Side,
  image: Side,
  counterpartOfA: Map<string, string>,
  evidence: ReadonlyMap<Device, { matchedBy: PairingFact[]; unknown: UnknownFact[] }>,
): Map<string, DevicePair> {
  const pairs = new Map<string, DevicePair>();
  for (const [idA, idB] of counterpartOfA) {
    const a = baseline.deviceById.get(idA);
    const b = image.deviceById.get(idB);
    if (!a || !b) continue;
    const pair: DevicePair = {
      baseline: { text: baseline.deviceDisplay(a), device: a.id },
      primary: { text: image.deviceDisplay(b), device: b.id },
      matchedBy: evidence.get(b)?.matchedBy ?? [],
      unknown: evidence.get(b)?.unknown ?? [],
    };
    pairs.set(`a:${idA}`, pair);
    pairs.set(`b:${idB}`, pair);
  }
  return pairs;
}

/**
 * A finding about an object that otherwise looks the same in both images; a device both images
 * hold is shown on both sides with the facts that paired it.
 */
function findingOnlyEntry(
  entries: Entries,
  finding: Finding,
  side: Side,
  s: 'a' | 'b',
  pairedDevices: ReadonlyMap<string, DevicePair>,
): Draft {
  const driver = finding.evidence.driver ? side.driverById.get(finding.evidence.driver) : undefined;
  const ref: DiffSide = {
    text: finding.subject,
    ...(driver ? { driver: driver.id } : {}),
    ...(finding.evidence.device ? { device: finding.evidence.device } : {}),
  };
  const kind = driver
    ? 'driver'
    : finding.kind === 'unlinked-module'
      ? 'module'
      : finding.kind.startsWith('ssdt')
        ? 'service'
        : isCallbackFinding(finding)
          ? 'callback'
          : finding.kind === 'hidden-process'
            ? 'process'
            : 'device';
  const pair =
    kind === 'device' && finding.evidence.device
      ? pairedDevices.get(`${s}:${finding.evidence.device}`)
      : undefined;
  const entry = entries.add({
    kind,
    // A hidden process is in one image only; anything else is an object both hold.
    change: finding.kind === 'hidden-process' ? (s === 'b' ? 'added' : 'removed') : 'changed',
    key: finding.subject,
    severity: 'info',
    summary: `the finding "${finding.kind}" is only ${side.where}`,
    matchedBy: pair?.matchedBy ?? [],
    unknown: pair?.unknown ?? [],
    changes: [],
    baseline: pair?.baseline ?? (s === 'a' ? ref : null),
    primary: pair?.primary ?? (s === 'b' ? ref : null),
    variation: null,
  });
  if (driver) (s === 'a' ? entries.driverA : entries.driverB).set(driver.id, entry);
  return entry;
}
