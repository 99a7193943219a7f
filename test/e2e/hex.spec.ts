// The hex view never waits forever: an address the image's address space cannot hold is refused
// with the reason (an x64 address on the x86 demo case), and a read that fails — the backend's
// error, or an answer without the page asked for — ends "loading" with its reason.

import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { cutShort } from './support/geometry';
import { demoTruth } from './support/truth';

const truth = demoTruth();
const X64_ADDRESS = 'fffff803`12345678';

async function openHex(page: Page, address: string): Promise<void> {
  await page.keyboard.press('Control+g');
  await page.fill('[data-testid="goto-input"]', address);
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();
  await expect(page.locator('[data-testid="hex-status"]')).toContainText(BigInt(address).toString(16));
}

test('an x64 address on an x86 image is refused with the reason, in Go to and in the address box', async ({
  workbench: page,
}) => {
  expect(truth.arch).toBe('x86');
  await page.keyboard.press('Control+g');
  await page.fill('[data-testid="goto-input"]', X64_ADDRESS);
  await expect(page.locator('[data-testid="goto-problem"]')).toHaveText(
    "0xfffff80312345678 is wider than this image's 32-bit virtual address space (0 … 0xffffffff).",
  );
  await expect(page.locator('[data-testid="goto-go"]')).toBeDisabled();
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-testid="goto-input"]')).toBeVisible();
  await page.selectOption('[aria-label="Space"]', 'physical');
  await expect(page.locator('[data-testid="goto-problem"]')).toContainText(
    "is past the end of this image's physical address space",
  );
  await page.keyboard.press('Escape');

  await openHex(page, truth.kernelBase);
  await page.fill('[data-testid="hex-address"]', X64_ADDRESS);
  await page.keyboard.press('Enter');
  await expect(page.locator('.notice.error')).toContainText(
    "0xfffff80312345678 is wider than this image's 32-bit virtual address space",
  );
  await expect(page.locator('[data-testid="hex-status"]')).toContainText(
    BigInt(truth.kernelBase).toString(16),
  );
  await expect(page.locator('[data-testid="hex-status"]')).not.toContainText('loading');
});

test('a read that fails ends the loading state with its reason', async ({ workbench: page }) => {
  await page.route('**/api/readMemory', (route) =>
    route.fulfill({ json: { ok: false, error: { message: 'the session worker stopped' } } }),
  );
  await openHex(page, truth.psLoadedModuleList);
  const status = page.locator('[data-testid="hex-status"]');
  await expect(status).toContainText('not read: the session worker stopped');
  await expect(status).not.toContainText('loading');
  await expect(page.locator('[data-testid="hex-grid"] .b.loading')).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath('hex-read-failed.png') });

  // An answer without the pages asked for is a failure too, not a page still to come.
  await page.unroute('**/api/readMemory');
  await page.route('**/api/readMemory', async (route) => {
    const request = route.request().postDataJSON() as { arg: { address: string } };
    await route.fulfill({
      json: {
        ok: true,
        value: {
          space: 'virtual',
          address: request.arg.address,
          bytes: '',
          pages: [],
          spaceSize: '0x100000000',
        },
      },
    });
  });
  await openHex(page, truth.kernelBase);
  await expect(status).toContainText('not read: the answer held no page');
  await expect(page.locator('[data-testid="hex-grid"] .b.loading')).toHaveCount(0);
  await page.unroute('**/api/readMemory');
});

test('the decoded structure shows every value whole', async ({ workbench: page }) => {
  // The rootkit's driver: the longest name of the demo case.
  const rootkit = truth.drivers.find((d) => d.hidden)!;
  await page.click('[data-testid="nav-drivers"]');
  await page.fill('[data-testid="table-drivers"] input.filter', rootkit.module!.replace(/\.sys$/, ''));
  await page.locator('[data-testid="table-body-drivers"] [role="row"]').first().click();
  await page
    .locator('[data-testid="driver-detail"] .detail-head .link.address', {
      hasText: BigInt(rootkit.objectVa).toString(16),
    })
    .first()
    .click();
  const values = page.locator('[data-testid="structure-fields"] td:nth-child(3)');
  await expect(values.first()).toBeVisible();
  await expect(page.locator('[data-testid="structure-fields"] tr', { hasText: 'DriverName' })).toContainText(
    '<img src=x onerror=alert(1)>',
  );
  // The text of each field's name and value ends inside its cell (measured as laid out, unclipped).
  const cut = await cutShort(
    page.locator('[data-testid="structure-fields"] td, [data-testid="structure-fields"] td .link'),
  );
  expect(cut).toEqual([]);
  // The decoded structure pane wraps its lines instead of cutting them at its edge.
  const pane = page.locator('[data-testid="code-structure"] .monaco-editor');
  await expect(pane.locator('.view-line', { hasText: 'DriverName' })).toBeVisible();
  const overflowing = await pane.evaluate((editor) => {
    const right = editor.getBoundingClientRect().right;
    return [...editor.querySelectorAll('.view-line > span')]
      .filter((span) => span.getBoundingClientRect().right > right + 1)
      .map((span) => span.textContent);
  });
  expect(overflowing).toEqual([]);
  await page.screenshot({ path: test.info().outputPath('structure.png') });
});
