// The backend with real worker threads. Most sessions run the recorded engine (the real engine's
// analysis of each image, recorded once and replayed, steered to be slow or to fail on request:
// test/support/recorded-engine.ts); those that say so run the real engine live. Sessions reach
// ready with the engine's own result, a crashing or dying worker fails its session (and only it),
// cancel ends the work itself, and no more analyses run at once than allowed.

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { ApiEvent, SessionSummary } from '../../../src/common/api';
import type { AnalysisResult } from '../../../src/common/model';
import { Backend } from '../../../src/backend/index';
import { workerThreadId } from '../../../src/backend/test-seam';
import { callDecoded } from '../../../src/common/api-serve';
import { STEERING_FILE, type Steering } from '../../support/recorded-engine';
import { expectAnalysisMatchesTruth } from '../../support/truth';
import { RECORDED_ENGINE, analyse, buildTestImages, type TestImages } from './images';

let images: TestImages;
let data: string;
/** The real engine's results, as recorded: what every recorded-engine session must serve. */
let recorded: { clean: AnalysisResult; infected: AnalysisResult };
const backends: Backend[] = [];

beforeAll(async () => {
  images = buildTestImages();
  data = mkdtempSync(join(tmpdir(), 'irpscope-data-'));
  recorded = { clean: await analyse(images.clean), infected: await analyse(images.infected) };
});
afterEach(() => {
  for (const backend of backends.splice(0)) backend.dispose();
});
afterAll(() => {
  images.remove();
  rmSync(data, { recursive: true, force: true });
});

function makeBackend(extra: Partial<ConstructorParameters<typeof Backend>[0]> = {}): Backend {
  const backend = new Backend({
    mode: 'web',
    version: 'test',
    dataDirectory: data,
    engineModule: RECORDED_ENGINE,
    ...extra,
  });
  backends.push(backend);
  return backend;
}

/** A copy of the infected image (linked, not copied) with the recorded engine steered beside it. */
function steeredImage(name: string, steering: Steering): string {
  const folder = join(images.folder, name);
  mkdirSync(folder, { recursive: true });
  const image = join(folder, 'image.raw');
  if (!existsSync(image)) symlinkSync(images.infected, image);
  copyFileSync(join(dirname(images.infected), 'truth.json'), join(folder, 'truth.json'));
  writeFileSync(join(folder, STEERING_FILE), JSON.stringify(steering));
  return image;
}

/** The recorded engine's heartbeat lines (`<image>\t<event>`) of one image, or of all. */
function beats(file: string, image?: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line && (image === undefined || line.startsWith(`${image}\t`)));
}

const pulses = (file: string, image: string) =>
  beats(file, image).filter((b) => b.endsWith('\tpulse')).length;

function waitFor(
  backend: Backend,
  id: string,
  states: SessionSummary['state'][],
  timeoutMs = 60_000,
): Promise<SessionSummary> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`session ${id} did not reach ${states.join('/')}`)),
      timeoutMs,
    );
    const check = (summary: SessionSummary): boolean => {
      if (summary.id !== id || !states.includes(summary.state)) return false;
      clearTimeout(timer);
      unsubscribe();
      resolve(summary);
      return true;
    };
    const unsubscribe = backend.subscribe((event: ApiEvent) => {
      if (event.type === 'session') check(event.session);
    });
    void backend.sessions().then((all) => all.forEach(check));
  });
}

describe('sessions, on the recorded engine', () => {
  test('open → analysing → ready through every stage of the engine, with its result, then memory, structures and flow', async () => {
    const backend = makeBackend();
    const stages: string[] = [];
    backend.subscribe((event) => {
      const stage = event.type === 'session' ? event.session.progress?.stage : undefined;
      if (stage && stages.at(-1) !== stage) stages.push(stage);
    });
    const opened = await backend.open({ path: images.infected });
    expect(opened.state).toBe('queued');
    const ready = await waitFor(backend, opened.id, ['ready', 'failed']);
    expect(ready.error).toBeNull();
    expect(ready.state).toBe('ready');
    // The engine's own stages (src/core/analysis/analyze.ts), each shown as it began.
    expect(stages).toEqual(
      expect.arrayContaining([
        'directory walk',
        'module list',
        'pool scan',
        'address map',
        'carving',
        'drivers and devices',
        'processes and IRPs',
        'verdicts',
      ]),
    );

    // What the backend serves is the engine's result, and that result is the image's truth.
    const result = await backend.result(opened.id);
    expect(result).toEqual(recorded.infected);
    expectAnalysisMatchesTruth(structuredClone(result), images.infectedTruth);
    const truth = images.infectedTruth;
    expect(ready.counts).toEqual({
      drivers: truth.drivers.length,
      devices: truth.drivers.flatMap((d) => d.devices).length,
      findings: truth.findings.length,
      highestSeverity: 'critical',
    });

    const truthDisk = images.infectedTruth.drivers.find((d) => d.name === '\\Driver\\Disk')!;
    const disk = result.drivers.find((d) => d.name === '\\Driver\\Disk')!;
    const chunk = await backend.readMemory({
      session: opened.id,
      space: 'virtual',
      address: truthDisk.objectVa,
      length: 0x40,
    });
    expect(chunk.pages[0]!.status).toBe('present');
    // The DRIVER_OBJECT's own bytes: Type 4, and DriverStart where the builder put the driver.
    const bytes = Buffer.from(chunk.bytes, 'base64');
    expect(bytes.readUInt16LE(0)).toBe(4);
    expect(`0x${bytes.readUInt32LE(0x0c).toString(16)}`).toBe(truthDisk.start);
    const view = await backend.structure({
      session: opened.id,
      kind: 'DRIVER_OBJECT',
      address: truthDisk.objectVa,
    });
    expect(view.fields.find((f) => f.name === 'DriverName')?.value).toBe(JSON.stringify(truthDisk.name));
    const hooked = images.infectedTruth.irp.find(
      (h) => h.driver === truthDisk.name && h.name === 'IRP_MJ_DEVICE_CONTROL',
    )!;
    const dis = await backend.disassemble({ session: opened.id, address: hooked.handler, count: 3 });
    expect(dis.instructions).toHaveLength(3);
    expect(BigInt(`0x${dis.instructions[0]!.split(/\s/)[0]}`)).toBe(BigInt(hooked.handler));
    const device = result.devices.find((d) => d.driver === disk.id && d.name)!;
    const flow = await backend.flow({ session: opened.id, device: device.id, operation: 'DeviceIoControl' });
    const dispatch = flow.nodes.find(
      (n) => n.kind === 'dispatch' && n.label === 'Disk IRP_MJ_DEVICE_CONTROL',
    );
    expect(dispatch?.findings.length).toBeGreaterThan(0);
    expect(await backend.recent()).toContain(images.infected);
  });

  test('opening the same image twice gives the same session', async () => {
    const backend = makeBackend();
    const a = await backend.open({ path: images.clean });
    const b = await backend.open({ path: images.clean });
    expect(b.id).toBe(a.id);
    const baseline = await backend.open({ path: images.clean, role: 'baseline' });
    expect(baseline.id).not.toBe(a.id);
  });

  test('bad requests are refused with a reason', async () => {
    const backend = makeBackend();
    await expect(backend.open({ path: join(data, 'missing.raw') })).rejects.toThrow(/ENOENT/);
    await expect(backend.open({ path: data })).rejects.toThrow(/not a file/);
    const opened = await backend.open({ path: images.clean });
    await waitFor(backend, opened.id, ['ready']);
    await expect(
      callDecoded(backend, 'readMemory', {
        session: opened.id,
        space: 'virtual',
        address: '0x80000000',
        length: 0x100000,
      }),
    ).rejects.toThrow(/length/);
    await expect(
      callDecoded(backend, 'readMemory', {
        session: opened.id,
        space: 'virtual',
        address: 'x; rm -rf',
        length: 16,
      }),
    ).rejects.toThrow(/hex/);
    await expect(
      callDecoded(backend, 'flow', { session: opened.id, device: 'x', operation: 'Format' }),
    ).rejects.toThrow(/operation/);
    await expect(backend.result('nope')).rejects.toThrow(/no session/);
  });

  test('diff and reports between two ready sessions: the planted anomalies, the rootkit as one added driver', async () => {
    const backend = makeBackend();
    const primary = await backend.open({ path: images.infected });
    const baseline = await backend.open({ path: images.clean, role: 'baseline' });
    await waitFor(backend, primary.id, ['ready']);
    await waitFor(backend, baseline.id, ['ready']);
    const diff = await backend.diff({ baseline: baseline.id, primary: primary.id });
    // Every planted anomaly (a freed driver object is no anomaly) is carried by a difference.
    const differences = diff.entries.filter((e) => e.variation === null);
    const findingById = new Map(recorded.infected.findings.map((f) => [f.id, f]));
    const carried = differences.flatMap((e) => e.findings.added.map((id) => findingById.get(id)!));
    const planted = images.infectedTruth.findings.filter((f) => f.kind !== 'stale-driver');
    expect(carried.map((f) => `${f.kind} ${f.subject}`).sort()).toEqual(
      planted.map((f) => `${f.kind} ${f.subject}`).sort(),
    );
    const added = differences.filter((e) => e.kind === 'driver' && e.change === 'added');
    expect(added.map((e) => e.key)).toEqual([images.hostileName]);
    expect(added[0]!.changes.some((c) => c.primary?.includes(images.rootkitModule))).toBe(true);
    const report = await backend.report({ session: primary.id, format: 'html', baseline: baseline.id });
    expect(report.fileName).toBe('irpscope-image.html');
    expect(report.content).not.toMatch(/<img/i);
  });
});

describe('the real engine, live', () => {
  test('by default a session runs src/core/node/engine.ts: its result is the image’s truth', async () => {
    const backend = makeBackend({ engineModule: null });
    const opened = await backend.open({ path: images.infected });
    const ready = await waitFor(backend, opened.id, ['ready', 'failed']);
    expect(ready.error).toBeNull();
    const result = await backend.result(opened.id);
    // (A copy: the truth check sorts the lists it compares.)
    expectAnalysisMatchesTruth(structuredClone(result), images.infectedTruth);
    // The live analysis finds what the recording holds (times of the run aside).
    const untimed = (r: AnalysisResult) => ({
      ...r,
      image: { ...r.image, timings: [], bytesRead: 0 },
      stats: { ...r.stats, timings: [] },
    });
    expect(untimed(result)).toEqual(untimed(recorded.infected));
  });
});

describe('hostile images and cancel, on the recorded engine', () => {
  test('an engine that throws fails the session with its stage and reason; the backend stays usable', async () => {
    const backend = makeBackend();
    const bad = await backend.open({
      path: steeredImage('throws', { failAt: 'drivers and devices', failMode: 'throw' }),
    });
    const failed = await waitFor(backend, bad.id, ['failed', 'ready']);
    expect(failed.state).toBe('failed');
    expect(failed.error).toEqual({
      stage: 'drivers and devices',
      message: `corrupt drivers and devices data (planted by ${STEERING_FILE})`,
    });
    await expect(
      backend.readMemory({ session: bad.id, space: 'physical', address: '0x0', length: 16 }),
    ).rejects.toThrow(/failed/);
    const good = await backend.open({ path: images.clean });
    expect((await waitFor(backend, good.id, ['ready', 'failed'])).state).toBe('ready');
  });

  test('a steering that names no stage of the engine fails the session saying so', async () => {
    const backend = makeBackend();
    const bad = await backend.open({ path: steeredImage('no-such-stage', { failAt: 'devices' }) });
    const failed = await waitFor(backend, bad.id, ['failed', 'ready']);
    expect(failed.error?.message).toMatch(
      /fails at "devices", a stage the engine does not have \(.*verdicts/,
    );
  });

  test('a worker that exits fails the session', async () => {
    const backend = makeBackend();
    const bad = await backend.open({ path: steeredImage('exits', { failAt: 'verdicts', failMode: 'exit' }) });
    const failed = await waitFor(backend, bad.id, ['failed', 'ready']);
    expect(failed.error).toEqual({ stage: 'verdicts', message: 'the analysis worker exited with code 3' });
  });

  test('a worker that runs out of memory fails the session, not the process', async () => {
    const backend = makeBackend({ workerMemoryMb: 64 });
    const bad = await backend.open({ path: steeredImage('oom', { failAt: 'pool scan', failMode: 'oom' }) });
    const failed = await waitFor(backend, bad.id, ['failed', 'ready']);
    expect(failed.state).toBe('failed');
    expect(failed.error?.stage).toBe('pool scan');
    expect(failed.error?.message).toMatch(/memory/i);
  });

  test('cancel terminates the worker: the work stops even inside a synchronous loop', async () => {
    const backend = makeBackend();
    const heartbeat = join(images.folder, 'cancel-heartbeat.txt');
    const slow = steeredImage('slow', { busyMs: 600_000, heartbeat });
    const session = await backend.open({ path: slow });
    // Inside the engine's synchronous loop.
    await expect.poll(() => pulses(heartbeat, slow), { timeout: 60_000 }).toBeGreaterThan(0);
    expect(workerThreadId(backend, session.id)).not.toBeNull();
    await backend.cancel(session.id);
    const cancelled = (await backend.sessions()).find((s) => s.id === session.id)!;
    expect(cancelled.state).toBe('cancelled');
    expect(workerThreadId(backend, session.id)).toBeNull();
    // A witness spinning the same loop in another worker measures the time that passes: once it
    // has pulsed a while, the cancelled worker, had it gone on, would have pulsed too.
    const witness = steeredImage('witness', { busyMs: 600_000, heartbeat });
    const watching = await backend.open({ path: witness });
    await expect.poll(() => pulses(heartbeat, witness), { timeout: 60_000 }).toBeGreaterThanOrEqual(20);
    const stopped = beats(heartbeat, slow);
    await expect.poll(() => pulses(heartbeat, witness), { timeout: 60_000 }).toBeGreaterThanOrEqual(120);
    expect(beats(heartbeat, slow)).toEqual(stopped);
    expect(stopped.filter((b) => b.endsWith('\tend'))).toEqual([]);
    await backend.cancel(watching.id);
  });
});

describe('many images at once, on the recorded engine', () => {
  test('no more analyses run at once than allowed: counted exactly from the engine’s own begin and end', async () => {
    const backend = makeBackend({ concurrentAnalyses: 2 });
    // Every analysis appends its begin and end to one file, in the order they happen: the most
    // that ran at once is counted from it, not sampled (a sample can fall between two overlaps).
    const heartbeat = join(images.folder, 'at-once-heartbeat.txt');
    const paths = [1, 2, 3, 4, 5].map((n) => steeredImage(`at-once-${n}`, { busyMs: 100, heartbeat }));
    const opened = await Promise.all(paths.map((path) => backend.open({ path })));
    for (const session of opened)
      expect((await waitFor(backend, session.id, ['ready', 'failed'])).state).toBe('ready');
    let running = 0;
    let most = 0;
    const events = beats(heartbeat).map((line) => line.split('\t')[1]);
    for (const event of events) {
      if (event === 'begin') most = Math.max(most, ++running);
      if (event === 'end') running--;
    }
    expect(events.filter((e) => e === 'begin')).toHaveLength(5);
    expect(events.filter((e) => e === 'end')).toHaveLength(5);
    expect(most).toBe(2);
  });

  test('analyses beyond the limit wait their turn; a closed one gives its slot and its result back', async () => {
    const backend = makeBackend({ concurrentAnalyses: 2 });
    const paths = [1, 2, 3, 4, 5].map((n) => steeredImage(`busy-${n}`, { busyMs: 150 }));
    const opened = [];
    for (const path of paths) opened.push(await backend.open({ path }));
    // Each looks for its case first (under the case's lock), then waits for a core.
    const waiting = async () =>
      (await backend.sessions()).filter((s) => s.progress?.stage === 'waiting for a free core');
    await expect.poll(async () => (await waiting()).length, { timeout: 30_000 }).toBe(3);
    const queued = (await backend.sessions()).filter((s) => s.state === 'queued');
    expect(queued.length).toBe(3);
    expect(queued.every((s) => s.progress?.stage === 'waiting for a free core')).toBe(true);
    expect(queued.map((s) => workerThreadId(backend, s.id))).toEqual([null, null, null]);
    // Closing one that waits lets the others through without it.
    await backend.close(queued[2]!.id);
    const finished = opened.filter((o) => o.id !== queued[2]!.id);
    for (const s of finished) await waitFor(backend, s.id, ['ready']);
    // A finished analysis keeps its result, not its worker (one is started again for bytes).
    expect(finished.map((o) => workerThreadId(backend, o.id))).toEqual([null, null, null, null]);
    // A closed session ends its worker and drops its result.
    await backend.close(opened[0]!.id);
    await expect(backend.result(opened[0]!.id)).rejects.toThrow(/no session/);
  });

  test('only an image that was analysed joins the recent list', async () => {
    const backend = makeBackend();
    const notAnImage = join(images.folder, 'not-an-image.bin');
    writeFileSync(notAnImage, Buffer.alloc(1024 * 1024, 7));
    const failed = await backend.open({ path: notAnImage });
    expect((await waitFor(backend, failed.id, ['failed', 'ready'])).state).toBe('failed');
    const good = await backend.open({ path: images.clean });
    await waitFor(backend, good.id, ['ready']);
    const recent = await backend.recent();
    expect(recent).toContain(images.clean);
    expect(recent).not.toContain(notAnImage);
  });

  test('a practice profile that is not a builder profile never reaches a path', async () => {
    const backend = makeBackend();
    await expect(
      backend.practiceImage({
        profile: '../../../tmp/evil',
        scenario: 'clean',
        format: 'raw',
        size: 64 * 1024 * 1024,
      }),
    ).rejects.toThrow(/unknown profile/);
  });
});

describe('captures from the workbench', () => {
  /** A stand-in virsh (see test/integration/capture/tools.test.ts) that "dumps" the infected image. */
  function virshOnPath(behaviour: 'dump' | 'fail'): NodeJS.ProcessEnv {
    const bin = mkdtempSync(join(tmpdir(), 'irpscope-virsh-'));
    const script =
      behaviour === 'dump'
        ? `case "$1" in list) printf ' Id   Name   State\\n------------------\\n 1    lab    running\\n';; dump) for last; do :; done; cp "${images.infected}" "$last";; esac`
        : `echo "error: Requested operation is not valid: domain is not running" >&2; exit 1`;
    writeFileSync(join(bin, 'virsh'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    return { PATH: `${bin}:${process.env.PATH}` };
  }

  function captureEnd(backend: Backend, id: string): Promise<ApiEvent & { type: 'capture' }> {
    return new Promise((resolve) => {
      const off = backend.subscribe((event) => {
        if (event.type === 'capture' && event.capture.id === id && event.capture.state !== 'running') {
          off();
          resolve(event);
        }
      });
    });
  }

  test('bad capture requests are refused: only a plain file name, only known sources', async () => {
    const backend = makeBackend();
    const source = { kind: 'libvirt' as const, vm: 'lab' };
    for (const name of ['../escape.elf', '/etc/passwd', '.hidden', 'a/b.elf', 'x'.repeat(200)])
      await expect(backend.capture({ source, name }), name).rejects.toThrow(/not a plain file name/);
    await expect(callDecoded(backend, 'capture', { source: { kind: 'ssh', vm: 'x' } })).rejects.toThrow(
      /source.kind/,
    );
    await expect(callDecoded(backend, 'capture', { source: { kind: 'qmp' } })).rejects.toThrow(
      /source.endpoint/,
    );
    await expect(backend.cancelCapture('c99')).rejects.toThrow(/no capture/);
  });

  test('a capture goes to the data folder, reports progress and opens as the baseline', async () => {
    const backend = makeBackend({ engineModule: null, toolEnv: virshOnPath('dump') });
    const targets = await backend.captureTargets({});
    expect(targets.outputFolder).toBe(join(data, 'captures'));
    expect(targets.tools.find((t) => t.tool === 'libvirt')?.vms.map((v) => v.name)).toEqual(['lab']);
    const started = await backend.capture({
      source: { kind: 'libvirt', vm: 'lab' },
      name: 'lab-before',
      role: 'baseline',
      label: 'lab',
    });
    expect(started).toMatchObject({
      state: 'running',
      label: 'lab',
      out: join(data, 'captures', 'lab-before.elf'),
    });
    const end = await captureEnd(backend, started.id);
    expect(end.capture.state).toBe('done');
    expect(statSync(join(data, 'captures', 'lab-before.elf')).size).toBe(statSync(images.infected).size);
    const session = (await backend.sessions()).find((s) => s.id === end.capture.session)!;
    expect(session).toMatchObject({ role: 'baseline', path: join(data, 'captures', 'lab-before.elf') });
    expect((await waitFor(backend, session.id, ['ready', 'failed'])).state).toBe('ready');
    expect((await backend.captures()).map((c) => c.state)).toEqual(['done']);
  });

  test('a capture that fails says why, opens nothing and leaves no file', async () => {
    const backend = makeBackend({ toolEnv: virshOnPath('fail') });
    const before = (await backend.sessions()).length;
    const started = await backend.capture({ source: { kind: 'libvirt', vm: 'lab' }, name: 'lab-failed' });
    const end = await captureEnd(backend, started.id);
    expect(end.capture).toMatchObject({ state: 'failed', session: null });
    expect(end.capture.error).toBe(
      'virsh failed: error: Requested operation is not valid: domain is not running',
    );
    expect(existsSync(join(data, 'captures', 'lab-failed.elf'))).toBe(false);
    expect((await backend.sessions()).length).toBe(before);
  });
});
