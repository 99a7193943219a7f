// Web mode: the workbench's renderer and API served to a browser on 127.0.0.1 — the renderer's
// built files, the API as POST /api/<method> with a JSON body { arg }, and session events over a
// WebSocket at /events. `irpscope serve` and `npm start` (without Electron) call startServer.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiEvent } from '../common/api';
import { isApiMethod } from '../common/api-decode';
import { internalErrorMessage, serveRequest, type ApiCalls, type InternalFailure } from '../common/api-serve';
import { packageVersion } from '../core/node/util/package-version';
import { Backend, defaultDataDirectory } from '../backend/index';
import {
  EVENTS_PROTOCOL,
  contentSecurityPolicy,
  hasToken,
  hostAllowed,
  newToken,
  originAllowed,
  queryToken,
  type Gate,
} from './security';
import { findRendererDirectory, staticFile } from './static-files';
import { visibleText } from '../common/visible-text';

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
  /** The address to open: the token is in its #fragment, which the browser never sends. */
  url: string;
  origin: string;
  port: number;
  token: string;
  backend: Backend;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const rendererDirectory = options.rendererDirectory ?? findRendererDirectory();
  if (!rendererDirectory)
    throw new Error(
      'the renderer is not built (out/renderer/index.html is missing): run `npm run build` first',
    );
  const backend = new Backend({
    mode: 'web',
    version: options.version ?? packageVersion(import.meta.url),
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
      const reference = globalThis.crypto.randomUUID().slice(0, 8);
      logInternalFailure({ what: visibleText(`${request.method} ${request.url}`), reference, error });
      send(response, 500, { ok: false, error: { message: internalErrorMessage('the server', reference) } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const events = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    // The token came as a subprotocol; the answer names only the plain one.
    handleProtocols: (protocols) => (protocols.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false),
  });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const refusal =
      !hostAllowed(request, gate) || !originAllowed(request, gate)
        ? '403 Forbidden'
        : !hasToken(request, gate)
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
    url: `${origin}/#token=${gate.token}`,
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
  if (url.pathname.startsWith('/api/')) {
    if (!hasToken(request, gate)) {
      return send(response, 401, {
        ok: false,
        error: { message: 'this IRPscope server needs the token printed at its start' },
      });
    }
    if (request.method !== 'POST') return send(response, 405, { ok: false, error: { message: 'use POST' } });
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return send(response, 415, { ok: false, error: { message: 'send JSON' } });
    }
    return callApi(url.pathname.slice('/api/'.length), request, response, backend);
  }

  if (request.method !== 'GET' && request.method !== 'HEAD')
    return send(response, 405, { ok: false, error: { message: 'use GET' } });
  if (queryToken(url, gate)) {
    // The old form of the address: move the token into the fragment, which is never sent again.
    response.writeHead(302, {
      Location: `${url.pathname}#token=${url.searchParams.get('token')}`,
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
  api: ApiCalls,
): Promise<void> {
  if (!isApiMethod(method)) {
    return send(response, 404, { ok: false, error: { message: `no API method ${visibleText(method)}` } });
  }
  const body = await readArgument(request);
  if ('status' in body) {
    send(response, body.status, { ok: false, error: { message: body.message } }, body.status === 413);
    if (body.status === 413) {
      // Answered; now discard the rest of the body (a reset would hide the answer from the client).
      request.resume();
      setTimeout(() => request.destroy(), 5000).unref();
    }
    return;
  }
  const answer = await serveRequest(api, method, body.arg, (failure: InternalFailure) =>
    logInternalFailure({ what: failure.method, reference: failure.reference, error: failure.error }),
  );
  if (answer.ok) return send(response, 200, { ok: true, value: answer.value ?? null });
  send(response, answer.kind === 'request' ? 400 : 500, { ok: false, error: { message: answer.message } });
}

/** The `arg` of a JSON body { arg } (absent: undefined), or why there is none. */
async function readArgument(
  request: IncomingMessage,
): Promise<{ arg: unknown } | { status: 400 | 413; message: string }> {
  let text: string | null;
  try {
    text = await readBody(request);
  } catch (error) {
    return { status: 400, message: `bad request: ${(error as Error).message}` };
  }
  if (text === null) return { status: 413, message: `request body over ${MAX_BODY} bytes` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { status: 400, message: `bad request body: ${(error as Error).message}` };
  }
  const hasArg = typeof body === 'object' && body !== null && Object.hasOwn(body, 'arg');
  return { arg: hasArg ? (body as { arg: unknown }).arg : undefined };
}

/** The whole error, stack included, for whoever runs the server; the client only has the reference. */
function logInternalFailure(failure: { what: string; reference: string; error: unknown }): void {
  console.error(`IRPscope: internal error ${failure.reference} in ${failure.what}:`, failure.error);
}

/** The request body as text, or null when it is larger than MAX_BODY (reading stops there). */
function readBody(request: IncomingMessage): Promise<string | null> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        request.off('data', onData);
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8') || '{}'));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown, close = false): void {
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
    ...(close ? { Connection: 'close' } : {}),
  });
  response.end(text);
}
