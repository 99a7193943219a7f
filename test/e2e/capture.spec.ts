// Capture from a VM in the workbench, against real QEMUs whose RAM is the demo case's images: the
// clean system is captured as the baseline, the infected one is captured and opened, and the
// comparison shows the planted anomalies — the before/after pair in two clicks each. A capture
// in progress shows its progress and can be cancelled, leaving no file and the VM running: the
// test holds that dump (through a QMP proxy, its file a FIFO the test reads), so it is still
// being written when Cancel is clicked, however fast the machine.

import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { DATA, DEMO } from './support/paths';
import { bytesAt, demoTruth, shownAs } from './support/truth';
import { expectedRows, pairRows } from '../support/planted';
import { holdingProxy, startQemu, type HoldingProxy, type RunningQemu } from '../support/qemu';
import { diffRowIdentity } from './support/diff-rows';

const CAPTURES = join(DATA, 'captures');
const infected = demoTruth('infected');
const expected = expectedRows(infected, demoTruth('clean'), (va) => bytesAt(va, 8).join(''));

let folder: string;
const running: RunningQemu[] = [];
const proxies: HoldingProxy[] = [];

test.beforeEach(() => {
  mkdirSync(CAPTURES, { recursive: true });
  mkdirSync(join(DATA, 'e2e-vms'), { recursive: true });
  folder = mkdtempSync(join(DATA, 'e2e-vms', 'run-'));
});
test.afterEach(() => {
  for (const proxy of proxies.splice(0)) proxy.close();
  for (const qemu of running.splice(0)) qemu.stop();
  rmSync(join(DATA, 'e2e-vms'), { recursive: true, force: true });
});

async function vm(name: string, memory: Parameters<typeof startQemu>[0]['memory']): Promise<RunningQemu> {
  const own = join(folder, name);
  mkdirSync(own);
  // The test's own monitor lives outside the searched folder, so each VM is listed once.
  const watchFolder = join(folder, '..', `${folder.split('/').pop()}-${name}-watch`);
  mkdirSync(watchFolder, { recursive: true });
  const qemu = await startQemu({ folder: own, watchFolder, memory, paused: false, name });
  running.push(qemu);
  return qemu;
}

/** Closes the sessions a test opened (the other specs expect the demo case alone) and removes their files. */
async function closeCaptured(page: Page, known: Set<string>): Promise<void> {
  const tabs = page.locator('[data-testid="session-tab"]', { hasText: 'lab-' });
  // One at a time, each waited out: a count read while a tab is going is stale.
  for (let left = await tabs.count(); left > 0; left--) {
    await tabs.first().locator('button.close').click();
    await expect(tabs).toHaveCount(left - 1);
  }
  for (const file of readdirSync(CAPTURES))
    if (!known.has(file)) rmSync(join(CAPTURES, file), { force: true });
}

async function openDialog(page: Page): Promise<void> {
  await page.click('button:has-text("Capture…")');
  await page.fill('input[aria-label="Folder with QMP sockets"]', folder);
  await page.click('button:has-text("Search")');
}

test('the clean VM captured as baseline, the infected one captured and opened: the comparison shows the planted anomalies', async ({
  workbench: page,
}, testInfo) => {
  // Two captures, two analyses and a comparison, then the cleanup: more than the default minute
  // when the two cores are shared with other work.
  test.setTimeout(150_000);
  const known = new Set(readdirSync(CAPTURES));
  try {
    await captureBoth(page, testInfo.outputPath.bind(testInfo), known);
  } finally {
    await closeCaptured(page, known);
  }
});

async function captureBoth(page: Page, output: (name: string) => string, known: Set<string>): Promise<void> {
  await vm('lab-before', { image: join(DEMO, 'clean', 'image.raw'), bytes: 64 << 20 });
  await vm('lab-after', { image: join(DEMO, 'infected', 'image.raw'), bytes: 64 << 20 });
  await openDialog(page);
  const rows = page.locator('[data-testid="capture-row"]');
  await expect(rows.filter({ hasText: 'lab-before' })).toContainText('64.0 MiB');
  await expect(rows.filter({ hasText: 'lab-after' })).toContainText('running');
  // Tools that are not installed here are named.
  await expect(page.locator('[data-testid="capture-tool-libvirt"]')).toContainText(
    'virsh (libvirt-clients) is not installed',
  );
  await page.screenshot({ path: output('capture-dialog.png') });

  await rows.filter({ hasText: 'lab-before' }).click();
  await expect(page.locator('#capture-name')).toHaveValue(/^lab-before-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.elf$/);
  await page.click('button:has-text("Capture as baseline")');
  await expect(page.locator('[role="dialog"]')).toHaveCount(0, { timeout: 60_000 });
  const baselineTab = page.locator('[data-testid="session-tab"][data-role="baseline"]', {
    hasText: 'lab-before',
  });
  await expect(baselineTab).toBeVisible();

  await openDialog(page);
  await page.locator('[data-testid="capture-row"]', { hasText: 'lab-after' }).click();
  await page.click('button:has-text("Capture and open")');
  await expect(page.locator('[role="dialog"]')).toHaveCount(0, { timeout: 60_000 });
  const primaryTab = page.locator('[data-testid="session-tab"][data-role="primary"]', {
    hasText: 'lab-after',
  });
  await expect(primaryTab).toHaveClass(/active/);
  await expect(page.locator('[data-testid="view-overview"]')).toBeVisible({ timeout: 60_000 });
  // The captured memory analyses to the demo's drivers: those the builder made, live and freed.
  await page.click('[data-testid="nav-drivers"]');
  await expect(page.locator('[data-testid="table-drivers"] .count')).toHaveText(
    `${infected.drivers.length + infected.staleDrivers.length} drivers`,
  );

  await page.click('[data-testid="nav-diff"]');
  const baselineId = await page
    .locator('[data-testid="diff-baseline"] option', { hasText: 'lab-before' })
    .getAttribute('value');
  await page.selectOption('[data-testid="diff-baseline"]', baselineId!);
  const diffRows = page.locator('[data-testid="table-body-diff-differences"] [role="row"]');
  await expect(diffRows.first()).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('[data-testid="table-diff-differences"] .count')).toHaveText(
    `${expected.length} ${expected.length === 1 ? 'difference' : 'differences'}`,
  );
  // The rows are the planted anomalies and callbacks, each once, at the severity the builder planted.
  const shown = (
    await diffRows.evaluateAll((rows) =>
      rows.map((row) => ({
        id: row.getAttribute('data-row-id') ?? '',
        what: row.querySelector('.td:nth-child(3)')?.textContent?.trim() ?? '',
        severity: row.querySelector('[data-severity]')?.getAttribute('data-severity') ?? '',
      })),
    )
  ).map(({ id, what, severity }) => ({ key: diffRowIdentity(id, what), severity }));
  const { extra, missing } = pairRows(shown, expected, shownAs);
  expect(extra).toEqual([]);
  expect(missing.map((r) => r.key)).toEqual([]);
  await page.screenshot({ path: output('capture-compared.png') });
  expect(readdirSync(CAPTURES).filter((f) => !known.has(f))).toHaveLength(2);
}

test('a capture in progress shows its progress; Cancel leaves no file and the VM running', async ({
  workbench: page,
}, testInfo) => {
  const files = new Set(readdirSync(CAPTURES));
  const qemu = await vm('held-vm', { bytes: 64 << 20 });
  const watch = await qemu.watch();
  // The capture goes through a proxy that holds the dump; its socket is typed into the dialog.
  const proxy = await holdingProxy(qemu.qmp, join(folder, 'held-vm.qmp'));
  proxies.push(proxy);
  await page.click('button:has-text("Capture…")');
  await page.fill('input[aria-label="QMP socket or host:port"]', proxy.socket);
  await page.click('button:has-text("Capture and open")');
  const dump = await proxy.held;
  await dump.begun;
  const progress = page.locator('[data-testid="capture-progress"]');
  await expect(progress).toContainText(/Writing the memory\s*[1-9][\d.]* MiB of 64(\.\d)? MiB/);
  await expect(page.locator('[data-testid="capture-pill"]')).toContainText('held-vm');
  // Paused while its memory is written.
  expect((await watch.execute<{ running: boolean }>('query-status')).running).toBe(false);
  await page.screenshot({ path: testInfo.outputPath('capture-progress.png') });
  await page.click('button:has-text("Cancel capture")');
  // QEMU is still writing (the test holds it): the file, temporary or not, is already gone.
  await expect(progress).toContainText('Cancelling: waiting for QEMU to finish writing');
  expect(readdirSync(CAPTURES).filter((f) => !files.has(f))).toEqual([]);
  dump.release();
  await expect(progress).toContainText('Cancelled: no file was kept', { timeout: 60_000 });
  expect(await dump.ended).toBeGreaterThanOrEqual(64 << 20);
  await page.screenshot({ path: testInfo.outputPath('capture-cancelled.png') });
  expect(readdirSync(CAPTURES).filter((f) => !files.has(f))).toEqual([]);
  expect((await watch.execute<{ running: boolean }>('query-status')).running).toBe(true);
});
