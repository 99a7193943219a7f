// What the fleet tests start: a Redis of their own (Debian's redis-server on a free loopback port,
// in a temporary folder) and the CLI as a user runs it (the sources through tsx) — one-shot
// commands and long-running workers whose stderr is followed line by line. Everything started
// is stopped by its process id.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const CLI = join(ROOT, 'src/cli/main.ts');

/** A port the OS just handed out (listen on 0, close, pass it on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose output is collected, with a way to wait for a line. */
export class Running {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];

  constructor(readonly child: ChildProcess) {
    const follow = (stream: NodeJS.ReadableStream | null, lines: string[]) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('end', () => {
        if (partial !== '') lines.push(partial);
      });
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop()!;
        for (const line of parts) {
          lines.push(line);
          for (const waiter of [...this.waiters])
            if (waiter.test(line)) {
              this.waiters.splice(this.waiters.indexOf(waiter), 1);
              waiter.resolve(line);
            }
        }
      });
    };
    follow(child.stdout, this.stdout);
    follow(child.stderr, this.stderr);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first line (past or future, stdout or stderr) that passes `test`. */
  line(test: (line: string) => boolean): Promise<string> {
    const seen = [...this.stdout, ...this.stderr].find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Stops the process by its id, if it still runs, and waits for it. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, signal);
    await this.exited;
  }
}

export function startCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Running {
  return new Running(
    spawn(process.execPath, ['--import', TSX, CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Runs a command to its end: exit code, stdout and stderr. */
export async function cli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const run = startCli(args, options);
  const { code } = await run.exited;
  return { status: code, stdout: run.stdout.join('\n'), stderr: run.stderr.join('\n') };
}

export interface RedisServer {
  url: string;
  port: number;
  folder: string;
  process: Running;
  /** Stops it (SIGTERM: it writes its append-only file if it keeps one) and waits. */
  stop(): Promise<void>;
  /** Starts it again (after stop) on the same port and folder. */
  start(): Promise<void>;
}

export interface RedisSettings {
  appendOnly?: boolean;
  password?: string;
  /** Serve TLS only (rediss://), with this certificate and key. */
  tls?: { cert: string; key: string };
}

async function launchRedis(port: number, folder: string, settings: RedisSettings): Promise<Running> {
  const tls = settings.tls
    ? ['--tls-port', String(port), '--tls-cert-file', settings.tls.cert, '--tls-key-file', settings.tls.key]
    : [];
  const args = [
    '--port',
    settings.tls ? '0' : String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    folder,
    '--save',
    '',
    '--appendonly',
    settings.appendOnly ? 'yes' : 'no',
    ...(settings.password ? ['--requirepass', settings.password] : []),
    ...tls,
    ...(settings.tls ? ['--tls-auth-clients', 'no'] : []),
  ];
  const server = new Running(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const ready = server.line((l) => /Ready to accept connections/.test(l));
  const failed = server.exited.then(({ code }) => {
    throw new Error(`redis-server exited (${code}): ${server.stdout.slice(-5).join(' | ')}`);
  });
  await Promise.race([ready, failed]);
  return server;
}

export async function startRedis(settings: RedisSettings = {}): Promise<RedisServer> {
  const port = await freePort();
  const folder = mkdtempSync(join(tmpdir(), 'irpscope-fleet-redis-'));
  const auth = settings.password ? `:${encodeURIComponent(settings.password)}@` : '';
  const server: RedisServer = {
    url: `${settings.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    port,
    folder,
    process: await launchRedis(port, folder, settings),
    async stop() {
      await server.process.stop('SIGTERM');
    },
    async start() {
      server.process = await launchRedis(port, folder, settings);
    },
  };
  return server;
}

export async function removeRedis(server: RedisServer | undefined): Promise<void> {
  if (!server) return;
  await server.stop();
  rmSync(server.folder, { recursive: true, force: true });
}

/** Polls `read` until `done` holds (each poll waits for the previous to answer). */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  limitMs: number,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not reached in ${limitMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
