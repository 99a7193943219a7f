// A self-contained HTML report: no script, a Content-Security-Policy that forbids any, and every
// string from the image escaped (names are attacker-chosen; one builder image carries markup
// and control characters in a driver name on purpose). Printing it from Chromium gives the PDF.

import { pairingText, unknownText } from '../../common/pairing';
import type { Annotation, DiffResult, UserOperation } from '../../common/api';
import { countPhrase, countsOf, coverageReasons, findingsHeadline } from '../../common/counts';
import { isSuspiciousVerdict, SEVERITIES, severityRank } from '../../common/findings';
import { OPERATIONS, USER_OPERATIONS, buildFlow, displayDeviceName } from '../../common/flow';
import type { AnalysisResult, Discovered, Disassembly, Driver, Finding, Handler } from '../../common/model';
import {
  TIME_ZONE,
  hashStatement,
  marks,
  reportTime,
  windowsBuild,
  type ReportBaseline,
  type ReportCase,
} from './case';
import { escapeHtml, visibleText } from './escape';
import { flowSvg } from './flow-svg';

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
      // Keywords, and short words (addresses, numbers, file names), which must not break inside;
      // a long unbroken string (a hostile name) still wraps anywhere rather than widen the page.
      column < (options.keywordColumns ?? 0) || /^\S{1,28}$/.test(String(cell ?? '')) ? 'k' : '',
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

/**
 * A CSS string literal of untrusted text (the page header repeats the image's name): quotes and
 * backslashes escaped, and < as \3c so that no "</style>" can end the style element.
 */
function cssString(value: string): string {
  return `"${visibleText(value)
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/</g, '\\3c ')}"`;
}

function style(header: string): string {
  return `
body{font:13px/1.45 system-ui,sans-serif;margin:24px;color:#1b1f24}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ccd} h3{font-size:14px;margin:16px 0 4px}
table{border-collapse:collapse;width:100%;margin:6px 0} th,td{border:1px solid #d5d8de;padding:3px 6px;text-align:left;vertical-align:top}
thead{display:table-header-group} th{background:#eef0f4} td{font-family:ui-monospace,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
td.k{white-space:nowrap} td.prose{font-family:inherit;font-size:12px}
table.case td:first-child{width:150px;font-family:inherit;color:#4b5563} table.case td{font-size:12.5px}
.finding{border:1px solid #d5d8de;border-left:4px solid #9ca3af;border-radius:4px;padding:8px 12px;margin:10px 0;break-inside:avoid}
.finding.sev-border-critical{border-left-color:#a4001d}.finding.sev-border-high{border-left-color:#c2410c}.finding.sev-border-medium{border-left-color:#a16207}.finding.sev-border-low{border-left-color:#1d4ed8}
.finding h3{margin:0 0 4px} .finding p{margin:4px 0}
pre{font:12px/1.4 ui-monospace,Consolas,monospace;background:#f6f7f9;border:1px solid #e2e5ea;padding:6px 8px;margin:4px 0;white-space:pre-wrap;overflow-wrap:anywhere}
.bytes{letter-spacing:0.3px}
.note{background:#fff8e1;border:1px solid #f1d98a;border-radius:4px;padding:4px 8px;margin:4px 0}
.status{font-weight:700;text-transform:uppercase;font-size:11px;letter-spacing:0.4px}
.status-suspicious{color:#a4001d}.status-benign{color:#166534}.status-to-check{color:#a16207}
figure{margin:10px 0 18px;break-inside:avoid} figcaption{font-size:12px;color:#4b5563;margin-bottom:4px} svg.flow{max-width:100%;max-height:165mm;width:auto;height:auto}
@page{size:A4 landscape;margin:16mm 10mm 14mm;
 @top-left{content:${header};font:10px system-ui,sans-serif;color:#555}
 @bottom-left{content:"IRPscope report";font:10px system-ui,sans-serif;color:#777}
 @bottom-right{content:"Page " counter(page) " of " counter(pages);font:10px system-ui,sans-serif;color:#555}}
@media print{body{margin:0} tr{break-inside:avoid} h2,h3{break-after:avoid}}
.sev-critical{color:#a4001d;font-weight:700}.sev-high{color:#c2410c;font-weight:700}.sev-medium{color:#a16207}.sev-low{color:#1d4ed8}.sev-info{color:#555}
.muted{color:#666}.counts span{display:inline-block;margin-right:14px}
.difference{border:1px solid #d5d8de;border-left:4px solid #9ca3af;border-radius:4px;padding:6px 12px;margin:8px 0;break-inside:avoid}
.difference h3{margin:0 0 2px;font-size:13.5px} .difference p{margin:3px 0}
table.changes td:first-child{width:22%} table.changes td{width:39%}
`;
}

export type { ReportCase };

export interface HtmlReportOptions {
  /** Shown in the title: the file name or the demo case's label. */
  label?: string;
  diff?: DiffResult;
  generatedBy?: string;
  /** When the report was made (ISO time); given by the caller so that output stays deterministic. */
  generatedAt?: string;
  case?: ReportCase;
}

const STATUS_LABELS: Record<string, string> = {
  suspicious: 'suspicious',
  benign: 'benign',
  'to-check': 'to check',
};

function annotationHtml(annotation: Annotation | undefined): string {
  if (!annotation) return '';
  const status = annotation.status
    ? `<span class="status status-${annotation.status}">${escapeHtml(STATUS_LABELS[annotation.status] ?? annotation.status)}</span> `
    : '';
  return `<div class="note">Analyst: ${status}${text(annotation.note || '')}</div>`;
}

function annotationCell(annotation: Annotation | undefined): string | null {
  if (!annotation) return null;
  return [annotation.status ? STATUS_LABELS[annotation.status] : null, annotation.note || null]
    .filter(Boolean)
    .join(': ');
}

/** "48 8b c4 48 89 58 08" from "488bc4489858 08": the bytes of an evidence read, spaced. */
function spacedBytes(hex: string): string {
  return (hex.replace(/\s+/g, '').match(/../g) ?? []).join(' ');
}

/** The handlers a finding names, with their offsets and disassembly from the driver's tables. */
function findingHandlers(
  result: AnalysisResult,
  finding: Finding,
): Array<{ driver: Driver | null; table: string; h: Handler }> {
  const driver =
    result.drivers.find((d) => d.id === finding.evidence.driver || d.objectVa === finding.evidence.driver) ??
    null;
  const out: Array<{ driver: Driver | null; table: string; h: Handler }> = [];
  for (const named of finding.evidence.handlers ?? []) {
    const tables = driver
      ? ([
          ['irp', driver.irp],
          ['fastIo', driver.fastIo],
          ['callbacks', driver.callbacks],
        ] as const)
      : finding.kind.startsWith('ssdt')
        ? ([['ssdt', result.serviceTable?.entries ?? []]] as const)
        : [];
    const found = tables.flatMap(([table, list]) =>
      list.filter((h) => h.name === named.name && h.address === named.address).map((h) => ({ table, h })),
    )[0];
    out.push(
      found
        ? { driver, ...found }
        : {
            driver,
            table: 'irp',
            h: {
              index: -1,
              name: named.name,
              address: named.address,
              module: named.module,
              offset: null,
              symbol: null,
              verdict: named.verdict,
            },
          },
    );
  }
  return out;
}

/**
 * The code a finding shows, each read once: the named handlers' reads, and the evidence's own read
 * first. The evidence's read is usually one of the handlers' as an equal object but not the same
 * one (a result that crossed JSON or a worker boundary), so reads are told apart by what they hold,
 * and a handler's read keeps its own address.
 */
function findingDisassemblies(
  finding: Finding,
  handlers: Array<{ h: Handler }>,
): Array<{ at: string; d: Disassembly }> {
  const content = (d: Disassembly) => `${d.bytes.replace(/\s+/g, '')}|${d.instructions.join('\n')}`;
  const seen = new Set<string>();
  const reads = handlers.flatMap(({ h }) => {
    const key = h.disassembly ? `${h.address}|${content(h.disassembly)}` : null;
    if (!key || seen.has(key)) return [];
    seen.add(key);
    return [{ at: h.address, d: h.disassembly! }];
  });
  const evidence = finding.evidence.disassembly;
  if (!evidence) return reads;
  const same = reads.findIndex(({ d }) => content(d) === content(evidence));
  if (same >= 0) return [reads[same]!, ...reads.filter((_, i) => i !== same)];
  return [{ at: finding.evidence.handlers?.[0]?.address ?? '', d: evidence }, ...reads];
}

/** The device and operation whose request path shows a finding best, if it has a device. */
function findingFlow(
  result: AnalysisResult,
  finding: Finding,
): { device: string; operation: UserOperation } | null {
  const driver = result.drivers.find(
    (d) => d.id === finding.evidence.driver || d.objectVa === finding.evidence.driver,
  );
  // The device the finding is about by name (a filter's victim), else its evidence, else a named device of its driver.
  const subject = finding.subject.toLowerCase();
  const device =
    result.devices.find((d) => d.name?.toLowerCase() === subject) ??
    result.devices.find((d) => d.id === finding.evidence.device || d.objectVa === finding.evidence.device) ??
    (driver ? result.devices.find((d) => d.driver === driver.id && (d.name || d.links.length)) : undefined);
  if (!device) return null;
  const majors = new Set((finding.evidence.handlers ?? []).map((h) => h.name));
  // A filter on someone else's stack sees what the stack is read for (keystrokes, for a keyboard).
  const operation =
    USER_OPERATIONS.find((op) => majors.has(OPERATIONS[op].majorName)) ??
    (finding.kind === 'foreign-filter' ? 'ReadFile' : 'DeviceIoControl');
  return { device: device.id, operation };
}

/** The baseline as the report can name it: the case's record of its file, else the comparison's label. */
function baselineOf(options: HtmlReportOptions): ReportBaseline | null {
  if (options.case?.baseline) return options.case.baseline;
  const diff = options.diff;
  if (!diff) return null;
  return {
    path: diff.baseline,
    size: Number.NaN,
    sha256: null,
    sha256ComputedAt: null,
    sha256State: null,
    sha256VerifiedAt: null,
    build: diff.compatibility.baselineBuild,
    analyzedAt: null,
  };
}

const bytes = (size: number): string | null =>
  Number.isFinite(size) ? `${size.toLocaleString('en')} byte${size === 1 ? '' : 's'}` : null;

/** The case header's rows: the image, its baseline, the tool, the times and the analyst. */
function caseFacts(result: AnalysisResult, options: HtmlReportOptions): Array<[string, Cell]> {
  const info = result.image;
  const c = options.case;
  const baseline = baselineOf(options);
  return [
    ['Image', c?.imagePath ?? info.path],
    ['Size', bytes(c?.imageSize ?? info.fileSize)],
    ['SHA-256', c ? hashStatement(c) : 'not computed'],
    ['Format', info.format.description],
    ['Windows', windowsBuild(info) ?? 'not identified'],
    ['Analysed', reportTime(c?.analyzedAt)],
    ...(baseline
      ? ([
          ['Baseline', baseline.path],
          ['Baseline size', bytes(baseline.size)],
          ['Baseline SHA-256', hashStatement(baseline)],
          ['Baseline Windows', baseline.build ?? 'not identified'],
          ['Baseline analysed', reportTime(baseline.analyzedAt)],
        ] satisfies Array<[string, Cell]>)
      : []),
    ['Tool', options.generatedBy ?? 'IRPscope'],
    ['Report made', reportTime(options.generatedAt)],
    ['Times', `${TIME_ZONE} (Coordinated Universal Time), every time in this report`],
    ['Analyst', c?.analyst || null],
    ['Case notes', c?.note || null],
  ];
}

export function htmlReport(result: AnalysisResult, options: HtmlReportOptions = {}): string {
  const info = result.image;
  const label = options.label ?? info.path;
  const notes = options.case?.annotations ?? {};
  const noted = (prefix: string) => Object.keys(notes).some((k) => k.startsWith(prefix));
  /** The analyst column, only in tables where the analyst annotated something. */
  const withNotes = <T>(
    prefix: string,
    header: string[],
    rows: T[],
    cells: (row: T) => Cell[],
    note: (row: T) => string,
  ) =>
    noted(prefix)
      ? {
          header: [...header, 'analyst'],
          rows: rows.map((r) => [...cells(r), annotationCell(notes[note(r)])]),
        }
      : { header, rows: rows.map(cells) };
  const bySeverity = [...SEVERITIES]
    .reverse()
    .map((s) => [s, result.findings.filter((f) => f.severity === s).length] as const);
  const findings = [...result.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const n = countsOf(result);
  const driverName = (id: string): string => {
    const d = result.drivers.find((x) => x.id === id);
    return d?.name ?? d?.objectName ?? id;
  };
  const deviceName = new Map(result.devices.map((d) => [d.id, d.name ?? `(unnamed ${d.objectVa})`]));
  const hooked = result.drivers.flatMap((d) =>
    (
      [
        ['irp', d.irp],
        ['fastIo', d.fastIo],
        ['callbacks', d.callbacks],
      ] as const
    ).flatMap(([table, list]) =>
      list.filter((h) => isSuspiciousVerdict(h.verdict)).map((h) => ({ d, table, h })),
    ),
  );

  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>IRPscope report — ${text(label)}</title><style>${style(cssString(`IRPscope report — ${label}`))}</style></head><body>`);
  parts.push(`<h1>IRPscope report — ${text(label)}</h1>`);

  // The case: what was examined, by whom, with what.
  parts.push(
    `<table class="case"><tbody>${caseFacts(result, options)
      .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${text(v)}</td></tr>`)
      .join('')}</tbody></table>`,
  );
  parts.push(
    `<p class="counts">${bySeverity.map(([s, n]) => `<span class="sev-${s}">${n} ${s}</span>`).join('')}` +
      [
        countPhrase(n.drivers, 'drivers', result.coverage.drivers, `+${n.unloadedDrivers} unloaded`),
        countPhrase(n.devices, 'devices', result.coverage.devices),
        countPhrase(n.modules, 'modules', result.coverage.modules),
        countPhrase(n.processes, 'processes', result.coverage.processes),
        countPhrase(n.irps, 'irps', result.coverage.irps),
      ]
        .map((phrase) => `<span>${escapeHtml(phrase)}</span>`)
        .join('') +
      '</p>',
  );
  const gaps = coverageReasons(result);
  if (gaps.length)
    parts.push(
      `<ul class="coverage">${gaps
        .map(
          (g) =>
            `<li><b>${escapeHtml(g.parts.join(', '))}</b> ${g.state === 'partial' ? 'partial' : 'not available'}: ${text(g.reason)}</li>`,
        )
        .join('')}</ul>`,
    );

  // Findings, most severe first, each with its evidence.
  parts.push(`<h2>Findings (${findings.length})</h2>`);
  if (findings.length === 0 || result.coverage.findings.state !== 'complete')
    parts.push(`<p>${text(findingsHeadline(result))}</p>`);
  const flows = new Map<string, { device: string; operation: UserOperation; findings: string[] }>();
  for (const f of findings) {
    parts.push(`<section class="finding sev-border-${escapeHtml(f.severity)}">`);
    parts.push(
      `<h3><span class="sev-${escapeHtml(f.severity)}">${escapeHtml(f.severity.toUpperCase())}</span> ${escapeHtml(f.id)} · ${escapeHtml(f.kind)} · ${text(f.subject)}</h3>`,
    );
    parts.push(`<p>${text(f.explanation)}</p>`);
    parts.push(annotationHtml(notes[`finding:${f.id}`]));
    const handlers = findingHandlers(result, f);
    if (handlers.length)
      parts.push(
        table(
          ['entry', 'handler', 'module+offset', 'verdict', 'patch target'],
          handlers.map(({ h }) => [
            h.name,
            h.address,
            handlerWhere(h),
            h.verdict,
            h.target ? `${h.target.address} (${h.target.module ?? 'no module'})` : null,
          ]),
          { keywordColumns: 1 },
        ),
      );
    const addresses = f.evidence.addresses?.filter((a) => !handlers.some(({ h }) => h.address === a)) ?? [];
    if (addresses.length) parts.push(`<p>Addresses: <code>${text(addresses.join('  '))}</code></p>`);
    if (f.evidence.modules?.length) parts.push(`<p>Modules: ${text(f.evidence.modules.join(', '))}</p>`);
    for (const { at, d } of findingDisassemblies(f, handlers).slice(0, 4)) {
      parts.push(
        `<p class="muted">Bytes at ${text(at)}:</p><pre class="bytes">${text(spacedBytes(d.bytes))}</pre>`,
      );
      if (d.instructions.length)
        parts.push(`<pre>${d.instructions.map((line) => text(line)).join('\n')}</pre>`);
    }
    if (f.evidence.detail) parts.push(`<p class="muted">${text(f.evidence.detail)}</p>`);
    const flow = findingFlow(result, f);
    if (flow) {
      const key = `${flow.device}|${flow.operation}`;
      const entry = flows.get(key) ?? { ...flow, findings: [] };
      entry.findings.push(f.id);
      flows.set(key, entry);
      parts.push(
        `<p class="muted">Request path: see “${escapeHtml(flow.operation)} on ${text(deviceName.get(flow.device) ?? flow.device)}” below.</p>`,
      );
    }
    parts.push('</section>');
  }

  if (flows.size) {
    parts.push(`<h2>Request paths of the devices with findings (${flows.size})</h2>`);
    let index = 0;
    for (const flow of [...flows.values()].slice(0, 16)) {
      const device = result.devices.find((d) => d.id === flow.device)!;
      let graph;
      try {
        graph = buildFlow(result, flow.device, flow.operation);
      } catch {
        continue;
      }
      const title = `${flow.operation} on ${displayDeviceName(device)}`;
      parts.push(
        `<figure><figcaption>${text(title)} — findings ${escapeHtml(flow.findings.join(', '))}</figcaption>${flowSvg(graph, { title, id: `f${index++}` })}</figure>`,
      );
    }
  }

  if (options.diff) {
    const diff = options.diff;
    parts.push(
      `<h2>Compared with baseline ${text(diff.baseline)} (${diff.counts.differences} differences, ${diff.counts.variations} variations between boots)</h2>`,
    );
    for (const warning of diff.compatibility.warnings) parts.push(`<p class="muted">${text(warning)}</p>`);
    if (diff.compatibility.unrelated) parts.push(`<p>${text(diff.compatibility.unrelated)}</p>`);
    else {
      for (const e of diff.entries.filter((x) => !x.variation)) {
        parts.push(`<section class="difference finding sev-border-${escapeHtml(e.severity)}">`);
        parts.push(
          `<h3><span class="sev-${escapeHtml(e.severity)}">${escapeHtml(e.severity.toUpperCase())}</span> ${escapeHtml(`${e.kind} ${e.change}`)} · ${text(e.key)}</h3>`,
        );
        parts.push(`<p>${text(e.summary)}</p>`);
        if (e.why && e.why !== e.summary) parts.push(`<p class="muted">Why it matters: ${text(e.why)}</p>`);
        if (e.matchedBy.length)
          parts.push(`<p class="muted">Paired by: ${text(e.matchedBy.map(pairingText).join('; '))}</p>`);
        if (e.unknown.length)
          parts.push(
            `<p class="muted">Unknown on one side: ${text(e.unknown.map(unknownText).join('; '))}</p>`,
          );
        if (e.changes.length)
          parts.push(
            table(
              ['what', 'baseline', 'this image'],
              e.changes.map((ch) => [ch.what, ch.baseline, ch.primary]),
            ).replace('<table>', '<table class="changes">'),
          );
        parts.push('</section>');
      }
      const variations = diff.entries.filter((x) => x.variation);
      if (variations.length) {
        parts.push(`<h3>Variation between boots (${variations.length}, not counted as differences)</h3>`);
        parts.push(
          table(
            ['kind', 'what', 'difference', 'why it is variation'],
            variations.map((e) => [`${e.kind} ${e.change}`, e.key, e.summary, e.variation]),
            { keywordColumns: 1, proseColumns: [2, 3] },
          ),
        );
      }
    }
  }

  parts.push(`<h2>Suspicious handlers (${hooked.length})</h2>`);
  const handlerTable = withNotes(
    'handler:',
    ['driver', 'entry', 'handler', 'module+offset', 'verdict', 'patch target', 'first instructions'],
    hooked,
    ({ d, h }) => [
      d.name ?? driverName(d.id),
      h.name,
      h.address,
      handlerWhere(h),
      h.verdict,
      h.target ? `${h.target.address} (${h.target.module ?? 'no module'})` : null,
      h.disassembly?.instructions.join(' ; ') ?? null,
    ],
    ({ d, table: list, h }) => `handler:${d.objectVa}:${list}:${h.name}`,
  );
  parts.push(table(handlerTable.header, handlerTable.rows));

  parts.push(`<h2>IRPs in flight (${result.irps.length})</h2>`);
  parts.push(
    table(
      [
        'IRP',
        'issued by',
        'function',
        'stack locations in use (top → where it waits)',
        'completion routines',
      ],
      result.irps.map((irp) => [
        irp.address,
        `${irp.processName ?? '?'} (PID ${irp.pid ?? '?'}, thread ${irp.tid ?? '?'})`,
        irp.majorName,
        irp.stack
          .map((s) => `#${s.index} ${s.deviceName ?? s.device ?? '?'} (${s.driverName ?? s.driver ?? '?'})`)
          .join(' → '),
        irp.stack
          .filter((s) => s.completion)
          .map((s) => `#${s.index} ${handlerWhere(s.completion!)} [${s.completion!.verdict}]`)
          .join('; ') || null,
      ]),
    ),
  );
  parts.push(`<h2>Processes (${result.processes.length})</h2>`);
  parts.push(
    table(
      ['PID', 'name', 'parent', 'EPROCESS', 'threads', 'found by', 'hidden'],
      result.processes.map((p) => [
        p.pid,
        p.name,
        p.parentPid,
        p.objectVa,
        p.threads.length,
        p.foundBy.join(', '),
        p.hidden ? 'HIDDEN' : '',
      ]),
    ),
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
  if (info.warnings.length)
    parts.push(`<h3>Warnings</h3><ul>${info.warnings.map((w) => `<li>${text(w)}</li>`).join('')}</ul>`);

  parts.push(`<h2>Drivers (${n.drivers} loaded, ${n.unloadedDrivers} unloaded)</h2>`);
  const driverTable = withNotes(
    'driver:',
    ['name', 'object', 'start', 'size', 'module', 'found by', 'devices', 'state'],
    result.drivers,
    (d) => [
      d.name ?? `(${d.nameStatus ?? 'unreadable name'})`,
      d.objectVa,
      d.start,
      d.size,
      d.module,
      d.foundBy.join(', '),
      d.devices.length,
      d.state,
    ],
    (d) => `driver:${d.objectVa}`,
  );
  parts.push(table(driverTable.header, driverTable.rows));
  parts.push(`<h2>Devices (${result.devices.length})</h2>`);
  const deviceTable = withNotes(
    'device:',
    ['name', 'object', 'driver', 'type', 'stack (top → bottom)', 'links'],
    result.devices,
    (d) => [
      d.name ?? '(unnamed)',
      d.objectVa,
      d.driverName ?? driverName(d.driver),
      d.typeName,
      [...d.stack]
        .reverse()
        .map((id) => deviceName.get(id) ?? id)
        .join(' → '),
      d.links.join(', '),
    ],
    (d) => `device:${d.objectVa}`,
  );
  parts.push(table(deviceTable.header, deviceTable.rows));
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
  const extractions = options.case?.extractions ?? [];
  if (extractions.length) {
    parts.push(`<h2>Extracted images (${extractions.length})</h2>`);
    parts.push(
      table(
        [
          'image',
          'base',
          'file',
          'layout',
          'bytes',
          'pages not in memory',
          'SHA-256 of the file as saved',
          'saved',
        ],
        extractions.map((e) => [
          e.label,
          e.base,
          e.fileName,
          e.layout === 'pe' ? 'PE, sections at file alignment' : 'raw memory (no PE headers)',
          e.size.toLocaleString('en'),
          `${e.missingPages} of ${e.pages}`,
          e.sha256,
          reportTime(e.at),
        ]),
      ),
    );
  }
  const marked = marks(result, notes);
  if (marked.length) {
    parts.push(`<h2>Analyst notes (${marked.length})</h2>`);
    parts.push(
      table(
        ['kind', 'on', 'address', 'status', 'note', 'when'],
        marked.map(({ subject, annotation: a }) => [
          subject.kind,
          subject.name,
          subject.address,
          a.status ? STATUS_LABELS[a.status] : null,
          a.note,
          reportTime(a.updatedAt),
        ]),
        { keywordColumns: 1, proseColumns: [4] },
      ),
    );
  }
  parts.push('</body></html>\n');
  return parts.join('\n');
}
