// A job's id is the image's identity within its fleet, with the engine and, for a host, the
// baselines it is compared among: the same submission gives the same job (nothing is redone),
// anything that changes the result gives another.

import { describe, expect, test } from 'vitest';
import { jobIdOf } from '../../../src/fleet/identity';
import type { FleetJobData } from '../../../src/fleet/types';

const B1 = `b-${'1'.repeat(32)}`;
const B2 = `b-${'2'.repeat(32)}`;

const host: FleetJobData = {
  kind: 'host',
  fleet: 'lab',
  image: '/evidence/pc-01.raw',
  label: 'pc-01.raw',
  identity: { size: 1 << 30, mtimeMs: 1_700_000_000_000, quickHash: 'a'.repeat(64) },
  engine: 'irpscope-analysis/3 0.1.0 0123456789abcdef',
  submittedAt: '2026-12-06T00:00:00.000Z',
  symbols: null,
  baselines: [B1],
};

describe('jobIdOf', () => {
  test('the same image in the same fleet is the same job, whenever and under whatever label it is submitted', () => {
    expect(jobIdOf({ ...host, submittedAt: 'later', label: 'other' } as FleetJobData)).toBe(jobIdOf(host));
    expect(jobIdOf(host)).toMatch(/^h-[0-9a-f]{32}$/);
    expect(jobIdOf({ ...host, kind: 'baseline', baselines: [] })).toMatch(/^b-[0-9a-f]{32}$/);
  });

  test('another set of baselines is another comparison: another job (their order does not matter)', () => {
    expect(jobIdOf({ ...host, baselines: [B1, B2] })).not.toBe(jobIdOf(host));
    expect(jobIdOf({ ...host, baselines: [B2, B1] })).toBe(jobIdOf({ ...host, baselines: [B1, B2] }));
    expect(jobIdOf({ ...host, baselines: [] })).not.toBe(jobIdOf(host));
  });

  test('an edited image, another engine or another fleet is another job', () => {
    const ids = [
      jobIdOf({ ...host, identity: { ...host.identity, quickHash: 'b'.repeat(64) } }),
      jobIdOf({ ...host, identity: { ...host.identity, size: 1 } }),
      jobIdOf({ ...host, engine: 'irpscope-analysis/3 0.1.1 0123456789abcdef' }),
      jobIdOf({ ...host, fleet: 'other' }),
      jobIdOf({ ...host, image: '/evidence/pc-02.raw' }),
    ];
    expect(new Set([...ids, jobIdOf(host)]).size).toBe(ids.length + 1);
  });
});
