// The files of a case folder, checked whole before anything uses them: case.json against the
// case's schema (the first version is read and brought up to date), a stored result against the
// analysis result's (src/common/model-schema.ts). A file that does not pass is refused with one
// line saying where and why; that line is what the case is set aside with.

import { z } from 'zod';
import type { Annotation, AnnotationStatus, ExtractionRecord } from '../../common/api';
import { ANALYSIS_SCHEMA, type AnalysisResult } from '../../common/model';
import { analysisResultSchema, hexSchema } from '../../common/model-schema';
import { visibleText } from '../../common/visible-text';

export const CASE_SCHEMA = 'irpscope-case/2';
const FIRST_CASE_SCHEMA = 'irpscope-case/1';

/** One limit for every note: the case's own and each annotation's. */
export const MAX_NOTE = 20_000;
export const MAX_ANALYST = 200;
export const ANNOTATION_STATUSES = [
  'suspicious',
  'benign',
  'to-check',
] as const satisfies readonly AnnotationStatus[];
/** What an annotation may be on (see AnnotationTarget in api.ts). */
export const ANNOTATION_TARGET = /^(finding|driver|device|handler):\S/;
export const MAX_TARGET = 400;
export const RESULT_FILE = /^result-[0-9a-f]{16}\.json$/;
/** Larger files are refused unread: they would take the process's memory, not give a case. */
export const MAX_CASE_FILE = 64 << 20;
export const MAX_RESULT_FILE = 512 << 20;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'not a SHA-256 in hex');
const isoTime = z.iso.datetime({ message: 'not a time like 2026-01-02T03:04:05.000Z' });
const count = z.number().nonnegative();

const annotationSchema = z.object({
  status: z.enum(ANNOTATION_STATUSES).nullable(),
  note: z.string().max(MAX_NOTE),
  updatedAt: isoTime,
});

const extractionSchema = z.object({
  label: z.string(),
  fileName: z.string(),
  base: hexSchema,
  layout: z.enum(['pe', 'raw']),
  size: count,
  sha256: sha256Hex,
  missingPages: count,
  pages: count,
  at: isoTime,
});

const targetSchema = z
  .string()
  .max(MAX_TARGET)
  .regex(ANNOTATION_TARGET, 'not finding:, driver:, device: or handler: followed by its key');

const firstImageSchema = z.object({
  path: z.string().min(1),
  size: count,
  mtimeMs: z.number(),
  quickHash: sha256Hex,
  sha256: sha256Hex.nullable(),
});

const caseFields = {
  id: z.string().regex(/^[0-9a-f]{20}$/, 'not a case id'),
  engine: z.string(),
  analyzedAt: isoTime,
  baseline: z.object({ path: z.string().min(1) }).nullable(),
  analyst: z.string().max(MAX_ANALYST),
  note: z.string().max(MAX_NOTE),
  annotations: z.record(targetSchema, annotationSchema),
  extractions: z.array(extractionSchema),
};

const caseSchema = z.object({
  schema: z.literal(CASE_SCHEMA),
  ...caseFields,
  image: firstImageSchema.extend({
    /** When the full SHA-256 was computed, and when it was last computed again and matched. */
    sha256ComputedAt: isoTime.nullable(),
    sha256VerifiedAt: isoTime.nullable(),
  }),
  /** When the image was last opened (Recent's order). */
  openedAt: isoTime,
  /** The result file; null when the image changed since and has not been analysed again yet. */
  result: z.string().regex(RESULT_FILE, 'not a result file name').nullable(),
});

/** A case saved before the SHA-256's times, the open time and extractions were kept. */
const firstCaseSchema = z
  .object({
    schema: z.literal(FIRST_CASE_SCHEMA),
    ...caseFields,
    image: firstImageSchema,
    result: z.string().regex(RESULT_FILE, 'not a result file name'),
    extractions: caseFields.extractions.optional(),
  })
  .transform((first): CaseRecord => ({
    ...first,
    schema: CASE_SCHEMA,
    image: { ...first.image, sha256ComputedAt: null, sha256VerifiedAt: null },
    openedAt: first.analyzedAt,
    extractions: first.extractions ?? [],
  }));

export type CaseRecord = z.infer<typeof caseSchema>;

// The case's parts are the API's types exactly (this compiles only while they are).
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const sameParts: [
  Same<z.infer<typeof annotationSchema>, Annotation>,
  Same<z.infer<typeof extractionSchema>, ExtractionRecord>,
] = [true, true];
void sameParts;

export type CaseFile = { kind: 'case'; record: CaseRecord } | { kind: 'result'; result: AnalysisResult };

/** Why a case file cannot be used, in one line: the only thing parseCaseFile throws. */
export class CaseFileRejection extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CaseFileRejection';
  }
}

/**
 * The case file (a case.json or a stored result) these bytes hold, checked whole; throws
 * CaseFileRejection, and nothing else, when they hold none. Pure: the fuzz campaign's entry point.
 */
export function parseCaseFile(bytes: Uint8Array): CaseFile {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new CaseFileRejection(`not JSON (${oneLine(messageOf(error))})`);
  }
  const schema =
    typeof value === 'object' && value !== null ? (value as { schema?: unknown }).schema : undefined;
  if (typeof schema !== 'string' || Array.isArray(value))
    throw new CaseFileRejection('not a case file (no schema named in it)');
  if (schema === CASE_SCHEMA) return { kind: 'case', record: checked(caseSchema, value) };
  if (schema === FIRST_CASE_SCHEMA) return { kind: 'case', record: checked(firstCaseSchema, value) };
  if (schema === ANALYSIS_SCHEMA) return { kind: 'result', result: checked(analysisResultSchema, value) };
  if (/^irpscope-(case|analysis)\/\d+$/.test(schema))
    throw new CaseFileRejection(
      `it was written by another version of IRPscope (${schema}; this one reads ${CASE_SCHEMA} and ${ANALYSIS_SCHEMA})`,
    );
  throw new CaseFileRejection(
    `not a case file (its schema is ${oneLine(JSON.stringify(schema)).slice(0, 60)})`,
  );
}

function checked<T>(schema: z.ZodType<T>, value: unknown): T {
  let parsed;
  try {
    parsed = schema.safeParse(value);
  } catch (error) {
    // A value zod cannot walk at all (nesting deeper than the stack): refused like any other.
    throw new CaseFileRejection(`cannot be checked (${oneLine(messageOf(error))})`);
  }
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.map((key) => String(key)).join('.');
  throw new CaseFileRejection(oneLine(`${where || 'the file'}: ${issue.message}`));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One line, with every control or invisible character shown, at most 300 characters. */
function oneLine(text: string): string {
  const line = visibleText(text.replace(/\s+/g, ' ').trim());
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
