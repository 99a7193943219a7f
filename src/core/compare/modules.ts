// Loaded modules of two images: a module is its file name; size, PE timestamp and checksum say
// whether it is the same file. Bases move with every boot and are never compared.

import type { PairingFact, UnknownFact } from '../../common/pairing';
import type { DiffChange } from '../../common/api';
import type { Module } from '../../common/model';
import { moduleText, type Side } from './identity';
import { pairInStages, type Pairing } from './pairing';

export function pairModules(baseline: Side, image: Side): Pairing<Module> {
  return pairInStages(baseline.result.modules, image.result.modules, [
    { name: 'name and size', key: (m) => `${m.name.toLowerCase()}|${m.size}` },
    { name: 'name', key: (m) => m.name.toLowerCase() },
  ]);
}

export function moduleEvidence(a: Module, b: Module): PairingFact[] {
  const facts: PairingFact[] = [{ fact: 'name', name: b.name }];
  if (a.size === b.size) facts.push({ fact: 'module-size', size: b.size });
  if (a.timeDateStamp !== null && a.timeDateStamp === b.timeDateStamp)
    facts.push({ fact: 'module-timestamp', timeDateStamp: b.timeDateStamp });
  return facts;
}

export function compareModule(
  a: Module,
  b: Module,
  baseline: Side,
  image: Side,
): { changes: DiffChange[]; unknown: UnknownFact[] } {
  const changes: DiffChange[] = [];
  const unknown: UnknownFact[] = [];
  const known = (x: number | null, y: number | null) => x !== null && y !== null;
  const differs =
    a.size !== b.size ||
    (known(a.timeDateStamp, b.timeDateStamp) && a.timeDateStamp !== b.timeDateStamp) ||
    (known(a.checksum, b.checksum) && a.checksum !== b.checksum);
  if (differs)
    changes.push({ what: 'image file', baseline: moduleText(a), primary: moduleText(b), severity: 'medium' });
  if (a.path && b.path && a.path.toLowerCase() !== b.path.toLowerCase())
    changes.push({ what: 'path', baseline: a.path, primary: b.path, severity: 'high' });
  if (a.unlinked !== b.unlinked)
    changes.push({
      what: 'on PsLoadedModuleList',
      baseline: a.unlinked ? 'no (unlinked)' : 'yes',
      primary: b.unlinked ? 'no (unlinked)' : 'yes',
      severity: b.unlinked ? 'high' : 'low',
    });
  for (const [module, side] of [
    [a, baseline],
    [b, image],
  ] as const)
    if (module.timeDateStamp === null)
      unknown.push({ fact: 'pe-headers', side: side.label, module: module.name });
  return { changes, unknown };
}
