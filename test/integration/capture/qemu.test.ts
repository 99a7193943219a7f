// Live capture from a real QEMU (qemu-system-x86_64, no guest OS): its RAM is a builder image,
// so the capture's analysis must equal the builder's ground truth. The VM's state is checked on
// a second QMP monitor while the capture runs. Failures — a peer that is not QMP, a QEMU that
// dies mid-dump, a full disk, a cancel — must leave nothing at the target path (an older file
// there stays) and the VM as it was. A dump that must be interrupted is held by the test (its
// file is a FIFO the test reads), so it is still being written whatever the machine's speed.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, onTestFinished, test } from 'vitest';
import type { AnalysisResult } from '../../../src/common/model';
import type { DiffResult } from '../../../src/common/api';
import { analyzeImage } from '../../../src/core/node/analyze';
import { CaptureError, captureQemu, findQmpSockets } from '../../../src/core/node/capture';
import { imageForSuite } from '../../support/images';
import { holdDump, startQemu as startQemuProcess, type HeldDump, type QemuOptions } from '../../support/qemu';
import { expectedRows, firstBytesOf, pairRows } from '../../support/planted';
import { expectAnalysisMatchesTruth } from '../../support/truth';

const work = mkdtempSync(join(tmpdir(), 'irpscope-capture-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'bin/irpscope.mjs');
/** tsx's loader by path: the CLI is also run from folders outside the checkout. */
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** A QEMU killed when the test ends, however it ends. */
async function startQemu(options: QemuOptions) {
  const qemu = await startQemuProcess(options);
  onTestFinished(qemu.stop);
  return qemu;
}

/** The CLI in a child process, waited for without blocking this process's event loop (its sockets answer). */
function runCli(
  args: string[],
  cwd: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

function folder(name: string): string {
  const path = join(work, name);
  rmSync(path, { recursive: true, force: true });
  return mkdtempSync(`${path}-`);
}

/** Nothing but what the test put there: no capture, no temporary file. */
function expectNothingLeft(dir: string, expected: string[]): void {
  expect(
    readdirSync(dir)
      .filter((f) => !f.endsWith('.qmp') && f !== 'halt.bin')
      .sort(),
  ).toEqual(expected.sort());
}

/** Resolves when the server listens (a unix socket exists from bind() on, but refuses until listen()). */
function listening(server: Server): Promise<void> {
  return server.listening ? Promise.resolve() : new Promise((resolve) => server.once('listening', resolve));
}

/**
 * A progress callback that, when the capture starts, turns its temporary file (already created
 * beside `out`, not yet opened by QEMU) into a held dump.
 */
function holdingTheDump(out: string): { held: () => HeldDump | null; onStart: () => void } {
  let held: HeldDump | null = null;
  const folder = dirname(out);
  const stem = `.${basename(out)}.`;
  return {
    held: () => held,
    onStart: () => {
      if (held) return;
      const temp = readdirSync(folder).filter((f) => f.startsWith(stem) && f.endsWith('.tmp'));
      expect(temp, "the capture's temporary file").toHaveLength(1);
      held = holdDump(join(folder, temp[0]!));
      onTestFinished(() => held?.close());
    },
  };
}

async function status(watch: Awaited<ReturnType<Awaited<ReturnType<typeof startQemu>>['watch']>>) {
  return watch.execute<{ status: string; running: boolean }>('query-status');
}

describe('capture from QEMU over QMP', () => {
  test('qemu-system-x86_64 is installed (apt-get install qemu-system-x86; .ci/run does it)', () => {
    expect(spawnSync('qemu-system-x86_64', ['--version']).status).toBe(0);
  });

  const infected = imageForSuite({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'infected',
    size: 64 << 20,
    seed: 'capture',
    boot: 2,
  });
  const clean = imageForSuite({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'clean',
    size: 64 << 20,
    seed: 'capture',
    boot: 1,
  });
  const ram = { image: infected.image, bytes: 64 << 20 };

  test('a running VM is paused for the dump only, resumed, and its image analyses to the ground truth', async () => {
    const dir = folder('running');
    const qemu = await startQemu({ folder: dir, memory: ram, paused: false, name: 'win7-infected' });
    const watch = await qemu.watch();
    onTestFinished(() => watch.close());
    expect((await status(watch)).running).toBe(true);
    const events: Array<{ event: string; at: number }> = [];
    watch.onEvent((e) => events.push(e));
    const out = join(dir, 'capture.elf');
    const result = await captureQemu({ qmp: qemu.qmp, out });
    expect(result.vm).toMatchObject({ name: 'win7-infected', memoryBytes: 64 << 20, stateBefore: 'running' });
    expect(result.wasRunning).toBe(true);
    expect(result.pausedMs).toBeGreaterThan(0);
    expect(result.pausedMs!).toBeLessThanOrEqual(result.totalMs);
    expect((await status(watch)).running).toBe(true);
    // QEMU's own clock: stopped before the dump began, resumed only after it was complete.
    expect(events.map((e) => e.event)).toEqual(['STOP', 'DUMP_COMPLETED', 'RESUME']);
    expect(events[0]!.at).toBeLessThanOrEqual(events[1]!.at);
    expect(events[1]!.at).toBeLessThanOrEqual(events[2]!.at);
    expectAnalysisMatchesTruth(await analyzeImage(out), infected.truth);
    expectNothingLeft(dir, ['capture.elf']);
  });

  test('a paused VM (-S) stays paused, over a TCP socket on loopback', async () => {
    const dir = folder('paused');
    const qemu = await startQemu({ folder: dir, memory: ram, paused: true, tcp: true });
    expect(qemu.qmp).toMatch(/^127\.0\.0\.1:\d+$/);
    const watch = await qemu.watch();
    onTestFinished(() => watch.close());
    const events: string[] = [];
    watch.onEvent((e) => events.push(e.event));
    const out = join(dir, 'capture.elf');
    const result = await captureQemu({ qmp: qemu.qmp, out });
    expect(result).toMatchObject({ wasRunning: false, pausedMs: null, source: qemu.qmp });
    expect(await status(watch)).toMatchObject({ running: false, status: 'prelaunch' });
    expect(events).not.toContain('RESUME');
    expectAnalysisMatchesTruth(await analyzeImage(out), infected.truth);
  });

  test('CLI: capture --analyze --json, and capture --baseline with the clean boot (exit 1: it differs)', async () => {
    const dir = folder('cli');
    const qemu = await startQemu({ folder: dir, memory: ram, paused: false });
    const out = join(dir, 'capture.elf');
    const analysed = spawnSync(
      process.execPath,
      [CLI, 'capture', '--qmp', qemu.qmp, '--out', out, '--analyze', '--json'],
      {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      },
    );
    expect(analysed.status, analysed.stderr).toBe(0);
    const document = JSON.parse(analysed.stdout) as {
      capture: { file: string; pausedMs: number };
      analysis: AnalysisResult;
    };
    expect(document.capture.file).toBe(out);
    expect(document.capture.pausedMs).toBeGreaterThan(0);
    expectAnalysisMatchesTruth(document.analysis, infected.truth);
    expect(analysed.stderr).toMatch(/irpscope: dumping/);
    expect(analysed.stderr).toMatch(/irpscope: captured /);

    const compared = spawnSync(
      process.execPath,
      [
        CLI,
        'capture',
        '--qmp',
        qemu.qmp,
        '--out',
        join(dir, 'again.elf'),
        '--baseline',
        clean.image,
        '--json',
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    expect(compared.status, compared.stderr).toBe(1);
    const diff = (JSON.parse(compared.stdout) as { diff: DiffResult }).diff;
    // Every planted anomaly is a difference, at its severity, and nothing else is.
    const expected = expectedRows(infected.truth, clean.truth, firstBytesOf(infected.image, infected.truth));
    const reported = diff.entries.filter((e) => e.variation === null);
    const { extra, missing } = pairRows(reported, expected);
    expect(extra.map((e) => e.key)).toEqual([]);
    expect(missing.map((r) => r.key)).toEqual([]);
    expect(diff.counts.differences).toBe(expected.length);
  });

  test('a socket that is not QMP, or that never greets, is a clear error and leaves no file', async () => {
    const dir = folder('not-qmp');
    const talking = join(dir, 'talking.sock');
    const silent = join(dir, 'silent.sock');
    const servers: Server[] = [
      createServer((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n')).listen(talking),
      createServer(() => undefined).listen(silent),
    ];
    onTestFinished(() => servers.forEach((s) => s.close()));
    await Promise.all(servers.map(listening));
    const out = join(dir, 'capture.elf');
    writeFileSync(out, 'the previous capture');
    await expect(captureQemu({ qmp: talking, out })).rejects.toThrow(/is not a QMP socket/);
    await expect(captureQemu({ qmp: silent, out, bounds: { greetingMs: 500 } })).rejects.toThrow(
      /did not greet within 0.5 s/,
    );
    await expect(captureQemu({ qmp: join(dir, 'absent.sock'), out })).rejects.toThrow(/no such socket/);
    await expect(captureQemu({ qmp: '10.0.0.5:4444', out })).rejects.toThrow(
      /only a QMP socket on this machine/,
    );
    expect(readFileSync(out, 'utf8')).toBe('the previous capture');
    expectNothingLeft(dir, ['capture.elf', 'silent.sock', 'talking.sock']);

    const cli = spawnSync(process.execPath, [CLI, 'capture', '--qmp', talking, '--out', out], {
      encoding: 'utf8',
    });
    expect(cli.status).toBe(2);
    expect(cli.stderr.trim().split('\n').at(-1)).toMatch(/^irpscope: .*is not a QMP socket/);
  });

  test('QEMU killed in the middle of the dump: an error, no file, no debris', async () => {
    const dir = folder('killed');
    const qemu = await startQemu({ folder: dir, memory: { bytes: 64 << 20 }, paused: false });
    const out = join(dir, 'capture.elf');
    writeFileSync(out, 'the previous capture');
    const dump = holdingTheDump(out);
    let killed = false;
    const error = await captureQemu({
      qmp: qemu.qmp,
      out,
      onProgress: (p) => {
        if (p.stage === 'connecting') dump.onStart();
        if (p.stage === 'dumping' && p.completed > 0 && !killed) {
          killed = true;
          qemu.process.kill('SIGKILL');
        }
      },
    }).catch((e: unknown) => e);
    expect(killed).toBe(true);
    // QEMU had written part of the dump when it was killed, and no more.
    dump.held()!.release();
    expect(await dump.held()!.ended).toBeLessThan(64 << 20);
    expect(error).toBeInstanceOf(CaptureError);
    expect((error as CaptureError).kind).toBe('disconnected');
    expect((error as Error).message).toMatch(/connection to QEMU .* was lost/);
    expect(readFileSync(out, 'utf8')).toBe('the previous capture');
    expectNothingLeft(dir, ['capture.elf']);
  });

  test('a full disk (QEMU under a file-size limit): the dump fails, nothing is left, the VM runs again', async () => {
    const dir = folder('full');
    const qemu = await startQemu({ folder: dir, memory: ram, paused: false, fileSizeLimitKiB: 4096 });
    const watch = await qemu.watch();
    onTestFinished(() => watch.close());
    const out = join(dir, 'capture.elf');
    const error = await captureQemu({ qmp: qemu.qmp, out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaptureError);
    expect((error as CaptureError).kind).toBe('dump-failed');
    expect((error as Error).message).toMatch(/QEMU could not write the dump/);
    expect((await status(watch)).running).toBe(true);
    expectNothingLeft(dir, []);
  });

  test('cancel: the file goes at once, the VM resumes when QEMU has finished writing', async () => {
    const dir = folder('cancel');
    const qemu = await startQemu({ folder: dir, memory: { bytes: 64 << 20 }, paused: false });
    const watch = await qemu.watch();
    onTestFinished(() => watch.close());
    const out = join(dir, 'capture.elf');
    const abort = new AbortController();
    const dump = holdingTheDump(out);
    const stages: string[] = [];
    let fileWhileCancelling: boolean | null = null;
    const error = await captureQemu({
      qmp: qemu.qmp,
      out,
      signal: abort.signal,
      onProgress: (p) => {
        stages.push(p.stage);
        if (p.stage === 'connecting') dump.onStart();
        if (p.stage === 'dumping' && p.completed > 0) abort.abort();
        // The file is gone at once, while QEMU is still writing; only then is the dump let through.
        if (p.stage === 'cancelling' && fileWhileCancelling === null) {
          fileWhileCancelling = readdirSync(dir).some((f) => f.startsWith('.capture.elf.'));
          dump.held()!.release();
        }
      },
    }).catch((e: unknown) => e);
    expect((error as CaptureError).kind).toBe('cancelled');
    expect(stages).toContain('cancelling');
    expect(fileWhileCancelling).toBe(false);
    // QEMU finished writing (into a file no longer at any path) before the VM was resumed.
    expect(await dump.held()!.ended).toBeGreaterThanOrEqual(64 << 20);
    expect((await status(watch)).running).toBe(true);
    expectNothingLeft(dir, []);
  });

  test('a relative --out (the README form): the image lands at --out, whatever the working folder of QEMU', async () => {
    const vmFolder = folder('relative-vm');
    const cliFolder = folder('relative-cli');
    const qemu = await startQemu({ folder: vmFolder, memory: ram, paused: false });
    const cli = await runCli(['capture', '--qmp', qemu.qmp, '--out', 'relative.elf'], cliFolder);
    expect(cli.status, cli.stderr).toBe(0);
    expect(statSync(join(cliFolder, 'relative.elf')).size).toBeGreaterThanOrEqual(64 << 20);
    expect(cli.stdout).toContain(`image      ${join(cliFolder, 'relative.elf')} (64 MiB, ELF core`);
    expectNothingLeft(vmFolder, []);
    expectNothingLeft(cliFolder, ['relative.elf']);
    expectAnalysisMatchesTruth(await analyzeImage(join(cliFolder, 'relative.elf')), infected.truth);
  });

  test('sockets in a folder: a VM is listed, a busy monitor says why without blaming libvirt, another program’s socket is skipped unprobed', async () => {
    const dir = folder('list');
    const qemu = await startQemu({ folder: dir, memory: ram, paused: true, name: 'listed-vm' });
    const holder = await qemu.watch(); // holds the second monitor: it cannot greet anyone else
    onTestFinished(() => holder.close());
    let probed = 0;
    const foreign = createServer((s) => {
      probed++;
      s.end('220 smtp ready\r\n');
    }).listen(join(dir, 'foreign.sock'));
    const silentQmpName = createServer(() => probed++).listen(join(dir, 'other.qmp'));
    onTestFinished(() => void foreign.close());
    onTestFinished(() => void silentQmpName.close());
    await Promise.all([foreign, silentQmpName].map(listening));
    const search = await findQmpSockets([dir], 500, []);
    const byName = new Map(search.probes.map((p) => [p.path.split('/').pop(), p]));
    expect(byName.get('capture.qmp')).toMatchObject({
      state: 'ready',
      vm: { name: 'listed-vm', status: 'prelaunch', memoryBytes: 64 << 20 },
    });
    const busy = byName.get('watch.qmp')!;
    expect(busy.state).toBe('busy');
    expect(busy.reason).toMatch(
      new RegExp(
        `^QEMU \\(pid ${qemu.process.pid}\\) does not greet within 0.5 s: another client is connected`,
      ),
    );
    expect(busy.reason).not.toMatch(/libvirt/);
    // This process listens on both: neither is QEMU, so neither is probed, and each says who holds it.
    expect(search.skipped.map((s) => [s.path.split('/').pop(), s.reason]).sort()).toEqual([
      ['foreign.sock', `held by node (pid ${process.pid}), not QEMU`],
      ['other.qmp', `held by node (pid ${process.pid}), not QEMU`],
    ]);
    expect(probed).toBe(0);

    const listed = await runCli(['capture', '--list', '--dir', dir, join(dir, 'absent')], dir);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(
      `  skipped ${join(dir, 'foreign.sock')}: held by node (pid ${process.pid}), not QEMU`,
    );
    expect(listed.stdout).toMatch(new RegExp(`not searched \\(no such folder\\): ${join(dir, 'absent')}`));
    expect(listed.stdout).toContain(`${join(dir, 'capture.qmp')}  listed-vm, 64 MiB, prelaunch, QEMU 7.`);
    expect(probed).toBe(0);
  });
});
