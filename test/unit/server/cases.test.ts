// A hostile case in the data folder does not take web mode down: the server starts with the image
// open, the case is set aside with its reason, the image is analysed again, and every report is
// answered — never a crash, never an HTTP 500.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ANALYSIS_SCHEMA } from '../../../src/common/model';
import type { SessionSummary } from '../../../src/common/api';
import { caseId } from '../../../src/backend/cases/store';
import { startServer, type RunningServer } from '../../../src/server/index';
import { RECORDED_ENGINE, analyse, buildTestImages, type TestImages } from '../backend/images';
import { Backends, analyseIntoCase, copyImage } from '../backend/case-helpers';

let images: TestImages;
let work: string;
let renderer: string;
const backends = new Backends();
const servers: RunningServer[] = [];

beforeAll(async () => {
  images = buildTestImages();
  await analyse(images.infected);
  work = mkdtempSync(join(tmpdir(), 'irpscope-server-cases-'));
  renderer = join(work, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>IRPscope</title>');
});
afterEach(async () => {
  backends.disposeAll();
  for (const server of servers.splice(0)) await server.close();
});
afterAll(() => {
  images.remove();
  rmSync(work, { recursive: true, force: true });
});

async function call(
  server: RunningServer,
  method: string,
  arg: unknown,
): Promise<{ status: number; body: { ok: boolean; value?: unknown; error?: { message: string } } }> {
  const response = await fetch(`${server.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-irpscope-token': server.token },
    body: JSON.stringify({ arg }),
  });
  return { status: response.status, body: (await response.json()) as { ok: boolean; value?: unknown } };
}

function plantResult(caseFolder: string, text: string): void {
  const name = `result-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`;
  writeFileSync(join(caseFolder, name), text);
  const record = JSON.parse(readFileSync(join(caseFolder, 'case.json'), 'utf8')) as { result: string };
  record.result = name;
  writeFileSync(join(caseFolder, 'case.json'), JSON.stringify(record));
}

describe('web mode on a data folder with a hostile case, on the recorded engine', () => {
  test('a stored result that is only its schema: serve starts, sets the case aside, analyses again and answers every report', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyImage(work, images.infected, 'schema-only');
    await analyseIntoCase(backends.on(data), image);
    backends.disposeAll();
    plantResult(join(data, 'cases', caseId(image)), JSON.stringify({ schema: ANALYSIS_SCHEMA }));

    for (let start = 0; start < 2; start++) {
      const server = await startServer({
        rendererDirectory: renderer,
        dataDirectory: data,
        engineModule: RECORDED_ENGINE,
        images: [image],
        version: 'test',
      });
      servers.push(server);
      let session: SessionSummary | undefined;
      await expect
        .poll(
          async () => {
            session = ((await call(server, 'sessions', null)).body.value as SessionSummary[])[0];
            return session?.state;
          },
          { timeout: 60_000 },
        )
        .toBe('ready');
      if (start === 0)
        expect(session!.caseNote).toMatch(/its saved result cannot be used .* set aside .*; analysed again$/);
      else expect(session!.caseNote).toMatch(/^reopened from its case/);
      for (const format of ['html', 'json', 'csv']) {
        const report = await call(server, 'report', { session: session!.id, format });
        expect(report.status, JSON.stringify(report.body).slice(0, 300)).toBe(200);
      }
      await server.close();
      servers.pop();
    }
  });
});
