// A capture against QMP peers that misbehave (test/unit/core/capture/fake-qmp.ts): whatever the
// peer does after `stop` — drop the connection, answer late, never finish the dump, answer a
// status nobody knows, claim a dump it did not write — the capture ends within its bounds, the
// VM runs again if it ran before (or the error says it is still paused), and nothing is left at
// `--out` but the older file. An `--out` that is not a regular file is refused before the VM is
// touched, and a VM's name or size from the peer never reaches a terminal raw.

import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, onTestFinished, test } from 'vitest';
import { CaptureError, captureQemu, describeQemuVm } from '../../../../src/core/node/capture';
import { QmpClient } from '../../../../src/core/node/capture/qmp';
import { renderCaptureResult } from '../../../../src/cli/render-capture';
import { startFakeQmp, type FakeQmp, type FakeVm } from './fake-qmp';

const ROOT = join(__dirname, '../../../..');
const work = mkdtempSync(join(tmpdir(), 'irpscope-peers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A control character or bidirectional override that a terminal would act on (a newline is fine). */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

/** Short bounds, so that a peer that never answers costs a fraction of a second. */
const FAST = { replyMs: 300, greetingMs: 300, pollMs: 5, stallMs: 300, dumpMs: 5000 };

async function peer(vm: Partial<FakeVm> = {}): Promise<{ fake: FakeQmp; dir: string; out: string }> {
  const dir = mkdtempSync(join(work, 'peer-'));
  const fake = await startFakeQmp(dir, vm);
  onTestFinished(() => fake.close());
  const out = join(dir, 'capture.elf');
  writeFileSync(out, 'the previous capture');
  return { fake, dir, out };
}

/**
 * The CLI in a child process, waited for without blocking: the fake peer answers from this
 * process's event loop.
 */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

function failure(promise: Promise<unknown>): Promise<CaptureError> {
  return promise.then(
    () => {
      throw new Error('the capture succeeded');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(CaptureError);
      return error as CaptureError;
    },
  );
}

/** The older file is untouched and no temporary file is left beside it. */
function expectOutUntouched(dir: string, out: string): void {
  expect(readFileSync(out, 'utf8')).toBe('the previous capture');
  expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

describe('every path handed to QEMU is absolute, and a dump that is not all there is a failure', () => {
  test('a relative --out reaches QEMU as an absolute path, and the image lands at --out', async () => {
    const { fake, dir } = await peer({ memory: 1 << 20 });
    const out = relative(process.cwd(), join(dir, 'relative.elf'));
    expect(out.startsWith('/')).toBe(false);
    const result = await captureQemu({ qmp: fake.path, out, bounds: FAST });
    const dump = fake.commands.find((c) => c.execute === 'dump-guest-memory')!;
    expect(String(dump.arguments!.protocol)).toMatch(/^file:\//);
    expect(statSync(join(dir, 'relative.elf')).size).toBe((1 << 20) + 4096);
    expect(result.bytes).toBe((1 << 20) + 4096);
    expect(result.file).toBe(join(dir, 'relative.elf'));
  });

  test('a peer that says "completed" but wrote nothing: a failure, the older file stays, the VM runs', async () => {
    const { fake, dir, out } = await peer({ memory: 1 << 20, dumpBytes: 0 });
    const error = await failure(captureQemu({ qmp: fake.path, out, bounds: FAST }));
    expect(error.kind).toBe('dump-failed');
    expect(error.message).toMatch(/holds 0 bytes/);
    expectOutUntouched(dir, out);
    expect(fake.vm.running).toBe(true);
  });

  test('a dump shorter than the guest’s memory is a failure', async () => {
    // Its first MiB may be device memory (the VGA window, ROMs) and missing from a good core; the rest may not.
    const { fake, dir, out } = await peer({ memory: 4 << 20, dumpBytes: 2 << 20 });
    const error = await failure(captureQemu({ qmp: fake.path, out, bounds: FAST }));
    expect(error.kind).toBe('dump-failed');
    expect(error.message).toMatch(/holds 2097152 bytes, fewer than the 4194304 bytes of the VM's memory/);
    expectOutUntouched(dir, out);
    expect(fake.vm.running).toBe(true);
  });
});

describe('whatever happens after stop, the VM runs again (or the error says it does not)', () => {
  test('the connection drops after stop, before its reply: a new connection resumes the VM', async () => {
    const { fake, dir, out } = await peer();
    fake.on('stop', (_command, f) => {
      f.vm.running = false;
      return 'drop';
    });
    const error = await failure(captureQemu({ qmp: fake.path, out, bounds: FAST }));
    expect(error.kind).toBe('disconnected');
    expect(fake.vm.running).toBe(true);
    expect(fake.commands.filter((c) => c.execute === 'cont').map((c) => c.connection)).toEqual([1]);
    expectOutUntouched(dir, out);
  });

  test('stop answers too late: the wait is bounded, and the VM is resumed over a new connection', async () => {
    const { fake, dir, out } = await peer();
    fake.on('stop', (_command, f) => {
      f.vm.running = false;
      return 'silence';
    });
    const error = await failure(captureQemu({ qmp: fake.path, out, bounds: FAST }));
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/did not answer stop within 0.3 s/);
    expect(fake.vm.running).toBe(true);
    expect(fake.commands.some((c) => c.execute === 'cont' && c.connection === 1)).toBe(true);
    expectOutUntouched(dir, out);
  }, 20_000);

  test('query-dump stays "active" without progress: the capture ends, and says the VM is still paused', async () => {
    const { fake, dir, out } = await peer();
    fake.on('dump-guest-memory', (_command, f) => {
      f.vm.dump = { status: 'active', completed: 4096, total: 1 << 20 };
      return { return: {} };
    });
    const error = await failure(captureQemu({ qmp: fake.path, out, bounds: FAST }));
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/no progress for 0.3 s/);
    // QEMU refuses cont during a dump: the capture tried, and says so.
    expect(fake.commands.some((c) => c.execute === 'cont')).toBe(true);
    expect(error.message).toMatch(/still paused/);
    expect(error.message).toMatch(/There is a dump in process/);
    expectOutUntouched(dir, out);
  }, 20_000);

  test('Ctrl-C during a dump that never ends: the capture still ends, and says the VM is still paused', async () => {
    const { fake, dir, out } = await peer();
    fake.on('dump-guest-memory', (_command, f) => {
      f.vm.dump = { status: 'active', completed: 4096, total: 1 << 20 };
      return { return: {} };
    });
    const abort = new AbortController();
    const error = await failure(
      captureQemu({
        qmp: fake.path,
        out,
        bounds: FAST,
        signal: abort.signal,
        onProgress: (p) => {
          if (p.stage === 'dumping') abort.abort();
        },
      }),
    );
    expect(error.kind).toBe('cancelled');
    expect(error.message).toMatch(/still paused/);
    expectOutUntouched(dir, out);
  }, 20_000);

  test('query-dump answers a status nobody knows: a failure that names it, and the VM runs again', async () => {
    const { fake, dir, out } = await peer();
    fake.on('dump-guest-memory', (_command, f) => {
      f.vm.dump = { status: 'paused-forever', completed: 0, total: 1 << 20 };
      return { return: {} };
    });
    const error = await failure(captureQemu({ qmp: fake.path, out, bounds: FAST }));
    expect(error.kind).toBe('qmp-error');
    expect(error.message).toMatch(/unknown status "paused-forever"/);
    expect(fake.vm.running).toBe(true);
    expectOutUntouched(dir, out);
  }, 20_000);

  test('query-dump answers something that is not a dump status: a failure, and the VM runs again', async () => {
    const { fake, dir, out } = await peer();
    fake.on('query-dump', (_command, f) =>
      f.commands.some((c) => c.execute === 'dump-guest-memory')
        ? { return: { status: 'active', completed: 'lots', total: null } }
        : { return: f.vm.dump },
    );
    const error = await failure(captureQemu({ qmp: fake.path, out, bounds: FAST }));
    expect(error.kind).toBe('qmp-error');
    expect(error.message).toMatch(/query-dump/);
    expect(fake.vm.running).toBe(true);
    expectOutUntouched(dir, out);
  }, 20_000);

  test('QEMU refuses cont after a good dump: the image is kept and the error says the VM is still paused', async () => {
    const { fake, out } = await peer({ memory: 1 << 20 });
    fake.on('cont', () => ({ error: 'Resetting the Virtual Machine is required' }));
    const error = await failure(captureQemu({ qmp: fake.path, out, bounds: FAST }));
    expect(error.kind).toBe('resume-failed');
    expect(error.message).toMatch(/still paused/);
    expect(error.message).toMatch(/Resetting the Virtual Machine is required/);
    expect(error.message).toContain(out);
    expect(statSync(out).size).toBe((1 << 20) + 4096);
    expect(fake.vm.running).toBe(false);
  }, 20_000);

  test('CLI: a second Ctrl-C while cancelling does not leave the VM paused', async () => {
    const { fake, dir, out } = await peer();
    fake.on('dump-guest-memory', (_command, f) => {
      f.vm.dump = { status: 'active', completed: 4096, total: 1 << 20 };
      return { return: {} };
    });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'capture', '--qmp', fake.path, '--out', out],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    const waiters: Array<() => void> = [];
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      for (const wake of waiters.splice(0)) wake();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const stderrMatches = async (pattern: RegExp) => {
      while (!pattern.test(stderr)) await new Promise<void>((resolve) => waiters.push(resolve));
    };
    await stderrMatches(/irpscope: dumping/);
    child.kill('SIGINT');
    await stderrMatches(/irpscope: cancelling/);
    child.kill('SIGINT');
    // The unfixed CLI dies of the second SIGINT; the fixed one says what it is still waiting for.
    await Promise.race([stderrMatches(/still cancelling/), exited]);
    fake.vm.dump = { status: 'completed', completed: 1 << 20, total: 1 << 20 };
    const code = await exited;
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(/irpscope: cancelled/);
    expect(fake.vm.running).toBe(true);
    expectOutUntouched(dir, out);
  }, 60_000);
});

describe('--out must be a regular file or absent, and this is checked before the VM is paused', () => {
  function charDevice(dir: string): string {
    const path = join(dir, 'null-device');
    // A device node of our own, so that an unfixed capture renames over it and not over /dev/null.
    if (spawnSync('mknod', [path, 'c', '1', '3']).status === 0) return path;
    return '/dev/null';
  }

  test.each([
    ['a FIFO', (dir: string) => (spawnSync('mkfifo', [join(dir, 'pipe')]), join(dir, 'pipe')), /a FIFO/],
    ['a character device', charDevice, /a character device/],
    ['a folder', (dir: string) => (mkdirSync(join(dir, 'folder')), join(dir, 'folder')), /a folder/],
    [
      'a symbolic link to a FIFO',
      (dir: string) => {
        spawnSync('mkfifo', [join(dir, 'pipe2')]);
        symlinkSync(join(dir, 'pipe2'), join(dir, 'link'));
        return join(dir, 'link');
      },
      /symbolic link to a FIFO/,
    ],
  ])('%s is refused, and the VM is never paused', async (_what, make, reason) => {
    const { fake, dir } = await peer();
    const out = make(dir);
    const error = await failure(captureQemu({ qmp: fake.path, out, bounds: FAST }));
    expect(error.kind).toBe('output');
    expect(error.message).toMatch(/is not a regular file/);
    expect(error.message).toMatch(reason);
    expect(fake.commands.map((c) => c.execute)).not.toContain('stop');
    expect(fake.vm.running).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('an --out the system cannot take says the real reason', async () => {
    const { fake, dir } = await peer();
    const procError = await failure(captureQemu({ qmp: fake.path, out: '/proc/x.elf', bounds: FAST }));
    expect(procError.kind).toBe('output');
    expect(procError.message).toMatch(/\/proc is on proc, not a regular file system/);
    const missing = await failure(
      captureQemu({ qmp: fake.path, out: join(dir, 'absent', 'x.elf'), bounds: FAST }),
    );
    expect(missing.message).toBe(`cannot write ${join(dir, 'absent', 'x.elf')}: its folder does not exist`);
    const throughFile = await failure(
      captureQemu({ qmp: fake.path, out: join(dir, 'fake.qmp', 'x.elf'), bounds: FAST }),
    );
    expect(throughFile.message).toMatch(/is not a folder/);
    expect(fake.commands.map((c) => c.execute)).not.toContain('stop');
    expect(existsSync('/proc/x.elf')).toBe(false);
  });
});

describe('what the peer says about its VM is checked and shown neutralised', () => {
  test('a memory size that is missing or not a number is unknown, never NaN', async () => {
    for (const memory of [undefined, '64 MiB', -1, 1.5, Number.MAX_VALUE]) {
      const { fake } = await peer({ memory });
      const client = await QmpClient.connect({ kind: 'unix', path: fake.path });
      try {
        expect((await describeQemuVm(client)).memoryBytes, String(memory)).toBeNull();
      } finally {
        client.close();
      }
    }
  });

  test('a crafted VM name and a missing size: the summary shows escapes and "unknown"', async () => {
    const name = 'lab\u001b[2J\u001b]0;pwned\u0007\u202egpj.exe';
    const { fake, out } = await peer({ name, memory: 'lots', dumpBytes: 8192 });
    const result = await captureQemu({ qmp: fake.path, out, bounds: FAST });
    expect(result.vm.name).toBe(name);
    expect(result.vm.memoryBytes).toBeNull();
    const text = renderCaptureResult(result);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain('lab\\u001b[2J\\u001b]0;pwned\\u0007\\u202egpj.exe');
    expect(text).toMatch(/memory size unknown/);
    expect(text).not.toMatch(/NaN/);
  });

  test('CLI: the name reaches neither stderr nor stdout raw, in text or JSON, and the JSON keeps it', async () => {
    const name = 'lab\u001b[2J\u009b31m\u202egpj.exe';
    const { fake, dir } = await peer({ name, memory: 1 << 20 });
    for (const json of [false, true]) {
      const out = join(dir, `cli-${json}.elf`);
      const cli = await runCli(['capture', '--qmp', fake.path, '--out', out, ...(json ? ['--json'] : [])]);
      expect(cli.status, cli.stderr).toBe(0);
      for (const stream of [cli.stdout, cli.stderr]) expect(stream).not.toMatch(RAW_CONTROL);
      expect(cli.stderr).toContain('lab\\u001b[2J\\u009b31m\\u202egpj.exe');
      if (json) expect((JSON.parse(cli.stdout) as { vm: { name: string } }).vm.name).toBe(name);
      else expect(cli.stdout).toContain('lab\\u001b[2J\\u009b31m\\u202egpj.exe');
    }
  }, 60_000);
});
