// The system-service table in the workbench: an image whose rootkit hooked NtQuerySystemInformation's
// entry and patched NtWriteFile (the builder's opt-in service-table infections) shows both in the
// System Services view, and the flow diagram's service hop for WriteFile is the patched routine.
// Its own web-mode server and data folder; the image is built here.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../src/builder/index';
import { expect, isElectron, test } from './support/fixtures';
import { openImageFile, startOwnServer, type OwnServer } from './support/own-server';
import { DATA } from './support/paths';

const FOLDER = join(DATA, 'e2e-services');
let server: OwnServer;

test.beforeAll(async () => {
  rmSync(FOLDER, { recursive: true, force: true });
  mkdirSync(FOLDER, { recursive: true });
  buildImage({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'infected',
    infections: ['ssdtHook', 'ssdtInline', 'irpHook'],
    size: 64 * 1024 * 1024,
    seed: 3,
    fill: 'zero',
    out: join(FOLDER, 'image'),
  });
  server = await startOwnServer({ dataDirectory: join(FOLDER, 'data') });
});
test.afterAll(async () => {
  await server?.close();
  rmSync(FOLDER, { recursive: true, force: true });
});

test('hooked and patched services are marked, and WriteFile’s service hop is the patched routine', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  expect(existsSync(join(FOLDER, 'image', 'image.raw'))).toBe(true);
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="session-tabs"]');
  await openImageFile(page, join(FOLDER, 'image'), 'image.raw');

  await page.keyboard.press('Alt+9');
  await expect(page.locator('[data-testid="view-services"]')).toContainText('401 services');
  await expect(page.locator('[data-testid="services-hooked-count"]')).toHaveText('2 hooked or patched ›');
  await page.click('[data-testid="services-hooked-count"]');
  const selected = page.locator('[data-testid="table-body-services"] [aria-selected="true"]');
  await expect(selected).toContainText('NtQuerySystemInformation');
  await expect(selected).toContainText('other module');
  await page.click('[data-testid="services-hooked-count"]');
  await expect(selected).toContainText('NtWriteFile');
  await expect(selected).toContainText('inline patched');
  await page.screenshot({ path: testInfo.outputPath('services.png') });

  await page.click('[data-testid="nav-flow"]');
  const disk = await page
    .locator('[data-testid="flow-device"] option', { hasText: 'Harddisk0' })
    .first()
    .getAttribute('value');
  await page.selectOption('[data-testid="flow-device"]', disk!);
  await page.click('[data-testid="flow-op-WriteFile"]');
  const hop = page.locator('.react-flow__node', { hasText: 'nt!NtWriteFile' });
  await expect(hop).toContainText('service 0x18c');
  await expect(hop).toContainText('inline-patched');
  await page.screenshot({ path: testInfo.outputPath('flow-service-hop.png') });
});
