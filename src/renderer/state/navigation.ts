// Where the analyst is: which session, which view, what is selected in it. Locations form a
// history like a browser's (Alt+Left / Alt+Right); selecting rows with the keyboard replaces the
// current entry instead of flooding the history.

import type { MemorySpace, StructureKind, UserOperation } from '../../common/api';
import type { Hex } from '../../common/hex';
import type { View } from '../../common/views';

export { VIEWS, viewKey, type View } from '../../common/views';

export const VIEW_LABELS: Record<View, string> = {
  overview: 'Overview',
  drivers: 'Drivers',
  devices: 'Devices',
  modules: 'Modules',
  findings: 'Findings',
  hex: 'Hex',
  flow: 'Flow',
  diff: 'Diff',
  services: 'Services',
  activity: 'Processes & IRPs',
  callbacks: 'Callbacks',
};

export interface HexLocation {
  space: MemorySpace;
  address: Hex;
  /** Structure to overlay at `address`. */
  structure?: StructureKind;
}

export type DiffTab = 'differences' | 'drivers' | 'devices' | 'modules';

/** The comparison's own state: its baseline, which list, what is selected in it. */
export interface DiffLocation {
  /** Session id of the baseline (default: the session opened as baseline). */
  baseline?: string;
  tab: DiffTab;
  /** An entry id (differences) or "baselineId|primaryId" of an aligned row. */
  item?: string;
  /** Show every row of the aligned lists and the boot-to-boot variation too. */
  all?: boolean;
  operation?: UserOperation;
  /** The detail takes the whole width (the two request paths need it). */
  wide?: boolean;
}

export interface Location {
  session: string | null;
  view: View;
  driver?: string;
  device?: string;
  module?: string;
  /** Selected system service (its number, as hex). */
  service?: string;
  finding?: string;
  /** Selected row of the IRP table (handler name). */
  handler?: string;
  /** Selected callback: the address of its array slot or list record. */
  callback?: string;
  /** Processes & IRPs: which list, and the selected process (EPROCESS) or IRP (address). */
  activity?: { tab: 'processes' | 'irps'; process?: string; irp?: string };
  hex?: HexLocation;
  /** The flow of an operation on a device, or, with `irp`, of that pending request. */
  flow?: { device: string; operation: UserOperation; irp?: string };
  diff?: DiffLocation;
}

export type Navigate = (patch: Partial<Location>, mode?: 'push' | 'replace') => void;

export interface History {
  entries: Location[];
  index: number;
}

export function currentLocation(history: History): Location {
  return history.entries[history.index]!;
}

function same(a: Location, b: Location): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function navigateHistory(
  history: History,
  patch: Partial<Location>,
  mode: 'push' | 'replace',
): History {
  const current = currentLocation(history);
  let base: Location = current;
  if (patch.session !== undefined && patch.session !== current.session) {
    // Selections belong to one image: coming back to a session restores where it was left.
    const last = [...history.entries.slice(0, history.index + 1)]
      .reverse()
      .find((e) => e.session === patch.session);
    base = last ? { ...last, view: current.view } : { session: patch.session, view: current.view };
  }
  const next: Location = { ...base, ...patch };
  if (same(next, current)) return history;
  if (mode === 'replace') {
    const entries = [...history.entries];
    entries[history.index] = next;
    return { entries, index: history.index };
  }
  const entries = [...history.entries.slice(0, history.index + 1), next].slice(-200);
  return { entries, index: entries.length - 1 };
}

export function moveHistory(history: History, step: -1 | 1): History {
  const index = history.index + step;
  if (index < 0 || index >= history.entries.length) return history;
  return { ...history, index };
}
