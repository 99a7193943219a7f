// What the case tests share: private copies of the builder images, backends on a data folder,
// and waits for a session's state or a case event (each with a deadline, so a wait that can
// never end fails with what it waited for).

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import type { CaseView, SessionSummary } from '../../../src/common/api';
import { Backend } from '../../../src/backend/index';
import { RECORDED_ENGINE } from './images';

const DEADLINE_MS = 60_000;

/** A private copy of an image (with its truth.json) under `work`. */
export function copyImage(work: string, image: string, name: string): string {
  const folder = join(work, name);
  mkdirSync(folder, { recursive: true });
  copyFileSync(image, join(folder, 'image.raw'));
  copyFileSync(join(dirname(image), 'truth.json'), join(folder, 'truth.json'));
  return join(folder, 'image.raw');
}

export class Backends {
  private readonly all: Backend[] = [];

  on(
    data: string,
    engineModule: string | null = RECORDED_ENGINE,
    extra: Partial<ConstructorParameters<typeof Backend>[0]> = {},
  ): Backend {
    const backend = new Backend({
      mode: 'web',
      version: 'test',
      dataDirectory: data,
      engineModule,
      ...extra,
    });
    this.all.push(backend);
    return backend;
  }

  disposeAll(): void {
    for (const backend of this.all.splice(0)) backend.dispose();
  }
}

/**
 * Another engine (another fingerprint, so it does not reuse the recorded engine's cases): the
 * recorded engine with a warning of its own in every result, so its results differ.
 */
export function otherEngine(folder: string): string {
  const path = join(folder, 'other-engine.mts');
  writeFileSync(
    path,
    `import { openEngine as recorded } from ${JSON.stringify(RECORDED_ENGINE)};
export const openEngine = async (path: string, options: object, onProgress: (p: unknown) => void) => {
  const engine = await recorded(path, options as never, onProgress as never);
  const analyze = engine.analyze.bind(engine);
  engine.analyze = async (progress, signal) => {
    const result = await analyze(progress, signal);
    result.image.warnings.push('analysed by the other engine');
    return result;
  };
  return engine;
};
`,
  );
  return path;
}

/** Resolves with the first summary of session `id` that `wanted` accepts (now or in a later event). */
export function sessionWhere(
  backend: Backend,
  id: string,
  wanted: (summary: SessionSummary) => boolean,
  what = 'the awaited state',
): Promise<SessionSummary> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      void backend.sessions().then((all) => {
        const now = all.find((s) => s.id === id);
        reject(new Error(`session ${id} never reached ${what}; it is ${JSON.stringify(now)}`));
      });
    }, DEADLINE_MS);
    const check = (summary: SessionSummary) => {
      if (summary.id !== id || !wanted(summary)) return;
      clearTimeout(timer);
      off();
      resolve(summary);
    };
    const off = backend.subscribe((event) => event.type === 'session' && check(event.session));
    void backend.sessions().then((all) => all.forEach(check));
  });
}

export function settled(backend: Backend, id: string): Promise<SessionSummary> {
  return sessionWhere(backend, id, (s) => ['ready', 'failed', 'cancelled'].includes(s.state), 'an end');
}

export async function openReady(
  backend: Backend,
  path: string,
  role: 'primary' | 'baseline' = 'primary',
): Promise<SessionSummary> {
  const opened = await backend.open({ path, role });
  const summary = await settled(backend, opened.id);
  expect(summary.state, summary.error?.message).toBe('ready');
  return summary;
}

/** Resolves with the first case event of `path` that `wanted` accepts. */
export function caseEvent(
  backend: Backend,
  path: string,
  wanted: (view: CaseView) => boolean = () => true,
): Promise<CaseView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no awaited case event for ${path}`));
    }, DEADLINE_MS);
    const off = backend.subscribe((event) => {
      if (event.type === 'case' && event.case.image.path === path && wanted(event.case)) {
        clearTimeout(timer);
        off();
        resolve(event.case);
      }
    });
  });
}

/** Opens, waits for ready, and for the case to be saved (the case event). */
export async function analyseIntoCase(backend: Backend, path: string): Promise<SessionSummary> {
  const saved = caseEvent(backend, path);
  const summary = await openReady(backend, path);
  await saved;
  return summary;
}
