// What the analyst is sent to is in sight and what a view counts is what it shows, on the demo
// case: every list ends above the status bar with its last row reachable, a row selected by a
// button lands in sight, counts under a filter say "n of N things", toolbars keep to one line,
// stack rows line up whether or not they carry a badge, and a request says in which of the
// locations the view numbers it waits.

import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { expectInSight, expectOneLine } from './support/geometry';
import { callbackEntryCount, demoTruth } from './support/truth';

const truth = demoTruth();

async function view(page: Page, name: string): Promise<void> {
  await page.click(`[data-testid="nav-${name}"]`);
  await expect(page.locator(`[data-testid="view-${name}"]`)).toBeVisible();
}

/** The tables of every view, and how to get to each. */
const LISTS: Array<{ view: string; table: string; before?: (page: Page) => Promise<void> }> = [
  { view: 'drivers', table: 'drivers' },
  { view: 'modules', table: 'modules' },
  { view: 'findings', table: 'findings' },
  { view: 'services', table: 'services' },
  { view: 'callbacks', table: 'callbacks' },
  {
    view: 'activity',
    table: 'processes',
    before: (page) => page.click('[data-testid="activity-tab-processes"]'),
  },
  { view: 'activity', table: 'irps', before: (page) => page.click('[data-testid="activity-tab-irps"]') },
  { view: 'diff', table: 'diff-differences' },
  {
    view: 'diff',
    table: 'diff-devices',
    before: async (page) => {
      await page.click('[data-testid="diff-tab-devices"]');
      await page.uncheck('[data-testid="diff-only-differences"]');
    },
  },
];

test('every list ends above the status bar and its last row can be brought into sight', async ({
  workbench: page,
}) => {
  for (const list of LISTS) {
    await view(page, list.view);
    await list.before?.(page);
    const body = page.locator(`[data-testid="table-body-${list.table}"]`);
    await expect(body.locator('[role="row"]').first()).toBeVisible();
    await body.focus();
    await page.keyboard.press('End');
    await expectInSight(page, body.locator('[aria-selected="true"]'), `last row of ${list.table}`);
  }
  await view(page, 'devices');
  await page.focus('[data-testid="device-tree"]');
  await page.keyboard.press('End');
  await expectInSight(page, page.locator('[data-testid="device-tree"] .tree-row.selected'), 'last device');
});

test('the hooked services the button selects land in sight', async ({ workbench: page }) => {
  await view(page, 'services');
  const planted = truth.findings.filter((f) => f.kind.startsWith('ssdt')).map((f) => f.subject);
  expect(planted.length).toBeGreaterThan(0);
  const selected = page.locator('[data-testid="table-body-services"] [aria-selected="true"]');
  for (let i = 0; i < planted.length; i++) {
    await page.click('[data-testid="services-hooked-count"]');
    await expect(selected).toHaveCount(1);
    await expectInSight(page, selected, `hooked service ${i + 1}`);
  }
});

test('every service of the demo kernel is named', async ({ workbench: page }) => {
  await view(page, 'services');
  await page.fill('[data-testid="table-services"] input.filter', 'service 0x');
  await expect(page.locator('[data-testid="table-services"] .count')).toHaveText(
    `0 of ${truth.serviceTable.count} services`,
  );
});

test('counts under a filter say how many of how many', async ({ workbench: page }) => {
  const devices = truth.drivers.reduce((n, d) => n + d.devices.length, 0);
  const cases = [
    {
      view: 'drivers',
      table: 'drivers',
      filter: 'kbd',
      noun: 'drivers',
      total: truth.drivers.length + truth.staleDrivers.length,
    },
    { view: 'modules', table: 'modules', filter: 'kbd', noun: 'modules', total: truth.modules.length },
    {
      view: 'findings',
      table: 'findings',
      filter: 'foreign',
      noun: 'findings',
      total: truth.findings.length,
    },
    {
      view: 'services',
      table: 'services',
      filter: 'NtRead',
      noun: 'services',
      total: truth.serviceTable.count,
    },
    {
      view: 'callbacks',
      table: 'callbacks',
      filter: 'process notify',
      noun: 'callbacks',
      total: callbackEntryCount(truth),
    },
    {
      view: 'activity',
      table: 'processes',
      filter: 'svc',
      noun: 'processes',
      total: truth.processes.filter((p) => p.pid !== 0).length,
    },
  ];
  for (const c of cases) {
    await view(page, c.view);
    if (c.table === 'processes') await page.click('[data-testid="activity-tab-processes"]');
    const count = page.locator(`[data-testid="table-${c.table}"] .count`);
    await expect(count).toHaveText(`${c.total} ${c.noun}`);
    await page.fill(`[data-testid="table-${c.table}"] input.filter`, c.filter);
    const shown = page.locator(`[data-testid="table-body-${c.table}"] [role="row"]`);
    await expect.poll(() => shown.count()).toBeLessThan(c.total);
    await expect(count).toHaveText(`${await shown.count()} of ${c.total} ${c.noun}`);
  }
  await view(page, 'devices');
  const deviceCount = page.locator('[data-testid="view-devices"] .table-toolbar .count');
  await expect(deviceCount).toHaveText(`${devices} devices`);
  await page.fill('[data-testid="view-devices"] input.filter', 'Keyboard');
  const rows = page.locator('[data-testid="device-tree"] .tree-row.device');
  await expect.poll(() => rows.count()).toBeLessThan(devices);
  await expect(deviceCount).toHaveText(`${await rows.count()} of ${devices} devices`);
});

test('table toolbars keep to one line, in the narrow processes pane too', async ({ workbench: page }) => {
  for (const list of LISTS) {
    await view(page, list.view);
    await list.before?.(page);
    await expectOneLine(page.locator(`[data-testid="table-${list.table}"] .table-toolbar`), 30, list.table);
  }
});

test('stack rows line up whether or not they carry a badge', async ({ workbench: page }) => {
  await view(page, 'devices');
  await page.fill('[data-testid="view-devices"] input.filter', 'KeyboardClass0');
  await page.click('[data-testid="device-tree"] .tree-row.device');
  const layers = page.locator('[data-testid="stack-layer"]');
  await expect(layers.locator('.badge')).not.toHaveCount(0);
  for (const part of ['.pos', '.name', '.drv', '.type'])
    expect(
      new Set(await layers.locator(part).evaluateAll((all) => all.map((e) => e.getBoundingClientRect().x)))
        .size,
      part,
    ).toBe(1);
  await page.screenshot({ path: test.info().outputPath('device-stack.png') });

  await view(page, 'activity');
  await page.click('[data-testid="activity-tab-irps"]');
  await page.locator('[data-testid="table-body-irps"] [role="row"]', { hasText: 'KeyboardClass0' }).click();
  const irpLayers = page.locator('[data-testid="irp-layer"]');
  for (const part of ['.pos', '.name', '.drv', '.type'])
    expect(
      new Set(await irpLayers.locator(part).evaluateAll((all) => all.map((e) => e.getBoundingClientRect().x)))
        .size,
      part,
    ).toBe(1);
});

test('a pending request says which location it waits in, numbered as its locations are', async ({
  workbench: page,
}) => {
  await view(page, 'activity');
  await page.click('[data-testid="activity-tab-irps"]');
  const rows = page.locator('[data-testid="table-body-irps"] [role="row"]');
  await expect(rows).toHaveCount(truth.irps.length);
  for (let i = 0; i < truth.irps.length; i++) {
    await rows.nth(i).click();
    const waiting = page.locator('[data-testid="irp-layer"]', {
      has: page.locator('.chip', { hasText: 'waits here' }),
    });
    await expect(waiting).toHaveCount(1);
    const number = (await waiting.locator('.pos').innerText()).trim();
    const head = page.locator('[data-testid="activity-detail"] .detail-head');
    await expect(head).toContainText(`waits in location ${number}`);
    await expect(head).not.toContainText('current');
  }
  await page.screenshot({ path: test.info().outputPath('irp-detail.png') });
});
