// The backend with real worker threads running the stand-in engine: sessions reach ready, a
// crashing or dying worker fails its session (and only it), cancel ends the work itself.

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
import { Backend } from '../../../src/backend/index';
import { workerThreadId } from '../../../src/backend/test-seam';
import { callDecoded } from '../../../src/common/api-serve';
import { FAKE_ENGINE, buildTestImages, type TestImages } from './images';

let images: TestImages;
let data: string;
const backends: Backend[] = [];

beforeAll(() => {
  images = buildTestImages();
  data = mkdtempSync(join(tmpdir(), 'irpscope-data-'));
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
    engineModule: FAKE_ENGINE,
    ...extra,
  });
  backends.push(backend);
  return backend;
}

/** A copy of the infected image (linked, not copied) steered by a fake-engine.json. */
function steeredImage(name: string, steering: object): string {
  const folder = join(images.folder, name);
  mkdirSync(folder, { recursive: true });
  const image = join(folder, 'image.raw');
  if (!existsSync(image)) symlinkSync(images.infected, image);
  copyFileSync(join(dirname(images.infected), 'truth.json'), join(folder, 'truth.json'));
  writeFileSync(join(folder, 'fake-engine.json'), JSON.stringify(steering));
  return image;
}

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

describe('sessions', () => {
  test('open → analysing → ready, with progress events, then memory, structures and flow', async () => {
    const backend = makeBackend();
    const stages = new Set<string>();
    backend.subscribe((event) => {
      if (event.type === 'session' && event.session.progress) stages.add(event.session.progress.stage);
    });
    const opened = await backend.open({ path: images.infected });
    expect(opened.state).toBe('queued');
    const ready = await waitFor(backend, opened.id, ['ready', 'failed']);
    expect(ready.error).toBeNull();
    expect(ready.state).toBe('ready');
    expect(ready.counts?.findings).toBeGreaterThan(0);
    expect(ready.counts?.highestSeverity).toBe('critical');
    expect(stages.has('handlers')).toBe(true);

    const result = await backend.result(opened.id);
    const disk = result.drivers.find((d) => d.name === '\\Driver\\Disk')!;
    const chunk = await backend.readMemory({
      session: opened.id,
      space: 'virtual',
      address: disk.objectVa,
      length: 0x40,
    });
    expect(Buffer.from(chunk.bytes, 'base64').readUInt16LE(0)).toBe(4); // DRIVER_OBJECT Type
    expect(chunk.pages[0]!.status).toBe('present');
    const view = await backend.structure({
      session: opened.id,
      kind: 'DRIVER_OBJECT',
      address: disk.objectVa,
    });
    expect(view.fields.find((f) => f.name === 'DriverName')?.value).toContain('\\Driver\\Disk');
    const dis = await backend.disassemble({ session: opened.id, address: disk.irp[14]!.address, count: 3 });
    expect(dis.instructions.length).toBe(3);
    const device = result.devices.find((d) => d.driverName === '\\Driver\\Disk' && d.name)!;
    const flow = await backend.flow({ session: opened.id, device: device.id, operation: 'DeviceIoControl' });
    expect(flow.nodes.some((n) => n.kind === 'dispatch' && n.findings.length > 0)).toBe(true);
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

  test('diff and reports between two ready sessions', async () => {
    const backend = makeBackend();
    const primary = await backend.open({ path: images.infected });
    const baseline = await backend.open({ path: images.clean, role: 'baseline' });
    await waitFor(backend, primary.id, ['ready']);
    await waitFor(backend, baseline.id, ['ready']);
    const diff = await backend.diff({ baseline: baseline.id, primary: primary.id });
    expect(diff.entries.some((e) => e.changes.some((c) => c.primary?.includes(images.rootkitModule)))).toBe(
      true,
    );
    const report = await backend.report({ session: primary.id, format: 'html', baseline: baseline.id });
    expect(report.fileName).toBe('irpscope-image.html');
    expect(report.content).not.toMatch(/<img/i);
  });
});

describe('the real engine', () => {
  test('by default a session runs src/core/engine.ts and finds the planted rootkit', async () => {
    const backend = makeBackend({ engineModule: null });
    const opened = await backend.open({ path: images.infected });
    const ready = await waitFor(backend, opened.id, ['ready', 'failed']);
    expect(ready.error).toBeNull();
    const result = await backend.result(opened.id);
    expect(result.image.warnings.join(' ')).not.toContain('stand-in');
    const disk = result.drivers.find((d) => d.name === '\\Driver\\Disk')!;
    expect(disk.irp.filter((h) => h.verdict === 'other-module').map((h) => h.name)).toEqual([
      'IRP_MJ_DEVICE_CONTROL',
      'IRP_MJ_INTERNAL_DEVICE_CONTROL',
    ]);
  });
});

describe('hostile images and cancel', () => {
  test('an engine that throws fails the session with its stage and reason; the backend stays usable', async () => {
    const backend = makeBackend();
    const bad = await backend.open({
      path: steeredImage('throws', { failAt: 'devices', failMode: 'throw' }),
    });
    const failed = await waitFor(backend, bad.id, ['failed', 'ready']);
    expect(failed.state).toBe('failed');
    expect(failed.error).toEqual({
      stage: 'devices',
      message: 'corrupt devices data (planted by fake-engine.json)',
    });
    await expect(
      backend.readMemory({ session: bad.id, space: 'physical', address: '0x0', length: 16 }),
    ).rejects.toThrow(/failed/);
    const good = await backend.open({ path: images.clean });
    expect((await waitFor(backend, good.id, ['ready', 'failed'])).state).toBe('ready');
  });

  test('a worker that exits fails the session', async () => {
    const backend = makeBackend();
    const bad = await backend.open({ path: steeredImage('exits', { failAt: 'handlers', failMode: 'exit' }) });
    const failed = await waitFor(backend, bad.id, ['failed', 'ready']);
    expect(failed.error).toEqual({ stage: 'handlers', message: 'the analysis worker exited with code 3' });
  });

  test('a worker that runs out of memory fails the session, not the process', async () => {
    const backend = makeBackend({ workerMemoryMb: 64 });
    const bad = await backend.open({ path: steeredImage('oom', { failAt: 'scan pool', failMode: 'oom' }) });
    const failed = await waitFor(backend, bad.id, ['failed', 'ready']);
    expect(failed.state).toBe('failed');
    expect(failed.error?.stage).toBe('scan pool');
    expect(failed.error?.message).toMatch(/memory/i);
  });

  test('cancel terminates the worker: the work stops even inside a synchronous loop', async () => {
    const backend = makeBackend();
    const heartbeat = join(images.folder, 'heartbeat.txt');
    const path = steeredImage('slow', { busyMs: 1500, heartbeat });
    const slow = await backend.open({ path });
    await new Promise<void>((resolve) => {
      const unsubscribe = backend.subscribe((event) => {
        if (
          event.type === 'session' &&
          event.session.id === slow.id &&
          event.session.progress?.stage === 'walk object directory'
        ) {
          unsubscribe();
          resolve();
        }
      });
    });
    expect(workerThreadId(backend, slow.id)).not.toBeNull();
    await backend.cancel(slow.id);
    const cancelled = (await backend.sessions()).find((s) => s.id === slow.id)!;
    expect(cancelled.state).toBe('cancelled');
    expect(workerThreadId(backend, slow.id)).toBeNull();
    const beats = statSync(heartbeat).size;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(statSync(heartbeat).size).toBe(beats);
    expect(readFileSync(heartbeat, 'utf8')).not.toContain('findings');
  });
});

describe('many images at once', () => {
  test('analyses beyond the limit wait their turn; a closed one gives its slot and its result back', async () => {
    const backend = makeBackend({ concurrentAnalyses: 2 });
    const paths = [1, 2, 3, 4, 5].map((n) => steeredImage(`busy-${n}`, { busyMs: 150 }));
    let most = 0;
    backend.subscribe(() => {
      void backend.sessions().then((all) => {
        most = Math.max(most, all.filter((s) => s.state === 'analysing').length);
      });
    });
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
    for (const s of opened.filter((o) => o.id !== queued[2]!.id)) await waitFor(backend, s.id, ['ready']);
    expect(most).toBeLessThanOrEqual(2);
    // A finished analysis keeps its result, not its worker (one is started again for bytes).
    expect(opened.filter((o) => o.id !== queued[2]!.id).map((o) => workerThreadId(backend, o.id))).toEqual([
      null,
      null,
      null,
      null,
    ]);
    // A closed session ends its worker and drops its result.
    await backend.close(opened[0]!.id);
    await expect(backend.result(opened[0]!.id)).rejects.toThrow(/no session/);
  });

  test('only an image that was analysed joins the recent list', async () => {
    const backend = makeBackend();
    const notAnImage = join(images.folder, 'not-an-image.bin');
    writeFileSync(notAnImage, Buffer.alloc(1024 * 1024, 7));
    const failed = await backend.open({ path: notAnImage });
    await waitFor(backend, failed.id, ['failed', 'ready']);
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
