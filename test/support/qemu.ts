// A real QEMU for the capture tests: no guest OS, its RAM either a builder image (mapped
// copy-on-write, so the image file is never changed) or plain anonymous memory, and a firmware of
// HLT instructions so that a running VM changes nothing in its memory. Two QMP sockets: one for
// the capture under test, one for the test to watch the VM's state through. The caller registers
// `stop` with its test runner (vitest's onTestFinished, Playwright's afterEach); a QEMU that fails
// to start is killed here.
//
// Nothing here waits for a time. QEMU is told to wait for the test's monitor (wait=on): it says so
// on stderr once that socket listens, after the capture's socket (created first) listens too, and
// goes on only when the test has connected. A TCP socket takes the port the OS gives (port 0),
// read back from QEMU. A dump that a test must catch while it is being written is held: its file
// becomes a FIFO this process reads, so QEMU's writes wait until the test lets them through;
// where the capture runs in another process, a QMP proxy in front of QEMU does that as it passes
// the dump command on.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { constants, existsSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { QmpClient } from '../../src/core/node/capture/qmp';

export interface QemuOptions {
  folder: string;
  /** A raw image used as the VM's RAM (its size is the memory size), or a size for empty RAM. */
  memory: { image: string; bytes: number } | { bytes: number };
  name?: string;
  /** Start paused (-S) or running. */
  paused: boolean;
  /** A file-size limit for QEMU (KiB) with SIGXFSZ ignored: writes past it fail as on a full disk. */
  fileSizeLimitKiB?: number;
  /** The capture's socket on loopback TCP (a port the OS picks) instead of a unix socket. */
  tcp?: boolean;
  /** Where the second monitor's socket goes (default: `folder`), e.g. outside a folder being searched. */
  watchFolder?: string;
}

export interface RunningQemu {
  /** What the capture connects to: the unix socket's path, or 127.0.0.1:port. */
  qmp: string;
  process: ChildProcess;
  /** The test's own monitor (connected while QEMU started: it holds that socket). */
  watch(): Promise<QmpClient>;
  stop(): void;
}

/** 64 KiB of HLT: the CPU halts at the reset vector with interrupts off, and stays halted. */
function haltingFirmware(folder: string): string {
  const path = join(folder, 'halt.bin');
  if (!existsSync(path)) writeFileSync(path, Buffer.alloc(64 * 1024, 0xf4));
  return path;
}

/** Resolves when QEMU says it waits for a client on `socket`; rejects if it exits first. */
function waitingOn(child: ChildProcess, socket: string, stderr: () => string): Promise<void> {
  const line = `QEMU waiting for connection on: disconnected:unix:${socket},server=on`;
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (!stderr().includes(line)) return;
      settle();
      resolve();
    };
    const onExit = () => {
      settle();
      reject(new Error(`QEMU exited before it listened: ${stderr()}`));
    };
    const settle = () => {
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
    };
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
}

/** The address QEMU's first monitor listens on, as QEMU reports it (the OS chose the port). */
async function tcpAddress(watch: QmpClient): Promise<string> {
  const chardevs = await watch.execute<Array<{ label: string; filename: string }>>('query-chardev');
  const capture = chardevs.find((c) => c.label === 'compat_monitor0');
  const address = /tcp:(127\.0\.0\.1:\d+),server=on/.exec(capture?.filename ?? '')?.[1];
  if (!address) throw new Error(`QEMU reports no TCP monitor: ${JSON.stringify(chardevs)}`);
  return address;
}

export async function startQemu(options: QemuOptions): Promise<RunningQemu> {
  const captureSocket = join(options.folder, 'capture.qmp');
  const watchSocket = join(options.watchFolder ?? options.folder, 'watch.qmp');
  const megabytes = Math.round(options.memory.bytes / (1 << 20));
  const args = [
    '-nodefaults',
    '-display',
    'none',
    '-no-user-config',
    '-bios',
    haltingFirmware(options.folder),
    '-m',
    `${megabytes}M`,
    '-name',
    options.name ?? 'irpscope-test',
    // The capture's monitor first: QEMU creates its sockets in this order.
    '-qmp',
    options.tcp ? 'tcp:127.0.0.1:0,server=on,wait=off' : `unix:${captureSocket},server=on,wait=off`,
    '-qmp',
    `unix:${watchSocket},server=on,wait=on`,
  ];
  if ('image' in options.memory)
    args.push(
      '-object',
      `memory-backend-file,id=ram0,size=${megabytes}M,mem-path=${options.memory.image},share=off`,
      '-machine',
      'pc,memory-backend=ram0',
    );
  else args.push('-machine', 'pc');
  if (options.paused) args.push('-S');
  const command = options.fileSizeLimitKiB
    ? [
        'sh',
        [
          '-c',
          `trap '' XFSZ; ulimit -f ${options.fileSizeLimitKiB * 2}; exec qemu-system-x86_64 "$@"`,
          'qemu',
          ...args,
        ],
      ]
    : ['qemu-system-x86_64', args];
  // QEMU works in its own folder, as a VM started elsewhere would: a relative path handed to it
  // lands there, not where the capture runs.
  const child = spawn(command[0] as string, command[1] as string[], {
    cwd: options.folder,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  let watch: QmpClient;
  let qmp = captureSocket;
  try {
    await waitingOn(child, watchSocket, () => stderr);
    // QEMU finishes starting only now, so the greeting may take a while on a loaded machine.
    watch = await QmpClient.connect({ kind: 'unix', path: watchSocket }, { timeoutMs: 120_000 });
    if (options.tcp) qmp = await tcpAddress(watch);
  } catch (error) {
    stop();
    throw error;
  }
  return { qmp, process: child, watch: () => Promise.resolve(watch), stop };
}

export interface HeldDump {
  /** Resolves when the dump has begun: `holdAfter` bytes have arrived, and QEMU now waits. */
  begun: Promise<void>;
  /** Lets the rest of the dump through (read and dropped). */
  release(): void;
  /** Resolves with the bytes read when QEMU closes the file (the dump ended, or QEMU did). */
  ended: Promise<number>;
  close(): void;
}

/**
 * Replaces the (empty) file at `path`, where QEMU is about to write a dump, by a FIFO read here:
 * the first `holdAfter` bytes are taken, then nothing until `release`, so QEMU's dump stays in
 * progress for as long as the test needs. Call it before QEMU opens the file.
 */
export function holdDump(path: string, holdAfter = 2 << 20): HeldDump {
  rmSync(path, { force: true });
  const made = spawnSync('mkfifo', ['-m', '600', path], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mkfifo ${path}: ${made.stderr}`);
  // Non-blocking: opening the read end must not wait for QEMU to open the write end.
  const reader = new Socket({
    fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK),
    writable: false,
  });
  let read = 0;
  let holding = true;
  let begin: () => void;
  const begun = new Promise<void>((resolve) => (begin = resolve));
  const ended = new Promise<number>((resolve) => reader.once('close', () => resolve(read)));
  reader.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (holding && read >= holdAfter) {
      reader.pause();
      begin();
    }
  });
  return {
    begun,
    release() {
      holding = false;
      reader.resume();
    },
    ended,
    close: () => reader.destroy(),
  };
}

export interface HoldingProxy {
  /** The socket to give the capture instead of QEMU's. */
  socket: string;
  /** The dump QEMU was asked to write, held (resolves when the capture asks for it). */
  held: Promise<HeldDump>;
  close(): void;
}

/** The file a QMP `dump-guest-memory` command line names, or null for any other line. */
function dumpFileOf(line: string): string | null {
  try {
    const message = JSON.parse(line) as { execute?: string; arguments?: { protocol?: unknown } };
    const protocol = message.arguments?.protocol;
    if (
      message.execute === 'dump-guest-memory' &&
      typeof protocol === 'string' &&
      protocol.startsWith('file:')
    )
      return protocol.slice('file:'.length);
  } catch {
    // not a whole JSON message: passed on as it is
  }
  return null;
}

/**
 * A unix socket at `socket` that passes QMP through to QEMU's socket `upstream` unchanged, except
 * that before it passes on a dump command it turns the dump's file into a held dump (holdDump).
 */
export function holdingProxy(upstream: string, socket: string): Promise<HoldingProxy> {
  let hold!: (held: HeldDump) => void;
  const held = new Promise<HeldDump>((resolve) => (hold = resolve));
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const qemu = createConnection(upstream);
    const end = () => {
      client.destroy();
      qemu.destroy();
    };
    for (const side of [client, qemu]) {
      open.add(side);
      side.on('close', end).on('error', end);
    }
    qemu.pipe(client);
    let pending = '';
    client.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n')) {
        const line = pending.slice(0, at + 1);
        pending = pending.slice(at + 1);
        const file = dumpFileOf(line);
        if (file) hold(holdDump(file));
        qemu.write(line);
      }
    });
  });
  const close = () => {
    for (const side of open) side.destroy();
    server.close();
    void held.then((dump) => dump.close());
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve({ socket, held, close }));
  });
}
