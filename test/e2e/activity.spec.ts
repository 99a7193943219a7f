// Processes & IRPs in the workbench: an infected image (keyboard filter, hidden process) shows the
// hidden process marked, csrss's READ waiting in \Device\KeyboardClass0 below the rootkit's
// unnamed filter with the filter's completion routine in the rootkit, and the flow diagram that
// starts from that request: process → thread → NtReadFile → IRP → filter → class device; and the
// mouse read whose completion routine the rootkit replaced with code in pool (completion-hook).
// Its own web-mode server and data folder; the image is built here.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../src/builder/index';
import { ISF_19041 } from '../support/shared';
import { expect, isElectron, test } from './support/fixtures';
import { openImageFile, startOwnServer, type OwnServer } from './support/own-server';
import { DATA } from './support/paths';

const FOLDER = join(DATA, 'e2e-activity');
let server: OwnServer;
let rootkitModule: string;
let csrssPid: number;
let hijackedRoutine: string;

test.beforeAll(async () => {
  rmSync(FOLDER, { recursive: true, force: true });
  mkdirSync(FOLDER, { recursive: true });
  const { truth } = buildImage({
    isf: ISF_19041,
    format: 'raw',
    scenario: 'infected',
    infections: ['filterDevice', 'hiddenProcess', 'completionHook'],
    size: 64 * 1024 * 1024,
    seed: 5,
    fill: 'zero',
    out: join(FOLDER, 'image'),
  });
  const keyboardRead = truth.irps.find((i) => i.device === '\\Device\\KeyboardClass0')!;
  rootkitModule = keyboardRead.locations.find((l) => l.completionModule)!.completionModule!;
  csrssPid = keyboardRead.pid;
  const mouseRead = truth.irps.find((i) => i.device === '\\Device\\PointerClass0')!;
  hijackedRoutine = mouseRead.locations.find(
    (l) => l.completionRoutine && !l.completionModule,
  )!.completionRoutine!;
  server = await startOwnServer({ dataDirectory: join(FOLDER, 'data') });
});
test.afterAll(async () => {
  await server?.close();
  rmSync(FOLDER, { recursive: true, force: true });
});

test('the keylogger’s pending read: from the IRP list to the flow that starts at csrss', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="session-tabs"]');
  await openImageFile(page, join(FOLDER, 'image'), 'image.raw');

  await expect(page.locator('[data-testid="view-overview"]')).toContainText('IRPs in flight');
  await page.screenshot({ path: testInfo.outputPath('overview.png') });
  await page.keyboard.press('Alt+0');
  await expect(page.locator('[data-testid="view-activity"]')).toBeVisible();
  await page.click('[data-testid="activity-tab-processes"]');
  await expect(page.locator('[data-testid="activity-hidden-count"]')).toHaveText('1 hidden ›');
  await page.click('[data-testid="activity-hidden-count"]');
  await expect(page.locator('[data-testid="activity-detail"]')).toContainText('winlogsvc.exe');
  await expect(page.locator('[data-testid="activity-detail"]')).toContainText('hidden-process');
  await page.screenshot({ path: testInfo.outputPath('processes.png') });

  await page.click('[data-testid="activity-tab-irps"]');
  await page.click(`[data-testid="table-body-irps"] [role="row"]:has-text("KeyboardClass0")`);
  const detail = page.locator('[data-testid="activity-detail"]');
  await expect(detail).toContainText(`csrss.exe (PID ${csrssPid})`);
  const layers = page.locator('[data-testid="irp-layer"]');
  await expect(layers).toHaveCount(2);
  await expect(layers.nth(0)).toContainText('(unnamed');
  await expect(layers.nth(1)).toContainText('KeyboardClass0');
  await expect(layers.nth(1)).toContainText('waits here');
  await expect(page.locator('[data-testid="irp-completion"]')).toContainText(rootkitModule);
  await page.screenshot({ path: testInfo.outputPath('irp.png') });

  await page.click('[data-testid="irp-flow"]');
  await expect(page.locator('[data-testid="flow-irp-banner"]')).toContainText('IRP_MJ_READ');
  await expect(page.locator('.react-flow__node', { hasText: `csrss.exe (PID ${csrssPid})` })).toBeVisible();
  await expect(page.locator('.react-flow__node', { hasText: 'nt!NtReadFile' })).toBeVisible();
  const completion = page.locator('[data-testid="flow-node-completion"]');
  await expect(completion).toContainText(rootkitModule);
  await expect(completion).toHaveClass(/suspicious/);
  await expect(page.locator('[data-testid="flow-suspicious-count"]')).not.toHaveText('clean path');
  await page.screenshot({ path: testInfo.outputPath('flow-from-irp.png') });

  // The mouse read: no filter, no hooked table, only its completion routine gives it away.
  await page.keyboard.press('Alt+0');
  await page.click('[data-testid="activity-tab-irps"]');
  await page.click(`[data-testid="table-body-irps"] [role="row"]:has-text("PointerClass0")`);
  const mouseLayer = page.locator('[data-testid="irp-layer"]');
  await expect(mouseLayer).toHaveCount(1);
  await expect(mouseLayer).toHaveClass(/suspicious/);
  await expect(mouseLayer).toContainText('critical');
  // Addresses show as ffffa402`f7e4e150: the low half is the routine's last eight digits.
  await expect(page.locator('[data-testid="irp-completion"]')).toContainText(hijackedRoutine.slice(-8));
  await expect(page.locator('[data-testid="irp-completion"]')).toContainText('no module');
  await page.screenshot({ path: testInfo.outputPath('irp-completion-hook.png') });
  await page.keyboard.press('Alt+5');
  await page.click(`[data-testid="table-body-findings"] [role="row"]:has-text("completion-hook")`);
  await expect(page.locator('[data-testid="finding-detail"]')).toContainText('PointerClass0');
  await expect(page.locator('[data-testid="finding-detail"]')).toContainText('no loaded module');
  await page.screenshot({ path: testInfo.outputPath('finding-completion-hook.png') });
});
