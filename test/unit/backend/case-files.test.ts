// Every file read from the data folder is checked whole against a schema: the stored analysis
// result against one that mirrors src/common/model.ts (checked at the type level, so the two
// cannot drift), case.json against the case's. parseCaseFile — the fuzz campaign's entry point —
// gives the value or a one-line reason, and throws nothing else whatever the bytes.

import { join } from 'node:path';
import { beforeAll, describe, expect, expectTypeOf, test } from 'vitest';
import { ANALYSIS_SCHEMA } from '../../../src/common/model';
import type { z } from 'zod';
import type { AnalysisResult, Hex } from '../../../src/common/model';
import type { analysisResultSchema } from '../../../src/common/model-schema';
import { CaseFileRejection, parseCaseFile, type CaseRecord } from '../../../src/backend/cases/case-file';
import { openEngine } from '../../../src/core/node/engine';
import { imageForSuite, isfFiles } from '../../support/images';
import { SHARED } from '../../support/shared';

async function analyseWithEngine(path: string, symbols?: string): Promise<AnalysisResult> {
  const engine = await openEngine(path, symbols ? { symbols } : {}, () => {});
  try {
    return await engine.analyze(() => {}, new AbortController().signal);
  } finally {
    engine.close();
  }
}

const bytesOf = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** The outcome of parsing: the value, or the rejection's reason; anything else thrown fails the test. */
function outcome(bytes: Uint8Array): { value: unknown } | { reason: string } {
  try {
    return { value: parseCaseFile(bytes) };
  } catch (error) {
    if (!(error instanceof CaseFileRejection)) throw error;
    return { reason: error.reason };
  }
}

const results: Array<{ label: string; result: AnalysisResult }> = [];

beforeAll(async () => {
  const x86 = imageForSuite({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'infected',
    size: 64 << 20,
    seed: 3,
  });
  const x64 = imageForSuite({
    isf: isfFiles().find((f) => f.isf.includes('1C9875F7'))!.isf,
    format: 'dmp-full',
    scenario: 'infected',
    size: 64 << 20,
    seed: 4,
  });
  results.push({ label: 'x86 raw, infected', result: await analyseWithEngine(x86.image) });
  results.push({
    label: 'x64 crash dump, infected',
    result: await analyseWithEngine(x64.image, join(SHARED, 'isf')),
  });
  results.push({
    label: 'x64 triage dump',
    result: await analyseWithEngine(join(SHARED, 'dumps', 'win10-19041-x64-triage.dmp'), join(SHARED, 'isf')),
  });
});

const RECORD: CaseRecord = {
  schema: 'irpscope-case/2',
  id: '0123456789abcdef0123',
  image: {
    path: '/cases/image.raw',
    size: 64 << 20,
    mtimeMs: 1_760_000_000_000,
    quickHash: 'a'.repeat(64),
    sha256: 'b'.repeat(64),
    sha256ComputedAt: '2026-01-02T03:04:05.678Z',
    sha256VerifiedAt: null,
  },
  engine: 'irpscope-analysis/2 1.0.0 0123456789abcdef',
  analyzedAt: '2026-01-02T03:00:00.000Z',
  openedAt: '2026-01-02T03:00:00.000Z',
  result: 'result-0123456789abcdef.json',
  baseline: { path: '/cases/clean.raw' },
  analyst: 'J. Analyst',
  note: 'host LAB-7',
  annotations: {
    'finding:F001': { status: 'suspicious', note: 'the rootkit', updatedAt: '2026-01-02T03:05:00.000Z' },
    'driver:0x81234000': { status: null, note: 'look again', updatedAt: '2026-01-02T03:06:00.000Z' },
  },
  extractions: [
    {
      label: 'driver \\Driver\\Disk (disk.sys)',
      fileName: 'disk.sys',
      base: '0x8a000000',
      layout: 'pe',
      size: 65536,
      sha256: 'c'.repeat(64),
      missingPages: 0,
      pages: 16,
      at: '2026-01-02T03:07:00.000Z',
    },
  ],
};

describe('the analysis result schema', () => {
  test('is the AnalysisResult type, no more and no less', () => {
    expectTypeOf<z.infer<typeof analysisResultSchema>>().toEqualTypeOf<AnalysisResult>();
  });

  test('takes what the engine produces, whole, and gives it back unchanged', () => {
    expect(results.length).toBe(3);
    for (const { label, result } of results) {
      const parsed = outcome(bytesOf(result));
      expect(parsed, label).toEqual({
        value: { kind: 'result', result: JSON.parse(JSON.stringify(result)) },
      });
    }
  });
});

describe('parseCaseFile', () => {
  test('a case.json, and one written before SHA-256 times and open times existed', () => {
    expect(outcome(bytesOf(RECORD))).toEqual({ value: { kind: 'case', record: RECORD } });
    const { sha256ComputedAt: _c, sha256VerifiedAt: _v, ...oldImage } = RECORD.image;
    const { openedAt: _o, extractions: _e, ...rest } = RECORD;
    const first = { ...rest, schema: 'irpscope-case/1', image: oldImage };
    expect(outcome(bytesOf(first))).toEqual({
      value: {
        kind: 'case',
        record: {
          ...RECORD,
          image: { ...RECORD.image, sha256ComputedAt: null },
          openedAt: RECORD.analyzedAt,
          extractions: [],
        },
      },
    });
  });

  const hostile: Array<[string, unknown, RegExp]> = [
    ['a result that is only its schema', { schema: ANALYSIS_SCHEMA }, /^image: /],
    ['drivers that are not a list', { drivers: {} }, /^drivers: /],
    ['a driver without handlers', { driverIrp: null }, /^drivers\.0\.irp: /],
    ['a finding of no known kind', { findingKind: 'rootkit!' }, /^findings\.0\.kind: /],
    ['an address that is not hex', { driverVa: 'x; rm -rf' }, /^drivers\.0\.objectVa: /],
    ['an extraction record with a null size', { extractionSize: null }, /^extractions\.0\.size: /],
    [
      'an annotation with an unknown status',
      { annotationStatus: 'evil' },
      /^annotations\.finding:F001\.status: /,
    ],
    ['an annotation on something that is no target', { annotationTarget: '../x' }, /^annotations\.\.\.\/x: /],
    ['a result file name that leaves the folder', { resultName: '../../etc/passwd' }, /^result: /],
    ['a case of a newer IRPscope', { caseSchema: 'irpscope-case/7' }, /another version of IRPscope/],
  ];
  test.each(hostile)('%s is refused with a one-line reason', (_what, damage, reason) => {
    const result = structuredClone(results[0]!.result) as unknown as Record<string, unknown> & AnalysisResult;
    const record = structuredClone(RECORD) as CaseRecord & Record<string, unknown>;
    const d = damage as Record<string, unknown>;
    let file: unknown = result;
    if ('schema' in d) file = d;
    if ('drivers' in d) result.drivers = d.drivers as never;
    if ('driverIrp' in d) result.drivers[0]!.irp = null as never;
    if ('findingKind' in d) result.findings[0]!.kind = d.findingKind as never;
    if ('driverVa' in d) result.drivers[0]!.objectVa = d.driverVa as Hex;
    for (const key of ['extractionSize', 'annotationStatus', 'annotationTarget', 'resultName', 'caseSchema'])
      if (key in d) file = record;
    if ('extractionSize' in d) record.extractions[0]!.size = null as never;
    if ('annotationStatus' in d) record.annotations['finding:F001']!.status = 'evil' as never;
    if ('annotationTarget' in d) record.annotations['../x'] = record.annotations['finding:F001']!;
    if ('resultName' in d) record.result = d.resultName as string;
    if ('caseSchema' in d) record.schema = d.caseSchema as never;
    const parsed = outcome(bytesOf(file));
    expect(parsed).toEqual({ reason: expect.stringMatching(reason) });
    expect((parsed as { reason: string }).reason).not.toMatch(/\n/);
  });

  test('bytes that are not JSON, or JSON that is no case file, are refused', () => {
    for (const [bytes, reason] of [
      [new Uint8Array([0xff, 0xfe, 0x00]), /^not JSON/],
      [new TextEncoder().encode('{"schema": "irpscope-case/2", "id": tru'), /^not JSON/],
      [new TextEncoder().encode('[1,2,3]'), /^not a case file/],
      [new TextEncoder().encode('"irpscope-case/2"'), /^not a case file/],
      [new TextEncoder().encode('{"schema":"irpscope-fleet/1"}'), /^not a case file/],
    ] as const)
      expect(outcome(bytes)).toEqual({ reason: expect.stringMatching(reason) });
  });

  test('thousands of mutated case files and results give a value or a typed rejection, nothing else', () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const replacements = [null, 0, -1, 1.5, 2 ** 60, '', 'x', '0x', true, [], {}, [null], { schema: 1 }];
    // Mostly the small files (a case.json, a triage dump's result); the large results less often.
    const small: unknown[] = [RECORD, results[2]!.result];
    const large: unknown[] = [results[0]!.result, results[1]!.result];
    let rejected = 0;
    for (let round = 0; round < 3000; round++) {
      const base = round % 25 === 0 ? large[random(large.length)] : small[random(small.length)];
      const value = structuredClone(base) as Record<string, unknown>;
      // Walk to a random place and replace, remove or retype what is there.
      let node: Record<string, unknown> = value;
      for (let depth = 0; depth < 1 + random(6); depth++) {
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        const key = keys[random(keys.length)]!;
        const next = node[key];
        if (next !== null && typeof next === 'object' && random(3) > 0)
          node = next as Record<string, unknown>;
        else {
          if (random(4) === 0) delete node[key];
          else node[key] = replacements[random(replacements.length)];
          break;
        }
      }
      let bytes = bytesOf(value);
      if (random(10) === 0) bytes = bytes.subarray(0, random(bytes.length));
      const parsed = outcome(bytes);
      if ('reason' in parsed) {
        rejected++;
        expect(parsed.reason).toMatch(/^\S.{0,299}$/);
      }
    }
    expect(rejected).toBeGreaterThan(1000);
  });
});
