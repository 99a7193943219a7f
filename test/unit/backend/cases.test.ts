// Cases: an analysed image reopens from its case without an analysis (no worker runs), an edited
// image or another engine is analysed again with the reason, notes and the baseline pairing
// survive, the full SHA-256 is computed in the background, a case folder that is damaged or from
// a newer version is set aside, and a writer killed mid-save leaves the previous case readable.
// The backends run the recorded engine (the real engine's analysis, recorded once and replayed:
// test/support/recorded-engine.ts) unless a test says it runs the real engine live.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ANALYSIS_SCHEMA } from '../../../src/common/model';
import type { CaseView } from '../../../src/common/api';
import { CaseStore, caseId } from '../../../src/backend/cases/store';
import { workerThreadId } from '../../../src/backend/test-seam';
import { callDecoded } from '../../../src/common/api-serve';
import { quickIdentity } from '../../../src/core/node/identity';
import { RECORDED_ENGINE, analyse, buildTestImages, type TestImages } from './images';
import { STEERING_FILE } from '../../support/recorded-engine';
import { SHARED } from '../../support/shared';
import {
  Backends,
  analyseIntoCase,
  caseEvent,
  copyImage,
  openReady,
  otherEngine,
  sessionWhere,
  settled,
} from './case-helpers';

let images: TestImages;
let work: string;
const backends = new Backends();

beforeAll(async () => {
  images = buildTestImages();
  work = mkdtempSync(join(tmpdir(), 'irpscope-cases-'));
  // Recorded before the first session, so that every session replays the same analysis.
  await Promise.all([analyse(images.clean), analyse(images.infected)]);
});
afterEach(() => backends.disposeAll());
afterAll(() => {
  images.remove();
  rmSync(work, { recursive: true, force: true });
});

const copyOf = (image: string, name: string) => copyImage(work, image, name);
const backendOn = (data: string, engineModule: string | null = RECORDED_ENGINE) =>
  backends.on(data, engineModule);

describe('reopening, on the recorded engine', () => {
  test('an analysed image reopens from its case: ready at once, no worker, the same result', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.infected, 'reopen');
    const first = backendOn(data);
    const analysed = await analyseIntoCase(first, image);
    expect(analysed.caseNote).toBeNull();
    const result = await first.result(analysed.id);
    const folder = join(data, 'cases', caseId(image));
    const files = readdirSync(folder).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('case.json');
    expect(files[1]).toMatch(/^result-[0-9a-f]{16}\.json$/);
    first.dispose();

    const second = backendOn(data);
    // "At once" is the absence of a worker, not a time: no analysis ran.
    const reopened = await openReady(second, image);
    expect(reopened.caseNote).toMatch(/^reopened from its case \(analysed \d{4}-/);
    expect(workerThreadId(second, reopened.id)).toBeNull();
    expect(await second.result(reopened.id)).toEqual(result);
    // Bytes are still one request away: the worker starts for them.
    const chunk = await second.readMemory({
      session: reopened.id,
      space: 'virtual',
      address: result.drivers[0]!.objectVa,
      length: 16,
    });
    expect(chunk.pages[0]!.status).toBe('present');
  });

  test('an edited image is analysed again, with why; its notes stay', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.infected, 'edited');
    const first = backendOn(data);
    const s = await analyseIntoCase(first, image);
    await first.annotate({
      session: s.id,
      target: 'finding:F001',
      status: 'suspicious',
      note: 'the rootkit',
    });
    first.dispose();
    appendFileSync(image, Buffer.alloc(4096, 0x41));

    const second = backendOn(data);
    const again = await openReady(second, image);
    expect(again.caseNote).toMatch(
      /the image changed since its analysis of .*its size changed.*: analysed again/,
    );
    const view = (await second.caseOf(again.id))!;
    expect(view.annotations['finding:F001']).toMatchObject({ status: 'suspicious', note: 'the rootkit' });
    expect(view.image.size).toBe(quickIdentity(image).size);
  });

  test('a result of another engine (the real engine, live) is not reused', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.clean, 'engine');
    await analyseIntoCase(backendOn(data), image);
    const other = backendOn(data, null); // the real engine: another fingerprint
    const again = await openReady(other, image);
    expect(again.caseNote).toMatch(/analysed by another engine .*: analysed again/);
  });

  test('a damaged case, or one from a newer IRPscope, is set aside with the reason', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.clean, 'damaged');
    await analyseIntoCase(backendOn(data), image);
    const folder = join(data, 'cases', caseId(image));
    writeFileSync(join(folder, 'case.json'), '{"schema": "irpscope-case/1", "id": tru');
    const again = await openReady(backendOn(data), image);
    expect(again.caseNote).toMatch(
      /case\.json cannot be read .* was set aside as .*\.set-aside-\d+; analysed again/,
    );

    const record = JSON.parse(readFileSync(join(folder, 'case.json'), 'utf8')) as { schema: string };
    record.schema = 'irpscope-case/7';
    writeFileSync(join(folder, 'case.json'), JSON.stringify(record));
    const newer = await openReady(backendOn(data), image);
    expect(newer.caseNote).toMatch(/written by another version of IRPscope \(irpscope-case\/7/);
    expect(readdirSync(join(data, 'cases')).filter((f) => f.includes('.set-aside-'))).toHaveLength(2);
  });
});

describe('notes, pairing and the full hash, on the recorded engine', () => {
  test('annotations and case notes are kept, shown by events, and removed when emptied', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.infected, 'notes');
    const backend = backendOn(data);
    const s = await analyseIntoCase(backend, image);
    const events: CaseView[] = [];
    backend.subscribe((e) => e.type === 'case' && events.push(e.case));
    const result = await backend.result(s.id);
    const driver = result.drivers[0]!;
    await backend.annotate({
      session: s.id,
      target: `driver:${driver.objectVa}`,
      status: 'benign',
      note: 'signed, known',
    });
    await backend.annotate({
      session: s.id,
      target: `handler:${driver.objectVa}:irp:IRP_MJ_CREATE`,
      status: 'to-check',
      note: '',
    });
    await backend.updateCase({ session: s.id, analyst: 'J. Analyst', note: 'Case 2026-113, host LAB-7' });
    expect(events.at(-1)).toMatchObject({ analyst: 'J. Analyst', note: 'Case 2026-113, host LAB-7' });
    await backend.annotate({ session: s.id, target: `driver:${driver.objectVa}`, status: null, note: '' });
    await expect(
      callDecoded(backend, 'annotate', { session: s.id, target: '../x', status: null, note: '' }),
    ).rejects.toThrow(/target/);
    await expect(
      callDecoded(backend, 'annotate', { session: s.id, target: 'finding:F001', status: 'evil', note: '' }),
    ).rejects.toThrow(/status/);
    backend.dispose();

    const reopened = backendOn(data);
    const again = await openReady(reopened, image);
    const view = (await reopened.caseOf(again.id))!;
    expect(Object.keys(view.annotations)).toEqual([`handler:${driver.objectVa}:irp:IRP_MJ_CREATE`]);
    expect(view).toMatchObject({ analyst: 'J. Analyst', note: 'Case 2026-113, host LAB-7' });
  });

  test('the baseline an image was compared with opens with it again', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const primary = copyOf(images.infected, 'pair-primary');
    const baseline = copyOf(images.clean, 'pair-baseline');
    const backend = backendOn(data);
    const p = await analyseIntoCase(backend, primary);
    const b = await openReady(backend, baseline, 'baseline');
    await backend.diff({ baseline: b.id, primary: p.id });
    expect((await backend.caseOf(p.id))!.baseline).toEqual({ path: baseline });
    backend.dispose();

    const reopened = backendOn(data);
    await openReady(reopened, primary);
    await expect
      .poll(async () => (await reopened.sessions()).map((s) => [s.path, s.role, s.state]))
      .toContainEqual([baseline, 'baseline', 'ready']);
  });

  test("going back to an earlier baseline makes it the case's baseline again", async () => {
    // The comparison with the first baseline was cached; the case kept naming the second.
    const data = mkdtempSync(join(work, 'data-'));
    const primary = copyOf(images.infected, 'back-primary');
    const first = copyOf(images.clean, 'back-first');
    const second = copyOf(images.clean, 'back-second');
    const backend = backendOn(data);
    const p = await analyseIntoCase(backend, primary);
    const a = await openReady(backend, first, 'baseline');
    const b = await openReady(backend, second, 'baseline');
    await backend.diff({ baseline: a.id, primary: p.id });
    await backend.diff({ baseline: b.id, primary: p.id });
    expect((await backend.caseOf(p.id))!.baseline).toEqual({ path: second });
    await backend.diff({ baseline: a.id, primary: p.id });
    expect((await backend.caseOf(p.id))!.baseline).toEqual({ path: first });
    backend.dispose();
  });

  test('the full SHA-256 is computed in the background, equals the file’s, and can be cancelled', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.infected, 'hash');
    const backend = backendOn(data);
    const s = await analyseIntoCase(backend, image);
    const done = new Promise<CaseView>((resolve) => {
      backend.subscribe((e) => e.type === 'case' && e.case.image.sha256 && resolve(e.case));
    });
    const started = await backend.hashImage({ session: s.id, action: 'start' });
    expect(started.image.hashing).toEqual({ fraction: expect.any(Number) });
    const finished = await done;
    expect(finished.image.sha256).toBe(createHash('sha256').update(readFileSync(image)).digest('hex'));
    expect(finished.image.hashing).toBeNull();

    const other = copyOf(images.clean, 'hash-cancel');
    const t = await analyseIntoCase(backend, other);
    await backend.hashImage({ session: t.id, action: 'start' });
    const cancelled = await backend.hashImage({ session: t.id, action: 'cancel' });
    await expect.poll(async () => (await backend.caseOf(t.id))!.image.hashing).toBeNull();
    expect((await backend.caseOf(t.id))!.image.sha256).toBeNull();
    expect(cancelled.image.hashError).toBeNull();
  });
});

/** The case of `image` with its result, read as a reopen reads it (under the case's lock). */
function loadCase(store: CaseStore, image: string) {
  return store.transact(image, (transaction) => {
    const lookup = transaction.read();
    return lookup.kind === 'found'
      ? { kind: 'found', result: transaction.readResult(lookup.record) }
      : lookup;
  });
}

describe('saving, on the recorded engine', () => {
  test('a writer killed mid-save (holding the lock) leaves the previous case readable', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.infected, 'killed');
    await analyseIntoCase(backendOn(data), image);
    const store = new CaseStore(join(data, 'cases'));
    expect((await loadCase(store, image)).kind).toBe('found');
    // A child process saves the case over and over, each time with a bigger result; it is killed
    // at a random moment, ten times. Every time the case must load whole (its lock, left by the
    // dead writer, broken).
    const script = join(work, 'saver.mts');
    writeFileSync(
      script,
      `import { CaseStore } from ${JSON.stringify(join(process.cwd(), 'src/backend/cases/store.ts'))};
const [folder, image] = process.argv.slice(2);
const store = new CaseStore(folder);
const found = await store.transact(image, (t) => {
  const lookup = t.read();
  if (lookup.kind !== 'found') throw new Error(lookup.kind);
  return { record: lookup.record, result: t.readResult(lookup.record) };
});
process.stdout.write('ready\\n');
for (let i = 0; ; i++) {
  const result = { ...found.result, image: { ...found.result.image, warnings: Array.from({ length: 2000 + i }, (_, k) => 'padding ' + k) } };
  await store.transact(image, (t) => t.write({ ...found.record, result: t.writeResult(result) }));
}
`,
    );
    for (let round = 0; round < 10; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script, join(data, 'cases'), image], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 200));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      expect((await loadCase(store, image)).kind, `round ${round}`).toBe('found');
    }
    // The next backend reuses it (and cleans the killed writers' temporary files).
    const reopened = await openReady(backendOn(data), image);
    expect(reopened.caseNote).toMatch(/reopened from its case/);
  });
});

describe('extracted images, on the recorded engine', () => {
  test('a driver image is extracted through a reopened session, recorded in the case, and targets are checked', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.infected, 'extract');
    const truth = JSON.parse(readFileSync(join(dirname(image), 'truth.json'), 'utf8')) as {
      drivers: Array<{ name: string; start: string; objectVa: string }>;
      modules: Array<{ name: string; base: string; timeDateStamp: number }>;
    };
    const disk = truth.drivers.find((d) => d.name === '\\Driver\\Disk')!;
    const module = truth.modules.find((m) => BigInt(m.base) === BigInt(disk.start))!;
    await analyseIntoCase(backendOn(data), image);
    // Reopened from the case: no worker until the extraction asks for bytes.
    const backend = backendOn(data);
    const session = await openReady(backend, image);
    const file = await backend.extractImage({ session: session.id, target: { driver: disk.objectVa } });
    expect(file.fileName).toBe(module.name);
    expect(file.encoding).toBe('base64');
    const bytes = Buffer.from(file.content, 'base64');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.record.sha256);
    expect(bytes.readUInt32LE(bytes.readUInt32LE(0x3c) + 8)).toBe(module.timeDateStamp);
    expect(BigInt(file.record.base)).toBe(BigInt(module.base));
    const view = (await backend.caseOf(session.id))!;
    expect(view.extractions.map((e) => e.sha256)).toEqual([file.record.sha256]);
    // ...and kept: another backend on the same data folder sees it.
    const later = backendOn(data);
    const again = await openReady(later, image);
    expect((await later.caseOf(again.id))!.extractions).toHaveLength(1);

    for (const target of [{}, { driver: 'x', module: 'y' }, { module: 'no-such.sys' }, { address: 'zz' }])
      await expect(callDecoded(backend, 'extractImage', { session: session.id, target })).rejects.toThrow(
        /target|no module|hex/i,
      );
  });
});

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Points a case at a result file holding `text`, named by its hash as the store names results. */
function plantResult(caseFolder: string, text: string): void {
  const name = `result-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`;
  writeFileSync(join(caseFolder, name), text);
  editCase(caseFolder, (record) => (record.result = name));
}

function editCase(caseFolder: string, edit: (record: Record<string, unknown>) => void): void {
  const record = JSON.parse(readFileSync(join(caseFolder, 'case.json'), 'utf8')) as Record<string, unknown>;
  edit(record);
  writeFileSync(join(caseFolder, 'case.json'), JSON.stringify(record));
}

function storedResult(caseFolder: string): Record<string, unknown> {
  const record = JSON.parse(readFileSync(join(caseFolder, 'case.json'), 'utf8')) as { result: string };
  return JSON.parse(readFileSync(join(caseFolder, record.result), 'utf8')) as Record<string, unknown>;
}

describe('hostile case files, on the recorded engine', () => {
  const damages = [
    {
      what: 'a stored result that is only its schema',
      damage: (folder: string) => plantResult(folder, JSON.stringify({ schema: ANALYSIS_SCHEMA })),
      reason: /its saved result cannot be used \(image: /,
    },
    {
      what: 'a stored result whose drivers are not a list',
      damage: (folder: string) =>
        plantResult(folder, JSON.stringify({ ...storedResult(folder), drivers: {} })),
      reason: /its saved result cannot be used \(drivers: /,
    },
    {
      what: 'an extraction record whose size is null',
      damage: (folder: string) =>
        editCase(folder, (record) => {
          record.extractions = [
            {
              label: 'driver \\Driver\\Disk (disk.sys)',
              fileName: 'disk.sys',
              base: '0x80000000',
              layout: 'pe',
              size: null,
              sha256: '0'.repeat(64),
              missingPages: 0,
              pages: 1,
              at: new Date().toISOString(),
            },
          ];
        }),
      reason: /case\.json is damaged \(extractions\.0\.size: /,
    },
  ];
  test.each(damages)(
    '$what: the case is set aside with the reason, the image analysed again, and every report made',
    async ({ damage, reason }) => {
      const data = mkdtempSync(join(work, 'data-'));
      const image = copyOf(images.infected, `hostile-${damages.findIndex((d) => d.damage === damage)}`);
      const original = await analyseIntoCase(backendOn(data), image);
      damage(join(data, 'cases', caseId(image)));
      const backend = backendOn(data);
      const again = await openReady(backend, image);
      expect(again.caseNote).toMatch(reason);
      expect(again.caseNote).toMatch(/was set aside as .*\.set-aside-\d+; analysed again$/);
      expect(again.counts).toEqual(original.counts);
      for (const format of ['html', 'json', 'csv'] as const)
        expect((await backend.report({ session: again.id, format })).content.length).toBeGreaterThan(1000);
      expect(readdirSync(join(data, 'cases')).filter((f) => f.includes('.set-aside-'))).toHaveLength(1);
    },
  );
});

describe('the full SHA-256 on reopen, on the recorded engine', () => {
  test('a reopened case checks its SHA-256 again in the background and says when it was verified', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.infected, 'verify');
    const first = backendOn(data);
    const s = await analyseIntoCase(first, image);
    const hashed = caseEvent(first, image, (v) => v.image.sha256 !== null);
    await first.hashImage({ session: s.id, action: 'start' });
    const computed = await hashed;
    expect(computed.image).toMatchObject({
      sha256: sha256Of(image),
      sha256ComputedAt: expect.stringMatching(ISO_TIME),
      sha256VerifiedAt: computed.image.sha256ComputedAt,
      sha256Check: 'verified',
    });
    first.dispose();

    const second = backendOn(data);
    const verified = caseEvent(second, image, (v) => v.image.sha256Check === 'verified');
    const reopened = await openReady(second, image);
    expect(reopened.caseNote).toMatch(/^reopened from its case/);
    const view = await verified;
    expect(view.image.sha256).toBe(computed.image.sha256);
    expect(view.image.sha256ComputedAt).toBe(computed.image.sha256ComputedAt);
    expect(Date.parse(view.image.sha256VerifiedAt!)).toBeGreaterThan(
      Date.parse(computed.image.sha256ComputedAt!),
    );
    const report = JSON.parse((await second.report({ session: reopened.id, format: 'json' })).content) as {
      case: object;
    };
    expect(report.case).toMatchObject({
      sha256: computed.image.sha256,
      sha256ComputedAt: computed.image.sha256ComputedAt,
      sha256VerifiedAt: view.image.sha256VerifiedAt,
      sha256State: 'verified',
    });
  });

  test('an image zeroed in its middle, size and time kept, is analysed again (by the real engine, live) once its SHA-256 fails: no kernel is left, so the session fails and no report states the old hash', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.infected, 'zeroed');
    const first = backendOn(data, null); // the real engine: zeroed memory changes what it finds
    const s = await analyseIntoCase(first, image);
    const before = await first.result(s.id);
    const hashed = caseEvent(first, image, (v) => v.image.sha256 !== null);
    await first.hashImage({ session: s.id, action: 'start' });
    const oldHash = (await hashed).image.sha256!;
    first.dispose();

    const identity = quickIdentity(image);
    const stat = statSync(image);
    const fd = openSync(image, 'r+');
    writeSync(fd, Buffer.alloc(48 << 20), 0, 48 << 20, 8 << 20);
    closeSync(fd);
    utimesSync(image, stat.atime, stat.mtime);
    expect(quickIdentity(image)).toEqual(identity); // what the quick check sees has not changed

    const second = backendOn(data, null);
    const opened = await second.open({ path: image });
    // Analysed again: with 48 of its 64 MiB zeroed the page tables are gone, and an image with no
    // kernel found is a failed session, never the old result.
    const again = await sessionWhere(
      second,
      opened.id,
      (summary) => summary.state === 'failed' && /SHA-256/.test(summary.caseNote ?? ''),
      'failed after a second analysis',
    );
    expect(again.caseNote).toMatch(
      /^the file's SHA-256 changed since \d{4}-\d\d-\d\dT[\d:.]+Z: analysed again$/,
    );
    expect(again.error?.message).toMatch(/^no Windows kernel found in .*zeroed.*image\.raw: /);
    expect(before.findings.length).toBeGreaterThan(0);
    const view = await second.caseOf(opened.id);
    expect(view?.image.sha256 ?? null).toBeNull();
    expect(JSON.stringify(view)).not.toContain(oldHash);
    for (const format of ['html', 'json', 'csv'] as const)
      await expect(second.report({ session: opened.id, format })).rejects.toThrow();
  });
});

describe('the analyst and notes, on the recorded engine', () => {
  test('the analyst and the case note are cleared by an empty string; every note holds 20,000 characters, and the limits are stated', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyOf(images.infected, 'clear');
    const backend = backendOn(data);
    const s = await analyseIntoCase(backend, image);
    await backend.updateCase({ session: s.id, analyst: 'J. Analyst', note: 'host LAB-7' });
    expect(await backend.updateCase({ session: s.id, analyst: '', note: '' })).toMatchObject({
      analyst: '',
      note: '',
    });
    const longest = 'n'.repeat(20_000);
    expect((await backend.updateCase({ session: s.id, note: longest })).note).toBe(longest);
    const marked = await backend.annotate({
      session: s.id,
      target: 'finding:F001',
      status: null,
      note: longest,
    });
    expect(marked.annotations['finding:F001']!.note).toBe(longest);
    await expect(callDecoded(backend, 'updateCase', { session: s.id, note: `${longest}n` })).rejects.toThrow(
      'note: at most 20,000 characters (this one has 20,001)',
    );
    await expect(
      callDecoded(backend, 'annotate', {
        session: s.id,
        target: 'finding:F001',
        status: null,
        note: `${longest}n`,
      }),
    ).rejects.toThrow('note: at most 20,000 characters (this one has 20,001)');
    await expect(
      callDecoded(backend, 'updateCase', { session: s.id, analyst: 'a'.repeat(201) }),
    ).rejects.toThrow('analyst: at most 200 characters (this one has 201)');
    await expect(callDecoded(backend, 'updateCase', { session: s.id, note: 5 })).rejects.toThrow(
      'note must be a string',
    );
    backend.dispose();
    const later = backendOn(data);
    const reopened = await openReady(later, image);
    expect(await later.caseOf(reopened.id)).toMatchObject({ analyst: '', note: longest });
  });
});

describe('recent cases, on the recorded engine', () => {
  test('Recent lists every case with a result, the demo images included, the most recently opened first', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const backend = backends.on(data, RECORDED_ENGINE);
    const demo = await backend.openDemo();
    const saved = demo.map((session) => caseEvent(backend, session.path));
    for (const session of demo) expect((await settled(backend, session.id)).state).toBe('ready');
    await Promise.all(saved);
    const a = copyOf(images.clean, 'recent-a');
    const b = copyOf(images.infected, 'recent-b');
    await analyseIntoCase(backend, a);
    await analyseIntoCase(backend, b);
    backend.dispose();
    const later = backendOn(data);
    await openReady(later, a);
    const recent = await later.recent();
    expect(recent.slice(0, 2)).toEqual([a, b]);
    expect(recent.slice(2).sort()).toEqual(demo.map((d) => d.path).sort());
  });

  test('an analysis that fails never lands in Recent nor in a case: a new image (the real engine, live), or one whose case another engine made', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const real = backendOn(data, null);
    const arm64 = join(SHARED, 'dumps', 'win11-22000-arm64-triage.dmp');
    const refused = await settled(real, (await real.open({ path: arm64 })).id);
    expect(refused.state).toBe('failed');
    expect(refused.error?.message).toMatch(/ARM64/);
    expect(await real.recent()).not.toContain(arm64);
    expect(existsSync(join(data, 'cases', caseId(arm64)))).toBe(false);

    const image = copyOf(images.clean, 'refused');
    await analyseIntoCase(backendOn(data), image);
    expect(await real.recent()).toEqual([image]);
    writeFileSync(
      join(dirname(image), STEERING_FILE),
      JSON.stringify({ failAt: 'drivers and devices', failMode: 'throw' }),
    );
    const other = backendOn(data, otherEngine(work));
    const failed = await settled(other, (await other.open({ path: image })).id);
    expect(failed.state).toBe('failed');
    expect(failed.caseNote).toMatch(/analysed by another engine/);
    expect(await other.recent()).toEqual([]);
    expect(await real.recent()).toEqual([]);
  });
});
