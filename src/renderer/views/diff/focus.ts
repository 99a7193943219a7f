// What the comparison's detail pane shows for a selected difference or aligned row: the entry,
// and the same driver, device or module in each image (the missing side filled in from the
// alignment), so that both IRP tables, both stacks and both flows can stand side by side.

import type { DiffEntry, DiffPair, DiffResult } from '../../../common/api';
import type { DiffTab } from '../../state/navigation';

export interface DiffFocus {
  entry: DiffEntry | null;
  drivers: { baseline: string | null; primary: string | null } | null;
  devices: { baseline: string | null; primary: string | null } | null;
  modules: { baseline: string | null; primary: string | null } | null;
}

export function pairRowId(row: DiffPair): string {
  return `${row.baseline ?? ''}|${row.primary ?? ''}`;
}

function completed(
  rows: DiffPair[],
  baseline: string | null | undefined,
  primary: string | null | undefined,
): { baseline: string | null; primary: string | null } | null {
  if (!baseline && !primary) return null;
  const row = rows.find((r) => (primary && r.primary === primary) || (baseline && r.baseline === baseline));
  return { baseline: baseline ?? row?.baseline ?? null, primary: primary ?? row?.primary ?? null };
}

export function focusOf(diff: DiffResult, tab: DiffTab, item: string | null): DiffFocus {
  const none: DiffFocus = { entry: null, drivers: null, devices: null, modules: null };
  if (item === null) return none;
  if (tab === 'differences') {
    const entry = diff.entries.find((e) => e.id === item) ?? null;
    if (!entry) return none;
    const drivers = completed(diff.pairs.drivers, entry.baseline?.driver, entry.primary?.driver);
    const devices =
      entry.kind === 'stack' || entry.kind === 'device' || entry.kind === 'link'
        ? completed(diff.pairs.devices, entry.baseline?.device, entry.primary?.device)
        : null;
    const modules =
      entry.kind === 'module'
        ? completed(diff.pairs.modules, entry.baseline?.module, entry.primary?.module)
        : null;
    return { entry, drivers: entry.kind === 'driver' ? drivers : null, devices, modules };
  }
  const rows = diff.pairs[tab];
  const row = rows.find((r) => pairRowId(r) === item);
  if (!row) return none;
  const entry = row.entry ? (diff.entries.find((e) => e.id === row.entry) ?? null) : null;
  const sides = { baseline: row.baseline, primary: row.primary };
  return {
    entry,
    drivers: tab === 'drivers' ? sides : null,
    devices: tab === 'devices' ? sides : null,
    modules: tab === 'modules' ? sides : null,
  };
}
