// The baseline comparison side by side, on the demo case (the clean system on boot 1, the same
// system infected on boot 2): the differences are the planted anomalies and callbacks; stepping
// through them by keyboard shows each in both images; addresses open the hex view of their own
// image; the devices that came and went between the boots are variation; and a baseline opened
// later works.

import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, isElectron, test } from './support/fixtures';
import { cutShort } from './support/geometry';
import { diffRowIdentity } from './support/diff-rows';
import { DATA, DEMO } from './support/paths';
import { bytesAt, demoTruth, shownAs } from './support/truth';
import { expectedRows, pairRows, severityRank } from '../support/planted';

const infected = demoTruth('infected');
const clean = demoTruth('clean');
const rootkit = infected.drivers.find((d) => d.hidden)!;
/**
 * One row per anomalous object, at its gravest planted severity, and one per callback the rootkit
 * added or replaced (the builder's truth; code in no module known by its first bytes in the image).
 */
const expected = expectedRows(infected, clean, (va) => bytesAt(va, 8).join(''));

/** Whether the clean boot has the object: a driver, process, system service or named device. */
function baselineHas(key: string): boolean {
  return (
    clean.drivers.some((d) => d.name === key || d.devices.some((x) => x.name === key)) ||
    clean.processes.some((p) => p.name === key) ||
    clean.serviceTable.entries.some((e) => e.name === key)
  );
}

const rows = (page: Page) => page.locator('[data-testid="table-body-diff-differences"] [role="row"]');

async function openComparison(page: Page): Promise<void> {
  await page.click('[data-testid="nav-diff"]');
  await expect(rows(page).first()).toBeVisible();
}

test('the differences are the planted anomalies, one row each, most severe first', async ({
  workbench: page,
}) => {
  await openComparison(page);
  await expect(page.locator('[data-testid="table-diff-differences"] .count')).toHaveText(
    `${expected.length} differences`,
  );
  const shown = (
    await rows(page).evaluateAll((all) =>
      all.map((row) => ({
        severity: row.querySelector('[data-severity]')?.getAttribute('data-severity') ?? '',
        change: row.querySelector('.td:nth-child(2)')?.textContent?.trim() ?? '',
        id: row.getAttribute('data-row-id') ?? '',
        what: row.querySelector('.td:nth-child(3)')?.textContent?.trim() ?? '',
      })),
    )
  ).map(({ id, what, ...row }) => ({ ...row, key: diffRowIdentity(id, what) }));
  // Each planted object and callback once, at its severity; control characters of the hostile
  // name escaped.
  const { pairs, extra, missing } = pairRows(shown, expected, shownAs);
  expect(extra, 'rows nothing planted explains').toEqual([]);
  expect(missing.map((r) => r.key)).toEqual([]);
  const ranks = shown.map((r) => severityRank(r.severity));
  expect(ranks, 'most severe first').toEqual([...ranks].sort((x, y) => y - x));
  // Added where the clean boot lacks the object, changed where it has it too.
  for (const [row, planted] of pairs)
    expect(row.change, row.key).toMatch(
      planted.change
        ? new RegExp(`^callback ${planted.change}$`)
        : baselineHas(planted.key)
          ? / changed$/
          : / added$/,
    );
  await expect(page.locator('[data-testid="diff-counts"]')).toContainText(`${expected.length} differences`);
});

test('stepping through the differences with the keyboard shows each in both images', async ({
  workbench: page,
}) => {
  await openComparison(page);
  await page.focus('[data-testid="table-body-diff-differences"]');
  await page.keyboard.press('Home');
  const detail = page.locator('[data-testid="diff-detail"]');
  const facts = (label: string) =>
    detail.locator('dl.diff-facts dt', { hasText: label }).locator('xpath=following-sibling::dd[1]');
  const visited: Array<{ key: string; severity: string; kinds: string[] }> = [];
  for (let i = 0; i < expected.length; i++) {
    const selected = page.locator('[data-testid="table-body-diff-differences"] [aria-selected="true"]');
    const what = (await selected.locator('.td:nth-child(3)').innerText()).trim();
    const key = diffRowIdentity((await selected.getAttribute('data-row-id')) ?? '', what);
    const severity = (await selected.locator('[data-severity]').getAttribute('data-severity')) ?? '';
    // The detail is that row's, with its severity, what paired it across the two images (or that
    // only one of them has it), and the findings the infected image has on it.
    await expect(detail.locator('h3')).toHaveText(what);
    await expect(detail.locator('.diff-head-line [data-severity]')).toHaveAttribute(
      'data-severity',
      severity,
    );
    await expect(page.locator('[data-testid="diff-why"]')).not.toBeEmpty();
    const object = expected.find((e) => e.change === null && e.matches(key, shownAs));
    if (object && baselineHas(object.key))
      await expect(facts('Paired by')).not.toContainText('only one image has it');
    else await expect(facts('Paired by')).toHaveText('only one image has it');
    const kinds = (await facts('New findings').locator('.link').allInnerTexts()).sort();
    visited.push({ key, severity, kinds });
    await page.keyboard.press('ArrowDown');
  }
  // Every difference once, each with exactly the findings planted on it.
  const { pairs, extra, missing } = pairRows(visited, expected, shownAs);
  expect(extra).toEqual([]);
  expect(missing.map((r) => r.key)).toEqual([]);
  for (const [row, planted] of pairs) expect(row.kinds, row.key).toEqual(planted.kinds);
});

test('a hooked driver: its two IRP tables side by side, each address opening its own image', async ({
  workbench: page,
}) => {
  await openComparison(page);
  await rows(page).filter({ hasText: '\\Driver\\Disk' }).first().click();
  const changed = page.locator('[data-testid="diff-handlers"] tr[data-changed="true"]');
  const hooked = infected.irp.filter((h) => h.driver === '\\Driver\\Disk' && h.verdict === 'other-module');
  await expect(changed).toHaveCount(hooked.length);
  for (const h of hooked) await expect(changed.filter({ hasText: h.name })).toContainText(rootkit.module!);
  await expect(page.locator('[data-testid="diff-matched-by"]')).toContainText('name \\Driver\\Disk');

  // The baseline's handler opens in the baseline image's hex view.
  const before = clean.irp.find((h) => h.driver === '\\Driver\\Disk' && h.name === hooked[0]!.name)!;
  await changed.filter({ hasText: hooked[0]!.name }).locator('td:nth-child(2) .link.address').click();
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();
  await expect(page.locator('[data-testid="session-tab"].active')).toHaveAttribute('data-role', 'baseline');
  await expect(page.locator('[data-testid="hex-status"]')).toContainText(BigInt(before.handler).toString(16));
  await page.keyboard.press('Alt+ArrowLeft');
  await expect(page.locator('[data-testid="diff-handlers"]')).toBeVisible();
});

test('the filtered keyboard stack: both stacks and both request paths, the differing nodes marked', async ({
  workbench: page,
}) => {
  await openComparison(page);
  await rows(page).filter({ hasText: 'KeyboardClass0' }).first().click();
  const changed = page.locator('[data-testid="diff-stacks"] tr[data-changed="true"]');
  await expect(changed).toHaveCount(1);
  await expect(changed).toContainText('<img src=x onerror=alert(1)>');
  await page.click('[data-testid="diff-flow-op-ReadFile"]');
  const differing = (side: string) =>
    page.locator(`[data-testid="diff-flow-${side}"] .flow-node[data-differs="true"]`);
  await expect(differing('image').first()).toBeVisible();
  await expect(
    page.locator('[data-testid="diff-flow-image"] .flow-node.kind-module[data-differs="true"]', {
      hasText: rootkit.module!,
    }),
  ).toHaveCount(1);
  await expect(page.locator('[data-testid="diff-flow-baseline"] .flow-node').first()).toBeVisible();
  await expect(differing('baseline')).toHaveCount(0);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
});

test('devices that came and went between the boots are variation, not differences', async ({
  workbench: page,
}) => {
  await openComparison(page);
  const gone = clean.boot.transient.filter(
    (g) => g.present && !infected.boot.transient.find((x) => x.group === g.group)!.present,
  );
  expect(gone.length).toBeGreaterThan(0);
  await page.click('[data-testid="diff-only-differences"]');
  const variation = rows(page).filter({ hasText: 'variation' });
  await expect(variation.first()).toBeVisible();
  await expect(variation.filter({ hasText: 'stack removed' }).first()).toBeVisible();
  await page.click('[data-testid="diff-tab-devices"]');
  await expect(
    page.locator('[data-testid="table-body-diff-devices"] .pair-status.status-variation').first(),
  ).toBeVisible();
  await page.click('[data-testid="diff-only-differences"]');
  // Only differences hides what any two boots differ in from the aligned devices, as it does
  // from the drivers: what is left is the rootkit's own devices.
  const devices = page.locator('[data-testid="table-body-diff-devices"] [role="row"]');
  await expect(devices.first()).toBeVisible();
  await expect(devices.locator('.pair-status.status-variation')).toHaveCount(0);
  await expect(devices.locator('.pair-status.status-same')).toHaveCount(0);
  const rootkitDevices = infected.drivers.find((d) => d.hidden)!.devices.length;
  await expect(devices.locator('.pair-status.status-added')).toHaveCount(rootkitDevices);
  await page.click('[data-testid="diff-tab-drivers"]');
  await expect(
    page.locator('[data-testid="table-body-diff-drivers"] .pair-status.status-variation'),
  ).toHaveCount(0);
  await page.click('[data-testid="diff-tab-differences"]');
  await expect(rows(page)).toHaveCount(expected.length);
});

test('the two stacks and IRP tables show every name whole; a list cell cut short shows it on hover', async ({
  workbench: page,
}) => {
  await openComparison(page);
  for (const table of ['diff-stacks', 'diff-handlers']) {
    await rows(page)
      .filter({ hasText: table === 'diff-stacks' ? 'KeyboardClass0' : '\\Driver\\Disk' })
      .first()
      .click();
    const cells = page.locator(`[data-testid="${table}"] td`);
    await expect(cells.first()).toBeVisible();
    const cut = await cutShort(
      page.locator(`[data-testid="${table}"] td, [data-testid="${table}"] td .link`),
    );
    expect(cut, `${table}: cells cut short`).toEqual([]);
  }
  await page.screenshot({ path: test.info().outputPath('diff-tables.png') });
  // The aligned device list: a long name in a narrow column is cut, and its whole text is the tooltip.
  await page.click('[data-testid="diff-tab-devices"]');
  await page.uncheck('[data-testid="diff-only-differences"]');
  await page.fill('[data-testid="table-diff-devices"] input.filter', '\\Device\\{');
  const cell = page
    .locator('[data-testid="table-body-diff-devices"] .td', { hasText: '\\Device\\{' })
    .first();
  await expect(cell).toBeVisible();
  const whole = (await cell.textContent())!.trim();
  expect(await cell.evaluate((td) => td.scrollWidth > td.clientWidth)).toBe(true);
  await cell.hover();
  await expect(cell).toHaveAttribute('title', whole);
  await page.fill('[data-testid="table-diff-devices"] input.filter', '');
  await page.check('[data-testid="diff-only-differences"]');
  await page.click('[data-testid="diff-tab-differences"]');
});

test('a baseline opened later is compared too', async ({ workbench: page }, testInfo) => {
  test.skip(isElectron(testInfo), 'the web file browser; the desktop app uses a native dialog');
  // Another copy of the clean system (an image already open is not opened twice).
  const folder = join(DATA, 'e2e-later-baseline');
  mkdirSync(folder, { recursive: true });
  copyFileSync(join(DEMO, 'clean', 'image.raw'), join(folder, 'clean.raw'));
  await openComparison(page);
  const demoBaseline = await page.locator('[data-testid="diff-baseline"] option:checked').textContent();
  await page.click('button:has-text("Open baseline…")');
  await page.fill('[data-testid="browse-path"]', folder);
  await page.keyboard.press('Enter');
  await page.dblclick('[data-testid="file-row"]:has-text("clean.raw")');
  await expect(page.locator('[data-testid="session-tab"]')).toHaveCount(3);
  await expect(page.locator('[data-testid="diff-baseline"] option:checked')).toContainText('clean.raw');
  await expect(rows(page)).toHaveCount(expected.length, { timeout: 60_000 });
  // The demo case keeps its own baseline: the specs after this one share its data folder, and a
  // case whose baseline is a copy deleted below would name a missing file.
  await page.selectOption('[data-testid="diff-baseline"]', { label: demoBaseline! });
  await expect(page.locator('[data-testid="diff-baseline"] option:checked')).toHaveText(demoBaseline!);
  await page.locator('[data-testid="session-tab"]', { hasText: 'clean.raw' }).locator('button.close').click();
  await expect(page.locator('[data-testid="session-tab"]')).toHaveCount(2);
  await expect(page.locator('[data-testid="diff-baseline"] option:checked')).toHaveText(demoBaseline!);
  await page.click('[data-testid="nav-overview"]');
  await expect(page.locator('[data-testid="view-overview"]')).not.toContainText('e2e-later-baseline');
  rmSync(folder, { recursive: true, force: true });
});
