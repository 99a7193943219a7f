// A QMP peer that misbehaves on purpose: a net.Server on a unix socket in a temporary folder that
// speaks just enough QMP (greeting, qmp_capabilities, the commands a capture sends) and lets each
// test replace the answer to any command — no answer, a dropped connection, a wrong shape, a dump
// that never ends. It keeps what a real QEMU would: whether the VM runs, whether a dump is being
// written, and every command each connection sent, so a test can check the VM's state at the end.

import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export interface FakeCommand {
  /** Which connection sent it (0 for the first). */
  connection: number;
  execute: string;
  arguments?: Record<string, unknown>;
}

export interface FakeVm {
  running: boolean;
  /** What query-name returns as `name` (anything, to test hostile or malformed answers). */
  name: unknown;
  /** What query-memory-size-summary returns as `base-memory`. */
  memory: unknown;
  /** How many bytes dump-guest-memory writes to its file (default: `memory` plus a header). */
  dumpBytes?: number;
  /** The dump as query-dump reports it. */
  dump: { status: string; completed: number; total: number };
}

/** What a handler does with one command: answer, refuse, or say nothing (the test decides later). */
export type Answer = { return: unknown } | { error: string } | 'silence' | 'drop';

export interface FakeQmp {
  path: string;
  vm: FakeVm;
  commands: FakeCommand[];
  /** Replaces the answer to `execute` (null: back to the QEMU-like one). */
  on(execute: string, handler: ((command: FakeCommand, fake: FakeQmp) => Answer) | null): void;
  /** Sends a line to every open connection (an event, say). */
  send(line: string): void;
  /** Resolves when a command named `execute` has been received (already, or later). */
  received(execute: string, connection?: number): Promise<FakeCommand>;
  close(): Promise<void>;
}

const GREETING =
  '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": []}}';

/** The answers of a QEMU whose VM is `vm`. */
function qemuLike(command: FakeCommand, fake: FakeQmp): Answer {
  const vm = fake.vm;
  switch (command.execute) {
    case 'qmp_capabilities':
      return { return: {} };
    case 'query-status':
      return {
        return: { status: vm.running ? 'running' : 'paused', singlestep: false, running: vm.running },
      };
    case 'query-name':
      return { return: vm.name === undefined ? {} : { name: vm.name } };
    case 'query-memory-size-summary':
      return { return: { 'base-memory': vm.memory } };
    case 'query-dump':
      return { return: vm.dump };
    case 'stop':
      vm.running = false;
      return { return: {} };
    case 'cont':
      if (vm.dump.status === 'active') return { error: 'There is a dump in process, please wait.' };
      vm.running = true;
      return { return: {} };
    case 'dump-guest-memory': {
      const file = String(command.arguments?.protocol ?? '').replace(/^file:/, '');
      const bytes =
        vm.dumpBytes ?? (typeof vm.memory === 'number' && vm.memory >= 0 ? vm.memory + 4096 : 4096);
      writeFileSync(file, Buffer.alloc(bytes));
      vm.dump = { status: 'completed', completed: bytes, total: bytes };
      return { return: {} };
    }
    default:
      return { error: `The command ${command.execute} has not been found` };
  }
}

export async function startFakeQmp(folder: string, vm: Partial<FakeVm> = {}): Promise<FakeQmp> {
  const path = join(folder, 'fake.qmp');
  const handlers = new Map<string, (command: FakeCommand, fake: FakeQmp) => Answer>();
  const sockets = new Set<Socket>();
  const waiters: Array<{ execute: string; connection?: number; resolve: (c: FakeCommand) => void }> = [];
  let connections = 0;
  const fake: FakeQmp = {
    path,
    vm: {
      running: true,
      name: 'fake-vm',
      memory: 1 << 20,
      dump: { status: 'none', completed: 0, total: 0 },
      ...vm,
    },
    commands: [],
    on(execute, handler) {
      if (handler) handlers.set(execute, handler);
      else handlers.delete(execute);
    },
    send(line) {
      for (const socket of sockets) socket.write(`${line}\n`);
    },
    received(execute, connection) {
      const seen = fake.commands.find(
        (c) => c.execute === execute && (connection === undefined || c.connection === connection),
      );
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ execute, connection, resolve }));
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write(`${GREETING}\n`);
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        const request = JSON.parse(line) as {
          execute: string;
          arguments?: Record<string, unknown>;
          id?: unknown;
        };
        const command: FakeCommand = {
          connection,
          execute: request.execute,
          ...(request.arguments ? { arguments: request.arguments } : {}),
        };
        fake.commands.push(command);
        const answer = (handlers.get(command.execute) ?? qemuLike)(command, fake);
        for (const waiter of waiters.splice(0))
          if (
            waiter.execute === command.execute &&
            (waiter.connection === undefined || waiter.connection === connection)
          )
            waiter.resolve(command);
          else waiters.push(waiter);
        if (answer === 'drop') socket.destroy();
        else if (answer !== 'silence')
          socket.write(
            `${JSON.stringify('error' in answer ? { error: { class: 'GenericError', desc: answer.error }, id: request.id } : { return: answer.return, id: request.id })}\n`,
          );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return fake;
}
