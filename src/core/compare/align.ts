// Every driver, device and module of both images aligned row against row for the side-by-side
// view, each row with its status and the entry that describes its difference.

import type { PairingFact, UnknownFact } from '../../common/pairing';
import type { DiffPair, PairStatus } from '../../common/api';
import type { Device, Driver, Module } from '../../common/model';
import type { Draft, Entries } from './entries';
import { driverDisplay, type Side } from './identity';
import { moduleEvidence } from './modules';
import type { Pairing } from './pairing';
import { compareText } from '../../common/text-order';

function status(entry: Draft | undefined, fallback: PairStatus): PairStatus {
  if (!entry) return fallback;
  return entry.variation !== null ? 'variation' : fallback === 'same' ? 'changed' : fallback;
}

export function alignDrivers(
  pairing: Pairing<Driver>,
  entries: Entries,
  evidence: Map<Driver, PairingFact[]>,
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

export function alignDevices(
  pairing: Pairing<Device>,
  entries: Entries,
  baseline: Side,
  image: Side,
  evidence: Map<Device, { matchedBy: PairingFact[]; unknown: UnknownFact[] }>,
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

export function alignModules(pairing: Pairing<Module>, entries: Entries): DiffPair[] {
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
    compareText(a.key, b.key) || compareText(a.primary ?? a.baseline ?? '', b.primary ?? b.baseline ?? '')
  );
}
