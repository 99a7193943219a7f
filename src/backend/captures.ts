// Captures started from the workbench: each writes into the data folder's captures/ (never a
// path the client names: in web mode the client is a browser page), reports its progress as
// events, and when done opens its file as a session in the role asked for.

import { join } from 'node:path';
import type {
  CaptureSource,
  CaptureSummary,
  CaptureTargets,
  SessionRole,
  SessionSummary,
} from '../common/api';
import {
  CaptureError,
  capture,
  findQmpSockets,
  libvirtSocketFolders,
  toolStatus,
  type CaptureResult,
} from '../core/node/capture';
import { ensureFolder, type OutputError } from '../core/node/util/atomic-file';
import { RequestError } from './validate';

export interface CaptureJobsOptions {
  outputFolder: string;
  emit: (capture: CaptureSummary) => void;
  open: (path: string, role: SessionRole) => Promise<SessionSummary>;
  /** For tests: the environment whose PATH the tools are looked up on. */
  env?: NodeJS.ProcessEnv;
}

/** A file name the client may choose: one path component of plain characters, an image suffix. */
export function captureFileName(requested: string | undefined, label: string, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const base = (requested ?? `${label}-${stamp}`).trim();
  if (
    base.length === 0 ||
    base.length > 120 ||
    !/^[\w .()+-]+$/.test(base) ||
    /^\.+$/.test(base) ||
    base.startsWith('.')
  )
    throw new RequestError(`not a plain file name for a capture: ${JSON.stringify(requested)}`);
  return /\.(elf|core|raw|vmem|dmp)$/i.test(base) ? base : `${base}.elf`;
}

function plainLabel(source: CaptureSource): string {
  const raw =
    source.kind === 'qmp'
      ? (source.endpoint.split('/').pop() ?? source.endpoint)
      : source.vm.split('/').pop()!;
  return (
    raw
      .replace(/\.(vmx|sock|qmp|monitor)$/i, '')
      .replace(/[^\w.-]+/g, '_')
      .slice(0, 60) || 'vm'
  );
}

export class CaptureJobs {
  readonly #jobs = new Map<string, { summary: CaptureSummary; abort: AbortController }>();
  #nextId = 1;

  constructor(private readonly options: CaptureJobsOptions) {}

  async targets(folder: string | undefined): Promise<CaptureTargets> {
    const folders = [...(folder ? [folder] : []), ...libvirtSocketFolders()];
    const [found, tools] = await Promise.all([findQmpSockets(folders), toolStatus(this.options.env)]);
    // Sockets that cannot be QMP (another program's) are left out here; the CLI's --list says why.
    return { folders, sockets: found.probes, tools, outputFolder: this.options.outputFolder };
  }

  start(
    source: CaptureSource,
    name: string | undefined,
    role: SessionRole,
    shownAs?: string,
  ): CaptureSummary {
    if (
      [...this.#jobs.values()].some(
        (j) => j.summary.state === 'running' && sameSource(j.summary.source, source),
      )
    )
      throw new RequestError('that VM is being captured already');
    const stem = name ? name.replace(/\.[^.]+$/, '') : plainLabel(source);
    const label = shownAs?.trim() || stem;
    const out = join(this.options.outputFolder, captureFileName(name, stem));
    try {
      ensureFolder(this.options.outputFolder);
    } catch (error) {
      throw new RequestError((error as OutputError).message);
    }
    const id = `c${this.#nextId++}`;
    const abort = new AbortController();
    const summary: CaptureSummary = {
      id,
      source,
      label,
      role,
      out,
      state: 'running',
      progress: null,
      result: null,
      error: null,
      session: null,
    };
    this.#jobs.set(id, { summary, abort });
    const update = (change: Partial<CaptureSummary>) => {
      Object.assign(summary, change);
      this.options.emit(structuredClone(summary));
    };
    void capture(source, {
      out,
      signal: abort.signal,
      onProgress: (progress) => update({ progress }),
      ...(this.options.env ? { env: this.options.env } : {}),
    }).then(
      async (result: CaptureResult) => {
        try {
          const session = await this.options.open(result.file, role);
          update({ state: 'done', result, session: session.id, label: result.vm.name ?? label });
        } catch (error) {
          update({
            state: 'failed',
            result,
            error: `captured, but it cannot be opened: ${(error as Error).message}`,
          });
        }
      },
      (error: unknown) => {
        const cancelled = error instanceof CaptureError && error.kind === 'cancelled';
        update({
          state: cancelled ? 'cancelled' : 'failed',
          error: cancelled ? null : (error as Error).message,
        });
      },
    );
    this.options.emit(structuredClone(summary));
    return structuredClone(summary);
  }

  cancel(id: string): void {
    const job = this.#jobs.get(id);
    if (!job) throw new RequestError(`no capture ${id}`);
    job.abort.abort();
  }

  list(): CaptureSummary[] {
    return [...this.#jobs.values()].map((j) => structuredClone(j.summary));
  }

  dispose(): void {
    for (const job of this.#jobs.values()) job.abort.abort();
  }
}

function sameSource(a: CaptureSource, b: CaptureSource): boolean {
  return (
    a.kind === b.kind &&
    (a.kind === 'qmp' ? a.endpoint === (b as typeof a).endpoint : a.vm === (b as typeof a).vm)
  );
}
