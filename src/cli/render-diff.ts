// `irpscope diff` as text: the changes from the baseline, most severe first, in one aligned table.

import type { DiffResult } from '../common/api';
import { renderTable } from './render-analysis';

export function renderDiff(diff: DiffResult): string {
  const head = `baseline ${diff.baseline}\nimage    ${diff.primary}\n\n`;
  if (diff.entries.length === 0) return `${head}No differences.\n`;
  const table = {
    name: 'diff',
    header: ['severity', 'kind', 'change', 'what', 'baseline', 'this image'],
    rows: diff.entries.map((e) => [e.severity, e.kind, e.change, e.key, e.baseline ?? '—', e.primary ?? '—']),
  };
  return `${head}${renderTable(table, 48)}\n${diff.entries.length} differences\n`;
}
