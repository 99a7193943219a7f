// Capturing a running QEMU/KVM guest over QMP: read the VM's name, memory size and run state,
// pause it, have QEMU write its physical memory as an ELF core (dump-guest-memory, detached, with
// progress from query-dump), resume it, and put the file in place whole. A VM that was paused
// stays paused.
//
// Once `stop` has been sent, the VM may be paused whatever comes back — a reply, an error, a
// timeout, a dropped connection — so from then on every way out goes through `resume`: over the
// same connection if it is sound, else over a new one (QEMU serves one client per monitor, so
// the old one is closed first), and if that fails too the error says the VM is still paused and
// how to resume it. QEMU cannot stop a dump it has started and refuses `cont` during one ("There
// is a dump in process"), so a cancel removes the file at once and resumes the VM when QEMU has
// finished writing. Every wait is bounded (QemuCaptureBounds), and the bounds are injectable.
// Commands: https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html (dump-guest-memory,
// query-dump, DUMP_COMPLETED, stop, cont, query-status, query-name, query-memory-size-summary).

import { describeEndpoint, parseEndpoint } from './endpoint';
import { CaptureError } from './errors';
import { incompleteDump, prepareOutput, type DumpTarget } from './output';
import { DEFAULT_REPLY_MS, QmpClient, type QmpChannel, type QmpEvent } from './qmp';
import {
  readDumpError,
  readDumpStatus,
  readMemorySize,
  readRunState,
  readVmName,
  type DumpStatus,
} from './qemu-replies';
import type { CaptureProgress, CaptureResult, QemuVm } from './types';

export interface QemuCaptureBounds {
  /** How long QEMU has to greet on a connection (a busy monitor does not). */
  greetingMs: number;
  /** How long the reply to any one command is waited for. */
  replyMs: number;
  /** How often query-dump is asked. */
  pollMs: number;
  /** How long a dump may show no progress before it is given up. */
  stallMs: number;
  /** How long a dump may take in all. */
  dumpMs: number;
}

export const DEFAULT_QEMU_BOUNDS: Readonly<QemuCaptureBounds> = {
  greetingMs: 5000,
  replyMs: DEFAULT_REPLY_MS,
  pollMs: 200,
  stallMs: 60_000,
  dumpMs: 4 * 3600_000,
};

export interface QemuCaptureOptions {
  /** A unix socket path, `unix:PATH`, or `host:port` on loopback. */
  qmp: string;
  out: string;
  onProgress?: (progress: CaptureProgress) => void;
  signal?: AbortSignal;
  bounds?: Partial<QemuCaptureBounds>;
}

/** What a capture needs from the world; the fuzz replay gives it a scripted one. */
export interface QemuCaptureRuntime {
  /** How the socket is named in messages. */
  where: string;
  connect(greetingMs: number, signal?: AbortSignal): Promise<QmpChannel>;
  /** The file QEMU writes (its temporary path is what QEMU is given). */
  output: DumpTarget;
  now(): number;
  sleep(ms: number): Promise<void>;
}

type Execute = (command: string, args?: Record<string, unknown>) => Promise<unknown>;

/** A reply, or null when QEMU refused the command (an older QEMU without it, say). */
async function optional<T>(reply: Promise<unknown>, read: (value: unknown) => T): Promise<T | null> {
  try {
    return read(await reply);
  } catch (error) {
    if (error instanceof CaptureError && error.kind === 'qmp-error') return null;
    throw error;
  }
}

/** What a QMP socket says about its VM, without changing anything. */
export async function describeQemuVm(
  channel: Pick<QmpChannel, 'execute' | 'greeting'>,
  replyMs = DEFAULT_REPLY_MS,
): Promise<QemuVm> {
  const execute: Execute = (command) => channel.execute(command, undefined, replyMs);
  const state = readRunState(await execute('query-status'));
  const name = await optional(execute('query-name'), readVmName);
  const memoryBytes = await optional(execute('query-memory-size-summary'), readMemorySize);
  return {
    name,
    memoryBytes,
    status: state.status,
    running: state.running,
    qemuVersion: channel.greeting.version,
  };
}

export async function captureQemu(options: QemuCaptureOptions): Promise<CaptureResult> {
  const endpoint = parseEndpoint(options.qmp);
  // The output is checked first: a path that cannot take the image is refused before the VM is touched.
  const output = prepareOutput(options.out);
  const runtime: QemuCaptureRuntime = {
    where: describeEndpoint(endpoint),
    connect: (greetingMs, signal) => QmpClient.connect(endpoint, { timeoutMs: greetingMs, signal }),
    output,
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  return runQemuCapture(runtime, options);
}

/** The QMP connection of one capture: replaced by a new one when it broke or stopped answering. */
class Link {
  #channel: QmpChannel | null = null;
  /** A reply did not come in time: what this connection answers next cannot be relied on. */
  #stalled = false;

  constructor(
    private readonly runtime: QemuCaptureRuntime,
    private readonly bounds: QemuCaptureBounds,
  ) {}

  async open(signal?: AbortSignal): Promise<void> {
    this.#channel?.close();
    this.#channel = null;
    this.#channel = await this.runtime.connect(this.bounds.greetingMs, signal);
    this.#stalled = false;
  }

  get greeting() {
    if (!this.#channel) throw new CaptureError('disconnected', 'not connected');
    return this.#channel.greeting;
  }

  get sound(): boolean {
    return this.#channel !== null && !this.#channel.closed && !this.#stalled;
  }

  execute: (command: string, args?: Record<string, unknown>) => Promise<unknown> = async (command, args) => {
    if (!this.#channel) throw new CaptureError('disconnected', 'not connected');
    try {
      return await this.#channel.execute(command, args, this.bounds.replyMs);
    } catch (error) {
      if (error instanceof CaptureError && error.kind === 'timeout') this.#stalled = true;
      throw error;
    }
  };

  onEvent(listener: (event: QmpEvent) => void): () => void {
    return this.#channel?.onEvent(listener) ?? (() => undefined);
  }

  close(): void {
    this.#channel?.close();
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** Polls query-dump until the dump is no longer active; throws when it stalls or runs too long. */
async function waitForDump(
  link: Link,
  bounds: QemuCaptureBounds,
  runtime: QemuCaptureRuntime,
  onStatus: (status: DumpStatus) => void,
): Promise<DumpStatus> {
  const started = runtime.now();
  let lastProgress = started;
  let mostWritten = -1;
  for (;;) {
    const status = readDumpStatus(await link.execute('query-dump'));
    onStatus(status);
    if (status.status !== 'active') return status;
    const now = runtime.now();
    if (status.completed > mostWritten) {
      mostWritten = status.completed;
      lastProgress = now;
    }
    if (now - lastProgress >= bounds.stallMs)
      throw new CaptureError(
        'timeout',
        `QEMU's dump made no progress for ${seconds(bounds.stallMs)} (${status.completed} of ${status.total} bytes written)`,
      );
    if (now - started >= bounds.dumpMs)
      throw new CaptureError('timeout', `QEMU's dump did not finish within ${seconds(bounds.dumpMs)}`);
    await runtime.sleep(bounds.pollMs);
  }
}

/** Starts the dump and follows it to its end, reporting progress; a cancel removes the file and still follows it. */
async function dump(
  link: Link,
  vm: QemuVm,
  runtime: QemuCaptureRuntime,
  bounds: QemuCaptureBounds,
  signal: AbortSignal | undefined,
  report: (progress: CaptureProgress) => void,
): Promise<{ total: number; cancelled: boolean }> {
  if (signal?.aborted) return { total: 0, cancelled: true };
  let eventError: string | null = null;
  const off = link.onEvent((event) => {
    if (event.event === 'DUMP_COMPLETED') eventError = readDumpError(event.data) ?? eventError;
  });
  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    // The bytes QEMU still writes go to a file no longer at any path; the space is freed when it closes it.
    runtime.output.discard();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await link.execute('dump-guest-memory', {
      paging: false,
      protocol: `file:${runtime.output.temp}`,
      detach: true,
    });
    const end = await waitForDump(link, bounds, runtime, (status) =>
      report({
        stage: cancelled ? 'cancelling' : 'dumping',
        completed: status.completed,
        total: status.total || vm.memoryBytes || 0,
        detail: cancelled
          ? 'QEMU cannot stop a dump it has started: the VM resumes when it has finished'
          : undefined,
      }),
    );
    if (end.status === 'completed' || cancelled) return { total: end.total, cancelled };
    throw new CaptureError(
      'dump-failed',
      `QEMU could not write the dump: ${eventError ?? (end.status === 'failed' ? 'query-dump says failed' : 'QEMU reports no dump')}`,
    );
  } finally {
    off();
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Waits, within the bounds, for a dump still being written to end (QEMU refuses cont during one). */
async function settleDump(link: Link, bounds: QemuCaptureBounds, runtime: QemuCaptureRuntime): Promise<void> {
  try {
    const status = await optional(link.execute('query-dump'), readDumpStatus);
    if (status?.status === 'active') await waitForDump(link, bounds, runtime, () => undefined);
  } catch (error) {
    // A dump that stalls or answers oddly: cont is still tried, and QEMU's answer to it says why not.
    if (!link.sound) throw error;
  }
}

/**
 * Resumes a VM this capture paused (or may have paused): over the connection if it is sound, else
 * over a new one, twice at most. Null when the VM runs; else a sentence for the user.
 */
async function resume(
  link: Link,
  bounds: QemuCaptureBounds,
  runtime: QemuCaptureRuntime,
): Promise<string | null> {
  let reason = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (!link.sound) await link.open();
      await settleDump(link, bounds, runtime);
      if (readRunState(await link.execute('query-status')).running) return null;
      await link.execute('cont');
      return null;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
      // QEMU answered and refused: asking again would get the same answer.
      if (error instanceof CaptureError && error.kind === 'qmp-error') break;
    }
  }
  return `IRPscope paused the VM and could not resume it (${reason}): unless QEMU has exited, the VM is still paused; resume it with {"execute": "cont"} on ${runtime.where}`;
}

function withResumeNote(error: CaptureError, resumeProblem: string | null): CaptureError {
  return resumeProblem === null ? error : new CaptureError(error.kind, `${error.message}; ${resumeProblem}`);
}

function asCaptureError(error: unknown, where: string, signal: AbortSignal | undefined): CaptureError {
  let captureError: CaptureError;
  if (!(error instanceof CaptureError))
    captureError = new CaptureError('tool-failed', `${where}: ${(error as Error).message}`);
  else if (error.kind === 'disconnected')
    captureError = new CaptureError(
      'disconnected',
      `the connection to QEMU (${where}) was lost during the capture: ${error.message}`,
    );
  else captureError = error;
  // Whatever ended a cancelled capture, it was cancelled; what went wrong meanwhile is said too.
  if (signal?.aborted && captureError.kind !== 'cancelled')
    return new CaptureError('cancelled', `cancelled; ${captureError.message}`);
  return captureError;
}

/** A capture over `runtime`: see the top of this file. Removes the temporary file on every failure. */
export async function runQemuCapture(
  runtime: QemuCaptureRuntime,
  options: Pick<QemuCaptureOptions, 'onProgress' | 'signal' | 'bounds'> = {},
): Promise<CaptureResult> {
  const bounds: QemuCaptureBounds = { ...DEFAULT_QEMU_BOUNDS, ...options.bounds };
  const report = options.onProgress ?? (() => undefined);
  const { output, where } = runtime;
  const started = runtime.now();
  const link = new Link(runtime, bounds);
  let vm: QemuVm | null = null;
  let stopSent = false;
  let pausedAt: number | null = null;
  let ended: { total: number; cancelled: boolean } | null = null;
  let dumpMs = 0;
  let failure: unknown = null;
  try {
    report({ stage: 'connecting', completed: 0, total: 0, detail: where });
    await link.open(options.signal);
    vm = await describeQemuVm(link, bounds.replyMs);
    const busy = await optional(link.execute('query-dump'), readDumpStatus);
    if (busy?.status === 'active')
      throw new CaptureError(
        'qmp-error',
        `${where}: QEMU is already writing a dump; try again when it has finished`,
      );
    if (options.signal?.aborted) throw new CaptureError('cancelled', 'cancelled');
    if (vm.running) {
      report({ stage: 'pausing', completed: 0, total: vm.memoryBytes ?? 0, detail: vm.name ?? where });
      stopSent = true;
      await link.execute('stop');
      pausedAt = runtime.now();
    }
    const dumpStarted = runtime.now();
    ended = await dump(link, vm, runtime, bounds, options.signal, report);
    dumpMs = runtime.now() - dumpStarted;
  } catch (error) {
    failure = error;
  }
  let resumeProblem: string | null = null;
  let resumedAt: number | null = null;
  if (stopSent) {
    report({ stage: 'resuming', completed: ended?.total ?? 0, total: ended?.total ?? 0 });
    resumeProblem = await resume(link, bounds, runtime);
    if (resumeProblem === null) resumedAt = runtime.now();
  }
  link.close();
  if (failure !== null || vm === null || ended === null || ended.cancelled) {
    output.discard();
    const error = failure ?? new CaptureError('cancelled', 'cancelled');
    throw withResumeNote(asCaptureError(error, where, options.signal), resumeProblem);
  }
  const bytes = output.size();
  const incomplete = incompleteDump('QEMU', bytes, vm.memoryBytes);
  if (incomplete) {
    output.discard();
    throw withResumeNote(incomplete, resumeProblem);
  }
  report({ stage: 'finishing', completed: ended.total, total: ended.total });
  try {
    output.commit();
  } catch (error) {
    throw withResumeNote(asCaptureError(error, where, undefined), resumeProblem);
  }
  if (resumeProblem !== null)
    throw new CaptureError('resume-failed', `the image is complete (${output.path}), but ${resumeProblem}`);
  return {
    tool: 'qemu',
    source: where,
    vm: {
      name: vm.name,
      memoryBytes: vm.memoryBytes,
      stateBefore: vm.status,
      software: `QEMU ${vm.qemuVersion}`,
    },
    file: output.path,
    bytes: bytes ?? 0,
    wasRunning: vm.running,
    pausedMs: pausedAt !== null && resumedAt !== null ? Math.round(resumedAt - pausedAt) : null,
    dumpMs: Math.round(dumpMs),
    totalMs: Math.round(runtime.now() - started),
    format: 'ELF core (QEMU dump-guest-memory, physical addresses)',
  };
}
