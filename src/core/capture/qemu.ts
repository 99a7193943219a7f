// Capturing a running QEMU/KVM guest over QMP: read the VM's name, memory size and run state,
// pause it, have QEMU write its physical memory as an ELF core (dump-guest-memory, detached, with
// progress from query-dump), resume it, and put the file in place whole. A VM that was paused
// stays paused. QEMU cannot stop a dump it has started and refuses to resume the VM during one
// ("There is a dump in process"), so a cancelled capture removes its file at once and resumes
// the VM when QEMU has finished writing.
// Commands: https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html (dump-guest-memory,
// query-dump, DUMP_COMPLETED, stop, cont, query-status, query-name, query-memory-size-summary).

import { rmSync, statSync } from 'node:fs';
import { OutputError, externalTemp } from '../util/atomic-file';
import { describeEndpoint, parseEndpoint, type QmpEndpoint } from './endpoint';
import { CaptureError } from './errors';
import { QmpClient, type QmpEvent } from './qmp';
import type { CaptureProgress, CaptureResult, QemuVm } from './types';

export interface QemuCaptureOptions {
  /** A unix socket path, `unix:PATH`, or `host:port` on loopback. */
  qmp: string;
  out: string;
  onProgress?: (progress: CaptureProgress) => void;
  signal?: AbortSignal;
  /** How often query-dump is asked (ms). */
  pollMs?: number;
  /** How long a silent peer is waited for (ms). */
  timeoutMs?: number;
}

interface DumpStatus {
  status: 'none' | 'active' | 'completed' | 'failed';
  completed: number;
  total: number;
}

/** What a QMP socket says about its VM, without changing anything. */
export async function describeQemuVm(client: QmpClient): Promise<QemuVm> {
  const status = await client.execute<{ status: string; running: boolean }>('query-status');
  const name = await client.execute<{ name?: string }>('query-name').catch(() => ({}) as { name?: string });
  const memory = await client
    .execute<{ 'base-memory': number; 'plugged-memory'?: number }>('query-memory-size-summary')
    .catch(() => null);
  return {
    name: name.name ?? null,
    memoryBytes: memory ? memory['base-memory'] + (memory['plugged-memory'] ?? 0) : null,
    status: status.status,
    running: status.running,
    qemuVersion: client.greeting.version,
  };
}

export async function captureQemu(options: QemuCaptureOptions): Promise<CaptureResult> {
  const endpoint = parseEndpoint(options.qmp);
  const where = describeEndpoint(endpoint);
  const report = options.onProgress ?? (() => undefined);
  const started = performance.now();
  report({ stage: 'connecting', completed: 0, total: 0, detail: where });
  const client = await QmpClient.connect(endpoint, { timeoutMs: options.timeoutMs, signal: options.signal });
  let pausedAt: number | null = null;
  let resumedAt: number | null = null;
  let target: ReturnType<typeof externalTemp> | null = null;
  try {
    const vm = await describeQemuVm(client);
    const busy = await client.execute<DumpStatus>('query-dump').catch(() => null);
    if (busy?.status === 'active')
      throw new CaptureError(
        'qmp-error',
        `${where}: QEMU is already writing a dump; try again when it has finished`,
      );
    if (options.signal?.aborted) throw new CaptureError('cancelled', 'cancelled');
    try {
      target = externalTemp(options.out);
    } catch (error) {
      throw error instanceof OutputError ? new CaptureError('output', error.message) : error;
    }
    if (vm.running) {
      report({ stage: 'pausing', completed: 0, total: vm.memoryBytes ?? 0, detail: vm.name ?? where });
      await client.execute('stop');
      pausedAt = performance.now();
    }
    const dumpStarted = performance.now();
    const outcome = await dump(client, target.temp, vm, options, report);
    const dumpMs = performance.now() - dumpStarted;
    if (vm.running) {
      report({ stage: 'resuming', completed: outcome.total, total: outcome.total });
      await client.execute('cont');
      resumedAt = performance.now();
    }
    if (outcome.cancelled) throw new CaptureError('cancelled', 'cancelled');
    if (outcome.error !== null)
      throw new CaptureError('dump-failed', `QEMU could not write the dump: ${outcome.error}`);
    report({ stage: 'finishing', completed: outcome.total, total: outcome.total });
    try {
      target.commit();
    } catch (error) {
      throw error instanceof OutputError ? new CaptureError('output', error.message) : error;
    }
    target = null;
    return {
      tool: 'qemu',
      source: where,
      vm: {
        name: vm.name,
        memoryBytes: vm.memoryBytes,
        stateBefore: vm.status,
        software: `QEMU ${vm.qemuVersion}`,
      },
      file: options.out,
      bytes: statSync(options.out).size,
      wasRunning: vm.running,
      pausedMs: pausedAt !== null && resumedAt !== null ? Math.round(resumedAt - pausedAt) : null,
      dumpMs: Math.round(dumpMs),
      totalMs: Math.round(performance.now() - started),
      format: 'ELF core (QEMU dump-guest-memory, physical addresses)',
    };
  } catch (error) {
    target?.discard();
    if (pausedAt !== null && resumedAt === null)
      await resumeAfterFailure(client, endpoint, options.timeoutMs);
    throw asCaptureError(error, where);
  } finally {
    client.close();
  }
}

/** Starts the dump and waits for its end, reporting progress; a cancel removes the file and still waits. */
async function dump(
  client: QmpClient,
  file: string,
  vm: QemuVm,
  options: QemuCaptureOptions,
  report: (progress: CaptureProgress) => void,
): Promise<{ total: number; error: string | null; cancelled: boolean }> {
  let eventError: string | null | undefined;
  const off = client.onEvent((event: QmpEvent) => {
    if (event.event !== 'DUMP_COMPLETED') return;
    const data = event.data as { error?: string } | undefined;
    eventError = data?.error ?? null;
  });
  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    // The bytes QEMU still writes go to a file no longer at any path; the space is freed when it closes it.
    removeQuietly(file);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.execute('dump-guest-memory', { paging: false, protocol: `file:${file}`, detach: true });
    const pollMs = options.pollMs ?? 200;
    for (;;) {
      const status = await client.execute<DumpStatus>('query-dump');
      report({
        stage: cancelled ? 'cancelling' : 'dumping',
        completed: status.completed,
        total: status.total || vm.memoryBytes || 0,
        detail: cancelled
          ? 'QEMU cannot stop a dump it has started: the VM resumes when it has finished'
          : undefined,
      });
      if (status.status === 'completed') return { total: status.total, error: null, cancelled };
      if (status.status === 'failed')
        return { total: status.total, error: eventError ?? 'query-dump says failed', cancelled };
      if (status.status === 'none')
        return { total: 0, error: eventError ?? 'QEMU reports no dump', cancelled };
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    off();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** After a failure, a VM this capture paused is resumed, over a new connection if the old one broke. */
async function resumeAfterFailure(
  client: QmpClient,
  endpoint: QmpEndpoint,
  timeoutMs?: number,
): Promise<void> {
  const tryResume = async (c: QmpClient) => {
    // A dump still being written must end first (QEMU refuses cont during one).
    for (let i = 0; i < 600; i++) {
      const status = await c.execute<DumpStatus>('query-dump').catch(() => null);
      if (status?.status !== 'active') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const state = await c.execute<{ running: boolean }>('query-status');
    if (!state.running) await c.execute('cont');
  };
  try {
    if (!client.closed) return await tryResume(client);
    const again = await QmpClient.connect(endpoint, { timeoutMs: timeoutMs ?? 2000 });
    try {
      await tryResume(again);
    } finally {
      again.close();
    }
  } catch {
    // QEMU is gone or will not answer: the error already says the capture failed.
  }
}

function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Nothing there, or a folder in the way: nothing of ours to remove.
  }
}

function asCaptureError(error: unknown, where: string): CaptureError {
  if (error instanceof CaptureError) {
    if (error.kind === 'disconnected')
      return new CaptureError(
        'disconnected',
        `the connection to QEMU (${where}) was lost during the capture: ${error.message}`,
      );
    return error;
  }
  return new CaptureError('tool-failed', `${where}: ${(error as Error).message}`);
}
