#!/usr/bin/env node
// npm run screenshots: every view of the workbench at 1440×900, through web mode in Debian's
// Chromium, on the demo case (generated on first use into .cache/irpscope-data). PNGs go to
// .cache/screenshots/ — look at them after UI changes.

import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';

const root = process.cwd();
const shots = join(root, '.cache', 'screenshots');
const data = join(root, '.cache', 'irpscope-data');
mkdirSync(shots, { recursive: true });
mkdirSync(data, { recursive: true });
// Practice images are rebuilt each run (256 MiB each): keep only this run's.
rmSync(join(data, 'practice'), { recursive: true, force: true });

const build = spawnSync('npx', ['electron-vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

// Something that is not a memory image, to show a failed analysis.
const garbage = join(data, 'not-an-image.raw');
writeFileSync(garbage, randomFillSync(Buffer.alloc(2 * 1024 * 1024)));

const { startServer } = await import(pathToFileURL(join(root, 'out/main/server.js')).href);
const server = await startServer({ dataDirectory: data, openDemoIfEmpty: true });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: CHROMIUM_ARGS,
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));

/** An x64 practice image built through the dialog (needs the shared ISF symbols). */
async function practiceX64() {
  const symbols = join(root, '..', 'shared', 'isf');
  if (!existsSync(symbols)) return;
  await page.click('button:has-text("Practice…")');
  await page.click('.modal button:has-text("x64")');
  await page.fill('#practice-symbols', symbols);
  await page.click('.modal button:has-text("Find kernels")');
  await page.waitForSelector('#practice-isf option', { state: 'attached' });
  await page.selectOption('#practice-size', '256');
  await page.fill('#practice-seed', '7');
  await shot('19-practice-x64');
  await page.click('.modal button:has-text("Build and open")');
  await page.waitForSelector('[data-testid="view-overview"]', { timeout: 120_000 });
  await shot('20-x64-overview');
  await nav('drivers');
  await filter('drivers', '\\Driver\\Disk');
  await page.click('[data-testid="table-body-drivers"] [role="row"] .td >> nth=1');
  await page.click('[data-testid="driver-detail"] .link.address >> nth=0');
  await page.waitForSelector('[data-testid="structure-fields"]');
  await page.waitForTimeout(1200);
  await shot('21-x64-hex-driver-object');
  await nav('flow');
  await page.waitForSelector('.flow-node');
  await page.waitForTimeout(800);
  await shot('22-x64-flow');
}

/** A failed and a running analysis, from a second server whose recorded engine is steered. */
async function failureAndProgress() {
  const demo = join(data, 'demo', 'win7-sp1-x86-seed1-64M-boots', 'infected');
  const steer = (name, steering) => {
    const folder = join(data, 'steered', name);
    mkdirSync(folder, { recursive: true });
    const image = join(folder, 'image.raw');
    if (!existsSync(image)) symlinkSync(join(demo, 'image.raw'), image);
    copyFileSync(join(demo, 'truth.json'), join(folder, 'truth.json'));
    writeFileSync(join(folder, 'engine-steering.json'), JSON.stringify(steering));
    return image;
  };
  const failing = steer('fails', { failAt: 'drivers and devices', failMode: 'throw' });
  const slow = steer('slow', { busyMs: 20_000 });
  const second = await startServer({
    dataDirectory: join(data, 'steered'),
    openDemoIfEmpty: false,
    engineModule: join(root, 'test/support/recorded-engine.ts'),
    images: [failing],
  });
  try {
    await page.goto(second.url);
    await page.waitForSelector('[data-testid="session-failed"]', { timeout: 60_000 });
    await shot('16-failed-analysis');
    await second.backend.open({ path: slow });
    await page.click('[data-testid="session-tab"] .tab-label >> nth=1');
    await page.waitForSelector('[data-testid="session-progress"]');
    await page.waitForTimeout(1500);
    await shot('17-analysis-in-progress');
    await page.click('[data-testid="cancel-analysis"]');
    await page.waitForSelector('[data-testid="session-cancelled"]');
    await shot('18-analysis-cancelled');
  } finally {
    await second.close();
  }
}

/** The baseline comparison side by side: differences, IRP tables, stacks, flows, aligned drivers. */
async function diffShots() {
  const row = (text) =>
    page.locator('[data-testid="table-body-diff-differences"] [role="row"]', { hasText: text }).first();
  await nav('diff');
  await page.waitForSelector('[data-testid="table-body-diff-differences"] [role="row"]');
  await page.waitForSelector('[data-testid="diff-flow-image"] .flow-node');
  await page.waitForTimeout(800);
  await shot('10-diff-rootkit-driver');
  await row('\\Driver\\Disk').click();
  await page.waitForSelector('[data-testid="diff-handlers"] tr[data-changed="true"]');
  await shot('10b-diff-disk-irp-side-by-side');
  await page.locator('[data-testid="diff-handlers"]').scrollIntoViewIfNeeded();
  await shot('10c-diff-disk-irp-tables');
  await row('KeyboardClass0').click();
  await page.waitForSelector('[data-testid="diff-stacks"] tr[data-changed="true"]');
  await page.click('[data-testid="diff-flow-op-ReadFile"]');
  await page.waitForSelector('[data-testid="diff-flow-image"] .flow-node[data-differs="true"]');
  await page.waitForTimeout(800);
  await shot('10d-diff-keyboard-stack');
  await page.click('[data-testid="diff-flow-wide"]');
  await page.locator('[data-testid="diff-flow-image"]').scrollIntoViewIfNeeded();
  await page.waitForTimeout(800);
  await shot('10e-diff-keyboard-flows');
  await page.click('[data-testid="diff-flow-wide"]');
  await page.click('[data-testid="diff-only-differences"]');
  await page.waitForTimeout(300);
  await shot('10f-diff-with-variation');
  await page.click('[data-testid="diff-tab-drivers"]');
  await page.waitForSelector('[data-testid="table-body-diff-drivers"] [role="row"]');
  await shot('10g-diff-drivers-aligned');
  await page.click('[data-testid="diff-only-differences"]');
  await page.click('[data-testid="diff-tab-differences"]');
}

async function fail(error) {
  await page.screenshot({ path: join(shots, 'failed-step.png') });
  process.stderr.write(`screenshots stopped: ${error.message}\n${problems.join('\n')}\n`);
  process.exitCode = 1;
}

const shot = async (name) => {
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(shots, `${name}.png`) });
  process.stdout.write(`${join('.cache/screenshots', `${name}.png`)}\n`);
};
const nav = (view) => page.click(`[data-testid="nav-${view}"]`);
const filter = async (table, text) => {
  await page.fill(`[data-testid="table-${table}"] input.filter`, text);
  await page.waitForTimeout(150);
};

// IRPSCOPE_SHOTS=diff takes only the comparison's screenshots (quicker while working on it).
const only = process.env.IRPSCOPE_SHOTS ?? 'all';
try {
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="view-overview"]', { timeout: 120_000 });
  if (only === 'diff') {
    await diffShots();
    throw Object.assign(new Error('done'), { done: true });
  }
  await shot('01-overview');

  await nav('drivers');
  await filter('drivers', '\\Driver\\Disk');
  await page.click('[data-testid="table-body-drivers"] [role="row"] .td >> nth=1');
  await filter('drivers', '');
  await page.click('[data-testid="irp-hooked-count"]'); // scrolls to the first hooked entry
  await page.focus('[data-testid="table-body-drivers"]');
  await shot('02-drivers-disk-irp');

  await page.click('[data-testid="table-body-irp"] .tr.suspicious');
  await page.click('[data-testid="table-body-irp"] .tr.suspicious .link.address');
  await page.waitForSelector('[data-testid="hex-grid"] .b:not(.loading)');
  await page.waitForTimeout(1500);
  await shot('03-hex-hooked-handler');

  await page.click('[data-testid="nav-drivers"]');
  await page.click('[data-testid="driver-detail"] .link.address >> nth=0');
  await page.waitForSelector('[data-testid="structure-fields"]');
  await page.waitForTimeout(1200);
  await shot('04-hex-driver-object-overlay');

  await nav('devices');
  await page.fill('[data-testid="view-devices"] input.filter', 'KeyboardClass0');
  await page.click('[data-testid="device-tree"] .tree-row.device');
  await shot('05-devices-keyboard-stack');

  await nav('flow');
  await page.waitForSelector('.flow-node');
  await page.waitForTimeout(800);
  await shot('06-flow-default');
  await page.click('[data-testid="flow-op-ReadFile"]');
  await page.waitForTimeout(1200);
  await shot('07-flow-readfile');

  await nav('modules');
  await shot('08-modules');
  await nav('findings');
  await page.click('[data-testid="table-body-findings"] [role="row"]');
  await shot('09-findings');
  await diffShots();

  await page.keyboard.press('Control+o');
  await page.waitForSelector('[data-testid="file-list"] [data-testid="file-row"]');
  await shot('11-open-image-dialog');
  await page.fill('[data-testid="browse-path"]', data);
  await page.keyboard.press('Enter');
  await page.dblclick(`[data-testid="file-row"]:has-text("not-an-image.raw")`);
  // No kernel found is a failed session with what was tried, never an empty "clean" result.
  await page.waitForSelector('text=Analysis failed', { timeout: 60_000 });
  await shot('12-not-a-memory-image');

  await page.click('button:has-text("Practice…")');
  await shot('13-practice-dialog');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+g');
  await page.fill('[data-testid="goto-input"]', '0x80000000');
  await shot('14-go-to-address');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(1000);
  await page.click('[data-testid="session-tab"] .tab-label >> nth=0');
  await nav('hex');
  await page.waitForTimeout(1000);
  await shot('15-hex-unmapped');
  await practiceX64();
  await failureAndProgress();
} catch (error) {
  if (error.done) process.exitCode = 0;
  else await fail(error);
} finally {
  await browser.close();
  await server.close();
}
if (problems.length) {
  process.stderr.write(
    `${problems.length} problem(s) in the page:\n${problems.map((p) => `  ${p}`).join('\n')}\n`,
  );
}
process.exit(process.exitCode ?? 0);
