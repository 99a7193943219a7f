// Many open images: the tabs shrink to share the bar, then scroll with controls of their own (no
// scrollbar laid over them), "+ Open" stays in sight, and the active tab is always scrolled into
// view however it became active. A second web-mode server with the stand-in engine, so that eight
// sessions are ready in seconds.

import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, isElectron, test } from './support/fixtures';
import { expectInSight } from './support/geometry';
import { startOwnServer, type OwnServer } from './support/own-server';
import { DATA, DEMO, RECORDED_ENGINE } from './support/paths';

const FOLDER = join(DATA, 'e2e-tabs');

interface Server extends OwnServer {
  backend: {
    open(request: { path: string }): Promise<{ id: string }>;
    sessions(): Promise<Array<{ id: string; state: string }>>;
    close(id: string): Promise<void>;
  };
}

let server: Server;

/** An image of its own folder (a link to the demo's infected image, with its truth). */
function image(n: number): string {
  const folder = join(FOLDER, `host-${n}`);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `workstation-${String(n).padStart(2, '0')}-memory.raw`);
  if (!existsSync(path)) symlinkSync(join(DEMO, 'infected', 'image.raw'), path);
  copyFileSync(join(DEMO, 'infected', 'truth.json'), join(folder, 'truth.json'));
  return path;
}

test.beforeAll(async () => {
  rmSync(FOLDER, { recursive: true, force: true });
  server = await startOwnServer<Server>({
    dataDirectory: join(FOLDER, 'data'),
    engineModule: RECORDED_ENGINE,
  });
});
test.afterEach(async () => {
  for (const session of await server.backend.sessions()) await server.backend.close(session.id);
});
test.afterAll(async () => {
  await server?.close();
  rmSync(FOLDER, { recursive: true, force: true });
});

async function openImages(page: Page, count: number): Promise<void> {
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="session-tabs"]');
  for (let n = 1; n <= count; n++) await server.backend.open({ path: image(n) });
  await expect(page.locator('[data-testid="session-tab"]')).toHaveCount(count);
  // Tabs change width when their analysis ends (a findings dot): wait for all to end first.
  await expect
    .poll(async () => (await server.backend.sessions()).every((s) => s.state === 'ready'), {
      timeout: 60_000,
    })
    .toBe(true);
  await expect(page.locator('[data-testid="session-tab"] .tab-progress')).toHaveCount(0);
}

/** Clicks a scroll control until the strip's end is reached and the control goes. */
async function scrollToEnd(control: Locator): Promise<void> {
  for (let i = 0; i < 20 && (await control.isVisible()); i++)
    // The control goes as the end is reached: a click it went before is no failure.
    await control.click({ timeout: 2_000 }).catch(async (error: Error) => {
      if (await control.isVisible()) throw error;
    });
  await expect(control).toBeHidden();
}

/** The tab is wholly inside the visible part of the tab strip, and nothing covers its lower edge. */
async function expectTabInSight(page: Page, tab: Locator, what: string): Promise<void> {
  await expectInSight(page, tab, what);
  const { inside, lowEdgeHit } = await tab.evaluate((node) => {
    const box = node.getBoundingClientRect();
    const strip = node.closest('[data-testid="session-tabs"]')!.getBoundingClientRect();
    const hit = node.ownerDocument.elementFromPoint(box.x + box.width / 2, box.bottom - 2);
    return {
      inside: box.left >= strip.left - 0.5 && box.right <= strip.right + 0.5,
      lowEdgeHit: hit !== null && node.contains(hit),
    };
  });
  expect(inside, `${what}: inside the strip`).toBe(true);
  expect(lowEdgeHit, `${what}: nothing laid over its lower edge`).toBe(true);
}

test('five images: the tabs shrink and every one, and "+ Open", stays in sight', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  await page.setViewportSize({ width: 1440, height: 900 });
  await openImages(page, 5);
  const tabs = page.locator('[data-testid="session-tab"]');
  for (let i = 0; i < 5; i++) await expectTabInSight(page, tabs.nth(i), `tab ${i + 1}`);
  await expectInSight(page, page.locator('[data-testid="open-image-tab"]'), '+ Open');
  await expect(page.locator('[data-testid="tabs-scroll-left"]')).toBeHidden();
  await expect(page.locator('[data-testid="tabs-scroll-right"]')).toBeHidden();
  await page.screenshot({ path: testInfo.outputPath('five-tabs.png') });
});

test('more tabs than fit: they scroll with their own controls, and the active one is always in view', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  await page.setViewportSize({ width: 1100, height: 800 });
  await openImages(page, 8);
  const tabs = page.locator('[data-testid="session-tab"]');
  await expectInSight(page, page.locator('[data-testid="open-image-tab"]'), '+ Open');
  const right = page.locator('[data-testid="tabs-scroll-right"]');
  await expectInSight(page, right, 'scroll right');

  // The scroll control reaches the last tab; clicking it makes it active, in view.
  const last = tabs.nth(7);
  await scrollToEnd(right);
  await expectTabInSight(page, last, 'the last tab');
  await last.locator('.tab-label').click();
  await expect(last).toHaveClass(/active/);
  await page.screenshot({ path: testInfo.outputPath('scrolled-to-last.png') });

  // The first tab, reached back with the other control and clicked.
  const left = page.locator('[data-testid="tabs-scroll-left"]');
  await scrollToEnd(left);
  await tabs.nth(0).locator('.tab-label').click();
  await expect(tabs.nth(0)).toHaveClass(/active/);
  await expectTabInSight(page, tabs.nth(0), 'the first tab');

  // Scrolled away from it, then made active by history (not by a click on it): scrolled back into view.
  await scrollToEnd(right);
  await expect(tabs.nth(0)).not.toBeInViewport({ ratio: 1 });
  await page.keyboard.press('Alt+ArrowLeft');
  await expect(last).toHaveClass(/active/);
  await expectTabInSight(page, last, 'the last tab, active by history');
  await page.keyboard.press('Alt+ArrowRight');
  await expect(tabs.nth(0)).toHaveClass(/active/);
  await expectTabInSight(page, tabs.nth(0), 'the first tab, active by history');
  await page.screenshot({ path: testInfo.outputPath('back-to-first.png') });
});
