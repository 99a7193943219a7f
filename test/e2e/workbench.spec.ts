// The walk an analyst takes through the demo case: drivers, the hooked driver's IRP table, the
// flow diagram with the hooked node marked, the handler's bytes in the hex view, an inline patch,
// hostile names, the baseline comparison, and the keyboard.

import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { bytesAt, demoTruth } from './support/truth';

const truth = demoTruth();
const HOSTILE = truth.drivers.find((d) => d.hidden)!.name;
/** The rootkit's image ("netfltx.sys") and base name, as the builder chose them for this seed. */
const ROOTKIT_MODULE = truth.drivers.find((d) => d.hidden)!.module!;
const ROOTKIT = ROOTKIT_MODULE.replace(/\.sys$/, '');

async function openDriver(page: Page, name: string): Promise<void> {
  await page.click('[data-testid="nav-drivers"]');
  await page.fill('[data-testid="table-drivers"] input.filter', name);
  const row = page.locator('[data-testid="table-body-drivers"] [role="row"]', { hasText: name }).first();
  await row.click();
  await expect(page.locator('[data-testid="driver-detail"] h3')).toHaveText(name);
}

/** The 16 bytes shown on the hex row holding the cursor. */
async function cursorRow(page: Page): Promise<string[]> {
  const row = page.locator('.hex-row', { has: page.locator('.b.cursor') }).first();
  await expect(row.locator('.bytes .b.loading')).toHaveCount(0);
  return row.locator('.bytes .b').allInnerTexts();
}

test('the demo case opens with both images and the drivers the builder made', async ({ workbench: page }) => {
  await expect(page.locator('[data-testid="session-tab"]')).toHaveCount(2);
  await expect(page.locator('[data-testid="session-tab"][data-role="baseline"]')).toContainText(
    'Demo: clean baseline',
  );
  await expect(page.locator('[data-testid="session-tab"].active')).toContainText('Demo: infected system');
  await expect(page.locator('[data-testid="severity-critical"]')).toContainText(
    String(truth.findings.filter((f) => f.severity === 'critical').length),
  );

  await page.click('[data-testid="nav-drivers"]');
  const total = truth.drivers.length + truth.staleDrivers.length;
  await expect(page.locator('[data-testid="table-drivers"] .count')).toHaveText(`${total} drivers`);
  for (const driver of truth.drivers
    .filter((d) => !d.hidden)
    .slice(0, 60)
    .filter((_, i) => i % 6 === 0)) {
    await page.fill('[data-testid="table-drivers"] input.filter', driver.name);
    await expect(
      page.locator('[data-testid="table-body-drivers"] [role="row"]', { hasText: driver.name }).first(),
    ).toBeVisible();
  }
});

test('the hooked driver: its hooked IRP entries, the flow diagram, the handler bytes', async ({
  workbench: page,
}) => {
  const hooked = truth.irp.filter((h) => h.driver === '\\Driver\\Disk' && h.verdict === 'other-module');
  expect(hooked.map((h) => h.name)).toEqual(['IRP_MJ_DEVICE_CONTROL', 'IRP_MJ_INTERNAL_DEVICE_CONTROL']);

  await openDriver(page, '\\Driver\\Disk');
  await expect(page.locator('[data-testid="irp-hooked-count"]')).toHaveText('2 suspicious entries ›');
  const rows = page.locator('[data-testid="table-body-irp"] .tr.suspicious');
  await expect(rows).toHaveCount(2);
  // The count steps through the suspicious entries, wrapping round.
  const selectedEntry = page.locator('[data-testid="table-body-irp"] .tr[aria-selected="true"]');
  for (const handler of [...hooked, hooked[0]!]) {
    await page.click('[data-testid="irp-hooked-count"]');
    await expect(selectedEntry).toContainText(handler.name);
  }
  for (const [i, handler] of hooked.entries()) {
    await expect(rows.nth(i)).toContainText(handler.name);
    await expect(rows.nth(i).locator('[data-verdict="other-module"]')).toBeVisible();
    await expect(rows.nth(i)).toContainText(handler.owner!);
  }

  await page.click('[data-testid="driver-detail"] button:has-text("Flow diagram")');
  await page.click('[data-testid="flow-op-DeviceIoControl"]');
  const hookedNode = page.locator('[data-testid="flow-node-dispatch"][data-suspicious="true"]', {
    hasText: 'Disk IRP_MJ_DEVICE_CONTROL',
  });
  await expect(hookedNode).toBeVisible();
  await expect(
    page.locator('[data-testid="flow-node-module"][data-suspicious="true"]', { hasText: ROOTKIT_MODULE }),
  ).toBeVisible();
  // Layers that are not hooked are not marked.
  await expect(
    page.locator('[data-testid="flow-node-dispatch"][data-suspicious="false"]').first(),
  ).toBeVisible();

  await hookedNode.click();
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();
  const address = hooked[0]!.handler;
  await expect(page.locator('[data-testid="hex-status"]')).toContainText(BigInt(address).toString(16));
  const expected = bytesAt(address, 16);
  const offset = Number(BigInt(address) & 0xfn);
  expect((await cursorRow(page)).slice(offset)).toEqual(
    bytesAt(`0x${(BigInt(address) - BigInt(offset)).toString(16)}`, 16).slice(offset),
  );
  expect(expected.length).toBe(16);
  await expect(page.locator('[data-testid="code-disassembly"]')).toContainText(BigInt(address).toString(16));
});

test('an inline-patched routine shows its patch bytes and where it jumps', async ({ workbench: page }) => {
  const patched = truth.irp.find((h) => h.driver === '\\FileSystem\\Ntfs' && h.verdict === 'inline-patched')!;
  await openDriver(page, '\\FileSystem\\Ntfs');
  const row = page.locator('[data-testid="table-body-irp"] .tr', { hasText: patched.name }).first();
  await expect(row.locator('[data-verdict="inline-patched"]')).toBeVisible();
  await expect(row).toContainText(/jmp/);
  await row.locator('.link.address').first().click();
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();
  const bytes = bytesAt(patched.handler, 5);
  expect(bytes[0]).toBe('e9'); // jmp rel32, the patch the builder wrote
  const offset = Number(BigInt(patched.handler) & 0xfn);
  const shown = await cursorRow(page);
  expect(shown.slice(offset, offset + Math.min(5, 16 - offset))).toEqual(
    bytes.slice(0, Math.min(5, 16 - offset)),
  );
  await expect(page.locator('[data-testid="code-disassembly"]')).toContainText('jmp');
});

test('hostile driver names are shown as text, control characters escaped, nothing executed', async ({
  workbench: page,
  dialogs,
}) => {
  await page.click('[data-testid="nav-drivers"]');
  await page.fill('[data-testid="table-drivers"] input.filter', ROOTKIT);
  const row = page.locator('[data-testid="table-body-drivers"] [role="row"]').first();
  await expect(row).toContainText(`${ROOTKIT}<img src=x onerror=alert(1)>"'&\\u0007\\u001b[31m`);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  await page.click('[data-testid="nav-findings"]');
  await expect(page.locator('[data-testid="table-body-findings"]')).toContainText(
    '<img src=x onerror=alert(1)>',
  );
  await page.click('[data-testid="nav-devices"]');
  await page.fill('[data-testid="view-devices"] input.filter', 'KeyboardClass0');
  await page.click('[data-testid="device-tree"] .tree-row.device');
  await expect(page.locator('[data-testid="stack-layer"]').first()).toContainText(`${ROOTKIT}<img`);
  await expect(page.locator('[data-testid="stack-layer"].suspicious').first()).toBeVisible();
  expect(HOSTILE).toContain('\u0007');
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  expect(dialogs).toEqual([]);
});

test('keyboard: tables, views, go to address, back and forward', async ({ workbench: page }) => {
  await page.keyboard.press('Alt+2');
  await expect(page.locator('[data-testid="view-drivers"]')).toBeVisible();
  await page.focus('[data-testid="table-body-drivers"]');
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const selected = page.locator('[data-testid="table-body-drivers"] [aria-selected="true"]');
  await expect(selected).toHaveCount(1);
  const name = (await selected.locator('.td').nth(1).innerText()).trim();
  await expect(page.locator('[data-testid="driver-detail"] h3')).toHaveText(name);
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-testid="table-body-irp"]')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(page.locator('[data-testid="table-body-irp"] [aria-selected="true"]')).toHaveCount(1);

  await page.keyboard.press('Alt+5');
  await expect(page.locator('[data-testid="view-findings"]')).toBeVisible();
  await page.keyboard.press('Control+g');
  await page.keyboard.type(truth.kernelBase);
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();
  await expect(page.locator('[data-testid="hex-status"]')).toContainText(
    BigInt(truth.kernelBase).toString(16),
  );
  // The kernel image starts with its PE header.
  expect((await cursorRow(page)).slice(0, 2)).toEqual(['4d', '5a']);
  await page.keyboard.press('Alt+ArrowLeft');
  await expect(page.locator('[data-testid="view-findings"]')).toBeVisible();
  await page.keyboard.press('Alt+ArrowRight');
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();

  // The flow diagram: Tab walks from the operations into the nodes, Enter opens the focused one.
  const hooked = truth.irp.find(
    (h) =>
      h.driver === '\\Driver\\Disk' && h.name === 'IRP_MJ_DEVICE_CONTROL' && h.verdict === 'other-module',
  )!;
  await page.keyboard.press('Alt+7');
  await expect(page.locator('[data-testid="flow-node-dispatch"]').first()).toBeVisible();
  await page.focus('[data-testid="flow-op-DeviceIoControl"]');
  await page.keyboard.press('Enter');
  const focusedText = async () => (await page.locator(':focus').textContent()) ?? '';
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = (await focusedText()).includes('Disk IRP_MJ_DEVICE_CONTROL');
  }
  expect(reached).toBe(true);
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();
  await expect(page.locator('[data-testid="hex-status"]')).toContainText(BigInt(hooked.handler).toString(16));
});

test('every address is a link to the hex view and names link to their rows', async ({ workbench: page }) => {
  await openDriver(page, '\\Driver\\Disk');
  await page.locator('[data-testid="driver-detail"] .link', { hasText: 'disk.sys' }).first().click();
  await expect(page.locator('[data-testid="view-modules"]')).toBeVisible();
  await expect(page.locator('[data-testid="table-body-modules"] [aria-selected="true"]')).toContainText(
    'disk.sys',
  );
  await page
    .locator('[data-testid="table-body-modules"] [aria-selected="true"] .link.address')
    .first()
    .click();
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();
  expect((await cursorRow(page)).slice(0, 2)).toEqual(['4d', '5a']);
});
