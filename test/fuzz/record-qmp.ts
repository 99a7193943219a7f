// Records the seed transcripts of the fuzz target "qmp-replies" (test/fuzz/qmp-transcripts/*.json):
// real captures through a recording proxy, each against a real QEMU (qemu-system-x86_64, no
// guest OS) or against the misbehaving peers the capture's tests use
// (test/unit/core/capture/fake-qmp.ts), one per ending those tests cover. The proxy keeps what
// the peer sent and which commands the capture sent on which connection; the seed keeps that with
// the live capture's ending and the replay options (bounds, cancel, file size) that match it.
//
//     node --import tsx test/fuzz/record-qmp.ts
//
// Run again only when the capture's dialogue changes; the files are committed.

import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'prettier';
import { CaptureError, captureQemu } from '../../src/core/node/capture';
import type { QemuCaptureBounds } from '../../src/core/node/capture/qemu';
import type { QmpReplayOptions } from '../../src/core/node/capture/replay';
import { startFakeQmp, type FakeQmp, type FakeVm } from '../unit/core/capture/fake-qmp';
import { startQemu } from '../support/qemu';
import { CONNECTION_BREAK, type QmpSeedFile } from './seeds';

const OUT = fileURLToPath(new URL('./qmp-transcripts', import.meta.url));
/** The capture tests' short bounds: a peer that never answers costs a fraction of a second. */
const FAST: QemuCaptureBounds = { replyMs: 300, greetingMs: 300, pollMs: 5, stallMs: 300, dumpMs: 5000 };

interface RecordedConnection {
  text: string;
  commands: string[];
  /** The peer ended the connection (rather than the capture). */
  peerClosed: boolean;
}

interface Recording {
  connections: RecordedConnection[];
  commandCount: number;
  close(): Promise<void>;
}

/** A unix socket in front of `target` that forwards both ways and keeps what each side said. */
async function recordingProxy(path: string, target: string): Promise<Recording> {
  const sockets = new Set<Socket>();
  const recording: Recording = {
    connections: [],
    commandCount: 0,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    const connection: RecordedConnection = { text: '', commands: [], peerClosed: false };
    recording.connections.push(connection);
    const peer = createConnection({ path: target });
    let ended = false;
    for (const socket of [client, peer]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (!ended) connection.peerClosed = socket === peer;
        ended = true;
        client.destroy();
        peer.destroy();
      });
    }
    let pending = '';
    client.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        const execute = (JSON.parse(line) as { execute?: string }).execute ?? '?';
        connection.commands.push(execute);
        recording.commandCount++;
      }
      peer.write(chunk);
    });
    peer.on('data', (chunk: Buffer) => {
      connection.text += chunk.toString('utf8');
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return recording;
}

/** A peer that is not QMP: it greets like an SSH server. */
async function sshLike(path: string): Promise<{ close(): Promise<void> }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
  });
  await new Promise<void>((resolve) => server.listen(path, () => resolve()));
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface Scenario {
  name: string;
  about: string;
  source: string;
  /** Starts the peer in `dir`; returns its socket and how to stop it. */
  peer(dir: string): Promise<{ path: string; stop(): Promise<void> | void; fake?: FakeQmp }>;
  bounds?: QemuCaptureBounds;
  /** Cancels the capture when it reports this stage. */
  cancelAt?: 'dumping';
  /** The peer fell silent at the end (a wait ended at its bound), rather than closing. */
  silentEnd?: boolean;
}

function fake(vm: Partial<FakeVm>, setUp: (fake: FakeQmp) => void = () => undefined) {
  return async (dir: string) => {
    const peer = await startFakeQmp(dir, vm);
    setUp(peer);
    return { path: peer.path, stop: () => peer.close(), fake: peer };
  };
}

function qemu(options: { paused: boolean; fileSizeLimitKiB?: number; megabytes?: number }) {
  return async (dir: string) => {
    const running = await startQemu({
      folder: dir,
      memory: { bytes: (options.megabytes ?? 16) << 20 },
      paused: options.paused,
      name: 'fuzz-seed',
      ...(options.fileSizeLimitKiB ? { fileSizeLimitKiB: options.fileSizeLimitKiB } : {}),
    });
    return { path: running.qmp, stop: () => running.stop() };
  };
}

const QEMU = 'QEMU 7.2 (qemu-system-x86_64, no guest OS)';
const FAKE = 'the capture tests’ misbehaving peer (test/unit/core/capture/fake-qmp.ts)';
const stallingDump = (peer: FakeQmp) =>
  peer.on('dump-guest-memory', (_command, f) => {
    f.vm.dump = { status: 'active', completed: 4096, total: 1 << 20 };
    return { return: {} };
  });

const SCENARIOS: Scenario[] = [
  {
    name: 'qemu-running',
    about: 'a running VM: paused for the dump, dumped, resumed',
    source: QEMU,
    peer: qemu({ paused: false }),
  },
  {
    name: 'qemu-paused',
    about: 'a VM started paused (-S): dumped and left paused',
    source: QEMU,
    peer: qemu({ paused: true }),
  },
  {
    name: 'qemu-disk-full',
    about: 'the disk fills during the dump (a file-size limit): QEMU reports the dump failed',
    source: QEMU,
    peer: qemu({ paused: false, fileSizeLimitKiB: 1024 }),
  },
  {
    name: 'qemu-cancel',
    about: 'cancelled while QEMU writes the dump: waited for, resumed, cancelled',
    source: QEMU,
    peer: qemu({ paused: false, megabytes: 256 }),
    cancelAt: 'dumping',
  },
  {
    name: 'not-qmp',
    about: 'the socket is an SSH server, not QMP',
    source: 'a socket that greets like OpenSSH',
    peer: async (dir) => {
      const path = join(dir, 'ssh.sock');
      const server = await sshLike(path);
      return { path, stop: () => server.close() };
    },
  },
  {
    name: 'drop-after-stop',
    about: 'the connection drops after stop, before its reply; a new connection resumes the VM',
    source: FAKE,
    bounds: FAST,
    peer: fake({}, (peer) =>
      peer.on('stop', (_command, f) => {
        f.vm.running = false;
        return 'drop';
      }),
    ),
  },
  {
    name: 'stop-unanswered',
    about: 'stop is never answered: the wait ends at its bound',
    source: FAKE,
    bounds: FAST,
    silentEnd: true,
    peer: fake({}, (peer) =>
      peer.on('stop', (_command, f) => {
        f.vm.running = false;
        return 'silence';
      }),
    ),
  },
  {
    name: 'dump-stalls',
    about: 'query-dump stays "active" without progress; cont is refused during the dump',
    source: FAKE,
    bounds: FAST,
    peer: fake({}, stallingDump),
  },
  {
    name: 'cancel-stalled-dump',
    about: 'cancelled during a dump that never ends: the capture still ends, the VM still paused',
    source: FAKE,
    bounds: FAST,
    cancelAt: 'dumping',
    peer: fake({}, stallingDump),
  },
  {
    name: 'unknown-dump-status',
    about: 'query-dump answers a status nobody knows',
    source: FAKE,
    bounds: FAST,
    peer: fake({}, (peer) =>
      peer.on('dump-guest-memory', (_command, f) => {
        f.vm.dump = { status: 'paused-forever', completed: 0, total: 1 << 20 };
        return { return: {} };
      }),
    ),
  },
  {
    name: 'dump-status-not-a-status',
    about: 'query-dump answers something that is not a dump status',
    source: FAKE,
    bounds: FAST,
    peer: fake({}, (peer) =>
      peer.on('query-dump', (_command, f) =>
        f.commands.some((c) => c.execute === 'dump-guest-memory')
          ? { return: { status: 'active', completed: 'lots', total: null } }
          : { return: f.vm.dump },
      ),
    ),
  },
  {
    name: 'cont-refused',
    about: 'QEMU refuses cont after a good dump: the image is kept, the VM still paused',
    source: FAKE,
    bounds: FAST,
    peer: fake({ memory: 1 << 20 }, (peer) =>
      peer.on('cont', () => ({ error: 'Resetting the Virtual Machine is required' })),
    ),
  },
  {
    name: 'completed-but-empty',
    about: 'the peer says the dump is complete but wrote nothing',
    source: FAKE,
    bounds: FAST,
    peer: fake({ memory: 1 << 20, dumpBytes: 0 }),
  },
  {
    name: 'dump-short',
    about: 'the dump is shorter than the guest’s memory',
    source: FAKE,
    bounds: FAST,
    // Its first MiB may be device memory and missing from a good core; the rest may not.
    peer: fake({ memory: 4 << 20, dumpBytes: 2 << 20 }),
  },
  {
    name: 'hostile-name',
    about: 'a VM name with terminal controls and a memory size that is not a number',
    source: FAKE,
    bounds: FAST,
    peer: fake({ name: 'lab\u001b[2J\u001b]0;pwned\u0007\u202egpj.exe', memory: 'lots', dumpBytes: 8192 }),
  },
  {
    name: 'already-dumping',
    about: 'QEMU is already writing a dump when the capture starts',
    source: FAKE,
    bounds: FAST,
    peer: fake({ dump: { status: 'active', completed: 4096, total: 1 << 20 } }),
  },
];

async function record(scenario: Scenario, work: string): Promise<QmpSeedFile> {
  const dir = mkdtempSync(join(work, `${scenario.name}-`));
  const peer = await scenario.peer(dir);
  const recording = await recordingProxy(join(dir, 'proxy.qmp'), peer.path);
  const out = join(dir, 'capture.elf');
  const abort = new AbortController();
  let cancelAtCommand: number | undefined;
  let ending: QmpSeedFile['live'];
  try {
    const result = await captureQemu({
      qmp: join(dir, 'proxy.qmp'),
      out,
      ...(scenario.bounds ? { bounds: scenario.bounds } : {}),
      signal: abort.signal,
      onProgress: (progress) => {
        if (scenario.cancelAt === progress.stage && !abort.signal.aborted) {
          cancelAtCommand = recording.commandCount;
          abort.abort();
        }
      },
    });
    ending = { kind: 'result', message: `${result.bytes} bytes` };
  } catch (error) {
    if (!(error instanceof CaptureError)) throw error;
    ending = { kind: error.kind, message: error.message.replaceAll(dir, '<folder>') };
  }
  const fileBytes = existsSync(out) ? statSync(out).size : undefined;
  await recording.close();
  await peer.stop();
  rmSync(dir, { recursive: true, force: true });
  const options: QmpReplayOptions = {
    ...(scenario.silentEnd ? { endOfInput: 'silence' as const } : {}),
    ...(cancelAtCommand !== undefined ? { cancelAtCommand } : {}),
    ...(fileBytes !== undefined ? { fileBytes } : {}),
    ...(scenario.bounds ? { bounds: scenario.bounds } : {}),
  };
  // A peer that fell silent is recorded up to its silence: the replay cannot say "silent, then a
  // new connection", so the connections after it are left out.
  const connections = scenario.silentEnd ? recording.connections.slice(0, 1) : recording.connections;
  const lines: string[] = [];
  connections.forEach((connection, i) => {
    // The replay breaks a connection at a line that is not QMP; a connection the peer ended
    // before the capture was done with it ends with one.
    lines.push(...connection.text.split('\n').filter((line) => line.trim().length > 0));
    if (connection.peerClosed && i < connections.length - 1) lines.push(CONNECTION_BREAK);
  });
  return {
    about: scenario.about,
    source: scenario.source,
    live: ending,
    commands: connections.flatMap((c, connection) => c.commands.map((command) => ({ connection, command }))),
    options,
    lineEnd: recording.connections[0]?.text.includes('\r\n') ? '\r\n' : '\n',
    lines: lines.map((line) => line.replace(/\r$/, '')),
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'irpscope-record-qmp-'));
  mkdirSync(OUT, { recursive: true });
  try {
    for (const scenario of SCENARIOS) {
      const seed = await record(scenario, work);
      // Formatted as prettier formats JSON (the files are checked with the sources).
      const text = await format(JSON.stringify(seed), { parser: 'json' });
      writeFileSync(join(OUT, `${scenario.name}.json`), text);
      process.stdout.write(`${scenario.name}: ${seed.live.kind} (${seed.lines.length} lines)\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
