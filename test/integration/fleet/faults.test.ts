// The fleet when things go wrong: a missing image, a results folder that cannot be written or a
// report that cannot go where it was told are one clear error with nothing half-written; Redis
// restarting in the middle of a run is weather (the worker reconnects, the fleet completes, every
// host once); a second submit adds nothing; a host of another build than the baseline is analysed
// alone and says why; a worker sees the storage elsewhere through --path-map; and a Redis behind
// TLS with a password works while the password never appears in anything printed.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FleetReport } from '../../../src/common/fleet';
import { fleetSnapshot } from '../../../src/backend/fleet';
import { fleetStatus } from '../../../src/fleet/bullmq';
import { ISF_19041 } from '../../support/shared';
import { imageForSuite } from '../../support/images';
import { cli, removeRedis, startCli, startRedis, until, type RedisServer, type Running } from './harness';

const SIZE = 64 * 1024 * 1024;
const SEED = 2101;

let work: string;
let golden: string;
let hostsFolder: string;
const servers: RedisServer[] = [];
const started: Running[] = [];

const x64 = (scenario: 'clean' | 'infected', boot: number) =>
  imageForSuite({
    isf: ISF_19041,
    format: 'raw',
    scenario,
    boot,
    size: SIZE,
    seed: SEED,
    fill: 'zero',
    ...(scenario === 'infected' ? { infections: ['irpHook' as const] } : {}),
  });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'irpscope-fleet-faults-'));
  hostsFolder = join(work, 'hosts');
  mkdirSync(hostsFolder);
  golden = x64('clean', 1).image;
  symlinkSync(dirname(x64('clean', 2).image), join(hostsFolder, 'clean'));
  symlinkSync(dirname(x64('infected', 3).image), join(hostsFolder, 'infected'));
  const x86 = imageForSuite({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'clean',
    boot: 2,
    size: SIZE,
    seed: SEED,
    fill: 'zero',
  });
  symlinkSync(dirname(x86.image), join(hostsFolder, 'win7'));
}, 600_000);

afterAll(async () => {
  for (const process of started) await process.stop('SIGKILL');
  for (const server of servers) await removeRedis(server);
  rmSync(work, { recursive: true, force: true });
});

async function redisServer(settings: Parameters<typeof startRedis>[0] = {}): Promise<RedisServer> {
  const server = await startRedis(settings);
  servers.push(server);
  return server;
}

function worker(url: string, results: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Running {
  const run = startCli(['worker', '--redis', url, '--results', results, '--stalled-after', '3', ...extra], {
    env,
  });
  started.push(run);
  return run;
}

async function keysIn(url: string): Promise<number> {
  const redis = new Redis(url);
  try {
    return await redis.dbsize();
  } finally {
    await redis.quit();
  }
}

describe('clear errors before any work', () => {
  test('a missing image: nothing is enqueued', async () => {
    const server = await redisServer();
    const missing = join(work, 'nope', 'image.raw');
    const run = await cli(['fleet', 'submit', '--redis', server.url, '--fleet', 'f', hostsFolder, missing]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`irpscope: cannot read ${missing}: no such file or folder`);
    expect(await keysIn(server.url)).toBe(0);
  });

  test('a results folder that is not a folder, for the worker and for fleet run: nothing is written', async () => {
    const file = join(work, 'not-a-folder');
    writeFileSync(file, 'x');
    const worker = await cli(['worker', '--redis', 'redis://127.0.0.1:1', '--results', file]);
    expect(worker.status).toBe(2);
    expect(worker.stderr).toBe(`irpscope: cannot write results to ${file}: it is not a folder`);
    const inside = join(file, 'results');
    const run = await cli(['fleet', 'run', '--baseline', golden, '--results', inside, hostsFolder]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^irpscope: cannot write results to ${inside}: `));
    expect(run.stdout).toBe('');
  });

  test('a report that cannot go where it was told is said before the analyses', async () => {
    const out = join(work, 'no-such-folder', 'report.html');
    const results = join(work, 'unused-results');
    const run = await cli(['fleet', 'run', '--results', results, '--html', '--out', out, hostsFolder]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`irpscope: cannot write ${out}: its folder does not exist`);
    expect(() => readdirSync(results)).toThrow();
  });
});

describe('a fleet on a Redis that restarts', () => {
  test('the worker reconnects, every host once; a second submit adds nothing; another build is alone', async () => {
    const server = await redisServer({ appendOnly: true, password: 'restart-secret' });
    const results = join(work, 'restart-results');
    const w = worker(server.url, results, ['--name', 'W']);
    await w.line((l) => l.includes('takes jobs from'));
    const args = [
      'fleet',
      'submit',
      '--redis',
      server.url,
      '--fleet',
      'r',
      '--baseline',
      golden,
      hostsFolder,
    ];
    expect((await cli(args)).stdout).toContain('3 hosts added; 1 baseline added');

    // Redis goes away in the middle of the run, long enough for the worker to feel it, and comes back.
    await w.line((l) => / done host /.test(l));
    await server.stop();
    await w.line((l) => l.includes('lost Redis'));
    await w.line((l) => l.includes('worker error'));
    await server.start();
    await w.line((l) => l.includes('connected to Redis') && l.includes('again'));
    const status = await until(
      () => fleetStatus(server.url, 'r'),
      (s) => s.counts.done + s.counts.failed === 4,
      180_000,
    );
    expect(status.counts).toMatchObject({ total: 4, done: 4, failed: 0, queued: 0, active: 0 });
    // Said once each, in its own words: no stack traces, no line repeated every retry.
    expect(w.stderr.filter((l) => !l.startsWith('irpscope worker: '))).toEqual([]);
    const outage = w.stderr.filter((l) => l.includes('worker error'));
    expect(new Set(outage).size).toBe(outage.length);
    expect(
      w.stderr.some((l) => /lost Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\b.*; reconnecting$/.test(l)),
    ).toBe(true);

    const report = await cli(['fleet', 'report', '--redis', server.url, '--fleet', 'r', '--json']);
    const parsed = JSON.parse(report.stdout) as FleetReport;
    expect(parsed.hosts.map((h) => [h.label, h.state])).toEqual([
      ['clean/image.raw', 'done'],
      ['infected/image.raw', 'done'],
      ['win7/image.raw', 'done'],
    ]);
    expect(readdirSync(join(results, 'r', 'hosts'))).toHaveLength(3);
    // The Windows 7 host has no baseline of its build: analysed alone, and it says why.
    const win7 = parsed.hosts.find((h) => h.label === 'win7/image.raw')!;
    expect(win7.baseline).toBeNull();
    expect(win7.alone).toMatch(
      /^no baseline of Windows 7 .*\(7601, x86\) in this fleet \(.*: Windows 10 .*\(19041, x64\)\)$/,
    );
    expect(parsed.counts).toMatchObject({ matching: 1, differing: 1, alone: 1 });
    expect(report.status).toBe(1);

    // The workbench reads the same fleet (and shows its source masked).
    const snapshot = await fleetSnapshot({ source: { kind: 'redis', url: server.url } });
    expect(snapshot.source).toBe(server.url.replace('restart-secret', '***'));
    expect(snapshot.fleets).toEqual(['r']);
    expect(snapshot.report).toEqual(parsed);
    expect(snapshot.status?.counts).toMatchObject({ total: 4, done: 4 });

    // Submitted again: every image is known, nothing runs again.
    const before = w.stderr.filter((l) => l.includes(' started ')).length;
    const again = await cli(args);
    expect(again.stdout).toContain('0 hosts added, 3 already there; 0 baselines added, 1 already there');
    const after = await fleetStatus(server.url, 'r');
    expect(after.counts).toMatchObject({ total: 4, done: 4, queued: 0, active: 0 });
    expect(w.stderr.filter((l) => l.includes(' started ')).length).toBe(before);
    await w.stop('SIGTERM');
    expect((await w.exited).code).toBe(0);
  }, 600_000);
});

describe('workers that see the storage elsewhere', () => {
  test('--path-map: the submitted folder is gone from where it was, the worker finds it under the map; SIGTERM mid-job finishes it', async () => {
    const server = await redisServer();
    const submitted = join(work, 'evidence');
    mkdirSync(join(submitted, 'host'), { recursive: true });
    symlinkSync(golden, join(submitted, 'host', 'image.raw'));
    const submit = await cli(['fleet', 'submit', '--redis', server.url, '--fleet', 'm', submitted]);
    expect(submit.status).toBe(0);
    const mounted = join(work, 'mounted-elsewhere');
    renameSync(submitted, mounted);
    const w = worker(server.url, join(work, 'mapped-results'), ['--path-map', `${submitted}=${mounted}`]);
    // Asked to stop while it analyses: it finishes the job in hand, then exits cleanly.
    await w.line((l) => / started host /.test(l));
    process.kill(w.pid, 'SIGTERM');
    expect((await w.exited).code).toBe(0);
    // The signal may be handled only once the analysis yields: the job in hand is done all the same.
    expect(w.stderr.some((l) => /SIGTERM: finishing the jobs in hand/.test(l))).toBe(true);
    expect(w.stderr.some((l) => / done host host\/image\.raw/.test(l))).toBe(true);
    expect(w.stderr.at(-1)).toBe('irpscope worker: stopped');
    await until(
      () => fleetStatus(server.url, 'm'),
      (s) => s.counts.done + s.counts.failed === 1,
      120_000,
    );
    const report = JSON.parse(
      (await cli(['fleet', 'report', '--redis', server.url, '--fleet', 'm', '--json'])).stdout,
    ) as FleetReport;
    expect(report.hosts.map((h) => [h.image, h.state, h.error])).toEqual([
      [join(submitted, 'host', 'image.raw'), 'done', null],
    ]);
  }, 300_000);
});

describe('Redis over TLS with a password', () => {
  test('rediss:// works, and the password is in nothing any command prints', async () => {
    const certs = join(work, 'tls');
    mkdirSync(certs);
    const [cert, key] = [join(certs, 'cert.pem'), join(certs, 'key.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const password = 'Tr0ub4dor-and-3';
    const server = await redisServer({ password, tls: { cert, key } });
    expect(server.url.startsWith('rediss://')).toBe(true);

    // Without the certificate authority the connection is refused, in words, the password masked.
    const untrusted = await cli(['fleet', 'status', '--redis', server.url, '--fleet', 't']);
    expect(untrusted.status).toBe(2);
    expect(untrusted.stderr).toMatch(
      /^irpscope: cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+: .*certificate/,
    );

    const env = { NODE_EXTRA_CA_CERTS: cert };
    const w = worker(server.url, join(work, 'tls-results'), [], env);
    await w.line((l) => l.includes('takes jobs from'));
    const submit = await cli(
      [
        'fleet',
        'submit',
        '--redis',
        server.url,
        '--fleet',
        't',
        '--baseline',
        golden,
        join(hostsFolder, 'infected'),
      ],
      { env },
    );
    expect(submit.status).toBe(0);
    await w.line((l) => / done host /.test(l));
    const status = await cli(['fleet', 'status', '--redis', server.url, '--fleet', 't'], { env });
    const report = await cli(['fleet', 'report', '--redis', server.url, '--fleet', 't'], { env });
    expect(report.status).toBe(1);
    expect(report.stdout).toContain('1 differ');
    await w.stop('SIGTERM');
    const printed = [untrusted, submit, status, report]
      .flatMap((r) => [r.stdout, r.stderr])
      .concat(w.stdout, w.stderr);
    for (const text of printed) expect(text).not.toContain(password);
    expect(printed.join('\n')).toContain('rediss://:***@127.0.0.1');
  }, 300_000);
});
