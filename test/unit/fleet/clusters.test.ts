// Clusters: hosts grouped by the evidence they share. Every piece two or more hosts have gives a
// set of hosts; pieces with the same set make one cluster; the order does not depend on the order
// the hosts came in.

import { describe, expect, test } from 'vitest';
import { clusterHosts, type ClusterInput } from '../../../src/fleet/clusters';
import type { Evidence } from '../../../src/common/fleet';

const driver: Evidence = {
  key: 'added-driver|36864|1470356271|998488',
  kind: 'added-driver',
  label: 'added driver acpiex2.sys',
  severity: 'medium',
};
const diskHook: Evidence = {
  key: 'hooked-entry|\\driver\\disk|IRP_MJ_DEVICE_CONTROL|acpiex2.sys+0x11e0',
  kind: 'hooked-entry',
  label: '\\Driver\\Disk IRP_MJ_DEVICE_CONTROL → acpiex2.sys+0x11e0',
  severity: 'high',
};
const netHook: Evidence = { ...diskHook, key: 'hooked-entry|\\driver\\nsiproxy|x', label: 'nsiproxy' };
const service: Evidence = {
  key: 'patched-service|NtWriteFile|acpiex2.sys+0x1720',
  kind: 'patched-service',
  label: 'service NtWriteFile → acpiex2.sys+0x1720',
  severity: 'critical',
};
const lonely: Evidence = { key: 'other|module|added|x.sys', kind: 'other', label: 'x.sys', severity: 'low' };

const fleet: ClusterInput[] = [
  { label: 'h1', evidence: [driver, diskHook, netHook] },
  { label: 'h2', evidence: [driver, diskHook, netHook] },
  { label: 'h3', evidence: [driver, service] },
  { label: 'h4', evidence: [{ ...driver, severity: 'critical' }, service, lonely] },
  { label: 'h5', evidence: [] },
];

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('clusterHosts', () => {
  test('one cluster per set of hosts that shares evidence, largest first', () => {
    const clusters = clusterHosts(fleet);
    expect(clusters.map((c) => [c.id, c.hosts, c.evidence.map((e) => e.key)])).toEqual([
      ['C1', ['h1', 'h2', 'h3', 'h4'], [driver.key]],
      ['C2', ['h3', 'h4'], [service.key]],
      ['C3', ['h1', 'h2'], [diskHook.key, netHook.key]],
    ]);
  });

  test('evidence only one host has makes no cluster; a host without evidence is in none', () => {
    const clusters = clusterHosts(fleet);
    expect(clusters.flatMap((c) => c.evidence.map((e) => e.key))).not.toContain(lonely.key);
    expect(clusters.flatMap((c) => c.hosts)).not.toContain('h5');
  });

  test('a cluster weighs what its gravest host shows (the driver is hidden on h4)', () => {
    const clusters = clusterHosts(fleet);
    expect(clusters[0]!.evidence[0]!.severity).toBe('critical');
    expect(clusters[0]!.severity).toBe('critical');
  });

  test('the same clusters whatever order the hosts and their evidence come in', () => {
    const expected = JSON.stringify(clusterHosts(fleet));
    for (const seed of [1, 2, 3, 4, 5]) {
      const input = shuffled(fleet, seed).map((h) => ({ ...h, evidence: shuffled(h.evidence, seed + 7) }));
      expect(JSON.stringify(clusterHosts(input))).toBe(expected);
    }
  });
});
