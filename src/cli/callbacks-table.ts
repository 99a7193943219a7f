// `irpscope analyze --table callbacks`, and the summary's line on them: every notify routine with
// its array slot, routine, owner and verdict; each kind's head with the route that found it.

import { CALLBACK_LABELS } from '../common/callback-labels';
import { CALLBACK_KINDS, type AnalysisResult } from '../common/model';
import type { CsvTable } from '../core/report/csv';

const COLUMNS: Array<[string, string]> = [
  ['kind', 'process-notify, thread-notify or image-load-notify'],
  ['slot', 'its index in the kernel array'],
  ['entry', 'the address of the array slot'],
  ['routine', 'the address the kernel calls'],
  ['owner', 'module+offset of the routine (empty: in no module)'],
  ['verdict', 'the routine judged as an IRP handler is'],
  ['target', 'where its first instructions jump (inline-patched)'],
  ['context', "the block's Context (Windows 7+ process notify: 0x2 for the Ex variant)"],
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
    ]),
  };
}

/** "notify routines: 4 process, 1 thread, 1 image-load"; a kind that could not be read says so. */
export function callbacksSummary(result: AnalysisResult): string {
  const parts = CALLBACK_KINDS.map((kind) => {
    const head = result.callbacks.heads.find((h) => h.kind === kind);
    const label = CALLBACK_LABELS[kind].replace(/ notify$/, '');
    if (!head || head.coverage.state === 'unavailable') return `${label}: not available`;
    const count = result.callbacks.entries.filter((c) => c.kind === kind).length;
    return `${count} ${label}${head.coverage.state === 'partial' ? ' (partial)' : ''}`;
  });
  return `notify routines: ${parts.join(', ')}`;
}
