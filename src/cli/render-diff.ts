// `irpscope diff` as text: the two images, then each difference (most severe first) with what
// changed, why it matters and the facts that paired the two sides, then the boot-to-boot
// variation that is not counted. Image strings are shown with control characters made visible.

import { pairingLine, unknownLine } from '../common/pairing';
import type { DiffChange, DiffEntry, DiffResult } from '../common/api';
import type { Severity } from '../common/findings';
import { visibleText } from '../common/visible-text';
import { terminalText } from './terminal-text';

const WIDTH = 48;
/** "callback removed", the longest kind and change an entry has. */
const CHANGE_WIDTH = 16;

function clip(text: string, width = WIDTH): string {
  const visible = visibleText(text);
  return visible.length > width ? `${visible.slice(0, width - 1)}…` : visible;
}

function changeLine(change: DiffChange): string {
  return `      ${clip(change.what, 34).padEnd(34)}  ${clip(change.baseline ?? '—', 44).padEnd(44)}  → ${clip(change.primary ?? '—', 60)}`;
}

function entryLines(entry: DiffEntry): string[] {
  const lines = [
    `${entry.severity.toUpperCase().padEnd(8)}  ${`${entry.kind} ${entry.change}`.padEnd(CHANGE_WIDTH)}  ${visibleText(entry.key)}`,
  ];
  // A changed object's rows below say what changed; an added or removed one needs its sentence.
  if (entry.change !== 'changed' || entry.changes.length === 0)
    lines.push(`      ${visibleText(entry.summary)}`);
  if (entry.why) lines.push(`      why: ${visibleText(entry.why)}`);
  if (entry.matchedBy.length) lines.push(`      paired by: ${pairingLine(entry.matchedBy)}`);
  if (entry.unknown.length) lines.push(`      unknown: ${unknownLine(entry.unknown)}`);
  const findings = [
    ...entry.findings.added.map((f) => `+${f}`),
    ...entry.findings.removed.map((f) => `-${f}`),
  ];
  if (findings.length) lines.push(`      findings: ${findings.join(' ')}`);
  const shown = entry.changes.slice(0, 12);
  lines.push(...shown.map(changeLine));
  if (entry.changes.length > shown.length)
    lines.push(`      … and ${entry.changes.length - shown.length} more`);
  return lines;
}

export function renderDiff(diff: DiffResult): string {
  const c = diff.compatibility;
  const out = [
    `baseline  ${visibleText(diff.baseline)}  ${c.baselineBuild}`,
    `image     ${visibleText(diff.primary)}  ${c.primaryBuild}`,
    `drivers   ${diff.counts.drivers.baseline} in the baseline, ${diff.counts.drivers.primary} in this image, ${diff.counts.drivers.matched} paired`,
    ...c.warnings.map((w) => `warning: ${w}`),
    '',
  ];
  if (c.unrelated) return terminalText(`${[...out, c.unrelated].join('\n')}\n`);
  const differences = diff.entries.filter((e) => e.variation === null);
  const variations = diff.entries.filter((e) => e.variation !== null);
  const severities = (Object.entries(diff.counts.bySeverity) as Array<[Severity, number]>)
    .filter(([, n]) => n > 0)
    .reverse()
    .map(([s, n]) => `${n} ${s}`);
  out.push(
    differences.length === 0
      ? 'No differences.'
      : `${differences.length} difference${differences.length === 1 ? '' : 's'} (${severities.join(', ')}):`,
  );
  for (const entry of differences) out.push('', ...entryLines(entry));
  if (variations.length) {
    out.push('', `Between boots, not counted (${variations.length}):`);
    for (const entry of variations)
      out.push(
        `  ${`${entry.kind} ${entry.change}`.padEnd(CHANGE_WIDTH)}  ${clip(entry.key)}  ${visibleText(entry.summary)}`,
      );
  }
  // Build names, warnings and finding ids too, whatever the fields above escaped themselves.
  return terminalText(`${out.join('\n')}\n`);
}

/** diff(1)'s convention: 0 when the image matches its baseline, 1 when it does not. */
export function diffExitCode(diff: DiffResult): 0 | 1 {
  return diff.compatibility.unrelated !== null || diff.counts.differences > 0 ? 1 : 0;
}
