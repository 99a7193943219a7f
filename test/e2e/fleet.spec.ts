// The Fleet view (issue 21) on a results folder made by `fleet run`: the demo's clean image as the
// baseline, its infected image as two hosts (two paths, so two jobs). The hosts table, the hosts ×
// finding-kind matrix and the cluster the two hosts form are shown, the hostile driver name as
// inert text; a host opens with its baseline in the side-by-side comparison.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from './support/fixtures';
import { DEMO } from './support/paths';
import { runFleetInProcess } from '../../src/fleet/in-process';
import { ResultsFolder } from '../../src/fleet/results';
import { collectImages, checkBaselines } from '../../src/fleet/inputs';

test('a fleet results folder: hosts, matrix, clusters, and a host opened against its baseline', async ({
  workbench: page,
  dialogs,
}) => {
  test.setTimeout(240_000);
  const work = mkdtempSync(join(tmpdir(), 'irpscope-e2e-fleet-'));
  try {
    for (const host of ['host-a', 'host-b']) {
      mkdirSync(join(work, 'hosts', host), { recursive: true });
      symlinkSync(join(DEMO, 'infected', 'image.raw'), join(work, 'hosts', host, 'image.raw'));
    }
    const results = new ResultsFolder(join(work, 'results'));
    const report = await runFleetInProcess({
      fleet: 'demo',
      baselines: checkBaselines([join(DEMO, 'clean', 'image.raw')]),
      hosts: collectImages([join(work, 'hosts')]),
      results,
      concurrency: 2,
      scanWorkers: 1,
      attempts: 1,
      worker: 'e2e',
    });
    expect(report.counts).toMatchObject({ hosts: 2, differing: 2 });

    // The server is shared with the other specs: what this one opens, it closes again.
    const tabs = page.locator('[data-testid="session-tab"]');
    const tabsBefore = await tabs.count();
    await page.click('[data-testid="open-fleet"]');
    await page.fill('[data-testid="fleet-source"]', results.root);
    await page.keyboard.press('Enter');
    const rows = page.locator('[data-testid="fleet-hosts"] tbody tr');
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toContainText('host-a/image.raw');
    await expect(rows.first()).toContainText('differs');
    await expect(page.locator('[data-testid="fleet-counts"]')).toContainText('2 hosts: 0 match, 2 differ');
    await expect(page.locator('[data-testid="fleet-progress"]')).toContainText('2/2 finished');
    // The top finding names the rootkit's driver: its markup is text, its control characters escaped.
    await expect(rows.first()).toContainText('<img src=x onerror=alert(1)>"\'&\\u0007\\u001b[31m');
    await page.screenshot({ path: '.cache/test-results/fleet-hosts.png' });

    await page.click('[data-testid="fleet-tab-matrix"]');
    await expect(page.locator('[data-testid="fleet-matrix"] th', { hasText: 'hidden-driver' })).toBeVisible();
    await page.screenshot({ path: '.cache/test-results/fleet-matrix.png' });

    await page.click('[data-testid="fleet-tab-clusters"]');
    const cluster = page.locator('[data-testid="fleet-clusters"] .fleet-cluster');
    await expect(cluster).toHaveCount(report.clusters.length);
    await expect(cluster.first()).toContainText('host-a/image.raw');
    await expect(cluster.first()).toContainText('host-b/image.raw');
    await page.screenshot({ path: '.cache/test-results/fleet-clusters.png' });

    await page.click('[data-testid="fleet-tab-hosts"]');
    await rows.first().getByRole('button', { name: 'Compare' }).click();
    await expect(page.locator('[data-testid="fleet-view"]')).toHaveCount(0);
    await expect(page.locator('[data-testid="diff-counts"]')).toBeVisible({ timeout: 120_000 });
    await expect(page.locator('[data-testid="session-tab"].active')).toContainText('image.raw');
    expect(dialogs).toEqual([]);
    while ((await tabs.count()) > tabsBefore) {
      const count = await tabs.count();
      await tabs
        .filter({ hasText: 'image.raw' })
        .filter({ hasNotText: 'Demo' })
        .first()
        .locator('button.close')
        .click();
      await expect(tabs).toHaveCount(count - 1);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
