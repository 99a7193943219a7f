#!/usr/bin/env node
// npm run bench:ui (also the last step of npm run bench): is the workbench responsive while a
// 4 GiB image is analysed, and how fast does it come back once analysed? Web mode in Debian's
// Chromium opens the 4 GiB bench image (the path is the first argument; npm run bench passes it)
// through the Open dialog and records, from the click until the Overview shows the result, every
// frame interval (requestAnimationFrame) and every long task of the page; each run has a fresh
// data folder, so each is a real analysis. Then the tab is closed and the image picked from the
// welcome page's recent cases, timed from the click until the Overview shows the result reopened
// from its case. Targets: no frame over 100 ms; a reopen under a second. Measured, not asserted:
// figures depend on the machine.

/* global window, requestAnimationFrame -- monitor() and the evaluate callbacks run in the page */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const IMAGE =
  process.argv[2] ??
  (() => {
    const bench = join(ROOT, '.cache/bench');
    const folder = existsSync(bench)
      ? readdirSync(bench).find((name) => name.endsWith('-x64-4g'))
      : undefined;
    return join(bench, folder ?? 'x64-4g', 'image.raw');
  })();
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

if (!existsSync(IMAGE)) {
  console.error(`bench-ui: ${IMAGE} is missing; \`npm run bench\` builds it`);
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`bench-ui: no browser at ${CHROMIUM} (apt-get install -y chromium)`);
  process.exit(1);
}
if (!existsSync(join(ROOT, 'out/main/server.js')) || !existsSync(join(ROOT, 'out/renderer/index.html'))) {
  const built = spawnSync('npx', ['electron-vite', 'build', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

/** Installed in the page before the image is opened: frame intervals and long tasks. */
function monitor() {
  const w = /** @type {any} */ (window);
  w.__frames = [];
  w.__longTasks = [];
  let last = performance.now();
  const tick = (now) => {
    w.__frames.push(now - last);
    last = now;
    if (!w.__stop) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) w.__longTasks.push(entry.duration);
  }).observe({ type: 'longtask' });
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
};

const { startServer } = await import(pathToFileURL(join(ROOT, 'out/main/server.js')).href);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: CHROMIUM_ARGS,
});
const rows = [];
const reopens = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const data = mkdtempSync(join(tmpdir(), 'irpscope-bench-ui-'));
    const server = await startServer({ dataDirectory: data, openDemoIfEmpty: false });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await page.goto(server.url);
      await page.waitForSelector('[data-testid="session-tabs"]');
      await page.keyboard.press('Control+o');
      await page.fill('[data-testid="browse-path"]', dirname(IMAGE));
      await page.keyboard.press('Enter');
      const row = page.locator('[data-testid="file-row"]', { hasText: basename(IMAGE) });
      await row.waitFor();
      await page.evaluate(monitor);
      const started = Date.now();
      await row.dblclick();
      let sawProgress = false;
      await page
        .waitForSelector('[data-testid="session-progress"]', { timeout: 10_000 })
        .then(() => (sawProgress = true))
        .catch(() => undefined);
      await page.waitForSelector('[data-testid="view-overview"]', { timeout: 300_000 });
      const seconds = (Date.now() - started) / 1000;
      await page.waitForTimeout(300); // the frames that draw the result
      const { frames, longTasks } = await page.evaluate(() => {
        const w = /** @type {any} */ (window);
        w.__stop = true;
        return { frames: w.__frames.slice(1), longTasks: w.__longTasks };
      });
      rows.push({
        seconds,
        sawProgress,
        frames: frames.length,
        maxFrame: Math.max(...frames),
        p99Frame: percentile(frames, 99),
        over100: frames.filter((f) => f > 100).length,
        longTasks: longTasks.length,
        maxLongTask: longTasks.length ? Math.max(...longTasks) : 0,
      });
      console.log(JSON.stringify(rows.at(-1)));
      // Reopen: close the tab, pick the image from the recent cases on the welcome page.
      await page.waitForSelector('[data-testid="case-card"] table'); // the case is saved
      await page.locator('[data-testid="session-tab"] button.close').click();
      const recent = page.locator('[data-testid="recent-images"] button').first();
      await recent.waitFor();
      const reopening = Date.now();
      await recent.click();
      await page.waitForSelector('[data-testid="view-overview"] [data-testid="case-note"]', {
        timeout: 300_000,
      });
      const reopenSeconds = (Date.now() - reopening) / 1000;
      const note = await page.locator('[data-testid="case-note"]').innerText();
      reopens.push({ seconds: reopenSeconds, fromCase: note.includes('reopened from its case') });
      console.log(JSON.stringify({ reopen: reopens.at(-1) }));
    } finally {
      await page.close();
      await server.close();
      rmSync(data, { recursive: true, force: true });
    }
  }
} finally {
  await browser.close();
}

const worst = rows.reduce((a, b) => (b.maxFrame > a.maxFrame ? b : a));
console.log(
  `\nUI while a 4 GiB image is analysed (web mode, Chromium, ${RUNS} runs): open to result ` +
    `${Math.min(...rows.map((r) => r.seconds)).toFixed(1)}–${Math.max(...rows.map((r) => r.seconds)).toFixed(1)} s, ` +
    `longest frame ${worst.maxFrame.toFixed(0)} ms (p99 ${worst.p99Frame.toFixed(0)} ms), ` +
    `${rows.reduce((n, r) => n + r.over100, 0)} frames over 100 ms, ` +
    `longest task ${Math.max(...rows.map((r) => r.maxLongTask)).toFixed(0)} ms — target: no frame over 100 ms ` +
    `${rows.every((r) => r.over100 === 0) ? 'met' : 'NOT met'}`,
);
const reopenTimes = reopens.map((r) => r.seconds);
console.log(
  `Reopen of the analysed 4 GiB image from its case (recent cases on the welcome page, click to ` +
    `result): ${(Math.min(...reopenTimes) * 1000).toFixed(0)}–${(Math.max(...reopenTimes) * 1000).toFixed(0)} ms ` +
    `over ${reopens.length} runs${reopens.every((r) => r.fromCase) ? '' : ' (NOT all from the case)'} — ` +
    `target: under a second ${reopens.every((r) => r.fromCase) && Math.max(...reopenTimes) < 1 ? 'met' : 'NOT met'}`,
);
