// Long and failing analyses: Cancel ends a running analysis (its worker is terminated), and an
// engine that fails on a hostile image fails only that session. A second web-mode server runs the
// recorded engine, steered by engine-steering.json beside each image, so the analysis is slow or fails
// on demand.

import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, isElectron, test } from './support/fixtures';
import { startOwnServer, type OwnServer } from './support/own-server';
import { DATA, DEMO, RECORDED_ENGINE } from './support/paths';
import type { Backend } from '../../src/backend/index';
import { workerThreadId } from '../../src/backend/test-seam';

interface Server extends OwnServer {
  backend: Backend;
}

function steered(name: string, steering: object): string {
  const folder = join(DATA, 'e2e-steered', name);
  mkdirSync(folder, { recursive: true });
  const image = join(folder, 'image.raw');
  if (!existsSync(image)) symlinkSync(join(DEMO, 'infected', 'image.raw'), image);
  copyFileSync(join(DEMO, 'infected', 'truth.json'), join(folder, 'truth.json'));
  writeFileSync(join(folder, 'engine-steering.json'), JSON.stringify(steering));
  return image;
}

let server: Server;

test.beforeAll(async () => {
  server = await startOwnServer<Server>({
    dataDirectory: join(DATA, 'e2e-steered'),
    engineModule: RECORDED_ENGINE,
  });
});
test.afterAll(async () => server?.close());
test.afterEach(async () => {
  for (const session of await server.backend.sessions()) await server.backend.close(session.id);
});

test('Cancel stops a running analysis', async ({ page }, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  const slow = steered('slow', { busyMs: 30_000 });
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="session-tabs"]');
  await page.keyboard.press('Control+o');
  await page.fill('[data-testid="browse-path"]', join(DATA, 'e2e-steered', 'slow'));
  await page.keyboard.press('Enter');
  await page.dblclick('[data-testid="file-row"]:has-text("image.raw")');
  await expect(page.locator('[data-testid="session-progress"]')).toBeVisible();
  await expect(page.locator('[data-testid="progress-stage"]')).toContainText('pool scan');
  const id = (await server.backend.sessions()).find((s) => s.label === 'image.raw')!.id;
  expect(workerThreadId(server.backend, id)).not.toBeNull();
  await page.click('[data-testid="cancel-analysis"]');
  await expect(page.locator('[data-testid="session-cancelled"]')).toBeVisible();
  expect(workerThreadId(server.backend, id)).toBeNull();
  expect(existsSync(slow)).toBe(true);
});

test('an analysis that fails names its stage and reason, and the app stays usable', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  const failing = steered('fails', { failAt: 'drivers and devices', failMode: 'throw' });
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="session-tabs"]');
  await page.keyboard.press('Control+o');
  await page.fill('[data-testid="browse-path"]', join(DATA, 'e2e-steered', 'fails'));
  await page.keyboard.press('Enter');
  await page.dblclick('[data-testid="file-row"]:has-text("image.raw")');
  await expect(page.locator('[data-testid="session-failed"]')).toContainText(
    'analysis failed at stage drivers and devices: corrupt drivers and devices data (planted by engine-steering.json)',
  );
  expect(failing).toContain('fails');
  // Still usable: open a good image next to it.
  const good = steered('good', {});
  await page.keyboard.press('Control+o');
  await page.fill('[data-testid="browse-path"]', join(DATA, 'e2e-steered', 'good'));
  await page.keyboard.press('Enter');
  await page.dblclick('[data-testid="file-row"]:has-text("image.raw")');
  await expect(page.locator('[data-testid="view-overview"]')).toBeVisible();
  expect(good).toContain('good');
});
