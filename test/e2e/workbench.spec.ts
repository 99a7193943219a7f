// The walk an analyst takes through the demo case: drivers, the hooked driver's IRP table, the
// flow diagram with the hooked node marked, the handler's bytes in the hex view, an inline patch,
// hostile names, the baseline comparison, and the keyboard.

import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { bytesAt, bytesIfMapped, demoTruth, patchTarget, shownAddress, shownAs } from './support/truth';

const truth = demoTruth();
const clean = demoTruth('clean');
const HOSTILE = truth.drivers.find((d) => d.hidden)!.name;
/** The rootkit's image ("netfltx.sys") and base name, as the builder chose them for this seed. */
const ROOTKIT_MODULE = truth.drivers.find((d) => d.hidden)!.module!;
const ROOTKIT = ROOTKIT_MODULE.replace(/\.sys$/, '');

/** Whether text holds a C0/C1 control character, which the workbench must never show raw. */
function hasControl(text: string): boolean {
  return [...text].some(
    (c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f),
  );
}

async function openDriver(page: Page, name: string): Promise<void> {
  await page.click('[data-testid="nav-drivers"]');
  await page.fill('[data-testid="table-drivers"] input.filter', name);
  const row = page.locator('[data-testid="table-body-drivers"] [role="row"]', { hasText: name }).first();
  await row.click();
  await expect(page.locator('[data-testid="driver-detail"] h3')).toHaveText(name);
}

/** The entries of a driver's tables that the rootkit changed: their verdict differs from the clean boot's. */
function hookedEntries(driver: string) {
  const before = new Map(clean.irp.filter((h) => h.driver === driver).map((h) => [h.name, h.verdict]));
  return truth.irp.filter((h) => h.driver === driver && before.get(h.name) !== h.verdict);
}

/**
 * The hex view is at `va`, and the row holding its cursor shows the image's own 16 bytes there —
 * or, where the image does not hold the page (driver code paged out), says so.
 */
async function expectHexAt(page: Page, va: string): Promise<void> {
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();
  await expect(page.locator('[data-testid="hex-status"]')).toContainText(BigInt(va).toString(16));
  const bytes = bytesIfMapped(`0x${(BigInt(va) & ~0xfn).toString(16)}`, 16);
  expect(await cursorRow(page), va).toEqual(bytes ?? Array<string>(16).fill('??'));
  if (!bytes) await expect(page.locator('[data-testid="hex-status"]')).toContainText('page unmapped');
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
  const hooked = hookedEntries('\\Driver\\Disk');
  const ioctl = hooked.find((h) => h.name === 'IRP_MJ_DEVICE_CONTROL');
  expect(ioctl, 'the demo hooks the device control entry the flow below follows').toBeDefined();

  await openDriver(page, '\\Driver\\Disk');
  await expect(page.locator('[data-testid="irp-hooked-count"]')).toHaveText(
    `${hooked.length} suspicious ${hooked.length === 1 ? 'entry' : 'entries'} ›`,
  );
  const rows = page.locator('[data-testid="table-body-irp"] .tr.suspicious');
  await expect(rows).toHaveCount(hooked.length);
  // The count steps through the suspicious entries, wrapping round.
  const selectedEntry = page.locator('[data-testid="table-body-irp"] .tr[aria-selected="true"]');
  for (const handler of [...hooked, hooked[0]!]) {
    await page.click('[data-testid="irp-hooked-count"]');
    await expect(selectedEntry).toContainText(handler.name);
  }
  for (const [i, handler] of hooked.entries()) {
    await expect(rows.nth(i)).toContainText(handler.name);
    await expect(rows.nth(i).locator(`[data-verdict="${handler.verdict}"]`)).toBeVisible();
    await expect(rows.nth(i)).toContainText(handler.owner!);
    await expect(rows.nth(i)).toContainText(shownAddress(handler.handler));
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
  // The node opens the hooked routine itself: the image's bytes at the handler the truth names.
  await expectHexAt(page, ioctl!.handler);
  await expect(page.locator('[data-testid="code-disassembly"]')).toContainText(
    BigInt(ioctl!.handler).toString(16),
  );
});

test('an inline-patched routine shows its patch bytes and where it jumps', async ({ workbench: page }) => {
  const patched = truth.irp.find((h) => h.driver === '\\FileSystem\\Ntfs' && h.verdict === 'inline-patched')!;
  // Where the patch goes, decoded here from the image's bytes: into the rootkit's module.
  const target = patchTarget(patched.handler, bytesAt(patched.handler, 6));
  expect(target, 'a jmp rel32 or push/ret patch').not.toBeNull();
  const rootkit = truth.modules.find((m) => m.name === ROOTKIT_MODULE)!;
  const into = BigInt(target!) - BigInt(rootkit.base);
  expect(into >= 0n && into < BigInt(rootkit.size), `${target} in ${ROOTKIT_MODULE}`).toBe(true);

  await openDriver(page, '\\FileSystem\\Ntfs');
  const row = page.locator('[data-testid="table-body-irp"] .tr', { hasText: patched.name }).first();
  await expect(row.locator('[data-verdict="inline-patched"]')).toBeVisible();
  await expect(row.locator('.patch-target')).toHaveText(`→ ${shownAddress(target!)} ${ROOTKIT_MODULE}`);
  await expect(row).toContainText(/jmp/);
  await row.locator('.link.address').first().click();
  await expectHexAt(page, patched.handler);
  // Its first instruction, disassembled: the jump to that target (hex in either case).
  await expect(page.locator('[data-testid="code-disassembly"]')).toContainText(
    new RegExp(
      `^\\s*${BigInt(patched.handler).toString(16)}\\s+jmp\\s+(?:0x)?0*${BigInt(target!).toString(16)}(?![0-9a-f])`,
      'i',
    ),
  );
});

test('hostile driver names are shown as text, control characters escaped, nothing executed', async ({
  workbench: page,
  dialogs,
}) => {
  await page.click('[data-testid="nav-drivers"]');
  await page.fill('[data-testid="table-drivers"] input.filter', ROOTKIT);
  const row = page.locator('[data-testid="table-body-drivers"] [role="row"]').first();
  // The whole name as text, each control character as a visible escape, none of them raw.
  await expect(row).toContainText(shownAs(HOSTILE));
  expect(hasControl((await row.textContent())!)).toBe(false);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  await page.click('[data-testid="nav-findings"]');
  await expect(page.locator('[data-testid="table-body-findings"]')).toContainText(shownAs(HOSTILE));
  expect(hasControl((await page.locator('[data-testid="table-body-findings"]').textContent())!)).toBe(false);
  await page.click('[data-testid="nav-devices"]');
  await page.fill('[data-testid="view-devices"] input.filter', 'KeyboardClass0');
  await page.click('[data-testid="device-tree"] .tree-row.device');
  // The rootkit's filter sits on top of the keyboard stack, marked, under its escaped name.
  const top = page.locator('[data-testid="stack-layer"]').first();
  await expect(top).toContainText(shownAs(HOSTILE));
  await expect(top).toHaveClass(/suspicious/);
  expect(hasControl((await page.locator('[data-testid="device-detail"]').textContent())!)).toBe(false);
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
  test.setTimeout(120_000);
  const disk = truth.drivers.find((d) => d.name === '\\Driver\\Disk')!;
  const entries = [...truth.irp, ...truth.fastIo, ...truth.callbacks].filter((h) => h.driver === disk.name);
  const detail = page.locator('[data-testid="driver-detail"]');
  /** The driver, its IRP table narrowed to one entry (rows are drawn only as they scroll into view). */
  const show = async (entry: string | undefined) => {
    await openDriver(page, disk.name);
    if (entry) await page.fill('[data-testid="table-irp"] input.filter', entry);
  };

  // The object, the image and every handler the truth has: each opens the image's bytes there.
  const addresses = new Map<string, string | undefined>([
    [disk.objectVa, undefined],
    [disk.start, undefined],
  ]);
  for (const h of entries) if (!addresses.has(h.handler)) addresses.set(h.handler, h.name);
  for (const [va, entry] of addresses) {
    await show(entry);
    const link = detail.locator('.link.address', { hasText: shownAddress(va) }).first();
    await expect(link, `${entry ?? 'the driver'}: ${va} as a link`).toBeVisible();
    await link.click();
    await expectHexAt(page, va);
  }

  // The driver's module and every handler's owner: each opens its row, at the truth's base.
  const owners = new Map<string, string | undefined>([[disk.module!, undefined]]);
  for (const h of entries) if (h.owner && !owners.has(h.owner)) owners.set(h.owner, h.name);
  expect(owners.size, 'handlers in other modules than the driver').toBeGreaterThan(1);
  for (const [name, entry] of owners) {
    await show(entry);
    const named = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\+0x[0-9a-f]+)?$`);
    const link = detail.locator('button.link:not(.address)', { hasText: named }).first();
    await expect(link, `${entry ?? 'the driver'}: ${name} as a link`).toBeVisible();
    await link.click();
    await expect(page.locator('[data-testid="view-modules"]')).toBeVisible();
    const selected = page.locator('[data-testid="table-body-modules"] [aria-selected="true"]');
    await expect(selected).toContainText(name);
    await expect(selected).toContainText(shownAddress(truth.modules.find((m) => m.name === name)!.base));
  }

  // Every device of the driver opens its own row: the one at the truth's address, with its name.
  const opened: string[] = [];
  for (let i = 0; i < disk.devices.length; i++) {
    await show(undefined);
    await detail.locator('.tabs button', { hasText: 'Devices' }).click();
    await detail.locator('.plain-list li .link').nth(i).click();
    const shown = page.locator('[data-testid="device-detail"]');
    await expect(shown).toBeVisible();
    const va = (await shown.locator('.detail-head .link.address').innerText()).trim();
    const device = disk.devices.find((d) => shownAddress(d.objectVa) === va);
    expect(device, `device ${va} is one of ${disk.name}'s`).toBeDefined();
    if (device!.name && device!.nameResident) await expect(shown.locator('h3')).toHaveText(device!.name);
    opened.push(device!.objectVa);
  }
  expect(opened.sort()).toEqual(disk.devices.map((d) => d.objectVa).sort());
});
