// Issue 21's "Done when": twenty builder images of one installation (several boots; a third of the
// hosts infected in three different ways, one image corrupt), a Redis of the test's own, two
// worker processes, one of them killed with SIGKILL in the middle of a job. Every host has exactly
// one result; the infected hosts report exactly what the builder planted, the clean ones nothing,
// the corrupt one its reason; the clusters are the hosts that share a planted rootkit; and
// `fleet run`, without Redis, gives the same report.

import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ImageFormat, Infection, Truth } from '../../../src/builder/index';
import type { FleetReport, HostRow } from '../../../src/common/fleet';
import { analyzeImage } from '../../../src/core/node/analyze';
import { ImageError } from '../../../src/core/image';
import { PREFIX, QUEUE_NAME, fleetStatus } from '../../../src/fleet/bullmq';
import { ISF_19041 } from '../../support/shared';
import { imageForSuite } from '../../support/images';
import { cli, removeRedis, startCli, startRedis, until, type RedisServer, type Running } from './harness';

const SIZE = 64 * 1024 * 1024;
const SEED = 2101;

/** Three rootkit campaigns of one installation: IRP hooks; patched system services; inline hooks. */
const SCENARIOS: Record<string, Infection[]> = {
  irp: ['irpHook'],
  services: ['ssdtHook', 'ssdtInline'],
  inline: ['inlineHook'],
};

type Plan = { scenario: 'clean' | 'corrupt' | keyof typeof SCENARIOS; format: ImageFormat };

// 19 hosts on boots 2–20 (the baseline is boot 1): 11 clean, 7 infected, 1 corrupt.
const HOSTS: Plan[] = [
  { scenario: 'clean', format: 'raw' },
  { scenario: 'irp', format: 'elf' },
  { scenario: 'clean', format: 'dmp-full' },
  { scenario: 'clean', format: 'vmware' },
  { scenario: 'services', format: 'raw' },
  { scenario: 'clean', format: 'dmp-bitmap' },
  { scenario: 'irp', format: 'raw' },
  { scenario: 'clean', format: 'elf' },
  { scenario: 'inline', format: 'dmp-full' },
  { scenario: 'clean', format: 'raw' },
  { scenario: 'corrupt', format: 'dmp-full' },
  { scenario: 'services', format: 'elf' },
  { scenario: 'clean', format: 'raw' },
  { scenario: 'irp', format: 'vmware' },
  { scenario: 'clean', format: 'elf' },
  { scenario: 'inline', format: 'raw' },
  { scenario: 'clean', format: 'dmp-full' },
  { scenario: 'clean', format: 'raw' },
  { scenario: 'clean', format: 'elf' },
];

interface Host {
  label: string;
  plan: Plan;
  truth: Truth | null;
}

let work: string;
let hostsFolder: string;
let golden: { image: string; truth: Truth };
let hosts: Host[];
let redis: RedisServer | undefined;
const started: Running[] = [];

const labelOf = (index: number, image: string): string =>
  `host-${String(index).padStart(2, '0')}/${image.slice(image.lastIndexOf('/') + 1)}`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'irpscope-fleet-'));
  hostsFolder = join(work, 'hosts');
  mkdirSync(hostsFolder);
  const build = (
    scenario: 'clean' | 'infected',
    boot: number,
    format: Plan['format'],
    infections?: Infection[],
  ) =>
    imageForSuite({
      isf: ISF_19041,
      format,
      scenario,
      boot,
      size: SIZE,
      seed: SEED,
      fill: 'zero',
      ...(infections ? { infections } : {}),
    });
  golden = build('clean', 1, 'raw');
  hosts = HOSTS.map((plan, index) => {
    const boot = index + 2;
    const folder = join(hostsFolder, `host-${String(index).padStart(2, '0')}`);
    if (plan.scenario === 'corrupt') {
      // A crash dump cut short in its header's run list: a capture that did not finish.
      const whole = build('clean', boot, plan.format);
      mkdirSync(folder);
      const image = join(folder, 'image.dmp');
      copyFileSync(whole.image, image);
      truncateSync(image, 8192);
      return { label: labelOf(index, image), plan, truth: null };
    }
    const built =
      plan.scenario === 'clean'
        ? build('clean', boot, plan.format)
        : build('infected', boot, plan.format, SCENARIOS[plan.scenario]);
    symlinkSync(dirname(built.image), folder);
    return { label: labelOf(index, built.image), plan, truth: built.truth };
  });
}, 900_000);

afterAll(async () => {
  for (const process of started) await process.stop('SIGKILL');
  await removeRedis(redis);
  rmSync(work, { recursive: true, force: true });
});

/** Findings the builder planted, as "severity kind subject" (stale drivers are every boot's). */
function planted(truth: Truth): string[] {
  return truth.findings
    .filter((f) => f.kind !== 'stale-driver')
    .map((f) => `${f.severity} ${f.kind} ${f.subject}`)
    .sort();
}

/** The rootkit's drivers: those of the infected system the clean installation does not have. */
function rootkitDrivers(truth: Truth): string[] {
  const clean = new Set(golden.truth.drivers.map((d) => d.name));
  return truth.drivers.filter((d) => !clean.has(d.name)).map((d) => d.name);
}

function rootkitModules(truth: Truth): string[] {
  const clean = new Set(golden.truth.modules.map((m) => m.name));
  return truth.modules.filter((m) => !clean.has(m.name)).map((m) => m.name);
}

function expectHostAsPlanted(row: HostRow, host: Host): void {
  expect(row.state, row.label).toBe('done');
  expect(row.baseline).toBe(golden.image);
  expect(row.system).toMatchObject({ number: golden.truth.build, arch: 'x64' });
  const reported = row.differenceList.flatMap((d) =>
    d.findings.map((f) => `${f.severity} ${f.kind} ${f.subject}`),
  );
  if (host.plan.scenario === 'clean') {
    expect(row.differences, row.label).toBe(0);
    expect(reported).toEqual([]);
    return;
  }
  expect(reported.sort(), row.label).toEqual(planted(host.truth!));
  // The one difference no finding explains is the rootkit's driver itself, new on this host.
  const bare = row.differenceList.filter((d) => d.findings.length === 0);
  expect(bare.map((d) => `${d.kind} ${d.change} ${d.key}`)).toEqual(
    rootkitDrivers(host.truth!).map((name) => `driver added ${name}`),
  );
  expect(row.differences).toBe(row.differenceList.length);
}

function expectClusters(report: FleetReport): void {
  const labels = (scenario: string) =>
    hosts
      .filter((h) => h.plan.scenario === scenario)
      .map((h) => h.label)
      .sort();
  const infected = hosts
    .filter((h) => h.plan.scenario in SCENARIOS)
    .map((h) => h.label)
    .sort();
  const byHosts = new Map(report.clusters.map((c) => [JSON.stringify(c.hosts), c]));
  expect(report.clusters).toHaveLength(4);
  const all = byHosts.get(JSON.stringify(infected));
  expect(all?.evidence.map((e) => e.kind)).toEqual(['added-driver']);
  const rootkit = rootkitModules(hosts.find((h) => h.plan.scenario === 'irp')!.truth!);
  expect(rootkit).toHaveLength(1);
  expect(all?.evidence[0]!.label).toContain(rootkit[0]);
  const expected: Record<string, string> = {
    irp: 'hooked-entry',
    services: 'patched-service',
    inline: 'hooked-entry',
  };
  for (const [scenario, kind] of Object.entries(expected)) {
    const cluster = byHosts.get(JSON.stringify(labels(scenario)));
    expect(cluster, scenario).toBeDefined();
    expect(new Set(cluster!.evidence.map((e) => e.kind)), scenario).toEqual(new Set([kind]));
    for (const evidence of cluster!.evidence) expect(evidence.label).toContain(`${rootkit[0]}+0x`);
  }
  for (const row of report.hosts)
    expect(row.clusters.length, row.label).toBe(
      row.label.startsWith('host-') && infected.includes(row.label) ? 2 : 0,
    );
}

describe('a fleet of 19 hosts and a baseline on two BullMQ workers', () => {
  test('every host has one result, the killed worker loses nothing, and fleet run agrees', async () => {
    redis = await startRedis();
    const results = join(work, 'results');
    const worker = (name: string) =>
      startCli([
        'worker',
        '--redis',
        redis!.url,
        '--results',
        results,
        '--name',
        name,
        '--stalled-after',
        '3',
      ]);
    const a = worker('A');
    const b = worker('B');
    started.push(a, b);
    await Promise.all([
      a.line((l) => l.includes('takes jobs from')),
      b.line((l) => l.includes('takes jobs from')),
    ]);

    const submit = await cli([
      'fleet',
      'submit',
      '--redis',
      redis.url,
      '--fleet',
      'lab',
      '--baseline',
      golden.image,
      hostsFolder,
    ]);
    expect(submit.stderr).toBe('');
    expect(submit.stdout).toContain('19 hosts added; 1 baseline added');
    expect(submit.status).toBe(0);

    // Worker A dies in the middle of the first job it takes.
    const first = await a.line((l) => / started (host|baseline) /.test(l));
    process.kill(a.pid, 'SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    const killed = first.replace(/^.* started (host|baseline) /, '');
    expect(
      a.stderr.some((l) => l.includes(`done host ${killed}`) || l.includes(`done baseline ${killed}`)),
    ).toBe(false);

    const status = await until(
      () => fleetStatus(redis!.url, 'lab'),
      (s) => s.counts.done + s.counts.failed === 20 && s.counts.queued + s.counts.active === 0,
      300_000,
    );
    expect(status.counts).toEqual({ total: 20, queued: 0, active: 0, done: 19, failed: 1 });

    const fromRedis = await cli(['fleet', 'report', '--redis', redis.url, '--fleet', 'lab', '--json']);
    expect(fromRedis.status).toBe(2);
    const report = JSON.parse(fromRedis.stdout) as FleetReport;

    // One row per host, one result folder per host and one for the baseline: nothing twice.
    expect(report.hosts.map((h) => h.label)).toEqual(hosts.map((h) => h.label).sort());
    expect(readdirSync(join(results, 'lab', 'hosts'))).toHaveLength(19);
    expect(readdirSync(join(results, 'lab', 'baselines'))).toHaveLength(1);
    expect(report.counts).toMatchObject({
      hosts: 19,
      done: 18,
      failed: 1,
      matching: 11,
      differing: 7,
      alone: 0,
    });

    // The job A was killed in was taken up again by B and counted once.
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection, prefix: PREFIX });
    try {
      const kind = killed === golden.image ? 'baselines' : 'hosts';
      const entry = JSON.parse(
        (await connection.hget(
          `${PREFIX}:fleets:lab:${kind}`,
          kind === 'baselines' ? golden.image : join(hostsFolder, killed),
        ))!,
      ) as { jobId: string };
      const job = await queue.getJob(entry.jobId);
      expect(job?.processedBy).toBe('B');
      expect(job?.attemptsStarted).toBeGreaterThanOrEqual(2);
      expect(await job?.getState()).toMatch(/completed|failed/);
    } finally {
      await queue.close();
      await connection.quit();
    }

    for (const host of hosts) {
      const row = report.hosts.find((h) => h.label === host.label)!;
      if (host.plan.scenario !== 'corrupt') expectHostAsPlanted(row, host);
      else {
        const reason = await analyzeImage(join(hostsFolder, host.label)).then(
          () => null,
          (error: unknown) => error,
        );
        expect(reason).toBeInstanceOf(ImageError);
        expect(row.state).toBe('failed');
        expect(row.error).toBe((reason as Error).message);
      }
    }
    expectClusters(report);

    // SIGTERM: B finishes what it holds (nothing now) and exits cleanly.
    await b.stop('SIGTERM');
    expect((await b.exited).code).toBe(0);
    expect(b.stderr.at(-1)).toContain('stopped');

    // The same fleet on this machine, without Redis.
    const embedded = await cli([
      'fleet',
      'run',
      '--fleet',
      'lab',
      '--baseline',
      golden.image,
      '--results',
      join(work, 'embedded'),
      '--json',
      hostsFolder,
    ]);
    expect(embedded.status).toBe(2);
    expect(JSON.parse(embedded.stdout)).toEqual(report);
  }, 900_000);
});
