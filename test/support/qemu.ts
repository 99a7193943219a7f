// A real QEMU for the capture tests: no guest OS, its RAM either a builder image (mapped
// copy-on-write, so the image file is never changed) or plain anonymous memory, and a firmware of
// HLT instructions so that a running VM changes nothing in its memory. Two QMP sockets: one for
// the capture under test, one for the test to watch the VM's state through. The caller registers
// `stop` with its test runner (vitest's onTestFinished, Playwright's afterEach); a QEMU that fails
// to start is killed here.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { QmpClient } from '../../src/core/capture/qmp';

export interface QemuOptions {
  folder: string;
  /** A raw image used as the VM's RAM (its size is the memory size), or a size for empty RAM. */
  memory: { image: string; bytes: number } | { bytes: number };
  name?: string;
  /** Start paused (-S) or running. */
  paused: boolean;
  /** A file-size limit for QEMU (KiB) with SIGXFSZ ignored: writes past it fail as on a full disk. */
  fileSizeLimitKiB?: number;
  /** The capture's socket as host:port on loopback instead of a unix socket. */
  tcpPort?: number;
  /** Where the second monitor's socket goes (default: `folder`), e.g. outside a folder being searched. */
  watchFolder?: string;
}

export interface RunningQemu {
  /** What the capture connects to. */
  qmp: string;
  process: ChildProcess;
  /** A second monitor for the test. */
  watch(): Promise<QmpClient>;
  stop(): void;
}

/** 64 KiB of HLT: the CPU halts at the reset vector with interrupts off, and stays halted. */
function haltingFirmware(folder: string): string {
  const path = join(folder, 'halt.bin');
  if (!existsSync(path)) writeFileSync(path, Buffer.alloc(64 * 1024, 0xf4));
  return path;
}

function accepts(target: { path: string } | { port: number; host: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(target);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Until QEMU listens on the socket: the file appears at bind(), a moment before listen(), and a
 * connection in between is refused (seen on a loaded machine).
 */
async function waitFor(
  target: { path: string } | { port: number; host: string },
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (('port' in target || existsSync(target.path)) && (await accepts(target))) return;
    if (child.exitCode !== null) throw new Error(`QEMU exited: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`QEMU did not listen on ${JSON.stringify(target)}: ${stderr()}`);
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
    '-qmp',
    options.tcpPort
      ? `tcp:127.0.0.1:${options.tcpPort},server=on,wait=off`
      : `unix:${captureSocket},server=on,wait=off`,
    '-qmp',
    `unix:${watchSocket},server=on,wait=off`,
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
  try {
    await waitFor({ path: watchSocket }, child, () => stderr);
    await waitFor(
      options.tcpPort ? { host: '127.0.0.1', port: options.tcpPort } : { path: captureSocket },
      child,
      () => stderr,
    );
  } catch (error) {
    stop();
    throw error;
  }
  return {
    qmp: options.tcpPort ? `127.0.0.1:${options.tcpPort}` : captureSocket,
    process: child,
    watch: () => QmpClient.connect({ kind: 'unix', path: watchSocket }),
    stop,
  };
}
