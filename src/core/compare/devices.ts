// Devices and device stacks of two images. A device with a stable name is that name; an unnamed or
// auto-numbered one is its driver, type, characteristics and place in its stack. Stacks compare
// as the sequence of their members, bottom first; a stack only one image has is hardware that
// came or went (a new PnP stack of known drivers) or something a new driver brought.

import type { PairingFact, UnknownFact } from '../../common/pairing';
import type { DiffChange } from '../../common/api';
import type { Severity } from '../../common/findings';
import type { Device, Driver } from '../../common/model';
import { DO_BUS_ENUMERATED_DEVICE, driverDisplay, hexNumber, isEnumeratedName, type Side } from './identity';
import { commonSubsequence } from '../../common/sequence';
import { pairInStages, type Paired, type Pairing } from './pairing';

/** Driver tokens: "D<n>" for the n-th driver pair, "a:<id>" / "b:<id>" for a driver only one side has. */
export class DriverTokens {
  private readonly a = new Map<string, string>();
  private readonly b = new Map<string, string>();

  constructor(pairs: ReadonlyArray<{ a: Driver; b: Driver }>) {
    pairs.forEach((pair, index) => {
      this.a.set(pair.a.id, `D${index}`);
      this.b.set(pair.b.id, `D${index}`);
    });
  }

  of(side: 'a' | 'b', driverId: string): string {
    return (side === 'a' ? this.a : this.b).get(driverId) ?? `${side}:${driverId}`;
  }

  paired(side: 'a' | 'b', driverId: string): boolean {
    return (side === 'a' ? this.a : this.b).has(driverId);
  }
}

function stackOf(side: Side, device: Device): Device[] {
  return device.stack.map((id) => side.deviceById.get(id)).filter((d): d is Device => d !== undefined);
}

export interface DeviceComparison {
  pairing: Pairing<Device>;
  /** Device id → the id of the same device in the other image. */
  counterpartOfA: Map<string, string>;
  counterpartOfB: Map<string, string>;
  evidence: Map<Device, { matchedBy: PairingFact[]; unknown: UnknownFact[] }>;
  changed: Array<{ a: Device; b: Device; changes: DiffChange[] }>;
  stacks: StackDifference[];
}

export interface StackDifference {
  change: 'added' | 'removed' | 'changed';
  key: string;
  /** Member ids on each side. */
  baseline: string[];
  primary: string[];
  /** The device the stack is named after, on each side. */
  anchorA: Device | null;
  anchorB: Device | null;
  changes: DiffChange[];
  /** What happened to the stack, in one sentence. */
  summary: string;
  /** Every member belongs to drivers only one image has: their entries already say it. */
  ofNewDrivers: boolean;
  /** Why this is ordinary boot-to-boot variation, or null. */
  variation: string | null;
  text: { baseline: string | null; primary: string | null };
}

export const PNP_VARIATION =
  'a device stack that only one image has, rising from a bus-enumerated device (PDO) of drivers both images have: hardware plugged in or a virtual adapter created on one boot and not the other';

/**
 * Pairs devices: stable names first; then the members of each stack along the named members it
 * shares with the other image (the stack's shape, aligned); then whole stacks of unnamed and
 * auto-numbered devices by their shape; then what is left by the stack below it and by driver
 * and type alone. Pairing stack by stack keeps the members of one stack together.
 */
function pairDevices(baseline: Side, image: Side, drivers: DriverTokens): Pairing<Device> {
  const side = (s: 'a' | 'b') => (s === 'a' ? baseline : image);
  const contradicts = (a: Device, b: Device) => {
    const x = baseline.stableName(a)?.toLowerCase();
    const y = image.stableName(b)?.toLowerCase();
    if (x !== undefined && y !== undefined && x !== y) return true;
    // Different name hashes are different names (the bucket alone where no hash is kept).
    const hashA = baseline.nameHashIdentity(a);
    const hashB = image.nameHashIdentity(b);
    if (!hashA || !hashB) return false;
    return hashA.value !== null && hashB.value !== null
      ? hashA.value !== hashB.value
      : hashA.bucket !== hashB.bucket;
  };
  const named = pairInStages(baseline.result.devices, image.result.devices, [
    { name: 'name', key: (d, s) => side(s).stableName(d)?.toLowerCase() ?? null },
    { name: 'name', key: (d, s) => side(s).stableLeaf(d), unique: true },
    {
      name: 'name hash in its directory entry (name unreadable in one image)',
      key: (d, s) => {
        const hash = side(s).nameHashIdentity(d);
        return hash?.value != null ? String(hash.value) : null;
      },
      unique: true,
      compatible: (a, b) => !contradicts(a, b),
    },
  ]);
  const pairs: Array<Paired<Device>> = [...named.pairs];
  const ofA = new Map<Device, Device>(named.pairs.map((p) => [p.a, p.b]));
  const ofB = new Map<Device, Device>(named.pairs.map((p) => [p.b, p.a]));
  const pair = (a: Device, b: Device, stage: string) => {
    ofA.set(a, b);
    ofB.set(b, a);
    pairs.push({ a, b, stage });
  };
  const token = (s: 'a' | 'b', d: Device): string => {
    const counterpart = s === 'a' ? (ofA.has(d) ? d : undefined) : ofB.get(d);
    return counterpart ? `P:${counterpart.id}` : `${drivers.of(s, d.driver)}#${d.type}#${d.characteristics}`;
  };
  const free = (s: 'a' | 'b', d: Device) => !(s === 'a' ? ofA : ofB).has(d);
  // Between stacks of one shape, names and name hashes that agree (even numbered names) decide.
  const likeness = (stackA: Device[], stackB: Device[]) =>
    stackA.reduce((score, a, i) => {
      const b = stackB[i]!;
      const sameName = a.name !== null && b.name !== null && a.name.toLowerCase() === b.name.toLowerCase();
      const sameHash = a.nameHash?.value != null && a.nameHash.value === b.nameHash?.value;
      const sameBucket = a.nameHash !== null && a.nameHash.bucket === b.nameHash?.bucket;
      return score + (sameName ? 4 : 0) + (sameHash ? 2 : 0) + (sameBucket ? 1 : 0);
    }, 0);
  const stacksA = stacksOf(baseline);
  const stacksB = stacksOf(image);
  const stackOfA = new Map<Device, Device[]>();
  for (const stack of stacksA) for (const d of stack) stackOfA.set(d, stack);

  // Stacks that share a named member with the other image: align their shapes.
  const anchored = new Set<Device[]>();
  for (const stackB of stacksB) {
    const anchor = stackB.find((d) => ofB.has(d));
    if (!anchor) continue;
    const stackA = stackOfA.get(ofB.get(anchor)!)!;
    anchored.add(stackA).add(stackB);
    const tokensA = stackA.map((d) => token('a', d));
    const tokensB = stackB.map((d) => token('b', d));
    for (const [i, j] of commonSubsequence(tokensA, tokensB)) {
      const a = stackA[i]!;
      const b = stackB[j]!;
      if (free('a', a) && free('b', b) && !contradicts(a, b)) pair(a, b, 'place in its stack');
    }
  }
  // Stacks of unnamed or auto-numbered devices only: the same shape is the same stack.
  const shape = (s: 'a' | 'b', stack: Device[]) => stack.map((d) => token(s, d)).join('>');
  const waiting = new Map<string, Device[][]>();
  for (const stackA of stacksA) {
    if (anchored.has(stackA)) continue;
    const key = shape('a', stackA);
    waiting.set(key, [...(waiting.get(key) ?? []), stackA]);
  }
  for (const stackB of stacksB) {
    if (anchored.has(stackB)) continue;
    const candidates = waiting.get(shape('b', stackB)) ?? [];
    let at = -1;
    candidates.forEach((stackA, i) => {
      if (stackA.some((a, j) => contradicts(a, stackB[j]!))) return;
      if (at < 0 || likeness(stackA, stackB) > likeness(candidates[at]!, stackB)) at = i;
    });
    if (at < 0) continue;
    const [stackA] = candidates.splice(at, 1);
    stackA!.forEach((a, i) => pair(a, stackB[i]!, 'shape of its stack'));
  }
  // What is left: by the stack below it, then by driver and type alone.
  const below = (s: 'a' | 'b', d: Device) => {
    if (!drivers.paired(s, d.driver)) return null;
    const stack = stackOf(side(s), d);
    const at = stack.indexOf(d);
    return `${token(s, d)}|${stack
      .slice(0, Math.max(0, at))
      .map((x) => token(s, x))
      .join('>')}`;
  };
  const rest = pairInStages(
    baseline.result.devices.filter((d) => free('a', d)),
    image.result.devices.filter((d) => free('b', d)),
    [
      { name: 'stack below it', key: (d, s) => below(s, d), compatible: (a, b) => !contradicts(a, b) },
      {
        name: 'driver and type',
        key: (d, s) =>
          drivers.paired(s, d.driver) ? `${drivers.of(s, d.driver)}|${d.type}|${d.characteristics}` : null,
        compatible: (a, b) => !contradicts(a, b),
      },
    ],
  );
  for (const p of rest.pairs) pair(p.a, p.b, p.stage);
  return { pairs, onlyA: rest.onlyA, onlyB: rest.onlyB };
}

function stacksOf(side: Side): Device[][] {
  const byBottom = new Map<string, Device[]>();
  for (const device of side.result.devices) {
    const stack = stackOf(side, device);
    const bottom = stack[0] ?? device;
    if (!byBottom.has(bottom.id)) byBottom.set(bottom.id, stack.length ? stack : [device]);
  }
  return [...byBottom.values()];
}

export function compareDevices(baseline: Side, image: Side, drivers: DriverTokens): DeviceComparison {
  const pairing = pairDevices(baseline, image, drivers);
  const counterpartOfA = new Map(pairing.pairs.map((p) => [p.a.id, p.b.id]));
  const counterpartOfB = new Map(pairing.pairs.map((p) => [p.b.id, p.a.id]));
  const evidence = new Map<Device, { matchedBy: PairingFact[]; unknown: UnknownFact[] }>();
  const changed: DeviceComparison['changed'] = [];
  for (const { a, b, stage } of pairing.pairs) {
    const ownerA = baseline.driverById.get(a.driver);
    const ownerB = image.driverById.get(b.driver);
    const matchedBy: PairingFact[] = [];
    const unknown: UnknownFact[] = [];
    if (stage === 'name')
      matchedBy.push({ fact: 'name', name: image.fullName(b) ?? baseline.fullName(a) ?? b.name ?? '' });
    else {
      matchedBy.push({
        fact: 'driver-and-type',
        driver: ownerB ? driverDisplay(ownerB) : b.driver,
        deviceType: b.typeName,
        characteristics: b.characteristics,
      });
      if (stage !== 'driver and type') matchedBy.push({ fact: 'device-stage', stage });
      for (const [device, s] of [
        [a, baseline],
        [b, image],
      ] as const) {
        if (device.name === null && device.nameStatus)
          unknown.push({ fact: 'device-name', side: s.label, status: device.nameStatus });
        else if (device.name && isEnumeratedName(device.name))
          unknown.push({ fact: 'numbered-name', side: s.label, name: device.name });
      }
    }
    evidence.set(b, { matchedBy, unknown });
    const changes: DiffChange[] = [];
    if (drivers.of('a', a.driver) !== drivers.of('b', b.driver))
      changes.push({
        what: 'owning driver',
        baseline: ownerA ? driverDisplay(ownerA) : a.driver,
        primary: ownerB ? driverDisplay(ownerB) : b.driver,
        severity: 'high',
      });
    if (a.type !== b.type)
      changes.push({
        what: 'device type',
        baseline: `FILE_DEVICE_${a.typeName}`,
        primary: `FILE_DEVICE_${b.typeName}`,
        severity: 'medium',
      });
    if (a.characteristics !== b.characteristics)
      changes.push({
        what: 'characteristics',
        baseline: a.characteristicNames.join(' | ') || hexNumber(a.characteristics),
        primary: b.characteristicNames.join(' | ') || hexNumber(b.characteristics),
        severity: 'low',
      });
    if (changes.length) changed.push({ a, b, changes });
  }
  const stacks = compareStacks(baseline, image, drivers, counterpartOfA, counterpartOfB);
  return { pairing, counterpartOfA, counterpartOfB, evidence, changed, stacks };
}

function compareStacks(
  baseline: Side,
  image: Side,
  drivers: DriverTokens,
  counterpartOfA: Map<string, string>,
  counterpartOfB: Map<string, string>,
): StackDifference[] {
  const pairIndex = new Map<string, number>();
  [...counterpartOfA.keys()].forEach((id, i) => {
    pairIndex.set(`a:${id}`, i);
    pairIndex.set(`b:${counterpartOfA.get(id)!}`, i);
  });
  const token = (s: 'a' | 'b', device: Device) => {
    const paired = pairIndex.get(`${s}:${device.id}`);
    return paired !== undefined ? `P${paired}` : `${drivers.of(s, device.driver)}#${device.type}`;
  };
  const stacksA = stacksOf(baseline);
  const stacksB = stacksOf(image);
  const stackOfA = new Map<string, Device[]>();
  for (const stack of stacksA) for (const d of stack) stackOfA.set(d.id, stack);

  const result: StackDifference[] = [];
  const visitedA = new Set<Device[]>();
  const ids = (stack: Device[]) => stack.map((d) => d.id);
  const describe = (side: Side, stack: Device[]) =>
    stack
      .map((d) => {
        const owner = side.driverById.get(d.driver);
        return owner ? driverDisplay(owner) : d.driver;
      })
      .join(' > ');

  for (const stackB of stacksB) {
    const firstPaired = stackB.find((d) => counterpartOfB.has(d.id));
    if (!firstPaired) {
      result.push(onlyOneSide('added', image, stackB, drivers, 'b', describe(image, stackB)));
      continue;
    }
    const stackA = stackOfA.get(counterpartOfB.get(firstPaired.id)!)!;
    visitedA.add(stackA);
    const tokensA = stackA.map((d) => token('a', d));
    const tokensB = stackB.map((d) => token('b', d));
    if (tokensA.join() === tokensB.join()) continue;
    const kept = commonSubsequence(tokensA, tokensB);
    const keptA = new Set(kept.map(([i]) => i));
    const keptB = new Set(kept.map(([, j]) => j));
    const changes: DiffChange[] = [];
    const sentences: string[] = [];
    let anchorA: Device | null = null;
    let anchorB: Device | null = null;
    stackB.forEach((device, j) => {
      if (keptB.has(j)) return;
      const below = j > 0 ? stackB[j - 1]! : null;
      anchorB ??= (below && image.namedBelow(below)) ?? null;
      const owner = image.driverById.get(device.driver);
      const newDriver = !drivers.paired('b', device.driver);
      sentences.push(
        `${image.deviceDisplay(device)}${newDriver ? ' (a driver only this image has)' : ''} ${below ? `now sits on ${image.deviceDisplay(below)}` : 'is now the bottom of the stack'}`,
      );
      changes.push({
        what: below ? `attached on ${image.deviceDisplay(below)}` : 'new bottom of the stack',
        baseline: null,
        primary: `${image.deviceDisplay(device)}${owner ? '' : ` (driver object ${device.driver} unreadable)`}`,
        severity: newDriver ? 'high' : 'medium',
      });
    });
    stackA.forEach((device, i) => {
      if (keptA.has(i)) return;
      const below = i > 0 ? stackA[i - 1]! : null;
      anchorA ??= (below && baseline.namedBelow(below)) ?? null;
      sentences.push(
        `${baseline.deviceDisplay(device)} ${below ? `no longer sits on ${baseline.deviceDisplay(below)}` : 'is no longer the bottom of the stack'}`,
      );
      changes.push({
        what: below ? `was attached on ${baseline.deviceDisplay(below)}` : 'bottom of the stack',
        baseline: baseline.deviceDisplay(device),
        primary: null,
        severity: 'medium',
      });
    });
    const namedB = anchorB ?? topNamed(image, stackB);
    const namedA = anchorA ?? topNamed(baseline, stackA);
    result.push({
      change: 'changed',
      key: namedB?.name ?? namedA?.name ?? image.deviceDisplay(stackB[0]!),
      baseline: ids(stackA),
      primary: ids(stackB),
      anchorA: namedA,
      anchorB: namedB,
      changes,
      summary: sentences.join('; '),
      ofNewDrivers: false,
      variation: null,
      text: { baseline: describe(baseline, stackA), primary: describe(image, stackB) },
    });
  }
  for (const stackA of stacksA) {
    if (visitedA.has(stackA) || stackA.some((d) => counterpartOfA.has(d.id))) continue;
    result.push(onlyOneSide('removed', baseline, stackA, drivers, 'a', describe(baseline, stackA)));
  }
  return result;
}

function topNamed(side: Side, stack: Device[]): Device | null {
  for (let i = stack.length - 1; i >= 0; i--) if (side.stableName(stack[i]!)) return stack[i]!;
  return null;
}

function onlyOneSide(
  change: 'added' | 'removed',
  side: Side,
  stack: Device[],
  drivers: DriverTokens,
  s: 'a' | 'b',
  text: string,
): StackDifference {
  const bottom = stack[0]!;
  const ofNewDrivers = stack.every((d) => !drivers.paired(s, d.driver));
  const knownDrivers = stack.every((d) => drivers.paired(s, d.driver));
  const pnp = (bottom.flags & DO_BUS_ENUMERATED_DEVICE) !== 0;
  const severity: Severity = knownDrivers ? 'low' : 'medium';
  const named = topNamed(side, stack);
  return {
    change,
    key: named?.name ?? side.deviceDisplay(bottom),
    baseline: s === 'a' ? stack.map((d) => d.id) : [],
    primary: s === 'b' ? stack.map((d) => d.id) : [],
    anchorA: s === 'a' ? named : null,
    anchorB: s === 'b' ? named : null,
    summary: `a stack of ${stack.length} device${stack.length === 1 ? '' : 's'} (${text}) is only ${side.where}`,
    changes: stack.map((device) => ({
      what: device === bottom ? 'bottom' : 'attached above',
      baseline: s === 'a' ? side.deviceDisplay(device) : null,
      primary: s === 'b' ? side.deviceDisplay(device) : null,
      severity,
    })),
    ofNewDrivers,
    variation: pnp && knownDrivers ? PNP_VARIATION : null,
    text: s === 'a' ? { baseline: text, primary: null } : { baseline: null, primary: text },
  };
}
