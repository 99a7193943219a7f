// The differences as they are built: one draft entry per object, indexed by the ids of the objects
// it covers in each image (so findings and links can join the entry of their object), then
// finished with its severity and why it matters.

import type { DiffChange, DiffEntry } from '../../common/api';
import { severityRank, type Severity } from '../../common/findings';

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
  'callback added':
    'The kernel calls this routine when its event comes (a process, thread or image load, a registry operation, a bug check, shutdown): a registration the clean system did not have.',
  'callback removed':
    'A registration of the clean system is gone: security products register these, and rootkits remove them.',
};

/** A callback entry's why by the kind of callback its key names ("idt|…"), where the general one is wrong. */
const CALLBACK_WHY: Record<string, string> = {
  'idt added':
    'The processor enters this code on that interrupt, and the clean system had no such gate: its gates lead into ntoskrnl and the HAL.',
  'idt removed':
    "An interrupt gate of the clean system is in no processor's table any more: its interrupt now leads elsewhere.",
  'gdt added':
    'A call gate the clean system did not have: code in user mode can enter the kernel through it.',
  'system-thread added':
    'A System thread running code in no loaded module, which the clean system did not have: no driver to show for it.',
  'system-thread removed': 'A System thread in no module that the clean system had is gone.',
};

function whyOf(entry: DiffEntry): string {
  const general = WHY[`${entry.kind} ${entry.change}`] ?? '';
  if (entry.kind !== 'callback') return general;
  return CALLBACK_WHY[`${entry.key.slice(0, entry.key.indexOf('|'))} ${entry.change}`] ?? general;
}

export interface Draft extends DiffEntry {
  findingSeverity: Severity | null;
}

export class Entries {
  readonly list: Draft[] = [];
  private readonly ids = new Set<string>();
  readonly driverA = new Map<string, Draft>();
  readonly driverB = new Map<string, Draft>();
  readonly deviceA = new Map<string, Draft>();
  readonly deviceB = new Map<string, Draft>();
  readonly moduleA = new Map<string, Draft>();
  readonly moduleB = new Map<string, Draft>();
  /** By service name. */
  readonly serviceA = new Map<string, Draft>();
  readonly serviceB = new Map<string, Draft>();
  /** By callback identity (callbacks/identity.ts). */
  readonly callbackA = new Map<string, Draft>();
  readonly callbackB = new Map<string, Draft>();

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

export function maxSeverity(severities: Severity[], floor: Severity = 'info'): Severity {
  return severities.reduce((a, b) => (severityRank(b) > severityRank(a) ? b : a), floor);
}

export function describeChanges(changes: DiffChange[]): string {
  const shown = changes.slice(0, 3).map((c) => `${c.what}: ${c.baseline ?? '—'} → ${c.primary ?? '—'}`);
  return shown.join('; ') + (changes.length > 3 ? `; and ${changes.length - 3} more` : '');
}

export function finish(draft: Draft): DiffEntry {
  const { findingSeverity, ...entry } = draft;
  const severity =
    entry.variation !== null ? 'info' : maxSeverity([entry.severity, findingSeverity ?? 'info']);
  return {
    ...entry,
    severity,
    summary: entry.summary,
    why: entry.variation !== null ? `Expected between boots: ${entry.variation}.` : entry.why || whyOf(entry),
  };
}
