// CSV tables of an analysis, one file per table, each with a header row and every column
// described; a report's CSV adds the case (case.csv), the analyst's marks (marks.csv), the
// extracted images and, with a baseline, the comparison (diff.csv, diff-changes.csv), and a
// README.txt that says what each file and column holds. The files travel as one .zip.

import { pairingText, unknownText } from '../../common/pairing';
import { zipSync } from 'fflate';
import type { DiffEntry, DiffResult } from '../../common/api';
import { FINDING_KINDS, HANDLER_VERDICTS, SEVERITIES } from '../../common/findings';
import { CALLBACK_KINDS, type AnalysisResult, type Handler, type Irp } from '../../common/model';
import {
  NO_SHA256,
  TIME_ZONE,
  driverHandlers,
  marks,
  reportBaseline,
  reportTime,
  statusWord,
  windowsBuild,
  type ReportBaseline,
  type ReportCase,
  type Sha256Facts,
} from './case';
import { csvField, visibleText } from './escape';

type Cell = string | number | boolean | null | undefined;

export interface CsvColumn {
  name: string;
  meaning: string;
}

export interface CsvTable {
  name: string;
  /** What one row is, in a sentence. */
  about: string;
  columns: CsvColumn[];
  /** The columns' names, in order. */
  header: string[];
  rows: Cell[][];
}

function csvTable(name: string, about: string, columns: Array<[string, string]>, rows: Cell[][]): CsvTable {
  return {
    name,
    about,
    columns: columns.map(([column, meaning]) => ({ name: column, meaning })),
    header: columns.map(([column]) => column),
    rows,
  };
}

/** A handler's name, address, module, offset, verdict and patch target, as the irp and ssdt tables show them. */
function handlerCells(h: Handler): Array<string | null> {
  return [
    h.name,
    h.address,
    h.module,
    h.offset,
    h.verdict,
    h.target ? `${h.target.address} ${h.target.module ?? ''}`.trim() : '',
  ];
}

const HANDLER_COLUMNS: Array<[string, string]> = [
  ['handler', 'address of the routine the entry points to'],
  ['module', 'the loaded module that address lies in (empty: in no module)'],
  ['offset', 'the address as an offset into that module'],
  [
    'verdict',
    `where the entry points, as judged: ${HANDLER_VERDICTS.join(', ')} (other-module, no-module and inline-patched are hooks)`,
  ],
  ['target', 'for a routine patched at its start: where the patch jumps, and the module there'],
];
const FOUND_BY = 'how it was found, space-separated';
const SEVERITY = `how grave: ${[...SEVERITIES].reverse().join(', ')}`;

/** The names the analysis tables show for the drivers and devices they refer to, by id. */
interface AnalysisNames {
  drivers: Map<string, string>;
  devices: Map<string, string>;
}

/** One table of an analysis: a new table (callbacks) is one more function in ANALYSIS_TABLES. */
type AnalysisTable = (result: AnalysisResult, names: AnalysisNames) => CsvTable;

function driversTable(result: AnalysisResult): CsvTable {
  return csvTable(
    'drivers',
    'one driver object',
    [
      ['name', 'its DriverName (empty when unreadable)'],
      ['object_name', 'its name in the object directory'],
      ['service_key', 'its service key in the registry'],
      ['object_va', 'virtual address of the DRIVER_OBJECT'],
      ['object_pa', 'physical address of the DRIVER_OBJECT'],
      ['start', 'DriverStart: where its image is loaded'],
      ['size', 'DriverSize in bytes'],
      ['module', 'the loaded module its image is'],
      ['state', 'live, or freed (a pool allocation the driver left)'],
      ['found_by', `${FOUND_BY}: pool-scan, directory, module-list, device-walk`],
      ['devices', 'how many device objects it owns'],
      ['flags', 'its DRVO_ flags'],
    ],
    result.drivers.map((d) => [
      d.name ?? '',
      d.objectName,
      d.serviceKey,
      d.objectVa,
      d.objectPa,
      d.start,
      d.size,
      d.module,
      d.state,
      d.foundBy.join(' '),
      d.devices.length,
      d.flagNames.join(' '),
    ]),
  );
}

function irpTable(result: AnalysisResult, names: AnalysisNames): CsvTable {
  return csvTable(
    'irp',
    "one entry of a driver's IRP dispatch table, fast I/O table or its DriverInit/StartIo/Unload",
    [
      ['driver', 'the driver'],
      ['index', 'the entry number in its table'],
      ['name', 'IRP_MJ_…, FastIo…, or DriverInit/DriverStartIo/DriverUnload'],
      ...HANDLER_COLUMNS,
    ],
    result.drivers.flatMap((d) =>
      driverHandlers(d).map(({ h }) => [d.name ?? names.drivers.get(d.id), h.index, ...handlerCells(h)]),
    ),
  );
}

function ssdtTable(result: AnalysisResult): CsvTable {
  return csvTable(
    'ssdt',
    'one entry of the system-service table (KiServiceTable)',
    [
      ['index', 'the service number (hexadecimal)'],
      ['service', 'the Nt… routine it should be'],
      ...HANDLER_COLUMNS.map(([name, meaning]): [string, string] =>
        name === 'handler' ? ['routine', meaning] : [name, meaning],
      ),
    ],
    (result.serviceTable?.entries ?? []).map((h) => [`0x${h.index.toString(16)}`, ...handlerCells(h)]),
  );
}

function devicesTable(result: AnalysisResult, names: AnalysisNames): CsvTable {
  return csvTable(
    'devices',
    'one device object',
    [
      ['name', 'its name (empty when it has none or it is unreadable)'],
      ['object_va', 'virtual address of the DEVICE_OBJECT'],
      ['driver', 'the driver that owns it'],
      ['type', 'its device type'],
      ['flags', 'its DO_ flags'],
      ['characteristics', 'its FILE_ characteristics'],
      ['stack_top_to_bottom', 'the device stack it is in, top first, separated by " > "'],
      ['links', 'the symbolic links that name it'],
    ],
    result.devices.map((d) => [
      d.name ?? '',
      d.objectVa,
      d.driverName ?? names.drivers.get(d.driver),
      d.typeName,
      d.flagNames.join(' '),
      d.characteristicNames.join(' '),
      [...d.stack]
        .reverse()
        .map((id) => names.devices.get(id) || id)
        .join(' > '),
      d.links.join(' '),
    ]),
  );
}

function modulesTable(result: AnalysisResult): CsvTable {
  return csvTable(
    'modules',
    'one loaded kernel module',
    [
      ['name', 'its file name'],
      ['path', 'its full path'],
      ['base', 'where it is loaded'],
      ['size', 'its size in memory, bytes'],
      ['ldr_entry', 'virtual address of its loader entry'],
      ['found_by', `${FOUND_BY}: module-list, pool-scan`],
      ['unlinked', 'true: found by the scan but missing from the module list'],
    ],
    result.modules.map((m) => [m.name, m.path, m.base, m.size, m.ldrEntry, m.foundBy.join(' '), m.unlinked]),
  );
}

function callbacksTable(result: AnalysisResult, names: AnalysisNames): CsvTable {
  return csvTable(
    'callbacks',
    'one registered notify routine or callback',
    [
      ['kind', `the kind: ${CALLBACK_KINDS.join(', ')}`],
      ['slot', "its index in the kernel's array, or its place on the kernel's list (0: first)"],
      ['entry', 'address of the array slot or list record that holds it'],
      [
        'block',
        "address of the EX_CALLBACK_ROUTINE_BLOCK an array slot references, an IDT gate's KINTERRUPT, a timer's KDPC, an object callback's registration block (empty for other list records)",
      ],
      ...HANDLER_COLUMNS.map(([name, meaning]): [string, string] =>
        name === 'handler' ? ['routine', 'address of the routine the kernel calls'] : [name, meaning],
      ),
      ['owner', 'the module holding the routine: the driver that registered it (empty: in no module)'],
      ['context', "the block's Context value (object callbacks: the registration's RegistrationContext)"],
      ['component', 'bug-check records: the component name the driver gave; object callbacks: the altitude'],
      ['device', 'shutdown notifications: address of the device sent IRP_MJ_SHUTDOWN'],
      ['device_name', "that device's name"],
      ['driver', 'address of the driver object the record names'],
      ['driver_name', "that driver's name"],
      ['tid', 'System threads: the thread id'],
      ['processor', 'IDT and GDT gates, timers: the processor whose table holds it'],
      ['period', 'timers: KTIMER.Period in ms (0: fires once)'],
    ],
    result.callbacks.entries.map((c) => [
      c.kind,
      c.slot,
      c.entry,
      c.block,
      ...handlerCells(c.routine).slice(1),
      c.owner,
      c.context,
      c.component,
      c.device,
      c.device ? names.devices.get(c.device) : null,
      c.driver,
      c.driver ? names.drivers.get(c.driver) : null,
      c.tid ?? null,
      c.processor ?? null,
      c.period ?? null,
    ]),
  );
}

function linksTable(result: AnalysisResult): CsvTable {
  return csvTable(
    'links',
    'one symbolic link in \\GLOBAL??',
    [
      ['name', 'the link'],
      ['target', 'what it points to'],
      ['object_va', 'virtual address of the link object'],
    ],
    result.links.map((l) => [l.name, l.target, l.objectVa]),
  );
}

function processesTable(result: AnalysisResult): CsvTable {
  return csvTable(
    'processes',
    'one process',
    [
      ['pid', 'process id'],
      ['ppid', "its parent's process id"],
      ['name', 'ImageFileName'],
      ['eprocess', 'virtual address of its EPROCESS'],
      ['dtb', 'its page-table root'],
      ['threads', 'how many threads it has'],
      ['found_by', `${FOUND_BY}: process-list, pool-scan`],
      ['hidden', 'true: found by the scan but missing from a process list read to its end'],
    ],
    result.processes.map((p) => [
      p.pid,
      p.parentPid,
      p.name,
      p.objectVa,
      p.dtb,
      p.threads.length,
      p.foundBy.join(' '),
      p.hidden,
    ]),
  );
}

function threadsTable(result: AnalysisResult): CsvTable {
  return csvTable(
    'threads',
    'one thread',
    [
      ['pid', 'its process id'],
      ['tid', 'thread id'],
      ['ethread', 'virtual address of its ETHREAD'],
      ['start_address', 'where it started'],
      ['start_module', 'that address as module+offset (kernel code only)'],
      ['win32_start_address', 'its Win32 start address'],
      ['irps', 'the IRPs on its IRP list, space-separated'],
    ],
    result.threads.map((t) => [
      t.pid,
      t.tid,
      t.objectVa,
      t.startAddress,
      t.startModule,
      t.win32StartAddress,
      t.irps.join(' '),
    ]),
  );
}

function pendingIrpsTable(result: AnalysisResult, names: AnalysisNames): CsvTable {
  return csvTable(
    'pending-irps',
    'one I/O request (IRP) in flight',
    [
      ['irp', 'its address'],
      ['process', 'the process of the thread that issued it'],
      ['pid', 'that process id'],
      ['tid', 'that thread id'],
      ['function', 'its major function (IRP_MJ_…)'],
      ['waits_in', 'the device (and driver) at its current stack location'],
      ['file', 'the file object it is for: device and path'],
      ['stack_top_to_bottom', 'its stack locations in use, index:device, top first'],
      ['completion_routines', 'index:module+offset [verdict] of each completion routine set'],
      ['flags', 'its IRP_ flags'],
      ['found_by', `${FOUND_BY}: pool-scan, thread-irp-list`],
    ],
    result.irps.map((irp) => pendingIrpCells(irp, names)),
  );
}

function pendingIrpCells(irp: Irp, names: AnalysisNames): Cell[] {
  const current = irp.stack.find((s) => s.current);
  return [
    irp.address,
    irp.processName,
    irp.pid,
    irp.tid,
    irp.majorName,
    current
      ? `${current.deviceName ?? current.device ?? ''} (${current.driverName ?? current.driver ?? '?'})`
      : '',
    irp.fileDevice === null
      ? irp.fileName
      : `${names.devices.get(irp.fileDevice) || irp.fileDevice}${irp.fileName ?? ''}`,
    irp.stack.map((s) => `${s.index}:${s.deviceName || s.device || '?'}`).join(' > '),
    irp.stack
      .filter((s) => s.completion)
      .map((s) => `${s.index}:${completionWhere(s.completion!)} [${s.completion!.verdict}]`)
      .join(' '),
    irp.flagNames.join(' '),
    irp.foundBy.join(' '),
  ];
}

/** A completion routine as module+offset, or its bare address when it lies in no module. */
function completionWhere(h: Handler): string {
  return h.module ? `${h.module}+${h.offset}` : h.address;
}

function findingsTable(result: AnalysisResult): CsvTable {
  return csvTable(
    'findings',
    'one finding',
    [
      ['id', 'its number in this analysis (F001…)'],
      ['severity', SEVERITY],
      ['kind', `what was found: ${FINDING_KINDS.join(', ')}`],
      ['subject', 'the driver, device, module or service it is about'],
      ['explanation', 'what was found and why it matters, in one sentence'],
      ['addresses', 'the addresses of its evidence, space-separated'],
      ['modules', 'the modules of its evidence, space-separated'],
    ],
    result.findings.map((f) => [
      f.id,
      f.severity,
      f.kind,
      f.subject,
      f.explanation,
      (f.evidence.addresses ?? []).join(' '),
      (f.evidence.modules ?? []).join(' '),
    ]),
  );
}

/** The analysis tables, in the order the files are listed. */
const ANALYSIS_TABLES: readonly AnalysisTable[] = [
  driversTable,
  irpTable,
  ssdtTable,
  callbacksTable,
  devicesTable,
  modulesTable,
  linksTable,
  processesTable,
  threadsTable,
  pendingIrpsTable,
  findingsTable,
];

/** The tables of an analysis alone (also `irpscope analyze --csv`). */
export function csvTables(result: AnalysisResult): CsvTable[] {
  const names: AnalysisNames = {
    drivers: new Map(result.drivers.map((d) => [d.id, d.name ?? d.objectName ?? d.id])),
    devices: new Map(result.devices.map((d) => [d.id, d.name ?? ''])),
  };
  return ANALYSIS_TABLES.map((table) => table(result, names));
}

/** What a CSV report is made from, besides the analysis (the HTML report's options). */
export interface CsvReportOptions {
  label?: string;
  diff?: DiffResult;
  generatedBy?: string;
  generatedAt?: string;
  case?: ReportCase;
}

const HASH_COLUMNS: Array<[string, string]> = [
  ['sha256', "the file's full SHA-256 (empty: not computed)"],
  [
    'sha256_state',
    'what is known of that hash: verified-now (computed when this report was made), verified (computed earlier and the file found unchanged at sha256_verified_at), not-verified (not checked since it was computed), mismatch (the file differed when checked at sha256_verified_at: it changed after it was hashed)',
  ],
  ['sha256_computed_at', 'when the hash was computed (empty: not recorded)'],
  ['sha256_verified_at', 'when the file was last checked against the hash'],
];

function hashCells(facts: Sha256Facts): Cell[] {
  return [
    facts.sha256,
    facts.sha256 ? (facts.sha256State ?? 'not-verified') : null,
    reportTime(facts.sha256ComputedAt),
    reportTime(facts.sha256VerifiedAt),
  ];
}

function comparisonText(diff: DiffResult): string {
  return [
    diff.compatibility.unrelated ??
      `${diff.counts.differences} differences, ${diff.counts.variations} variations between boots`,
    ...diff.compatibility.warnings,
  ].join('; ');
}

const CASE_COLUMNS: Array<[string, string]> = [
  ['role', 'image (the file examined) or baseline (the clean file it was compared with)'],
  ['path', 'the file'],
  ['size', 'its size in bytes'],
  ...HASH_COLUMNS,
  ['windows', 'the Windows build and architecture found in it'],
  ['analysed_at', 'when its analysis finished'],
  ['comparison', 'on the baseline row: what the comparison found, and any warning about it'],
  ['report_made_at', 'when this report was made (the same on every row)'],
  ['report_made_by', 'the tool and its version (the same on every row)'],
  ['analyst', 'who examined the image (the same on every row)'],
  ['note', "the case's notes (the same on every row)"],
];

function caseTable(result: AnalysisResult, options: CsvReportOptions): CsvTable {
  const c = options.case;
  const made = [reportTime(options.generatedAt), options.generatedBy ?? 'IRPscope', c?.analyst, c?.note];
  const imageRow = [
    'image',
    c?.imagePath ?? result.image.path,
    c?.imageSize ?? result.image.fileSize,
    ...hashCells(c ?? NO_SHA256),
    windowsBuild(result.image),
    reportTime(c?.analyzedAt),
    null,
    ...made,
  ];
  const baseline = reportBaseline(options);
  return csvTable(
    'case',
    'one file the report is about: the image, and the baseline it was compared with',
    CASE_COLUMNS,
    [imageRow, ...(baseline ? [[...baselineCells(baseline, options.diff), ...made]] : [])],
  );
}

/** The baseline's row up to the report's own columns. */
function baselineCells(baseline: ReportBaseline, diff: DiffResult | undefined): Cell[] {
  return [
    'baseline',
    baseline.path,
    Number.isFinite(baseline.size) ? baseline.size : null,
    ...hashCells(baseline),
    baseline.build,
    reportTime(baseline.analyzedAt),
    diff ? comparisonText(diff) : null,
  ];
}

function marksTable(result: AnalysisResult, options: CsvReportOptions): CsvTable {
  return csvTable(
    'marks',
    "one of the analyst's marks",
    [
      ['kind', 'what is marked: finding, driver, device or handler (a dispatch-table entry)'],
      [
        'subject',
        "its name: a finding's number, kind and subject; a driver's or device's name; a handler's driver and entry",
      ],
      [
        'address',
        "its address: a finding's first evidence address, a driver's or device's object, a handler's routine",
      ],
      ['status', 'suspicious, benign or to check (empty: a note only)'],
      ['note', "the analyst's note"],
      ['marked_at', 'when the mark was last changed'],
    ],
    marks(result, options.case?.annotations ?? {}).map(({ subject, annotation }) => [
      subject.kind,
      subject.name,
      subject.address,
      statusWord(annotation.status),
      annotation.note,
      reportTime(annotation.updatedAt),
    ]),
  );
}

function extractionsTable(options: CsvReportOptions): CsvTable {
  return csvTable(
    'extractions',
    'one driver or module image saved from this memory image',
    [
      ['image', 'what was saved'],
      ['base', 'its load address'],
      ['file', 'the file name it was saved as'],
      ['layout', 'pe (sections laid back to file alignment) or raw (the memory as it was: no PE headers)'],
      ['bytes', 'the size of the saved file'],
      ['missing_pages', 'pages of it that were not in memory (zero-filled in the file)'],
      ['pages', 'its pages in all'],
      ['sha256', 'the SHA-256 of the file as it was written when saved'],
      ['extracted_at', 'when it was saved'],
    ],
    (options.case?.extractions ?? []).map((e) => [
      e.label,
      e.base,
      e.fileName,
      e.layout,
      e.size,
      e.missingPages,
      e.pages,
      e.sha256,
      reportTime(e.at),
    ]),
  );
}

/** The comparison's entries, numbered from 1 as diff.csv numbers them and diff-changes.csv cites them. */
type NumberedEntries = Array<{ e: DiffEntry; number: number }>;

function diffTables(diff: DiffResult): CsvTable[] {
  const entries = diff.entries.map((e, i) => ({ e, number: i + 1 }));
  return [diffEntriesTable(entries), diffChangesTable(entries)];
}

function diffEntriesTable(entries: NumberedEntries): CsvTable {
  return csvTable(
    'diff',
    'one object that differs between the baseline and the image (a difference, or variation between boots)',
    [
      ['entry', 'its number, which diff-changes.csv refers to'],
      ['kind', 'driver, service, process, stack, device, module or link'],
      ['change', 'added (only in the image), removed (only in the baseline) or changed'],
      ['subject', "the object's identity across the two images"],
      ['severity', SEVERITY],
      ['summary', 'what changed, in one sentence'],
      ['why', 'why it matters'],
      ['variation', 'empty for a difference; else why this is what any two boots differ in (not counted)'],
      ['matched_by', 'the facts that made the two sides one object, separated by "; "'],
      ['unknown', 'facts one image does not hold (unknown there, not changed), separated by "; "'],
      ['findings_added', "the image's findings the baseline lacks"],
      ['findings_removed', "the baseline's findings the image lacks"],
      ['baseline', 'the object in the baseline'],
      ['image', 'the object in the image'],
    ],
    entries.map(({ e, number }) => [
      number,
      e.kind,
      e.change,
      e.key,
      e.severity,
      e.summary,
      e.why,
      e.variation,
      e.matchedBy.map(pairingText).join('; '),
      e.unknown.map(unknownText).join('; '),
      e.findings.added.join(' '),
      e.findings.removed.join(' '),
      e.baseline?.text,
      e.primary?.text,
    ]),
  );
}

function diffChangesTable(entries: NumberedEntries): CsvTable {
  return csvTable(
    'diff-changes',
    'one fact of a differing object that is not the same in the two images',
    [
      ['entry', 'the number of its object in diff.csv'],
      ['what', 'the fact: an IRP entry, a device, the image, a stack member…'],
      ['baseline', 'its value in the baseline (empty: absent there)'],
      ['image', 'its value in the image (empty: absent there)'],
      ['severity', SEVERITY],
    ],
    entries.flatMap(({ e, number }) =>
      e.changes.map((c) => [number, c.what, c.baseline, c.primary, c.severity]),
    ),
  );
}

/** Every table of a CSV report: the case and the marks first, the comparison, then the analysis. */
export function csvReportTables(result: AnalysisResult, options: CsvReportOptions = {}): CsvTable[] {
  return [
    caseTable(result, options),
    marksTable(result, options),
    ...(options.diff ? diffTables(options.diff) : []),
    ...csvTables(result),
    extractionsTable(options),
  ];
}

/** One table as an RFC 4180 file: CRLF line ends, the header first, every field through csvField. */
export function csvText(table: CsvTable): string {
  return [table.header, ...table.rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** What the CSV files are, how they are written, and what each column holds. */
export function csvReadme(tables: CsvTable[], options: CsvReportOptions): string {
  const lines = [
    `IRPscope report${options.label ? ` of ${visibleText(options.label)}` : ''}: CSV tables`,
    `Made ${reportTime(options.generatedAt) ?? 'at a time not recorded'} by ${visibleText(options.generatedBy ?? 'IRPscope')}.`,
    '',
    'Every .csv file is RFC 4180 CSV: UTF-8, fields separated by commas, records ended by CR LF, the',
    'first record the column names. A field holding a comma, a double quote, a line break or',
    'leading or trailing spaces is enclosed in double quotes, a double quote inside it doubled.',
    "Text from the memory image (and the analyst's notes) is untrusted: control, bidirectional and",
    'invisible characters are written as \\uXXXX, and text beginning with = + - or @ is prefixed',
    "with ' so that no spreadsheet runs it as a formula. An empty field is not known, not found or",
    `not applicable. Addresses are hexadecimal (0x…). Times are ${TIME_ZONE}, written YYYY-MM-DD HH:MM:SS ${TIME_ZONE}.`,
    '',
    'Files:',
    `  ${'README.txt'.padEnd(20)}this file`,
    ...tables.map(
      (t) => `  ${`${t.name}.csv`.padEnd(20)}${t.rows.length} row${t.rows.length === 1 ? '' : 's'}`,
    ),
  ];
  for (const table of tables) {
    lines.push('', `${table.name}.csv: each row is ${table.about}.`);
    for (const column of table.columns) lines.push(`  ${column.name}: ${column.meaning}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

export interface TextFile {
  name: string;
  content: string;
}

/** The files of a CSV report: README.txt and one .csv per table. */
export function csvReportFiles(result: AnalysisResult, options: CsvReportOptions = {}): TextFile[] {
  const tables = csvReportTables(result, options);
  return [
    { name: 'README.txt', content: csvReadme(tables, options) },
    ...tables.map((table) => ({ name: `${table.name}.csv`, content: csvText(table) })),
  ];
}

/**
 * The files as one ZIP archive. Its entries' time is the report's (else 1980-01-01), written as
 * UTC: a ZIP time has no zone, and the same report gives the same bytes on every machine (but in
 * the hour a daylight-saving switch skips, which has no local time to carry it).
 */
export function zipFiles(files: TextFile[], madeAt?: string): Uint8Array {
  const at = madeAt ? new Date(madeAt) : new Date(Date.UTC(1980, 0, 1));
  const valid = Number.isNaN(at.getTime()) ? new Date(Date.UTC(1980, 0, 1)) : at;
  // fflate writes the local time of the Date it is given: give it one whose local fields are UTC's.
  const mtime = new Date(
    valid.getUTCFullYear(),
    valid.getUTCMonth(),
    valid.getUTCDate(),
    valid.getUTCHours(),
    valid.getUTCMinutes(),
    valid.getUTCSeconds(),
  );
  return zipSync(Object.fromEntries(files.map((f) => [f.name, Buffer.from(f.content, 'utf8')])), {
    level: 6,
    mtime,
  });
}
