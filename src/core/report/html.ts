// A self-contained HTML report: no script, a Content-Security-Policy that forbids any, and every
// string from the image escaped (names are attacker-chosen; one builder image carries markup
// and control characters in a driver name on purpose). Printing it from Chromium gives the PDF.

import { pairingText, unknownText } from '../../common/pairing';
import type { Annotation, DiffEntry, DiffResult, UserOperation } from '../../common/api';
import { countPhrase, countsOf, coverageReasons, findingsHeadline } from '../../common/counts';
import { CALLBACK_LABELS } from '../../common/callback-labels';
import { isSuspiciousVerdict, SEVERITIES, severityRank } from '../../common/findings';
import { OPERATIONS, USER_OPERATIONS, buildFlow, displayDeviceName } from '../../common/flow';
import type {
  AnalysisResult,
  CallbackHead,
  Discovered,
  Disassembly,
  Driver,
  Finding,
  Handler,
} from '../../common/model';
import {
  TIME_ZONE,
  driverHandlers,
  hashStatement,
  marks,
  reportBaseline,
  reportTime,
  statusWord,
  windowsBuild,
  type ReportBaseline,
  type ReportCase,
} from './case';
import { escapeHtml, visibleText } from './escape';
import { flowSvg } from './flow-svg';
import { diffEntryLabel } from '../../common/diff-label';

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

function annotationHtml(annotation: Annotation | undefined): string {
  if (!annotation) return '';
  const status = annotation.status
    ? `<span class="status status-${annotation.status}">${escapeHtml(statusWord(annotation.status) ?? annotation.status)}</span> `
    : '';
  return `<div class="note">Analyst: ${status}${text(annotation.note || '')}</div>`;
}

function annotationCell(annotation: Annotation | undefined): string | null {
  if (!annotation) return null;
  return [statusWord(annotation.status), annotation.note || null].filter(Boolean).join(': ');
}

/** "48 8b c4 48 89 58 08" from "488bc4489858 08": the bytes of an evidence read, spaced. */
function spacedBytes(hex: string): string {
  return (hex.replace(/\s+/g, '').match(/../g) ?? []).join(' ');
}

/** Where a patched routine's first jump lands, and in which module. */
function patchTarget(h: Handler): string | null {
  return h.target ? `${h.target.address} (${h.target.module ?? 'no module'})` : null;
}

/** The driver a finding's evidence names, by id or by object address. */
function findingDriver(result: AnalysisResult, finding: Finding): Driver | null {
  return (
    result.drivers.find((d) => d.id === finding.evidence.driver || d.objectVa === finding.evidence.driver) ??
    null
  );
}

interface NamedHandler {
  driver: Driver | null;
  table: string;
  h: Handler;
}

/** The handlers a finding names, with their offsets and disassembly from the driver's tables. */
function findingHandlers(result: AnalysisResult, finding: Finding): NamedHandler[] {
  const driver = findingDriver(result, finding);
  const candidates: Array<{ table: string; h: Handler }> = driver
    ? driverHandlers(driver)
    : finding.kind.startsWith('ssdt')
      ? (result.serviceTable?.entries ?? []).map((h) => ({ table: 'ssdt', h }))
      : [];
  return (finding.evidence.handlers ?? []).map((named) => {
    const found = candidates.find(({ h }) => h.name === named.name && h.address === named.address);
    return found ? { driver, ...found } : { driver, table: 'irp', h: handlerOfEvidence(named) };
  });
}

/** A handler the finding names but no table of its driver holds: what the evidence says of it. */
function handlerOfEvidence(named: NonNullable<Finding['evidence']['handlers']>[number]): Handler {
  return {
    index: -1,
    name: named.name,
    address: named.address,
    module: named.module,
    offset: null,
    symbol: null,
    verdict: named.verdict,
  };
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

interface FindingFlow {
  device: string;
  operation: UserOperation;
}

/** The device and operation whose request path shows a finding best, if it has a device. */
function findingFlow(result: AnalysisResult, finding: Finding): FindingFlow | null {
  const driver = findingDriver(result, finding);
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

const bytes = (size: number): string | null =>
  Number.isFinite(size) ? `${size.toLocaleString('en')} byte${size === 1 ? '' : 's'}` : null;

/** The case header's rows: the image, its baseline, the tool, the times and the analyst. */
function caseFacts(result: AnalysisResult, options: HtmlReportOptions): Array<[string, Cell]> {
  const info = result.image;
  const c = options.case;
  return [
    ['Image', c?.imagePath ?? info.path],
    ['Size', bytes(c?.imageSize ?? info.fileSize)],
    ['SHA-256', c ? hashStatement(c) : 'not computed'],
    ['Format', info.format.description],
    ['Windows', windowsBuild(info) ?? 'not identified'],
    ['Analysed', reportTime(c?.analyzedAt)],
    ...baselineFacts(reportBaseline(options)),
    ['Tool', options.generatedBy ?? 'IRPscope'],
    ['Report made', reportTime(options.generatedAt)],
    ['Times', `${TIME_ZONE} (Coordinated Universal Time), every time in this report`],
    ['Analyst', c?.analyst || null],
    ['Case notes', c?.note || null],
  ];
}

function baselineFacts(baseline: ReportBaseline | null): Array<[string, Cell]> {
  if (!baseline) return [];
  return [
    ['Baseline', baseline.path],
    ['Baseline size', bytes(baseline.size)],
    ['Baseline SHA-256', hashStatement(baseline)],
    ['Baseline Windows', baseline.build ?? 'not identified'],
    ['Baseline analysed', reportTime(baseline.analyzedAt)],
  ];
}

/** What every section of one report reads: the analysis, the options, and lookups made once. */
interface HtmlReportInput {
  result: AnalysisResult;
  options: HtmlReportOptions;
  /** The analyst's annotations by key (`finding:F001`, `driver:0x…`, …). */
  notes: Record<string, Annotation>;
  /** The findings, most severe first. */
  findings: Finding[];
  /** A device's name as the report shows it, by device id. */
  deviceName: Map<string, string>;
}

/** One part of the report: the HTML fragments it adds, in order (none when it has nothing to show). */
type HtmlSection = (input: HtmlReportInput) => string[];

function reportInput(result: AnalysisResult, options: HtmlReportOptions): HtmlReportInput {
  return {
    result,
    options,
    notes: options.case?.annotations ?? {},
    findings: [...result.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity)),
    deviceName: new Map(result.devices.map((d) => [d.id, d.name ?? `(unnamed ${d.objectVa})`])),
  };
}

function driverName(result: AnalysisResult, id: string): string {
  const d = result.drivers.find((x) => x.id === id);
  return d?.name ?? d?.objectName ?? id;
}

/** A table with the analyst column added, only where the analyst annotated something of its kind. */
function annotatedTable<T>(
  notes: Record<string, Annotation>,
  prefix: string,
  header: string[],
  rows: T[],
  cells: (row: T) => Cell[],
  noteKey: (row: T) => string,
): string {
  if (!Object.keys(notes).some((k) => k.startsWith(prefix))) return table(header, rows.map(cells));
  return table(
    [...header, 'analyst'],
    rows.map((r) => [...cells(r), annotationCell(notes[noteKey(r)])]),
  );
}

function documentStart({ result, options }: HtmlReportInput): string[] {
  const label = options.label ?? result.image.path;
  return [
    `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>IRPscope report — ${text(label)}</title><style>${style(cssString(`IRPscope report — ${label}`))}</style></head><body>`,
    `<h1>IRPscope report — ${text(label)}</h1>`,
  ];
}

/** The case: what was examined, by whom, with what; the counts, and what could not be read. */
function caseSection({ result, options }: HtmlReportInput): string[] {
  const caseTable = `<table class="case"><tbody>${caseFacts(result, options)
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${text(v)}</td></tr>`)
    .join('')}</tbody></table>`;
  return [caseTable, countsLine(result), ...coverageGaps(result)];
}

function countsLine(result: AnalysisResult): string {
  const bySeverity = [...SEVERITIES]
    .reverse()
    .map((s) => [s, result.findings.filter((f) => f.severity === s).length] as const);
  const n = countsOf(result);
  return (
    `<p class="counts">${bySeverity.map(([s, count]) => `<span class="sev-${s}">${count} ${s}</span>`).join('')}` +
    [
      countPhrase(n.drivers, 'drivers', result.coverage.drivers, `+${n.unloadedDrivers} unloaded`),
      countPhrase(n.devices, 'devices', result.coverage.devices),
      countPhrase(n.modules, 'modules', result.coverage.modules),
      countPhrase(n.processes, 'processes', result.coverage.processes),
      countPhrase(n.irps, 'irps', result.coverage.irps),
    ]
      .map((phrase) => `<span>${escapeHtml(phrase)}</span>`)
      .join('') +
    '</p>'
  );
}

function coverageGaps(result: AnalysisResult): string[] {
  const gaps = coverageReasons(result);
  if (!gaps.length) return [];
  return [
    `<ul class="coverage">${gaps
      .map(
        (g) =>
          `<li><b>${escapeHtml(g.parts.join(', '))}</b> ${g.state === 'partial' ? 'partial' : 'not available'}: ${text(g.reason)}</li>`,
      )
      .join('')}</ul>`,
  ];
}

/** Findings, most severe first, each with its evidence. */
function findingsSection(input: HtmlReportInput): string[] {
  const { result, findings } = input;
  const headline =
    findings.length === 0 || result.coverage.findings.state !== 'complete'
      ? [`<p>${text(findingsHeadline(result))}</p>`]
      : [];
  return [
    `<h2>Findings (${findings.length})</h2>`,
    ...headline,
    ...findings.flatMap((f) => findingSection(input, f)),
  ];
}

function findingSection(input: HtmlReportInput, f: Finding): string[] {
  const handlers = findingHandlers(input.result, f);
  return [
    `<section class="finding sev-border-${escapeHtml(f.severity)}">`,
    `<h3><span class="sev-${escapeHtml(f.severity)}">${escapeHtml(f.severity.toUpperCase())}</span> ${escapeHtml(f.id)} · ${escapeHtml(f.kind)} · ${text(f.subject)}</h3>`,
    `<p>${text(f.explanation)}</p>`,
    annotationHtml(input.notes[`finding:${f.id}`]),
    ...findingEvidence(f, handlers),
    ...findingPathPointer(input, f),
    '</section>',
  ];
}

/** A finding's handlers, addresses, modules, code and detail. */
function findingEvidence(f: Finding, handlers: NamedHandler[]): string[] {
  const parts: string[] = [];
  if (handlers.length)
    parts.push(
      table(
        ['entry', 'handler', 'module+offset', 'verdict', 'patch target'],
        handlers.map(({ h }) => [h.name, h.address, handlerWhere(h), h.verdict, patchTarget(h)]),
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
  return parts;
}

function findingPathPointer({ result, deviceName }: HtmlReportInput, f: Finding): string[] {
  const flow = findingFlow(result, f);
  if (!flow) return [];
  return [
    `<p class="muted">Request path: see “${escapeHtml(flow.operation)} on ${text(deviceName.get(flow.device) ?? flow.device)}” below.</p>`,
  ];
}

/** The request paths the findings point to, each once, with the findings that point to it. */
function findingFlows({ result, findings }: HtmlReportInput): Array<FindingFlow & { findings: string[] }> {
  const flows = new Map<string, FindingFlow & { findings: string[] }>();
  for (const f of findings) {
    const flow = findingFlow(result, f);
    if (!flow) continue;
    const key = `${flow.device}|${flow.operation}`;
    const entry = flows.get(key) ?? { ...flow, findings: [] };
    entry.findings.push(f.id);
    flows.set(key, entry);
  }
  return [...flows.values()];
}

function requestPathsSection(input: HtmlReportInput): string[] {
  const flows = findingFlows(input);
  if (!flows.length) return [];
  const figures: string[] = [];
  for (const flow of flows.slice(0, 16)) {
    let graph;
    try {
      graph = buildFlow(input.result, flow.device, flow.operation);
    } catch {
      continue;
    }
    const device = input.result.devices.find((d) => d.id === flow.device)!;
    const title = `${flow.operation} on ${displayDeviceName(device)}`;
    figures.push(
      `<figure><figcaption>${text(title)} — findings ${escapeHtml(flow.findings.join(', '))}</figcaption>${flowSvg(graph, { title, id: `f${figures.length}` })}</figure>`,
    );
  }
  return [`<h2>Request paths of the devices with findings (${flows.length})</h2>`, ...figures];
}

function comparisonSection({ options }: HtmlReportInput): string[] {
  const diff = options.diff;
  if (!diff) return [];
  return [
    `<h2>Compared with baseline ${text(diff.baseline)} (${diff.counts.differences} differences, ${diff.counts.variations} variations between boots)</h2>`,
    ...diff.compatibility.warnings.map((warning) => `<p class="muted">${text(warning)}</p>`),
    ...(diff.compatibility.unrelated
      ? [`<p>${text(diff.compatibility.unrelated)}</p>`]
      : [
          ...diff.entries.filter((x) => !x.variation).flatMap(differenceSection),
          ...variationsTable(diff.entries.filter((x) => x.variation)),
        ]),
  ];
}

function differenceSection(e: DiffEntry): string[] {
  const parts = [
    `<section class="difference finding sev-border-${escapeHtml(e.severity)}">`,
    `<h3><span class="sev-${escapeHtml(e.severity)}">${escapeHtml(e.severity.toUpperCase())}</span> ${escapeHtml(`${e.kind} ${e.change}`)} · ${text(diffEntryLabel(e))}</h3>`,
    `<p>${text(e.summary)}</p>`,
  ];
  if (e.why && e.why !== e.summary) parts.push(`<p class="muted">Why it matters: ${text(e.why)}</p>`);
  if (e.matchedBy.length)
    parts.push(`<p class="muted">Paired by: ${text(e.matchedBy.map(pairingText).join('; '))}</p>`);
  if (e.unknown.length)
    parts.push(`<p class="muted">Unknown on one side: ${text(e.unknown.map(unknownText).join('; '))}</p>`);
  if (e.changes.length)
    parts.push(
      table(
        ['what', 'baseline', 'this image'],
        e.changes.map((ch) => [ch.what, ch.baseline, ch.primary]),
      ).replace('<table>', '<table class="changes">'),
    );
  parts.push('</section>');
  return parts;
}

function variationsTable(variations: DiffEntry[]): string[] {
  if (!variations.length) return [];
  return [
    `<h3>Variation between boots (${variations.length}, not counted as differences)</h3>`,
    table(
      ['kind', 'what', 'difference', 'why it is variation'],
      variations.map((e) => [`${e.kind} ${e.change}`, e.key, e.summary, e.variation]),
      { keywordColumns: 1, proseColumns: [2, 3] },
    ),
  ];
}

function suspiciousHandlersSection({ result, notes }: HtmlReportInput): string[] {
  const hooked = result.drivers.flatMap((d) =>
    driverHandlers(d)
      .filter(({ h }) => isSuspiciousVerdict(h.verdict))
      .map(({ table: list, h }) => ({ d, list, h })),
  );
  return [
    `<h2>Suspicious handlers (${hooked.length})</h2>`,
    annotatedTable(
      notes,
      'handler:',
      ['driver', 'entry', 'handler', 'module+offset', 'verdict', 'patch target', 'first instructions'],
      hooked,
      ({ d, h }) => [
        d.name ?? driverName(result, d.id),
        h.name,
        h.address,
        handlerWhere(h),
        h.verdict,
        patchTarget(h),
        h.disassembly?.instructions.join(' ; ') ?? null,
      ],
      ({ d, list, h }) => `handler:${d.objectVa}:${list}:${h.name}`,
    ),
  ];
}

/** Where the kernel keeps a kind of callback, or why it could not be read. */
function callbackHeadCells(head: CallbackHead): Cell[] {
  const gaps = head.coverage.missing.join('; ');
  const state =
    head.coverage.state === 'complete'
      ? 'read'
      : `${head.coverage.state === 'partial' ? 'partial' : 'not available'}${gaps ? `: ${gaps}` : ''}`;
  return [CALLBACK_LABELS[head.kind], head.address, head.method, state];
}

/** The notify routines and callbacks: where each kind's head is, then every entry, judged. */
function callbacksSection({ result, deviceName }: HtmlReportInput): string[] {
  const { heads, entries } = result.callbacks;
  return [
    `<h2>Callbacks and notify routines (${entries.length})</h2>`,
    table(['kind', 'head', 'found by', 'coverage'], heads.map(callbackHeadCells), { proseColumns: [2, 3] }),
    table(
      [
        'kind',
        'slot',
        'entry',
        'routine',
        'module+offset',
        'owner',
        'verdict',
        'component',
        'device',
        'driver',
      ],
      entries.map((c) => [
        CALLBACK_LABELS[c.kind],
        c.slot,
        c.entry,
        c.routine.address,
        handlerWhere(c.routine),
        c.owner,
        c.routine.verdict,
        c.component,
        c.device ? (deviceName.get(c.device) ?? c.device) : null,
        c.driver ? driverName(result, c.driver) : null,
      ]),
    ),
  ];
}

function irpsSection({ result }: HtmlReportInput): string[] {
  return [
    `<h2>IRPs in flight (${result.irps.length})</h2>`,
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
  ];
}

function processesSection({ result }: HtmlReportInput): string[] {
  return [
    `<h2>Processes (${result.processes.length})</h2>`,
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
  ];
}

/** How the image was read: its format, kernel and layouts, and what went wrong on the way. */
function imageSection({ result }: HtmlReportInput): string[] {
  const info = result.image;
  const facts = table(
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
  );
  const warnings = info.warnings.length
    ? [`<h3>Warnings</h3><ul>${info.warnings.map((w) => `<li>${text(w)}</li>`).join('')}</ul>`]
    : [];
  return ['<h2>Image</h2>', facts, ...warnings];
}

function driversSection({ result, notes }: HtmlReportInput): string[] {
  const n = countsOf(result);
  return [
    `<h2>Drivers (${n.drivers} loaded, ${n.unloadedDrivers} unloaded)</h2>`,
    annotatedTable(
      notes,
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
    ),
  ];
}

function devicesSection({ result, notes, deviceName }: HtmlReportInput): string[] {
  return [
    `<h2>Devices (${result.devices.length})</h2>`,
    annotatedTable(
      notes,
      'device:',
      ['name', 'object', 'driver', 'type', 'stack (top → bottom)', 'links'],
      result.devices,
      (d) => [
        d.name ?? '(unnamed)',
        d.objectVa,
        d.driverName ?? driverName(result, d.driver),
        d.typeName,
        [...d.stack]
          .reverse()
          .map((id) => deviceName.get(id) ?? id)
          .join(' → '),
        d.links.join(', '),
      ],
      (d) => `device:${d.objectVa}`,
    ),
  ];
}

function modulesSection({ result }: HtmlReportInput): string[] {
  return [
    `<h2>Modules (${result.modules.length})</h2>`,
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
  ];
}

function linksSection({ result }: HtmlReportInput): string[] {
  return [
    `<h2>Symbolic links (${result.links.length})</h2>`,
    table(
      ['name', 'target'],
      result.links.map((l) => [l.name, l.target]),
    ),
  ];
}

function extractionsSection({ options }: HtmlReportInput): string[] {
  const extractions = options.case?.extractions ?? [];
  if (!extractions.length) return [];
  return [
    `<h2>Extracted images (${extractions.length})</h2>`,
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
  ];
}

function analystNotesSection({ result, notes }: HtmlReportInput): string[] {
  const marked = marks(result, notes);
  if (!marked.length) return [];
  return [
    `<h2>Analyst notes (${marked.length})</h2>`,
    table(
      ['kind', 'on', 'address', 'status', 'note', 'when'],
      marked.map(({ subject, annotation: a }) => [
        subject.kind,
        subject.name,
        subject.address,
        statusWord(a.status),
        a.note,
        reportTime(a.updatedAt),
      ]),
      { keywordColumns: 1, proseColumns: [4] },
    ),
  ];
}

/** The report's sections, in the order they are read: a new section is one more entry here. */
const SECTIONS: readonly HtmlSection[] = [
  documentStart,
  caseSection,
  findingsSection,
  requestPathsSection,
  comparisonSection,
  suspiciousHandlersSection,
  callbacksSection,
  irpsSection,
  processesSection,
  imageSection,
  driversSection,
  devicesSection,
  modulesSection,
  linksSection,
  extractionsSection,
  analystNotesSection,
];

export function htmlReport(result: AnalysisResult, options: HtmlReportOptions = {}): string {
  const input = reportInput(result, options);
  return [...SECTIONS.flatMap((section) => section(input)), '</body></html>\n'].join('\n');
}
