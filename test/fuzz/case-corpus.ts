// Makes the seeds of the fuzz target "case-files": for each image given, the case folder the
// Backend writes when an analyst works on it — opened and analysed, annotated (a finding, a
// driver, a device, a handler), given an analyst and a note (with characters a terminal would act
// on), a driver extracted, the image hashed — and its files copied out: KEY-case.json, the stored
// KEY-result.json, and KEY-case-v1.json, the same case in the first version's form (which
// parseCaseFile still reads and brings up to date).
//
//     node --import tsx test/fuzz/case-corpus.ts OUT-FOLDER KEY=IMAGE [KEY=IMAGE …]
//
// seeds.ts runs it when the cache has no case files for the current sources.

import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backend } from '../../src/backend/index';
import type { CaseView, SessionSummary } from '../../src/common/api';
import { sharedDirectory } from '../support/shared';

const DEADLINE_MS = 300_000;

function until<T>(
  backend: Backend,
  pick: (event: Parameters<Parameters<Backend['subscribe']>[0]>[0]) => T | null,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${what} within ${DEADLINE_MS / 1000} s`));
    }, DEADLINE_MS);
    const off = backend.subscribe((event) => {
      const picked = pick(event);
      if (picked === null) return;
      clearTimeout(timer);
      off();
      resolve(picked);
    });
  });
}

async function caseFiles(
  backend: Backend,
  data: string,
  image: string,
  key: string,
  out: string,
): Promise<void> {
  const saved = until(
    backend,
    (event) => (event.type === 'case' && event.case.image.path === image ? event.case : null),
    `case for ${image}`,
  );
  const opened = await backend.open({ path: image });
  const ready = until<SessionSummary>(
    backend,
    (event) =>
      event.type === 'session' &&
      event.session.id === opened.id &&
      ['ready', 'failed'].includes(event.session.state)
        ? event.session
        : null,
    `analysis of ${image}`,
  );
  const summary = (await backend.sessions()).find((s) => s.id === opened.id)!;
  const ended = ['ready', 'failed'].includes(summary.state) ? summary : await ready;
  if (ended.state !== 'ready') throw new Error(`${image}: ${ended.error?.message ?? ended.state}`);
  await saved;
  const session = opened.id;
  const result = await backend.result(session);
  const finding = result.findings[0];
  const driver = result.drivers.find((d) => d.name !== null) ?? result.drivers[0]!;
  const device = result.devices[0];
  if (finding)
    await backend.annotate({
      session,
      target: `finding:${finding.id}`,
      status: 'suspicious',
      note: 'hooks IRP_MJ_CREATE',
    });
  await backend.annotate({
    session,
    target: `driver:${driver.id}`,
    status: 'to-check',
    note: 'compare with the baseline',
  });
  if (device) await backend.annotate({ session, target: `device:${device.id}`, status: 'benign', note: '' });
  await backend.annotate({
    session,
    target: `handler:${driver.id}:MajorFunction:IRP_MJ_DEVICE_CONTROL`,
    status: null,
    note: 'note with a bell \u0007, a right-to-left override \u202e and an emoji 🦀',
  });
  await backend.updateCase({ session, analyst: 'A. Analyst', note: 'Seen on host LAB-7.\nSecond line.' });
  if (driver.name)
    await backend.extractImage({ session, target: { driver: driver.name } }).catch(() => undefined);
  const hashed = until<CaseView>(
    backend,
    (event) =>
      event.type === 'case' && event.case.image.path === image && event.case.image.sha256 ? event.case : null,
    `hash of ${image}`,
  );
  await backend.hashImage({ session, action: 'start' });
  const view = await hashed;
  const folder = join(data, 'cases', view.id);
  const resultFile = readdirSync(folder).find((name) => /^result-[0-9a-f]{16}\.json$/.test(name));
  if (!resultFile) throw new Error(`${image}: no stored result in ${folder}`);
  copyFileSync(join(folder, 'case.json'), join(out, `${key}-case.json`));
  copyFileSync(join(folder, resultFile), join(out, `${key}-result.json`));
  // The first version had no hash times, no open time and (optionally) no extractions.
  const record = JSON.parse(readFileSync(join(folder, 'case.json'), 'utf8')) as Record<string, unknown> & {
    image: Record<string, unknown>;
  };
  const { sha256ComputedAt: _computed, sha256VerifiedAt: _verified, ...firstImage } = record.image;
  const { openedAt: _opened, extractions: _extractions, ...rest } = record;
  writeFileSync(
    join(out, `${key}-case-v1.json`),
    JSON.stringify({ ...rest, schema: 'irpscope-case/1', image: firstImage }, null, 2),
  );
  await backend.close(session);
}

async function main(): Promise<void> {
  const [out, ...images] = process.argv.slice(2);
  if (!out || images.length === 0) throw new Error('usage: case-corpus.ts OUT-FOLDER KEY=IMAGE …');
  const data = mkdtempSync(join(tmpdir(), 'irpscope-case-corpus-'));
  const backend = new Backend({
    mode: 'web',
    version: 'fuzz-corpus',
    dataDirectory: data,
    symbolsDirectory: join(sharedDirectory(process.cwd()), 'isf'),
    concurrentAnalyses: 1,
  });
  try {
    for (const pair of images) {
      const [key, image] = pair.split('=') as [string, string];
      await caseFiles(backend, data, image, key, out);
      process.stdout.write(`case files of ${key} made\n`);
    }
  } finally {
    backend.dispose();
    rmSync(data, { recursive: true, force: true });
  }
}

await main();
