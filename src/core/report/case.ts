// The case a report is made for: which files were analysed (the image and its baseline), what is
// known of their hashes and when, who examined them and what they marked. Every format states
// these the same way: times in UTC in one form, a hash never without when it was computed and
// whether the file was verified unchanged since, a marked object by its name, kind and address.

import type { Annotation, AnnotationStatus, DiffResult, ExtractionRecord } from '../../common/api';
import { displayDeviceName } from '../../common/flow';
import type { AnalysisResult, Driver, Handler, ImageInfo } from '../../common/model';
import { compareText } from '../../common/text-order';

/**
 * What is known of a file's SHA-256: computed when this report was made ('verified-now', the
 * CLI), or earlier and then found unchanged ('verified'), not checked since ('not-verified'), or
 * found different since ('mismatch': the file changed after it was hashed).
 */
export type Sha256State = 'verified-now' | 'verified' | 'not-verified' | 'mismatch';

export interface Sha256Facts {
  /** The file's full SHA-256, or null when it was not computed. */
  sha256: string | null;
  /** When the hash was computed (ISO); null when not recorded. */
  sha256ComputedAt: string | null;
  /** Null only when there is no hash. */
  sha256State: Sha256State | null;
  /** When the file was last checked against the hash ('verified', 'mismatch'). */
  sha256VerifiedAt: string | null;
}

/** The clean image the report compares with, identified as the image is. */
export interface ReportBaseline extends Sha256Facts {
  path: string;
  size: number;
  /** "Windows 7 SP1 (build 7601), x86" (see windowsBuild), or null when not identified. */
  build: string | null;
  /** When its analysis finished (ISO). */
  analyzedAt: string | null;
}

/** The case an analysis belongs to: who examined which files, and what they noted. */
export interface ReportCase extends Sha256Facts {
  imagePath: string;
  imageSize: number;
  /** When the analysis finished (ISO). */
  analyzedAt: string | null;
  analyst: string;
  note: string;
  annotations: Record<string, Annotation>;
  /** Driver and module images saved from this image, with their hashes. */
  extractions?: ExtractionRecord[];
  /** The baseline compared with, when the report has a comparison. */
  baseline?: ReportBaseline | null;
}

/** What is known of a file that was not hashed. */
export const NO_SHA256: Sha256Facts = {
  sha256: null,
  sha256ComputedAt: null,
  sha256State: null,
  sha256VerifiedAt: null,
};

/**
 * The baseline as a report can name it: the case's record of its file, else what the comparison
 * knows of it (its path and build; no size, no hash, no analysis time).
 */
export function reportBaseline(options: { case?: ReportCase; diff?: DiffResult }): ReportBaseline | null {
  if (options.case?.baseline) return options.case.baseline;
  const diff = options.diff;
  if (!diff) return null;
  return {
    path: diff.baseline,
    size: Number.NaN,
    ...NO_SHA256,
    build: diff.compatibility.baselineBuild,
    analyzedAt: null,
  };
}

const STATUS_WORDS: Record<AnnotationStatus, string> = {
  suspicious: 'suspicious',
  benign: 'benign',
  'to-check': 'to check',
};

/** An analyst's status as reports write it ("to check"), or null for a note without one. */
export function statusWord(status: AnnotationStatus | null): string | null {
  return status ? STATUS_WORDS[status] : null;
}

export const TIME_ZONE = 'UTC';

/** "2026-12-02 04:00:00 UTC": every time a report shows, in one form and one zone. */
export function reportTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} ${TIME_ZONE}`;
}

/** "Windows 7 SP1 (build 7601), x86", or null when the kernel's build was not found. */
export function windowsBuild(info: ImageInfo): string | null {
  if (!info.build) return null;
  return `${info.build.value.name} (build ${info.build.value.number}), ${info.arch ?? 'architecture unknown'}`;
}

/**
 * The SHA-256 as the report may state it: never a bare hash, always when it was computed and
 * whether the file is known to be unchanged since.
 */
export function hashStatement(facts: Sha256Facts): string {
  if (!facts.sha256) return 'not computed';
  const computed = reportTime(facts.sha256ComputedAt);
  const verified = reportTime(facts.sha256VerifiedAt) ?? 'at a time not recorded';
  const asOf = `${facts.sha256} as of ${computed ?? 'a time not recorded'}`;
  switch (facts.sha256State) {
    case 'verified-now':
      return `${facts.sha256} (computed ${computed ?? 'when this report was made'})`;
    case 'verified':
      return `${asOf}; file unchanged since: verified ${verified}`;
    case 'mismatch':
      return `${asOf}; file unchanged since: NO, the file's SHA-256 differed when checked ${verified}: it changed after it was hashed`;
    case 'not-verified':
    case null:
      return `${asOf}; file unchanged since: not verified`;
  }
}

/** What an analyst's mark is on, for people: its kind, its name and its address. */
export interface MarkSubject {
  /** finding, driver, device or handler (the key's own word for anything else). */
  kind: string;
  name: string;
  address: string | null;
}

const HANDLER_TABLES = ['irp', 'fastIo', 'callbacks'] as const;

/** The tables of a driver that hold handlers, as an annotation key names them. */
export type HandlerTable = (typeof HANDLER_TABLES)[number];

/** Every handler of a driver with the table it stands in: IRP, then fast I/O, then its callbacks. */
export function driverHandlers(driver: Driver): Array<{ table: HandlerTable; h: Handler }> {
  return HANDLER_TABLES.flatMap((table) => driver[table].map((h) => ({ table, h })));
}

/**
 * The subject of an annotation key (`finding:<id>`, `driver:<objectVa>`, `device:<objectVa>`,
 * `handler:<driver objectVa>:<irp|fastIo|callbacks>:<entry name>`) in `result`.
 */
export function markSubject(result: AnalysisResult, key: string): MarkSubject {
  const [kind = '', ...rest] = key.split(':');
  const absent = (address: string | null): MarkSubject => ({
    kind,
    name: `(not in this analysis: ${key})`,
    address,
  });
  const driverName = (va: string) => {
    const d = result.drivers.find((x) => x.objectVa === va || x.id === va);
    return d ? (d.name ?? d.objectName ?? `(driver with ${d.nameStatus ?? 'an unreadable name'})`) : null;
  };
  switch (kind) {
    case 'finding': {
      const f = result.findings.find((x) => x.id === rest.join(':'));
      if (!f) return absent(null);
      const address = f.evidence.addresses?.[0] ?? f.evidence.handlers?.[0]?.address ?? null;
      return { kind, name: `${f.id} ${f.kind}: ${f.subject}`, address };
    }
    case 'driver': {
      const name = driverName(rest.join(':'));
      return name === null ? absent(rest.join(':')) : { kind, name, address: rest.join(':') };
    }
    case 'device': {
      const d = result.devices.find((x) => x.objectVa === rest.join(':') || x.id === rest.join(':'));
      return d ? { kind, name: displayDeviceName(d), address: d.objectVa } : absent(rest.join(':'));
    }
    case 'handler': {
      const [driverVa = '', table = '', ...entry] = rest;
      const driver = result.drivers.find((x) => x.objectVa === driverVa || x.id === driverVa);
      const list = HANDLER_TABLES.find((t) => t === table);
      const handler = driver && list ? driver[list].find((h) => h.name === entry.join(':')) : undefined;
      if (!driver || !handler) return absent(null);
      return { kind, name: `${driverName(driverVa)} ${handler.name}`, address: handler.address };
    }
    default:
      return absent(null);
  }
}

/** The annotations of a case with their subjects, ordered by kind, then name. */
export function marks(
  result: AnalysisResult,
  annotations: Record<string, Annotation>,
): Array<{ subject: MarkSubject; annotation: Annotation }> {
  const order = ['finding', 'driver', 'device', 'handler'];
  const rank = (kind: string) => (order.includes(kind) ? order.indexOf(kind) : order.length);
  return Object.entries(annotations)
    .map(([key, annotation]) => ({ subject: markSubject(result, key), annotation }))
    .sort(
      (a, b) =>
        rank(a.subject.kind) - rank(b.subject.kind) ||
        compareText(a.subject.kind, b.subject.kind) ||
        compareText(a.subject.name, b.subject.name) ||
        compareText(a.subject.address ?? '', b.subject.address ?? ''),
    );
}
