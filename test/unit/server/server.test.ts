// Web mode's gatekeeping: loopback only, the token on every API call and on the event socket —
// never in a cookie, which the browser would hand to every other port of 127.0.0.1 — this
// server's own Host and Origin only, nothing outside the renderer folder, oversized bodies refused.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
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
});
