// A QMP client (QEMU Machine Protocol: JSON objects, one per line, over a unix or TCP socket).
// The server greets with {"QMP": {...}}; the client must send qmp_capabilities before any other
// command; each command gets {"return": ...} or {"error": {"class", "desc"}}, matched here by
// "id"; asynchronous events ({"event": ...}) may arrive between them.
// Protocol: https://www.qemu.org/docs/master/interop/qmp-spec.html

import { connect, type Socket } from 'node:net';
import { CaptureError } from './errors';
import { describeEndpoint, type QmpEndpoint } from './endpoint';

export interface QmpGreeting {
  version: string;
  package: string;
}

export interface QmpEvent {
  event: string;
  data?: unknown;
  /** QEMU's clock when it happened, in microseconds. */
  at: number;
}

/** A line longer than this is not QMP; the peer is stopped before it fills the memory. */
const MAX_LINE = 4 * 1024 * 1024;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  command: string;
}

export class QmpClient {
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: QmpEvent) => void>();
  #nextId = 1;
  #closed: CaptureError | null = null;
  #buffer = '';

  private constructor(
    socket: Socket,
    readonly endpoint: QmpEndpoint,
    readonly greeting: QmpGreeting,
    rest: string,
  ) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk.toString('utf8')));
    socket.on('close', () =>
      this.#fail(
        this.#closed ??
          new CaptureError('disconnected', `${describeEndpoint(endpoint)} closed the connection`),
      ),
    );
    socket.on('error', (error) =>
      this.#fail(new CaptureError('disconnected', `${describeEndpoint(endpoint)}: ${error.message}`)),
    );
    if (rest) this.#receive(rest);
  }

  /**
   * Connects, reads the greeting and negotiates capabilities. A peer that does not greet within
   * `timeoutMs` is busy (QEMU serves one client at a time) or not QMP; one that greets otherwise
   * is not QMP.
   */
  static async connect(
    endpoint: QmpEndpoint,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const where = describeEndpoint(endpoint);
    const socket = endpoint.kind === 'unix' ? connect(endpoint.path) : connect(endpoint.port, endpoint.host);
    let received = '';
    const greeting = await new Promise<{ greeting: QmpGreeting; rest: string }>((resolve, reject) => {
      const finish = (error: Error | null, value?: { greeting: QmpGreeting; rest: string }) => {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        options.signal?.removeEventListener('abort', onAbort);
        if (error) {
          socket.destroy();
          reject(error);
        } else resolve(value!);
      };
      const timer = setTimeout(
        () =>
          finish(
            new CaptureError(
              'not-qmp',
              `${where} did not greet within ${timeoutMs / 1000} s: it is not a QMP socket, or another client (libvirt?) holds it`,
            ),
          ),
        timeoutMs,
      );
      const onAbort = () => finish(new CaptureError('cancelled', 'cancelled'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.on('error', (error: NodeJS.ErrnoException) => finish(connectError(where, error)));
      socket.on('close', () =>
        finish(new CaptureError('not-qmp', `${where} closed the connection without a QMP greeting`)),
      );
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        const end = received.indexOf('\n');
        if (end < 0) {
          if (received.length > 4096)
            finish(new CaptureError('not-qmp', `${where} is not a QMP socket (it sent no QMP greeting)`));
          return;
        }
        const parsed = parseGreeting(received.slice(0, end));
        if (!parsed)
          finish(
            new CaptureError(
              'not-qmp',
              `${where} is not a QMP socket (its first line is not a QMP greeting)`,
            ),
          );
        else finish(null, { greeting: parsed, rest: received.slice(end + 1) });
      });
    });
    const client = new QmpClient(socket, endpoint, greeting.greeting, greeting.rest);
    try {
      await client.execute('qmp_capabilities', undefined, timeoutMs);
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** Runs a command; rejects with CaptureError('qmp-error') carrying QEMU's description. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CaptureError('timeout', `QEMU did not answer ${command} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#pending.set(id, {
        command,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#socket.write(
        `${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`,
      );
    });
  }

  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get closed(): boolean {
    return this.#closed !== null;
  }

  close(): void {
    this.#closed ??= new CaptureError('disconnected', 'the QMP connection was closed');
    this.#socket.destroy();
  }

  #receive(text: string): void {
    this.#buffer += text;
    for (let end = this.#buffer.indexOf('\n'); end >= 0; end = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, end).trim();
      this.#buffer = this.#buffer.slice(end + 1);
      if (line) this.#message(line);
    }
    if (this.#buffer.length > MAX_LINE) {
      this.#fail(
        new CaptureError(
          'not-qmp',
          `${describeEndpoint(this.endpoint)} sent a line of more than ${MAX_LINE} bytes: not QMP`,
        ),
      );
      this.#socket.destroy();
    }
  }

  #message(line: string): void {
    let message: {
      id?: unknown;
      return?: unknown;
      error?: { class?: string; desc?: string };
      event?: unknown;
      data?: unknown;
      timestamp?: { seconds?: number; microseconds?: number };
    };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      this.#fail(
        new CaptureError(
          'not-qmp',
          `${describeEndpoint(this.endpoint)} sent a line that is not JSON: not QMP`,
        ),
      );
      this.#socket.destroy();
      return;
    }
    if (typeof message.event === 'string') {
      const at = (message.timestamp?.seconds ?? 0) * 1e6 + (message.timestamp?.microseconds ?? 0);
      for (const listener of this.#listeners) listener({ event: message.event, data: message.data, at });
      return;
    }
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) return;
    this.#pending.delete(message.id as number);
    if (message.error)
      pending.reject(
        new CaptureError(
          'qmp-error',
          `QEMU refused ${pending.command}: ${message.error.desc ?? message.error.class ?? 'no reason given'}`,
        ),
      );
    else pending.resolve(message.return);
  }

  #fail(error: CaptureError): void {
    this.#closed ??= error;
    for (const pending of this.#pending.values()) pending.reject(this.#closed);
    this.#pending.clear();
  }
}

function parseGreeting(line: string): QmpGreeting | null {
  try {
    const value = JSON.parse(line) as {
      QMP?: { version?: { qemu?: { major: number; minor: number; micro: number }; package?: string } };
    };
    const qemu = value.QMP?.version?.qemu;
    if (!value.QMP || !qemu) return null;
    return {
      version: `${qemu.major}.${qemu.minor}.${qemu.micro}`,
      package: value.QMP.version?.package ?? '',
    };
  } catch {
    return null;
  }
}

function connectError(where: string, error: NodeJS.ErrnoException): CaptureError {
  const reasons: Record<string, string> = {
    ENOENT: 'no such socket',
    ECONNREFUSED: 'nothing is listening there (is the VM running, with -qmp …,server=on?)',
    EACCES: 'permission denied',
    ENOTSOCK: 'not a socket',
  };
  return new CaptureError(
    'unreachable',
    `cannot connect to ${where}: ${(error.code && reasons[error.code]) ?? error.message}`,
  );
}
