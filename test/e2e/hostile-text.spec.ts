// Names from an image that hide or reorder text: the demo's infected image with every UTF-16 name
// "KeyboardClass0" turned into "Keyboard\u202Elass0" (a right-to-left override) and every
// "kbdclass" into "kbd\u200Blass" (a zero-width space), opened from a file whose own name holds an
// override. Every view that shows them — tables, details, the stack, flow nodes and edges, the
// device list, the hex view's structure, the callbacks, the comparison, tab and window titles, tooltips — must
// show the escapes, never the characters themselves. Its own web-mode server with the real engine.

import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, isElectron, test } from './support/fixtures';
import { startOwnServer, type OwnServer } from './support/own-server';
import { DATA, DEMO } from './support/paths';

const FOLDER = join(DATA, 'e2e-hostile-text');
const RLO = '\u202e';
const ZWSP = '\u200b';
const IMAGE_NAME = `evidence-${RLO}war.raw`;

// The page's own objects, for the function that runs in it (this file compiles for Node).
interface PageNode {
  textContent: string | null;
  parentElement: { tagName: string; className: unknown } | null;
}
interface PageElement {
  tagName: string;
  attributes: Iterable<{ name: string; value: string }>;
}
declare const document: {
  title: string;
  body: { querySelectorAll(selector: string): Iterable<PageElement> };
  createTreeWalker(root: unknown, show: number): { nextNode(): PageNode | null };
};
declare const NodeFilter: { SHOW_TEXT: number };

interface Server extends OwnServer {
  backend: { open(request: { path: string; role?: 'primary' | 'baseline' }): Promise<{ id: string }> };
}
let server: Server;

/** Replaces every UTF-16LE occurrence of `from` with `to` (same length) in the file. */
function patchNames(path: string, pairs: Array<[string, string]>): number {
  const bytes = readFileSync(path);
  let count = 0;
  for (const [from, to] of pairs) {
    const needle = Buffer.from(from, 'utf16le');
    const replacement = Buffer.from(to, 'utf16le');
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + needle.length)) {
      replacement.copy(bytes, at);
      count++;
    }
  }
  writeFileSync(path, bytes);
  return count;
}

test.beforeAll(async () => {
  rmSync(FOLDER, { recursive: true, force: true });
  mkdirSync(FOLDER, { recursive: true });
  const image = join(FOLDER, IMAGE_NAME);
  copyFileSync(join(DEMO, 'infected', 'image.raw'), image);
  const patched = patchNames(image, [
    ['KeyboardClass0', `Keyboard${RLO}lass0`],
    ['kbdclass', `kbd${ZWSP}lass`],
    // The framework's module, which registers a bug-check reason callback: its owner in the Callbacks view.
    ['Wdf01000', `Wdf${ZWSP}1000`],
  ]);
  expect(patched).toBeGreaterThan(2);
  server = await startOwnServer<Server>({ dataDirectory: join(FOLDER, 'data') });
});
test.afterAll(async () => {
  await server?.close();
  rmSync(FOLDER, { recursive: true, force: true });
});

/** Every place in the page where the two characters are rendered as themselves. */
async function rawHiddenCharacters(page: Page): Promise<string[]> {
  return page.evaluate(
    ([rlo, zwsp]) => {
      const found: string[] = [];
      const has = (text: string | null | undefined) =>
        !!text && (text.includes(rlo!) || text.includes(zwsp!));
      const where = (node: PageNode) =>
        node.parentElement ? `${node.parentElement.tagName}.${String(node.parentElement.className)}` : '?';
      if (has(document.title)) found.push(`window title: ${JSON.stringify(document.title)}`);
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode())
        // What the analyst typed stays as typed in the box being edited (its escapes are shown beside it).
        if (has(node.textContent) && node.parentElement?.tagName !== 'TEXTAREA')
          found.push(`text in ${where(node)}: ${JSON.stringify(node.textContent)}`);
      for (const element of document.body.querySelectorAll('*'))
        for (const attribute of element.attributes)
          if (has(attribute.value) && !(attribute.name === 'value' && element.tagName === 'INPUT'))
            found.push(`${attribute.name} of ${element.tagName}: ${JSON.stringify(attribute.value)}`);
      return found;
    },
    [RLO, ZWSP],
  );
}

async function expectNoneRaw(page: Page, what: string): Promise<void> {
  // Whatever loads late (Monaco, the flow, tooltips set on hover) is in by the time it is checked.
  await expect.poll(() => rawHiddenCharacters(page), { message: what }).toEqual([]);
}

test('bidi and zero-width characters from the image show as escapes in every view', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  test.setTimeout(240_000);
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="session-tabs"]');
  await server.backend.open({ path: join(DEMO, 'clean', 'image.raw'), role: 'baseline' });
  await server.backend.open({ path: join(FOLDER, IMAGE_NAME) });
  const tab = page.locator('[data-testid="session-tab"]', { hasText: 'evidence-' });
  await expect(tab).toContainText('evidence-\\u202ewar.raw');
  await tab.locator('.tab-label').click();
  await expect(page.locator('[data-testid="view-overview"]')).toBeVisible({ timeout: 120_000 });
  await expectNoneRaw(page, 'overview, tabs, window title');

  await page.click('[data-testid="nav-drivers"]');
  await page.fill('[data-testid="table-drivers"] input.filter', 'kbd');
  const driver = page
    .locator('[data-testid="table-body-drivers"] [role="row"]', { hasText: '\\u200b' })
    .first();
  await expect(driver).toContainText('kbd\\u200blass');
  await driver.click();
  await driver.locator('.td').nth(1).hover();
  await expectNoneRaw(page, 'drivers and the IRP table');

  await page.click('[data-testid="nav-devices"]');
  await page.fill('[data-testid="view-devices"] input.filter', 'Keyboard');
  await page.locator('[data-testid="device-tree"] .tree-row.device', { hasText: '\\u202e' }).first().click();
  await expect(page.locator('[data-testid="device-detail"] h3')).toContainText('Keyboard\\u202elass0');
  await expectNoneRaw(page, 'devices, the stack');
  for (const operation of ['ReadFile', 'DeviceIoControl']) {
    await page.click(`[data-testid="device-detail"] button:has-text("${operation} flow")`);
    await expect(page.locator('.react-flow__node').first()).toBeVisible();
    await expectNoneRaw(page, `${operation} flow and its device list`);
    await page.click('[data-testid="nav-devices"]');
  }

  await page.click('[data-testid="nav-modules"]');
  await page.fill('[data-testid="table-modules"] input.filter', 'kbd');
  await page
    .locator('[data-testid="table-body-modules"] [role="row"]', { hasText: '\\u200b' })
    .first()
    .click();
  await expectNoneRaw(page, 'modules');

  await page.click('[data-testid="nav-callbacks"]');
  const callback = page
    .locator('[data-testid="table-body-callbacks"] [role="row"]', { hasText: '\\u200b' })
    .first();
  await expect(callback).toContainText('Wdf\\u200b1000.sys');
  await callback.click();
  await expect(page.locator('[data-testid="callback-detail"]')).toContainText('Wdf\\u200b1000.sys');
  await expectNoneRaw(page, 'callbacks');

  await page.click('[data-testid="nav-findings"]');
  await page.fill('[data-testid="table-findings"] input.filter', 'foreign');
  // At its severity cell: the middle of a row may be a link that leaves the view.
  await page
    .locator('[data-testid="table-body-findings"] [role="row"]')
    .first()
    .click({ position: { x: 8, y: 8 } });
  await expectNoneRaw(page, 'findings');

  await page.click('[data-testid="nav-activity"]');
  await page.click('[data-testid="activity-tab-irps"]');
  await page.locator('[data-testid="table-body-irps"] [role="row"]', { hasText: '\\u202e' }).first().click();
  await expectNoneRaw(page, 'IRPs in flight');
  await page.click('[data-testid="activity-tab-processes"]');
  await page.locator('[data-testid="table-body-processes"] [role="row"]', { hasText: 'csrss' }).click();
  await expectNoneRaw(page, 'processes and threads');
  await page.click('[data-testid="activity-tab-irps"]');
  await page.locator('[data-testid="table-body-irps"] [role="row"]', { hasText: '\\u202e' }).first().click();
  await page.click('[data-testid="irp-flow"]');
  await expect(page.locator('[data-testid="flow-node-completion"]')).toBeVisible();
  await expectNoneRaw(page, 'the flow from the pending read');

  // The driver object decoded over its bytes: the side table and the Monaco pane.
  await page.click('[data-testid="nav-drivers"]');
  await page.fill('[data-testid="table-drivers"] input.filter', 'kbd');
  await page
    .locator('[data-testid="table-body-drivers"] [role="row"]', { hasText: '\\u200b' })
    .first()
    .click();
  await page.locator('[data-testid="driver-detail"] .detail-head .link.address').first().click();
  await expect(page.locator('[data-testid="structure-fields"]')).toContainText('\\u200b');
  await expect(page.locator('[data-testid="code-structure"] .view-line').first()).toBeVisible();
  await page.locator('[data-testid="hex-grid"] .b.f1').first().hover();
  await expectNoneRaw(page, 'hex view and decoded structure');

  await page.click('[data-testid="nav-diff"]');
  await page
    .locator('[data-testid="table-body-diff-differences"] [role="row"]', { hasText: '\\u202e' })
    .first()
    .click();
  await expect(page.locator('[data-testid="diff-stacks"]')).toBeVisible();
  await expectNoneRaw(page, 'the comparison');
  await page.click('[data-testid="diff-tab-devices"]');
  await page.fill('[data-testid="table-diff-devices"] input.filter', 'Keyboard');
  await expectNoneRaw(page, 'the aligned devices');
  await page.screenshot({ path: testInfo.outputPath('hostile-diff.png') });

  // A note (an analyst's, or one from a case file) with the same characters: escaped beside its
  // box and in the badge's tooltip.
  await page.click('[data-testid="nav-findings"]');
  // At its severity cell: the middle of a row may be a link that leaves the view.
  await page
    .locator('[data-testid="table-body-findings"] [role="row"]')
    .first()
    .click({ position: { x: 8, y: 8 } });
  const editor = page.locator('[data-testid="annotation-editor"]');
  await editor.locator('textarea').fill(`see evil${RLO}gpj.exe and ${ZWSP}`);
  await expect(editor.locator('[data-testid="hidden-characters"]')).toContainText(
    'see evil\\u202egpj.exe and \\u200b',
  );
  await editor.locator('button:has-text("To check")').click();
  // The row the note is on: the selected one (the table may have scrolled the first out of sight).
  const badge = page
    .locator('[data-testid="table-body-findings"] [role="row"][aria-selected="true"]')
    .locator('[data-testid="annotation-badge"]');
  await expect(badge).toHaveAttribute('title', 'see evil\\u202egpj.exe and \\u200b');
  await expectNoneRaw(page, 'a note');

  await page.click('button:has-text("Export…")');
  await expect(page.locator('[role="dialog"]')).toBeVisible();
  await page.fill('#export-analyst', `Agent ${RLO}yknaF`);
  await expect(page.locator('[role="dialog"] [data-testid="hidden-characters"]')).toContainText(
    'Agent \\u202eyknaF',
  );
  await expectNoneRaw(page, 'the export dialog');
  await page.screenshot({ path: testInfo.outputPath('hostile-export.png') });
});
