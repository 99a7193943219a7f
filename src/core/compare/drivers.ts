// Drivers of two images: which are the same driver (by name, else service key, else the image it
// runs from, else its IRP table), and what changed inside the ones that are.

import type { PairingFact, UnknownFact } from '../../common/pairing';
import type { DiffChange } from '../../common/api';
import type { HandlerVerdict, Severity } from '../../common/findings';
import { severityRank } from '../../common/findings';
import type { Driver, Handler, Module } from '../../common/model';
import { driverDisplay, handlerText, hexNumber, moduleText, type Side } from './identity';
import { pairInStages, type Pairing } from './pairing';

const lower = (text: string | null | undefined): string | null => (text ? text.toLowerCase() : null);

/** Both sides know the fact and it differs. */
function contradicts(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a !== b;
}

function sameImage(a: Module | null, b: Module | null): boolean {
  if (!a || !b) return false;
  return (
    a.name.toLowerCase() === b.name.toLowerCase() &&
    a.size === b.size &&
    !contradicts(a.timeDateStamp?.toString() ?? null, b.timeDateStamp?.toString() ?? null) &&
    !contradicts(a.checksum?.toString() ?? null, b.checksum?.toString() ?? null)
  );
}

export function pairDrivers(baseline: Side, image: Side): Pairing<Driver> {
  const side = (s: 'a' | 'b') => (s === 'a' ? baseline : image);
  // Facts a pairing by a weaker identity must not contradict.
  const strict = (a: Driver, b: Driver) =>
    !contradicts(lower(a.name), lower(b.name)) &&
    !contradicts(lower(a.serviceKey), lower(b.serviceKey)) &&
    !contradicts(lower(a.module), lower(b.module)) &&
    baseline.isBuiltin(a) === image.isBuiltin(b);
  return pairInStages(baseline.drivers, image.drivers, [
    // The name is the driver's identity in the object manager; a different image under the same
    // name is a change of that driver (a replaced driver), not another driver.
    { name: 'name', key: (d) => lower(d.name) },
    { name: 'service key', key: (d) => lower(d.serviceKey), compatible: strict },
    {
      name: 'image',
      key: (d, s) => {
        const module = side(s).moduleOf(d);
        return module ? `${module.name.toLowerCase()}|${module.size}` : null;
      },
      unique: true,
      compatible: (a, b) => strict(a, b) && sameImage(baseline.moduleOf(a), image.moduleOf(b)),
    },
    { name: 'IRP table', key: (d, s) => side(s).fingerprint(d), unique: true, compatible: strict },
  ]);
}

/** The facts that agreed, for the analyst to judge the pairing; and the ones one side lacks. */
export function driverEvidence(
  a: Driver,
  b: Driver,
  baseline: Side,
  image: Side,
): { matchedBy: PairingFact[]; unknown: UnknownFact[] } {
  const matchedBy: PairingFact[] = [];
  const unknown: UnknownFact[] = [];
  if (a.name && b.name && a.name.toLowerCase() === b.name.toLowerCase()) {
    const sources = [a, b].map((d) => (d.nameStatus ? 'object directory entry' : 'DriverName'));
    matchedBy.push({ fact: 'name', name: b.name, sources });
  } else {
    for (const [driver, side] of [
      [a, baseline],
      [b, image],
    ] as const)
      if (!driver.name) unknown.push({ fact: 'driver-name', side: side.label, status: driver.nameStatus });
  }
  if (a.serviceKey && b.serviceKey && a.serviceKey.toLowerCase() === b.serviceKey.toLowerCase())
    matchedBy.push({ fact: 'service-key', key: b.serviceKey });
  else
    for (const [driver, side] of [
      [a, baseline],
      [b, image],
    ] as const)
      if (!driver.serviceKey && !side.isBuiltin(driver))
        unknown.push({ fact: 'service-key', side: side.label });
  const moduleA = baseline.moduleOf(a);
  const moduleB = image.moduleOf(b);
  if (moduleA && moduleB && sameImage(moduleA, moduleB))
    matchedBy.push({
      fact: 'image',
      module: moduleB.name,
      size: moduleB.size,
      timeDateStamp: moduleB.timeDateStamp,
      checksum: moduleB.checksum,
    });
  const print = baseline.fingerprint(a);
  if (print !== null && print === image.fingerprint(b)) matchedBy.push({ fact: 'irp-table' });
  return { matchedBy, unknown };
}

const SUSPICIOUS: Partial<Record<HandlerVerdict, Severity>> = {
  'other-module': 'high',
  'no-module': 'critical',
  'inline-patched': 'critical',
};

function handlerKey(list: string, handler: Handler): string {
  return `${list}:${handler.name}`;
}

function sameHandler(a: Handler, b: Handler): boolean {
  if (a.verdict !== b.verdict) return false;
  // Code in no module has nothing to be placed against: its address moves with every boot.
  if (!a.module || !b.module) return !a.module && !b.module;
  if (a.module.toLowerCase() !== b.module.toLowerCase() || a.offset !== b.offset) return false;
  if (a.verdict === 'inline-patched')
    return lower(a.target?.module ?? null) === lower(b.target?.module ?? null);
  return true;
}

export interface DriverChanges {
  changes: DiffChange[];
  unknown: UnknownFact[];
}

/** What differs between two images' objects of one driver: its image, listing and handlers. */
export function compareDriver(a: Driver, b: Driver, baseline: Side, image: Side): DriverChanges {
  const changes: DiffChange[] = [];
  const unknown: UnknownFact[] = [];
  const moduleA = baseline.moduleOf(a);
  const moduleB = image.moduleOf(b);
  let imageChanged = false;
  if (lower(a.module) !== lower(b.module)) {
    imageChanged = true;
    changes.push({
      what: 'image',
      baseline: moduleA ? moduleText(moduleA) : (a.module ?? 'none'),
      primary: moduleB ? moduleText(moduleB) : (b.module ?? 'none'),
      severity: 'high',
    });
  } else if (moduleA && moduleB && !sameImage(moduleA, moduleB)) {
    imageChanged = true;
    changes.push({
      what: 'image file',
      baseline: moduleText(moduleA),
      primary: moduleText(moduleB),
      severity: 'medium',
    });
  }
  if (moduleA?.path && moduleB?.path && moduleA.path.toLowerCase() !== moduleB.path.toLowerCase())
    changes.push({ what: 'image path', baseline: moduleA.path, primary: moduleB.path, severity: 'high' });
  const listedA = a.foundBy.includes('directory');
  const listedB = b.foundBy.includes('directory');
  if (!baseline.directoriesRead || !image.directoriesRead)
    unknown.push({ fact: 'directory-listing', side: baseline.directoriesRead ? 'image' : 'baseline' });
  else if (listedA !== listedB)
    changes.push({
      what: 'listed in \\Driver or \\FileSystem',
      baseline: listedA ? 'yes' : 'no',
      primary: listedB ? 'yes' : 'no',
      severity: listedA ? 'high' : 'low',
    });

  const lists = [
    ['IRP', a.irp, b.irp],
    ['FastIo', a.fastIo, b.fastIo],
    ['callback', a.callbacks, b.callbacks],
  ] as const;
  for (const [list, handlersA, handlersB] of lists) {
    // A FAST_IO_DISPATCH whose page is not in the image gives no entries: unknown, not removed.
    if (list === 'FastIo') {
      const unreadableA = a.fastIoDispatch !== null && handlersA.length === 0;
      const unreadableB = b.fastIoDispatch !== null && handlersB.length === 0;
      if (unreadableA || unreadableB) {
        if (handlersA.length + handlersB.length > 0)
          unknown.push({ fact: 'fastio-table', side: unreadableA ? 'baseline' : 'image' });
        continue;
      }
    }
    const mapA = new Map(handlersA.map((h) => [handlerKey(list, h), h]));
    const mapB = new Map(handlersB.map((h) => [handlerKey(list, h), h]));
    for (const key of new Set([...mapA.keys(), ...mapB.keys()])) {
      const before = mapA.get(key) ?? null;
      const after = mapB.get(key) ?? null;
      if (before && after && sameHandler(before, after)) continue;
      // The same routine slot in an updated image sits elsewhere: the image change says it.
      if (
        before &&
        after &&
        imageChanged &&
        before.verdict === after.verdict &&
        lower(before.module) === lower(after.module)
      )
        continue;
      const severity: Severity = after
        ? (SUSPICIOUS[after.verdict] ?? (before && SUSPICIOUS[before.verdict] ? 'low' : 'medium'))
        : 'low';
      changes.push({
        what: (before ?? after)!.name,
        baseline: before ? handlerText(before) : null,
        primary: after ? handlerText(after) : null,
        severity,
      });
    }
  }
  changes.sort((x, y) => severityRank(y.severity) - severityRank(x.severity));
  return { changes, unknown };
}

/** What an added or removed driver consists of, for its entry. */
export function driverContents(driver: Driver, side: Side): DiffChange[] {
  const present = (text: string): Pick<DiffChange, 'baseline' | 'primary'> =>
    side.label === 'baseline' ? { baseline: text, primary: null } : { baseline: null, primary: text };
  const changes: DiffChange[] = [];
  const module = side.moduleOf(driver);
  changes.push({
    what: 'image',
    ...present(
      module
        ? `${moduleText(module)}${module.path ? ` from ${module.path}` : ''}${module.unlinked ? ', unlinked from PsLoadedModuleList' : ''}`
        : side.isBuiltin(driver)
          ? 'built into the kernel'
          : `none (${driver.start}, ${hexNumber(driver.size)} bytes)`,
    ),
    severity: module?.unlinked ? 'high' : 'info',
  });
  changes.push({ what: 'found by', ...present(driver.foundBy.join(', ')), severity: 'info' });
  for (const id of driver.devices) {
    const device = side.deviceById.get(id);
    if (device) changes.push({ what: 'device', ...present(side.deviceDisplay(device)), severity: 'info' });
  }
  for (const handler of [...driver.irp, ...driver.fastIo, ...driver.callbacks]) {
    if (handler.verdict === 'kernel-default') continue;
    changes.push({
      what: handler.name,
      ...present(handlerText(handler)),
      severity: SUSPICIOUS[handler.verdict] ?? 'info',
    });
  }
  return changes;
}

export { driverDisplay };
