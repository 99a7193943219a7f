// Web mode: the workbench's renderer and API served to a browser on 127.0.0.1 — the renderer's
// built files, the API as POST /api/<method> with a JSON body { arg }, and session events over a
// WebSocket at /events. `irpscope serve` and `npm start` (without Electron) call startServer.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_METHODS, type ApiEvent, type ApiMethod, type IrpscopeApi } from '../common/api';
import { Backend, RequestError, defaultDataDirectory } from '../backend/index';
import {
  contentSecurityPolicy,
  hostAllowed,
  newToken,
  originAllowed,
  sessionCookie,
  tokenSource,
  type Gate,
} from './security';
import { findRendererDirectory, staticFile } from './static-files';

export interface ServerOptions {
  /** 0 (default): a free port. */
  port?: number;
  /** Images to open at start. */
  images?: string[];
  /** A Volatility-style symbol folder (ISF files) for x64 images. */
  symbols?: string;
  /** With no image given, open the demo case (building it on first run). Default true. */
  openDemoIfEmpty?: boolean;
  dataDirectory?: string;
  /** Module exporting openEngine (tests: a stand-in). */
  engineModule?: string;
  rendererDirectory?: string;
  /** A fixed token (tests); default: random per run. */
  token?: string;
  version?: string;
  /** For tests: a smaller demo case. */
  demo?: ConstructorParameters<typeof Backend>[0]['demo'];
  workerMemoryMb?: number;
}

export interface RunningServer {
  /** The address to open, token included. */
  url: string;
  origin: string;
  port: number;
  token: string;
  backend: Backend;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

function packageVersion(): string {
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (parsed.name === 'irpscope' && parsed.version) return parsed.version;
    } catch {
      // Try the next candidate.
    }
  }
  return '0.0.0';
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const rendererDirectory = options.rendererDirectory ?? findRendererDirectory();
  if (!rendererDirectory)
    throw new Error(
      'the renderer is not built (out/renderer/index.html is missing): run `npm run build` first',
    );
  const backend = new Backend({
    mode: 'web',
    version: options.version ?? packageVersion(),
    dataDirectory: options.dataDirectory ?? defaultDataDirectory(),
    symbolsDirectory: options.symbols ?? null,
    ...(options.engineModule ? { engineModule: options.engineModule } : {}),
    ...(options.demo ? { demo: options.demo } : {}),
    ...(options.workerMemoryMb ? { workerMemoryMb: options.workerMemoryMb } : {}),
  });
  const gate: Gate = { port: 0, token: options.token ?? newToken() };
  const sockets = new Set<Socket>();

  const server = createServer((request, response) => {
    handle(request, response, gate, backend, rendererDirectory).catch((error: unknown) => {
      send(response, 500, { ok: false, error: { message: (error as Error).message ?? 'internal error' } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const events = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const refusal =
      !hostAllowed(request, gate) || !originAllowed(request, gate)
        ? '403 Forbidden'
        : tokenSource(request, url, gate) === null
          ? '401 Unauthorized'
          : url.pathname !== '/events'
            ? '404 Not Found'
            : null;
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    events.handleUpgrade(request, socket, head, (ws) => streamEvents(ws, backend));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  gate.port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${gate.port}`;

  for (const image of options.images ?? []) {
    await backend.open({ path: image, ...(options.symbols ? { symbols: options.symbols } : {}) });
  }
  if ((options.images ?? []).length === 0 && (options.openDemoIfEmpty ?? true)) await backend.openDemo();

  return {
    url: `${origin}/?token=${gate.token}`,
    origin,
    port: gate.port,
    token: gate.token,
    backend,
    close: async () => {
      backend.dispose();
      for (const client of events.clients) client.terminate();
      events.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function streamEvents(ws: WebSocket, backend: Backend): void {
  const unsubscribe = backend.subscribe((event: ApiEvent) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
  });
  ws.on('close', unsubscribe);
  ws.on('error', unsubscribe);
  // The client never needs to speak; anything it sends is ignored.
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  gate: Gate,
  backend: Backend,
  rendererDirectory: string,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (!hostAllowed(request, gate))
    return send(response, 403, { ok: false, error: { message: 'unknown host' } });
  if (!originAllowed(request, gate))
    return send(response, 403, { ok: false, error: { message: 'foreign origin' } });
  const source = tokenSource(request, url, gate);
  if (source === null) {
    return send(response, 401, {
      ok: false,
      error: { message: 'this IRPscope server needs the token printed at its start' },
    });
  }

  if (url.pathname.startsWith('/api/')) {
    if (request.method !== 'POST') return send(response, 405, { ok: false, error: { message: 'use POST' } });
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return send(response, 415, { ok: false, error: { message: 'send JSON' } });
    }
    return callApi(url.pathname.slice('/api/'.length), request, response, backend);
  }

  if (request.method !== 'GET' && request.method !== 'HEAD')
    return send(response, 405, { ok: false, error: { message: 'use GET' } });
  if (source === 'query') {
    // Trade the token in the address for a cookie, and drop it from the address bar and history.
    const clean = new URL(url);
    clean.searchParams.delete('token');
    response.writeHead(302, {
      'Set-Cookie': sessionCookie(gate),
      Location: `${clean.pathname}${clean.search}`,
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
    });
    response.end();
    return;
  }
  const file = staticFile(rendererDirectory, url.pathname);
  if (!file) return send(response, 404, { ok: false, error: { message: 'not found' } });
  response.writeHead(200, {
    'Content-Type': file.type,
    'Content-Length': file.body.length,
    'Cache-Control': file.immutable ? 'private, max-age=31536000, immutable' : 'no-store',
    'Content-Security-Policy': contentSecurityPolicy(gate.port),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  response.end(request.method === 'HEAD' ? undefined : file.body);
}

async function callApi(
  method: string,
  request: IncomingMessage,
  response: ServerResponse,
  backend: IrpscopeApi,
): Promise<void> {
  if (!(API_METHODS as readonly string[]).includes(method)) {
    return send(response, 404, { ok: false, error: { message: `no API method ${method}` } });
  }
  let body: { arg?: unknown };
  try {
    body = JSON.parse(await readBody(request)) as { arg?: unknown };
  } catch (error) {
    return send(response, 400, {
      ok: false,
      error: { message: `bad request body: ${(error as Error).message}` },
    });
  }
  try {
    const call = backend[method as ApiMethod] as (arg: unknown) => Promise<unknown>;
    const value = await call.call(backend, body?.arg);
    send(response, 200, { ok: true, value: value ?? null });
  } catch (error) {
    const status = error instanceof RequestError ? 400 : 500;
    send(response, status, { ok: false, error: { message: (error as Error).message ?? String(error) } });
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8') || '{}'));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(text);
}
