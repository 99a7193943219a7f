// Two workbenches on one data folder — two Backends in this process, or a second process — with
// the same case open: every mark, the analyst's name and the notes of both are kept, and neither
// leaves the case pointing at a result file the other removed.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { caseId } from '../../../src/backend/cases/store';
import { RECORDED_ENGINE, analyse, buildTestImages, type TestImages } from './images';
import { Backends, analyseIntoCase, copyImage, openReady, otherEngine } from './case-helpers';

let images: TestImages;
let work: string;
const backends = new Backends();

beforeAll(async () => {
  images = buildTestImages();
  work = mkdtempSync(join(tmpdir(), 'irpscope-writers-'));
  await analyse(images.infected);
});
afterEach(() => backends.disposeAll());
afterAll(() => {
  images.remove();
  rmSync(work, { recursive: true, force: true });
});

const marks = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `finding:${prefix}${String(i).padStart(3, '0')}`);

describe('two workbenches on one data folder, on the recorded engine', () => {
  test('marks and the analyst set in one survive a mark set in the other', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyImage(work, images.infected, 'both-mark');
    const a = backends.on(data);
    const inA = await analyseIntoCase(a, image);
    const b = backends.on(data);
    const inB = await openReady(b, image);
    expect(inB.caseNote).toMatch(/^reopened from its case/);
    for (const target of marks('B', 21))
      await b.annotate({ session: inB.id, target, status: 'suspicious', note: `seen by B: ${target}` });
    await b.updateCase({ session: inB.id, analyst: 'B. Analyst', note: 'case of B' });
    await a.annotate({ session: inA.id, target: 'finding:A000', status: 'benign', note: 'seen by A' });

    const c = backends.on(data);
    const inC = await openReady(c, image);
    const view = (await c.caseOf(inC.id))!;
    expect(Object.keys(view.annotations).sort()).toEqual([...marks('A', 1), ...marks('B', 21)].sort());
    expect(view).toMatchObject({ analyst: 'B. Analyst', note: 'case of B' });
    // The workbench that wrote last shows what the other wrote, too.
    expect(Object.keys((await a.caseOf(inA.id))!.annotations)).toHaveLength(22);
  });

  test('a save by one never leaves the case of the other pointing at a removed result', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyImage(work, images.infected, 'both-save');
    const a = backends.on(data);
    const inA = await analyseIntoCase(a, image);
    // Another engine on the same folder analyses the image again and saves its own result.
    const b = backends.on(data, otherEngine(work));
    const inB = await analyseIntoCase(b, image);
    expect(inB.caseNote).toMatch(/analysed by another engine/);
    await a.annotate({ session: inA.id, target: 'finding:F001', status: 'suspicious', note: 'by A' });
    await b.annotate({ session: inB.id, target: 'finding:F002', status: 'benign', note: 'by B' });

    const c = backends.on(data, otherEngine(work));
    const inC = await openReady(c, image);
    expect(inC.caseNote).toMatch(/^reopened from its case/);
    expect(Object.keys((await c.caseOf(inC.id))!.annotations).sort()).toEqual([
      'finding:F001',
      'finding:F002',
    ]);
    const folder = join(data, 'cases', caseId(image));
    expect(readdirSync(folder).filter((f) => f.startsWith('result-'))).toHaveLength(1);
    expect(readdirSync(join(data, 'cases')).filter((f) => f.includes('.set-aside-'))).toEqual([]);
  });

  test('two processes marking the same case at once keep every mark of both', async () => {
    const data = mkdtempSync(join(work, 'data-'));
    const image = copyImage(work, images.infected, 'two-processes');
    const here = backends.on(data);
    const session = await analyseIntoCase(here, image);
    const script = join(work, 'marker.mts');
    writeFileSync(
      script,
      `import { Backend } from ${JSON.stringify(join(process.cwd(), 'src/backend/index.ts'))};
const [data, image, engine] = process.argv.slice(2);
const backend = new Backend({ mode: 'web', version: 'test', dataDirectory: data, engineModule: engine });
const opened = await backend.open({ path: image });
while ((await backend.sessions())[0].state !== 'ready') await new Promise((r) => setTimeout(r, 10));
process.stdout.write('ready\\n');
for (let i = 0; i < 30; i++)
  await backend.annotate({ session: opened.id, target: 'finding:P' + String(i).padStart(3, '0'), status: 'to-check', note: 'by the other process' });
await backend.updateCase({ session: opened.id, analyst: 'Other Process' });
backend.dispose();
process.stdout.write('done\\n');
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, data, image, RECORDED_ENGINE], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    for (const target of marks('H', 30))
      await here.annotate({ session: session.id, target, status: 'suspicious', note: 'by this process' });
    await here.updateCase({ session: session.id, note: 'noted here' });
    expect(await exited).toBe(0);

    const later = backends.on(data);
    const reopened = await openReady(later, image);
    const view = (await later.caseOf(reopened.id))!;
    expect(Object.keys(view.annotations).sort()).toEqual([...marks('H', 30), ...marks('P', 30)].sort());
    expect(view).toMatchObject({ analyst: 'Other Process', note: 'noted here' });
  });
});
