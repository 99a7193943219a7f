// `irpscope analyze --table callbacks`, and the summary's line on them: every notify routine with
// its array slot, routine, owner and verdict; each kind's head with the route that found it.

import { CALLBACK_KINDS, type AnalysisResult, type CallbackKind } from '../common/model';
import type { CsvTable } from '../core/report/csv';

const COLUMNS: Array<[string, string]> = [
  ['kind', 'process-notify, thread-notify, image-load-notify, registry, bugcheck, …, system-thread'],
  ['slot', 'its index in the kernel array, or its place on the kernel list'],
  ['entry', 'the address of the array slot or of the list record (system-thread: the ETHREAD)'],
  ['routine', 'the address the kernel calls (system-thread: its StartAddress)'],
  ['owner', 'module+offset of the routine (empty: in no module)'],
  ['verdict', 'the routine judged as an IRP handler is'],
  ['target', 'where its first instructions jump (inline-patched)'],
  ['context', "the block's Context (Windows 7+ process notify: 0x2 for the Ex variant)"],
  ['component', 'bug-check callbacks: the Component name the driver gave; object callbacks: the altitude'],
  ['device', 'shutdown notifications: the device that gets IRP_MJ_SHUTDOWN'],
  ['tid', 'System threads: the thread id'],
  ['processor', 'IDT and GDT gates, timers: the processor whose table holds it'],
  ['period', 'timers: KTIMER.Period in ms (0: fires once)'],
];

export function callbacksTable(result: AnalysisResult): CsvTable {
  return {
    name: 'callbacks',
    about: 'one registered notify routine',
    columns: COLUMNS.map(([name, meaning]) => ({ name, meaning })),
    header: COLUMNS.map(([name]) => name),
    rows: result.callbacks.entries.map((c) => [
      c.kind,
      c.slot,
      c.entry,
      c.routine.address,
      c.owner ? `${c.owner}+${c.routine.offset}` : '',
      c.routine.verdict,
      c.routine.target ? `${c.routine.target.address} ${c.routine.target.module ?? ''}`.trim() : '',
      c.context,
      c.component,
      c.device,
      c.tid ?? null,
      c.processor ?? null,
      c.period ?? null,
    ]),
  };
}

/** The summary's words per kind: short, as the count line says them. */
const SHORT: Record<CallbackKind, string> = {
  'process-notify': 'process',
  'thread-notify': 'thread',
  'image-load-notify': 'image-load',
  registry: 'registry',
  bugcheck: 'bug-check',
  'bugcheck-reason': 'bug-check reason',
  shutdown: 'shutdown',
  'last-chance-shutdown': 'last-chance shutdown',
  'fs-registration': 'fs registration',
  'process-object': 'process object',
  'thread-object': 'thread object',
  'desktop-object': 'desktop object',
  'system-thread': 'System thread',
  idt: 'interrupt gate',
  gdt: 'GDT call gate',
  timer: 'timer',
};

function countOf(
  result: AnalysisResult,
  kinds: readonly CallbackKind[],
  words: (kind: CallbackKind) => string = (kind) => SHORT[kind],
): string {
  return kinds
    .map((kind) => {
      const head = result.callbacks.heads.find((h) => h.kind === kind);
      if (!head || head.coverage.state === 'unavailable') return `${words(kind)}: not available`;
      const count = result.callbacks.entries.filter((c) => c.kind === kind).length;
      return `${count} ${words(kind)}${head.coverage.state === 'partial' ? ' (partial)' : ''}`;
    })
    .join(', ');
}

const OBJECT_KINDS: readonly CallbackKind[] = ['process-object', 'thread-object', 'desktop-object'];

/** "object callbacks: 2 process, 1 thread, 0 desktop"; one phrase on a kernel that has none (before Vista SP1). */
function objectCallbacks(result: AnalysisResult): string {
  const heads = result.callbacks.heads.filter((h) => OBJECT_KINDS.includes(h.kind));
  const predates = (h: (typeof heads)[number]) =>
    h.coverage.state === 'unavailable' && h.coverage.missing.some((m) => m.includes('exist from'));
  if (heads.length > 0 && heads.every(predates)) return 'object callbacks: none before Windows Vista SP1';
  return `object callbacks: ${countOf(result, OBJECT_KINDS, (kind) => SHORT[kind].replace(' object', ''))}`;
}

/**
 * "8 System threads, 1 in no module", "17 timers with a DPC": the entries of a kind read apart, how
 * many start in no module; "(partial)" or "not available" as for the other kinds.
 */
function entriesInNoModule(result: AnalysisResult, kind: CallbackKind, noun: string, label: string): string {
  const head = result.callbacks.heads.find((h) => h.kind === kind);
  if (!head || head.coverage.state === 'unavailable') return `${label}: not available`;
  const entries = result.callbacks.entries.filter((c) => c.kind === kind);
  const orphans = entries.filter((c) => c.routine.verdict === 'no-module').length;
  const partial = head.coverage.state === 'partial' ? ' (partial)' : '';
  return `${entries.length} ${noun}${partial}${orphans > 0 ? `, ${orphans} in no module` : ''}`;
}

/** The kinds the summary says in words of their own. */
const OWN_WORDS: ReadonlySet<CallbackKind> = new Set([
  'system-thread',
  'idt',
  'gdt',
  'timer',
  ...OBJECT_KINDS,
]);

/** "512 interrupt gates, 0 GDT call gates on 2 processors"; "(partial)" or "not available" as for the others. */
function gates(result: AnalysisResult): string {
  const head = result.callbacks.heads.find((h) => h.kind === 'idt');
  if (!head || head.coverage.state === 'unavailable') return 'descriptor tables: not available';
  const of = (kind: CallbackKind) => result.callbacks.entries.filter((c) => c.kind === kind);
  const processors = new Set(of('idt').map((c) => c.processor)).size;
  const partial = result.callbacks.heads.some(
    (h) => (h.kind === 'idt' || h.kind === 'gdt') && h.coverage.state !== 'complete',
  );
  return `${of('idt').length} interrupt gates, ${of('gdt').length} GDT call gates on ${processors} processors${partial ? ' (partial)' : ''}`;
}

/**
 * "notify routines: 4 process, 1 thread, 1 image-load; callbacks: 1 registry, …; 8 System
 * threads"; a kind that could not be read says so.
 */
export function callbacksSummary(result: AnalysisResult): string {
  const notify = CALLBACK_KINDS.filter((k) => k.endsWith('-notify'));
  const others = CALLBACK_KINDS.filter((k) => !k.endsWith('-notify') && !OWN_WORDS.has(k));
  return `notify routines: ${countOf(result, notify)}; callbacks: ${countOf(result, others)}; ${objectCallbacks(result)}; ${entriesInNoModule(result, 'system-thread', 'System threads', 'System threads')}; ${entriesInNoModule(result, 'timer', 'timers with a DPC', 'timers')}; ${gates(result)}`;
}
