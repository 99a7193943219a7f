// A self-contained HTML report: no script, a Content-Security-Policy that forbids any, and every
// string from the image escaped (names are attacker-chosen; one builder image carries markup
// and control characters in a driver name on purpose). Printing it from Chromium gives the PDF.

import type { DiffResult } from '../../common/api';
import { SEVERITIES, severityRank } from '../../common/findings';
import type { AnalysisResult, Discovered, Handler } from '../../common/model';
import { escapeHtml } from './escape';

const SUSPICIOUS = new Set(['other-module', 'no-module', 'inline-patched']);

type Cell = string | number | boolean | null | undefined;

const text = (value: Cell): string =>
  value === null || value === undefined ? '—' : escapeHtml(String(value));

interface TableOptions {
  /** How many leading columns hold short keywords that must not wrap (id, severity, kind). */
  keywordColumns?: number;
  /** The column holding a severity, coloured by it. */
  severityColumn?: number;
  /** Columns of sentences, set in the body font. */
  proseColumns?: number[];
}

function table(header: string[], rows: Cell[][], options: TableOptions = {}): string {
  const classOf = (column: number, cell: Cell): string => {
    const classes = [
      column < (options.keywordColumns ?? 0) ? 'k' : '',
      column === options.severityColumn ? `sev-${escapeHtml(String(cell))}` : '',
      options.proseColumns?.includes(column) ? 'prose' : '',
    ].filter(Boolean);
    return classes.length ? ` class="${classes.join(' ')}"` : '';
  };
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell, i) => `<td${classOf(i, cell)}>${text(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function fact<T>(label: string, found: Discovered<T> | null, show: (value: T) => string): Cell[] {
  return [label, found ? show(found.value) : null, found?.method ?? 'not found'];
}

function handlerWhere(h: Handler): string {
  return h.module ? `${h.module}+${h.offset ?? '?'}` : 'no module';
}

const STYLE = `
body{font:13px/1.45 system-ui,sans-serif;margin:24px;color:#1b1f24}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ccd}
table{border-collapse:collapse;width:100%;margin:6px 0} th,td{border:1px solid #d5d8de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef0f4} td{font-family:ui-monospace,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
td.k{white-space:nowrap} td.prose{font-family:inherit;font-size:12px}
@page{size:A4 landscape;margin:10mm} @media print{body{margin:0} tr{break-inside:avoid} h2{break-after:avoid}}
.sev-critical{color:#a4001d;font-weight:700}.sev-high{color:#c2410c;font-weight:700}.sev-medium{color:#a16207}.sev-low{color:#1d4ed8}.sev-info{color:#555}
.muted{color:#666}.counts span{display:inline-block;margin-right:14px}
`;

export interface HtmlReportOptions {
  /** Shown in the title: the file name or the demo case's label. */
  label?: string;
  diff?: DiffResult;
  generatedBy?: string;
}

export function htmlReport(result: AnalysisResult, options: HtmlReportOptions = {}): string {
  const info = result.image;
  const label = options.label ?? info.path;
  const bySeverity = [...SEVERITIES]
    .reverse()
    .map((s) => [s, result.findings.filter((f) => f.severity === s).length] as const);
  const findings = [...result.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const driverName = (id: string): string => {
    const d = result.drivers.find((x) => x.id === id);
    return d?.name ?? d?.objectName ?? id;
  };
  const deviceName = new Map(result.devices.map((d) => [d.id, d.name ?? `(unnamed ${d.objectVa})`]));
  const hooked = result.drivers.flatMap((d) =>
    [...d.irp, ...d.fastIo, ...d.callbacks].filter((h) => SUSPICIOUS.has(h.verdict)).map((h) => ({ d, h })),
  );

  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>IRPscope report — ${text(label)}</title><style>${STYLE}</style></head><body>`);
  parts.push(`<h1>IRPscope report — ${text(label)}</h1>`);
  parts.push(
    `<p class="muted">${text(info.path)} · ${text(info.format.description)} · ${text(options.generatedBy ?? 'IRPscope')}</p>`,
  );
  parts.push(
    `<p class="counts">${bySeverity.map(([s, n]) => `<span class="sev-${s}">${n} ${s}</span>`).join('')}` +
      `<span>${result.drivers.length} drivers</span><span>${result.devices.length} devices</span><span>${result.modules.length} modules</span></p>`,
  );

  parts.push('<h2>Image</h2>');
  parts.push(
    table(
      ['fact', 'value', 'how it was found'],
      [
        ['format', info.format.description, info.format.id],
        ['architecture', `${info.arch ?? '?'} (${info.paging ?? '?'} paging)`, null],
        fact('build', info.build, (b) => `${b.name} (${b.number})`),
        fact('DTB', info.dtb, (v) => v),
        fact('kernel base', info.kernelBase, (v) => v),
        fact('KDBG', info.kdbg, (v) => `${v.va}${v.encoded ? ' (encoded)' : ''}`),
        fact('PsLoadedModuleList', info.psLoadedModuleList, (v) => v),
        fact('object root directory', info.objectRootDirectory, (v) => v),
        [
          'structure layouts',
          info.profile ? `${info.profile.source}: ${info.profile.name}` : null,
          info.profile?.path ?? null,
        ],
      ],
    ),
  );

  parts.push(`<h2>Findings (${findings.length})</h2>`);
  parts.push(
    findings.length === 0
      ? '<p>No findings.</p>'
      : table(
          ['id', 'severity', 'kind', 'subject', 'explanation', 'evidence'],
          findings.map((f) => [
            f.id,
            f.severity,
            f.kind,
            f.subject,
            f.explanation,
            [
              ...(f.evidence.handlers ?? []).map(
                (h) => `${h.name} → ${h.address} (${h.module ?? 'no module'}, ${h.verdict})`,
              ),
              ...(f.evidence.addresses && !f.evidence.handlers ? [f.evidence.addresses.join(' ')] : []),
              ...(f.evidence.disassembly ? f.evidence.disassembly.instructions : []),
              f.evidence.detail ?? '',
            ]
              .filter(Boolean)
              .join(' · '),
          ]),
          { keywordColumns: 3, severityColumn: 1, proseColumns: [4] },
        ),
  );

  parts.push(`<h2>Suspicious handlers (${hooked.length})</h2>`);
  parts.push(
    table(
      ['driver', 'entry', 'handler', 'module+offset', 'verdict', 'patch target', 'first instructions'],
      hooked.map(({ d, h }) => [
        d.name ?? driverName(d.id),
        h.name,
        h.address,
        handlerWhere(h),
        h.verdict,
        h.target ? `${h.target.address} (${h.target.module ?? 'no module'})` : null,
        h.disassembly?.instructions.join(' ; ') ?? null,
      ]),
    ),
  );

  if (options.diff) {
    const diff = options.diff;
    parts.push(
      `<h2>Compared with baseline ${text(diff.baseline)} (${diff.counts.differences} differences, ${diff.counts.variations} variations between boots)</h2>`,
    );
    for (const warning of diff.compatibility.warnings) parts.push(`<p class="muted">${text(warning)}</p>`);
    if (diff.compatibility.unrelated) parts.push(`<p>${text(diff.compatibility.unrelated)}</p>`);
    else
      parts.push(
        table(
          ['severity', 'change', 'what', 'difference', 'why', 'details', 'paired by'],
          diff.entries.map((e) => [
            e.variation ? 'variation' : e.severity,
            `${e.kind} ${e.change}`,
            e.key,
            e.summary,
            e.why,
            e.changes.map((c) => `${c.what}: ${c.baseline ?? '—'} → ${c.primary ?? '—'}`).join(' · '),
            e.matchedBy.join('; '),
          ]),
          { keywordColumns: 2, severityColumn: 0, proseColumns: [3, 4] },
        ),
      );
  }

  parts.push(`<h2>Drivers (${result.drivers.length})</h2>`);
  parts.push(
    table(
      ['name', 'object', 'start', 'size', 'module', 'found by', 'devices', 'state'],
      result.drivers.map((d) => [
        d.name ?? `(${d.nameStatus ?? 'unreadable name'})`,
        d.objectVa,
        d.start,
        d.size,
        d.module,
        d.foundBy.join(', '),
        d.devices.length,
        d.state,
      ]),
    ),
  );
  parts.push(`<h2>Devices (${result.devices.length})</h2>`);
  parts.push(
    table(
      ['name', 'object', 'driver', 'type', 'stack (top → bottom)', 'links'],
      result.devices.map((d) => [
        d.name ?? '(unnamed)',
        d.objectVa,
        d.driverName ?? driverName(d.driver),
        d.typeName,
        [...d.stack]
          .reverse()
          .map((id) => deviceName.get(id) ?? id)
          .join(' → '),
        d.links.join(', '),
      ]),
    ),
  );
  parts.push(`<h2>Modules (${result.modules.length})</h2>`);
  parts.push(
    table(
      ['name', 'base', 'size', 'path', 'found by', 'unlinked'],
      result.modules.map((m) => [
        m.name,
        m.base,
        m.size,
        m.path,
        m.foundBy.join(', '),
        m.unlinked ? 'yes' : '',
      ]),
    ),
  );
  parts.push(`<h2>Symbolic links (${result.links.length})</h2>`);
  parts.push(
    table(
      ['name', 'target'],
      result.links.map((l) => [l.name, l.target]),
    ),
  );
  parts.push('</body></html>\n');
  return parts.join('\n');
}
