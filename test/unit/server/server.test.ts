// Web mode's gatekeeping: loopback only, the token on every API call and on the event socket —
// never in a cookie, which the browser would hand to every other port of 127.0.0.1 — this
// server's own Host and Origin only, nothing outside the renderer folder, oversized bodies refused.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../../src/server/index';
import { RECORDED_ENGINE } from '../backend/images';

let folder: string;
let server: RunningServer;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'irpscope-server-'));
  const renderer = join(folder, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>IRPscope</title>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(folder, 'secret.txt'), 'not for the browser');
  server = await startServer({
    rendererDirectory: renderer,
    dataDirectory: join(folder, 'data'),
    engineModule: RECORDED_ENGINE,
    openDemoIfEmpty: false,
    version: 'test',
  });
});
afterAll(async () => {
  await server.close();
  rmSync(folder, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request (fetch would not let a test forge Host). */
function send(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const api = (method: string, arg: unknown, headers: Record<string, string> = {}) =>
  send(`/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-irpscope-token': server.token, ...headers },
    body: JSON.stringify({ arg }),
  });

describe('web mode server', () => {
  test('listens on loopback only, on a free port, and prints a URL with the token in its fragment', async () => {
    expect(server.url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/#token=[A-Za-z0-9_-]{32}$`),
    );
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      await expect(
        new Promise((resolve, reject) => {
          const req = httpRequest({ host: external.address, port: server.port, path: '/' }, resolve);
          req.on('error', reject);
          req.end();
        }),
      ).rejects.toThrow(/ECONNREFUSED/);
    }
  });

  test('refuses API calls without the token, and a cookie is no token', async () => {
    const call = (headers: Record<string, string>) =>
      send('/api/sessions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    const noToken = await call({});
    expect(noToken.status).toBe(401);
    expect(noToken.body).not.toContain(server.token);
    expect((await call({ 'x-irpscope-token': 'wrong' })).status).toBe(401);
    // What the old design accepted, and what every other local server could collect from the browser.
    expect((await call({ cookie: `irpscope-${server.port}=${server.token}` })).status).toBe(401);
    expect((await call({ 'x-irpscope-token': server.token })).status).toBe(200);
  });

  test('the page and its files need no token and set no cookie; the old ?token= address moves it to the fragment', async () => {
    const page = await send('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>IRPscope</title>');
    expect(page.headers['set-cookie']).toBeUndefined();
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-eval');
    expect((await send('/assets/app.js')).status).toBe(200);
    const old = await send(`/?token=${server.token}`);
    expect(old.status).toBe(302);
    expect(old.headers.location).toBe(`/#token=${server.token}`);
    expect(old.headers['set-cookie']).toBeUndefined();
  });

  test('a body over 1 MiB is answered 413, not with a reset connection', async () => {
    const reply = await send('/api/open', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-irpscope-token': server.token },
      body: JSON.stringify({ arg: { path: 'x'.repeat(100 * 1024 * 1024) } }),
    });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).error.message).toMatch(/over 1048576 bytes/);
  });

  test('refuses other Hosts (DNS rebinding) and other Origins', async () => {
    expect((await send('/', { headers: { host: `evil.example:${server.port}` } })).status).toBe(403);
    expect((await api('sessions', null, { host: 'evil.example' })).status).toBe(403);
    expect((await api('sessions', null, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await api('sessions', null, { origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403);
    expect((await api('sessions', null, { origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
    expect((await api('sessions', null, { host: `localhost:${server.port}` })).status).toBe(200);
  });

  test('serves nothing outside the renderer folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00']) {
      const reply = await send(path);
      expect(reply.status).toBe(404);
      expect(reply.body).not.toContain('not for the browser');
    }
  });

  test('answers API calls with the token and refuses unknown methods and non-JSON bodies', async () => {
    const info = await api('appInfo', null);
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body)).toMatchObject({ ok: true, value: { mode: 'web', version: 'test' } });
    expect((await api('constructor', null)).status).toBe(404);
    expect((await api('__proto__', null)).status).toBe(404);
    const form = await send('/api/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-irpscope-token': server.token },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    const bad = await api('open', { path: join(folder, 'missing.raw') });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toMatch(/ENOENT/);
  });

  test('the event WebSocket needs the token (as a subprotocol) and this origin', async () => {
    const url = `ws://127.0.0.1:${server.port}/events`;
    const outcome = (ws: WebSocket) =>
      new Promise<string>((resolve) => {
        ws.on('open', () => {
          resolve('open');
          ws.close();
        });
        ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.on('error', () => resolve('error'));
      });
    const protocols = ['irpscope', `irpscope-token.${server.token}`];
    expect(await outcome(new WebSocket(url))).toBe('401');
    expect(
      await outcome(new WebSocket(url, { headers: { cookie: `irpscope-${server.port}=${server.token}` } })),
    ).toBe('401');
    expect(await outcome(new WebSocket(url, ['irpscope', 'irpscope-token.wrong']))).toBe('401');
    expect(await outcome(new WebSocket(url, protocols, { headers: { origin: 'http://evil.example' } }))).toBe(
      '403',
    );
    const ws = new WebSocket(url, protocols);
    expect(await outcome(ws)).toBe('open');
    // The answer names the plain protocol only: the token is not echoed back.
    expect(ws.protocol).toBe('irpscope');
  });

  test('a request that does not decode is a 400 naming the field, and never reaches the backend', async () => {
    const open = vi.spyOn(server.backend, 'open');
    const missing = join(folder, 'missing.raw');
    const cases: Array<[unknown, string]> = [
      [{ path: missing, mode: 'rw' }, 'open request: unknown field "mode"'],
      [{ path: missing, role: 'admin' }, 'role must be one of primary, baseline'],
      [
        { path: 'x'.repeat(5000) },
        'path must be a non-empty string of at most 4,096 characters (this one has 5,000)',
      ],
      [[missing], 'open request must be an object'],
    ];
    for (const [arg, reason] of cases) {
      const reply = await api('open', arg);
      expect(reply.status, reason).toBe(400);
      expect(JSON.parse(reply.body)).toEqual({ ok: false, error: { message: reason } });
    }
    // JSON.parse makes __proto__ an own key: refused by name, not merged into anything.
    const polluted = await send('/api/open', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-irpscope-token': server.token },
      body: `{"arg":{"path":${JSON.stringify(missing)},"__proto__":{"role":"baseline"}}}`,
    });
    expect(polluted.status).toBe(400);
    expect(JSON.parse(polluted.body).error.message).toBe('open request: unknown field "__proto__"');
    expect(open).not.toHaveBeenCalled();
    const read = await api('readMemory', { session: 's1', space: 'virtual', address: '0x1000', length: 1e9 });
    expect(read.status).toBe(400);
    expect(JSON.parse(read.body).error.message).toBe('length must be a whole number from 1 to 65536');
  });

  test('an internal error is a 500 with a reference: its message and stack go to the log, not the client', async () => {
    const secret = new TypeError(
      "Cannot read properties of undefined (reading 'id') in /home/analyst/cases/x",
    );
    vi.spyOn(server.backend, 'sessions').mockRejectedValueOnce(secret);
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const reply = await api('sessions', null);
    expect(reply.status).toBe(500);
    const message = JSON.parse(reply.body).error.message as string;
    const reference = /^internal error in sessions \(reference ([0-9a-f]{8});/.exec(message)?.[1];
    expect(reference, message).toBeDefined();
    for (const internal of ['Cannot read', '/home/analyst', 'TypeError', 'at '])
      expect(reply.body).not.toContain(internal);
    expect(log).toHaveBeenCalledTimes(1);
    const [line, logged] = log.mock.calls[0]!;
    expect(line).toContain(reference);
    expect(logged).toBe(secret);
    expect((logged as Error).stack).toContain('server.test.ts');
    // The next call is served as ever.
    expect((await api('sessions', null)).status).toBe(200);
  });

  test("reading from an image whose analysis failed is refused as the request's fault, with the reason", async () => {
    const notAnImage = join(folder, 'notes.txt');
    writeFileSync(notAnImage, 'not a memory image');
    const opened = JSON.parse((await api('open', { path: notAnImage })).body).value as { id: string };
    await expect
      .poll(async () => {
        const sessions = JSON.parse((await api('sessions', null)).body).value as Array<{
          id: string;
          state: string;
        }>;
        return sessions.find((s) => s.id === opened.id)?.state;
      })
      .toBe('failed');
    const read = await api('readMemory', {
      session: opened.id,
      space: 'physical',
      address: '0x0',
      length: 16,
    });
    expect(read.status).toBe(400);
    expect(JSON.parse(read.body).error.message).toBe('the image of notes.txt is not open (analysis failed)');
    expect((await api('close', opened.id)).status).toBe(200);
  });
});
