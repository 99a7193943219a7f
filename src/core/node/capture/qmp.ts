// A QMP client (QEMU Machine Protocol: JSON objects, one per line, over a unix or TCP socket).
// The server greets with {"QMP": {...}}; the client must send qmp_capabilities before any other
// command; each command gets {"return": ...} or {"error": {"class", "desc"}}, matched here by
// "id"; asynchronous events ({"event": ...}) may arrive between them. Every wait is bounded.
// Protocol: https://www.qemu.org/docs/master/interop/qmp-spec.html

import { connect, type Socket } from 'node:net';
import { CaptureError } from './errors';
import { describeEndpoint, type QmpEndpoint } from './endpoint';
import { MAX_QMP_LINE, QmpLineReader, decodeQmpLine, type QmpGreeting, type QmpMessage } from './qmp-message';

export type { QmpGreeting } from './qmp-message';

export interface QmpEvent {
  event: string;
  data?: unknown;
  /** QEMU's clock when it happened, in microseconds (0 when the peer gave no valid time). */
  at: number;
}

/** What a capture needs of a QMP connection: the real client, or the fuzz replay's stand-in. */
export interface QmpChannel {
  readonly greeting: QmpGreeting;
  /** Runs a command; rejects with a CaptureError ('qmp-error' carries QEMU's refusal). */
  execute(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
  onEvent(listener: (event: QmpEvent) => void): () => void;
  readonly closed: boolean;
  close(): void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  command: string;
}

/** How long a command's reply is waited for unless told otherwise. */
export const DEFAULT_REPLY_MS = 30_000;

export class QmpClient implements QmpChannel {
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: QmpEvent) => void>();
  readonly #lines = new QmpLineReader();
  #nextId = 1;
  #closed: CaptureError | null = null;

  private constructor(
    socket: Socket,
    readonly endpoint: QmpEndpoint,
    readonly greeting: QmpGreeting,
    rest: string[],
  ) {
    this.#socket = socket;
    const where = describeEndpoint(endpoint);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('close', () =>
      this.#fail(this.#closed ?? new CaptureError('disconnected', `${where} closed the connection`)),
    );
    socket.on('error', (error) => this.#fail(new CaptureError('disconnected', `${where}: ${error.message}`)));
    for (const line of rest) this.#message(decodeQmpLine(line));
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
    if (options.signal?.aborted) throw new CaptureError('cancelled', 'cancelled');
    const socket = endpoint.kind === 'unix' ? connect(endpoint.path) : connect(endpoint.port, endpoint.host);
    const lines = new QmpLineReader();
    const greeting = await new Promise<{ greeting: QmpGreeting; rest: string[] }>((resolve, reject) => {
      const finish = (error: Error | null, value?: { greeting: QmpGreeting; rest: string[] }) => {
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
              `${where} did not greet within ${timeoutMs / 1000} s: it is not a QMP socket, or another client is connected to it`,
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
        let received: string[];
        try {
          received = lines.push(chunk);
        } catch {
          finish(new CaptureError('not-qmp', `${where} is not a QMP socket (it sent no QMP greeting)`));
          return;
        }
        if (received.length === 0) return;
        const first = decodeQmpLine(received[0]!);
        if (first.kind !== 'greeting')
          finish(
            new CaptureError(
              'not-qmp',
              `${where} is not a QMP socket (its first line is not a QMP greeting)`,
            ),
          );
        else finish(null, { greeting: first.greeting, rest: received.slice(1) });
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

  /** T is what the caller expects; the reply is not checked against it (see qemu-replies.ts). */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    timeoutMs = DEFAULT_REPLY_MS,
  ): Promise<T> {
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
    this.#fail(new CaptureError('disconnected', 'the QMP connection was closed'));
    this.#socket.destroy();
  }

  #receive(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.#lines.push(chunk);
    } catch {
      this.#violation(`sent a line of more than ${MAX_QMP_LINE} bytes`);
      return;
    }
    for (const line of lines) {
      if (this.#closed) return;
      this.#message(decodeQmpLine(line));
    }
  }

  #message(message: QmpMessage): void {
    switch (message.kind) {
      case 'invalid':
        this.#violation(`sent ${message.reason}`);
        return;
      case 'event':
        for (const listener of this.#listeners)
          listener({ event: message.event, data: message.data, at: message.at ?? 0 });
        return;
      case 'return':
      case 'error': {
        const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
        if (!pending) return;
        this.#pending.delete(message.id as number);
        if (message.kind === 'error')
          pending.reject(
            new CaptureError('qmp-error', `QEMU refused ${pending.command}: ${message.description}`),
          );
        else pending.resolve(message.value);
        return;
      }
      default:
        // A second greeting or an unknown message: QMP says to ignore what one does not know.
        return;
    }
  }

  #violation(what: string): void {
    this.#fail(new CaptureError('not-qmp', `${describeEndpoint(this.endpoint)} ${what}: not QMP`));
    this.#socket.destroy();
  }

  #fail(error: CaptureError): void {
    this.#closed ??= error;
    for (const pending of this.#pending.values()) pending.reject(this.#closed);
    this.#pending.clear();
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
