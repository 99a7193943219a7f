// Cases in the data folder (never beside the image, which is only ever read): one folder per
// image path, holding case.json (the image's identity, the engine that analysed it, the
// baseline it was compared with, the analyst's notes) and the analysis result under a name made
// from its hash. Every file is written whole or not at all; case.json is written last and names
// its result, so a writer killed at any point leaves the previous case readable. A case folder
// that cannot be read, or was written by a newer IRPscope, is set aside with a reason.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Annotation, AnnotationStatus, ExtractionRecord } from '../../common/api';
import { ANALYSIS_SCHEMA, type AnalysisResult } from '../../common/model';
import { ensureFolder, writeFileAtomic } from '../../core/util/atomic-file';
import type { ImageIdentity } from './identity';

export const CASE_SCHEMA = 'irpscope-case/1';

export interface CaseRecord {
  schema: typeof CASE_SCHEMA;
  id: string;
  image: ImageIdentity & { sha256: string | null };
  /** engineFingerprint() of the engine that made the result. */
  engine: string;
  analyzedAt: string;
  /** The result file in the case folder. */
  result: string;
  baseline: { path: string } | null;
  analyst: string;
  note: string;
  annotations: Record<string, Annotation>;
  /** Absent in cases saved before extraction existed. */
  extractions?: ExtractionRecord[];
}

export type CaseLookup =
  | { kind: 'none' }
  | { kind: 'found'; record: CaseRecord; result: AnalysisResult }
  | { kind: 'set-aside'; reason: string };

const STATUSES: readonly AnnotationStatus[] = ['suspicious', 'benign', 'to-check'];
const MAX_NOTE = 20_000;

export function caseId(imagePath: string): string {
  return createHash('sha256').update(imagePath).digest('hex').slice(0, 20);
}

/** Checks what a case.json holds, field by field: it is read from disk, and disks lie. */
function validRecord(value: unknown, id: string): CaseRecord | string {
  if (typeof value !== 'object' || value === null) return 'case.json is not an object';
  const record = value as Partial<CaseRecord> & { schema?: unknown };
  if (typeof record.schema !== 'string') return 'case.json has no schema';
  if (record.schema !== CASE_SCHEMA)
    return /^irpscope-case\/\d+$/.test(record.schema)
      ? `it was written by another version of IRPscope (${record.schema}; this one reads ${CASE_SCHEMA})`
      : `case.json has an unknown schema ${JSON.stringify(record.schema).slice(0, 60)}`;
  const image = record.image;
  if (
    record.id !== id ||
    !image ||
    typeof image.path !== 'string' ||
    typeof image.size !== 'number' ||
    typeof image.mtimeMs !== 'number' ||
    typeof image.quickHash !== 'string' ||
    !(image.sha256 === null || typeof image.sha256 === 'string') ||
    typeof record.engine !== 'string' ||
    typeof record.analyzedAt !== 'string' ||
    typeof record.result !== 'string' ||
    !/^result-[0-9a-f]{16}\.json$/.test(record.result) ||
    typeof record.analyst !== 'string' ||
    typeof record.note !== 'string' ||
    typeof record.annotations !== 'object' ||
    record.annotations === null
  )
    return 'case.json is incomplete or damaged';
  for (const annotation of Object.values(record.annotations)) {
    const a = annotation as Partial<Annotation>;
    if (!(a.status === null || STATUSES.includes(a.status!)) || typeof a.note !== 'string')
      return 'case.json holds a damaged annotation';
  }
  if (
    record.extractions !== undefined &&
    (!Array.isArray(record.extractions) ||
      record.extractions.some(
        (e: Partial<ExtractionRecord>) =>
          typeof e?.label !== 'string' || typeof e.sha256 !== 'string' || typeof e.fileName !== 'string',
      ))
  )
    return 'case.json holds a damaged extraction record';
  return record as CaseRecord;
}

export class CaseStore {
  constructor(readonly folder: string) {}

  private caseFolder(id: string): string {
    return join(this.folder, id);
  }

  /** The case of the image at `path`, if one was saved and can be read. */
  load(path: string): CaseLookup {
    const id = caseId(path);
    const folder = this.caseFolder(id);
    if (!existsSync(join(folder, 'case.json'))) return { kind: 'none' };
    let record: CaseRecord | string;
    try {
      record = validRecord(JSON.parse(readFileSync(join(folder, 'case.json'), 'utf8')), id);
    } catch (error) {
      record = `case.json cannot be read (${(error as Error).message.slice(0, 120)})`;
    }
    if (typeof record === 'string') return { kind: 'set-aside', reason: this.setAside(id, record) };
    let result: AnalysisResult;
    try {
      const text = readFileSync(join(folder, record.result), 'utf8');
      if (hashOf(text) !== record.result.slice(7, 23)) throw new Error('its content does not match its name');
      result = JSON.parse(text) as AnalysisResult;
      if (result.schema !== ANALYSIS_SCHEMA) throw new Error(`schema ${String(result.schema)}`);
    } catch (error) {
      return {
        kind: 'set-aside',
        reason: this.setAside(
          id,
          `its saved result cannot be used (${(error as Error).message.slice(0, 120)})`,
        ),
      };
    }
    return { kind: 'found', record, result };
  }

  /** Saves a new analysis: the result first, then case.json naming it, then old results go. */
  saveAnalysis(
    path: string,
    identity: ImageIdentity,
    engine: string,
    result: AnalysisResult,
    keep?: Pick<CaseRecord, 'analyst' | 'note' | 'annotations' | 'baseline' | 'extractions'>,
  ): CaseRecord {
    const id = caseId(path);
    const folder = this.caseFolder(id);
    ensureFolder(folder);
    const text = JSON.stringify(result);
    const resultFile = `result-${hashOf(text)}.json`;
    writeFileAtomic(join(folder, resultFile), text);
    const record: CaseRecord = {
      schema: CASE_SCHEMA,
      id,
      image: { ...identity, sha256: null },
      engine,
      analyzedAt: new Date().toISOString(),
      result: resultFile,
      baseline: keep?.baseline ?? null,
      analyst: keep?.analyst ?? '',
      note: keep?.note ?? '',
      annotations: keep?.annotations ?? {},
      extractions: keep?.extractions ?? [],
    };
    this.write(record);
    for (const name of readdirSync(folder))
      if (/^result-[0-9a-f]{16}\.json$/.test(name) && name !== resultFile)
        rmSync(join(folder, name), { force: true });
    return record;
  }

  /** Rewrites case.json (notes, annotations, the full hash, the baseline). */
  write(record: CaseRecord): void {
    writeFileAtomic(join(this.caseFolder(record.id), 'case.json'), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** A record with one annotation set (or removed, when it has neither status nor note). */
  static annotate(
    record: CaseRecord,
    target: string,
    status: AnnotationStatus | null,
    note: string,
  ): CaseRecord {
    if (note.length > MAX_NOTE)
      throw new RangeError(`note: at most ${MAX_NOTE.toLocaleString('en-US')} characters`);
    const annotations = { ...record.annotations };
    if (status === null && note.trim() === '') delete annotations[target];
    else annotations[target] = { status, note, updatedAt: new Date().toISOString() };
    return { ...record, annotations };
  }

  /** Moves an unreadable case folder out of the way and says so (the next save starts afresh). */
  private setAside(id: string, reason: string): string {
    const from = this.caseFolder(id);
    const to = join(this.folder, `${id}.set-aside-${Date.now()}`);
    try {
      renameSync(from, to);
      return `its case folder could not be used — ${reason} — and was set aside as ${to}`;
    } catch {
      return `its case folder could not be used — ${reason}`;
    }
  }
}

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
