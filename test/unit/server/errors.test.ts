// Whose fault a failed call is, over web mode's HTTP API, on a ready session of a builder image
// (analysed by the stand-in engine): what the image does not hold is the request's (400, with the
// reason), and a fault inside the program while it builds the answer is the program's (500, with a
// reference; the message and stack only in the log).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type { SessionSummary } from '../../../src/common/api';
import type { AnalysisResult } from '../../../src/common/model';
import * as flow from '../../../src/common/flow';
import * as extract from '../../../src/core/extract';
import { CaseKeeper } from '../../../src/backend/cases/keeper';
import { startServer, type RunningServer } from '../../../src/server/index';
import { RECORDED_ENGINE } from '../backend/images';
import { imageForSuite } from '../../support/images';

// The real buildFlow and resolveTarget, which tests make fail from the inside.
vi.mock('../../../src/common/flow', async (importOriginal) => {
  const actual = await importOriginal<typeof flow>();
  return { ...actual, buildFlow: vi.fn(actual.buildFlow) };
});
vi.mock('../../../src/core/extract', async (importOriginal) => {
  const actual = await importOriginal<typeof extract>();
  return { ...actual, resolveTarget: vi.fn(actual.resolveTarget) };
});

const image = imageForSuite({
  profile: 'win7-sp1-x86',
  format: 'raw',
  scenario: 'infected',
  size: 64 * 1024 * 1024,
  seed: 1,
  fill: 'zero',
});
let folder: string;
let server: RunningServer;
let session: SessionSummary;
let result: AnalysisResult;

async function call(
  method: string,
  arg: unknown,
): Promise<{ status: number; body: { ok: boolean; value?: unknown; error?: { message: string } } }> {
  const response = await fetch(`${server.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-irpscope-token': server.token },
    body: JSON.stringify({ arg }),
  });
  return { status: response.status, body: (await response.json()) as { ok: boolean } };
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'irpscope-server-errors-'));
  const renderer = join(folder, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>IRPscope</title>');
  server = await startServer({
    rendererDirectory: renderer,
    dataDirectory: join(folder, 'data'),
    engineModule: RECORDED_ENGINE,
    images: [image.image],
    version: 'test',
  });
  session = await vi.waitFor(
    async () => {
      const [only] = (await call('sessions', null)).body.value as SessionSummary[];
      if (only?.state !== 'ready') throw new Error(`the session is ${only?.state}`);
      return only;
    },
    { timeout: 120_000, interval: 100 },
  );
  result = (await call('result', session.id)).body.value as AnalysisResult;
});
afterAll(async () => {
  await server?.close();
  rmSync(folder, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('flow over HTTP', () => {
  test('a device the image holds gives its flow', async () => {
    const device = result.devices.find((d) => d.name !== null)!;
    const reply = await call('flow', { session: session.id, device: device.id, operation: 'ReadFile' });
    expect(reply.status).toBe(200);
    expect((reply.body.value as { device: string }).device).toBe(device.id);
    // Named as buildFlow also finds it.
    const byName = await call('flow', { session: session.id, device: device.name, operation: 'ReadFile' });
    expect(byName.status).toBe(200);
    expect((byName.body.value as { device: string }).device).toBe(device.id);
  });

  test('a device or an IRP the image does not hold is a 400 with the reason', async () => {
    const noDevice = await call('flow', { session: session.id, device: 'dev-none', operation: 'ReadFile' });
    expect(noDevice).toEqual({
      status: 400,
      body: { ok: false, error: { message: 'no device dev-none in this image' } },
    });
    const noIrp = await call('flow', { session: session.id, device: '', operation: 'ReadFile', irp: '0x1' });
    expect(noIrp).toEqual({
      status: 400,
      body: { ok: false, error: { message: 'no IRP 0x1 in this image' } },
    });
  });

  test("a fault while the graph is built is a 500 with a reference, never passed off as the request's", async () => {
    const device = result.devices[0]!;
    vi.mocked(flow.buildFlow).mockImplementationOnce(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'stack') at GraphBuilder");
    });
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const reply = await call('flow', { session: session.id, device: device.id, operation: 'ReadFile' });
    expect(reply.status).toBe(500);
    expect(reply.body.error?.message).toMatch(/^internal error in flow \(reference [0-9a-f]{8};/);
    expect(JSON.stringify(reply.body)).not.toMatch(/Cannot read|GraphBuilder|TypeError/);
    expect(log).toHaveBeenCalledTimes(1);
    expect(String((log.mock.calls[0]![1] as Error).stack)).toContain('GraphBuilder');
  });
});

describe('the same rule for extraction and the case', () => {
  /** The 500 answer's reference, after checking it carries none of the internals. */
  async function internalFailure(method: string, arg: unknown, internals: RegExp): Promise<Error> {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const reply = await call(method, arg);
    expect(reply.status).toBe(500);
    expect(reply.body.error?.message).toMatch(
      new RegExp(`^internal error in ${method} \\(reference [0-9a-f]{8};`),
    );
    expect(JSON.stringify(reply.body)).not.toMatch(internals);
    expect(log).toHaveBeenCalledTimes(1);
    return log.mock.calls[0]![1] as Error;
  }

  test('a target the image does not hold is a 400; a fault while resolving one is a 500', async () => {
    const missing = await call('extractImage', { session: session.id, target: { module: 'no-such.sys' } });
    expect(missing).toEqual({
      status: 400,
      body: { ok: false, error: { message: 'no module named "no-such.sys" in this image' } },
    });
    vi.mocked(extract.resolveTarget).mockImplementationOnce(() => {
      throw new RangeError('Invalid array length in resolveTarget');
    });
    const logged = await internalFailure(
      'extractImage',
      { session: session.id, target: { module: 'x.sys' } },
      /Invalid array|RangeError/,
    );
    expect(logged.message).toBe('Invalid array length in resolveTarget');
  });

  test("a case change that fails inside is a 500, not a refusal of the analyst's note", async () => {
    expect((await call('updateCase', { session: session.id, note: 'kept' })).status).toBe(200);
    vi.spyOn(CaseKeeper.prototype, 'update').mockRejectedValueOnce(
      new TypeError("Cannot read properties of undefined (reading 'note')"),
    );
    const logged = await internalFailure(
      'updateCase',
      { session: session.id, note: 'lost?' },
      /Cannot read|TypeError/,
    );
    expect(logged).toBeInstanceOf(TypeError);
    expect((await call('caseOf', session.id)).body.value).toMatchObject({ note: 'kept' });
  });
});
