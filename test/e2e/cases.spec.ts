// A case reopened and signed: the analyst marks a finding, names themself and notes the case, the
// export dialog previews exactly that, the PDF is saved, and the image closed and opened again
// comes back from its case at once with everything kept. Runs its own web-mode server over an
// empty data folder, so the case is new at the start.

import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { MAX_NOTE_LENGTH } from '../../src/common/api';
import { expect, isElectron, test } from './support/fixtures';
import { startOwnServer, type OwnServer } from './support/own-server';
import { DATA, DEMO } from './support/paths';

const DATA_FOLDER = join(DATA, 'e2e-cases');
const IMAGE_FOLDER = join(DEMO, 'infected');
const ANALYST = 'Dana <b>Scully</b>';
const CASE_NOTE = 'Case 2026-117: host FIN-WS04, sample detonated 09:14 UTC';
const FINDING_NOTE = 'IRP table overwritten: matches the dropper <script>x</script>';

let server: OwnServer;

test.beforeAll(async () => {
  rmSync(DATA_FOLDER, { recursive: true, force: true });
  server = await startOwnServer({ dataDirectory: DATA_FOLDER });
});
test.afterAll(async () => {
  await server?.close();
  rmSync(DATA_FOLDER, { recursive: true, force: true });
});

/** The workbench of this spec's server, with the infected demo image opened and analysed. */
async function openInfected(page: Page): Promise<void> {
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="session-tabs"]');
  await page.keyboard.press('Control+o');
  await page.fill('[data-testid="browse-path"]', IMAGE_FOLDER);
  await page.keyboard.press('Enter');
  await page.dblclick('[data-testid="file-row"]:has-text("image.raw")');
  await expect(page.locator('[data-testid="view-overview"]')).toBeVisible({ timeout: 120_000 });
}

test('annotations, analyst and notes are kept in the case, previewed, printed and reopened', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  await openInfected(page);
  const card = page.locator('[data-testid="case-card"]');
  await expect(card).toContainText('analysed');
  await expect(card.locator('[data-testid="case-note"]')).toHaveCount(0);

  // The analyst's verdict on the first (most severe) finding.
  await page.click('[data-testid="nav-findings"]');
  const first = page.locator('[data-testid="table-body-findings"] [role="row"]').first();
  await first.click();
  const editor = page.locator('[data-testid="annotation-editor"]');
  await editor.locator('button:has-text("Suspicious")').click();
  await expect(editor.locator('button:has-text("Suspicious")')).toHaveAttribute('aria-pressed', 'true');
  await editor.locator('textarea').fill(FINDING_NOTE);
  await editor.locator('textarea').blur();
  await expect(first.locator('[data-testid="annotation-badge"]')).toHaveText('Suspicious ✎');
  const findingSubject = (await first.locator('.td').nth(2).innerText()).trim();

  // The analyst and the case notes on the Overview.
  await page.click('[data-testid="nav-overview"]');
  await page.fill('#case-analyst', ANALYST);
  await page.fill('#case-notes', CASE_NOTE);
  await page.locator('#case-notes').blur();
  await page.click('#case-analyst');
  await page.locator('#case-analyst').blur();
  await card.locator('button:has-text("Compute SHA-256")').click();
  await expect(card.locator('[data-testid="case-sha256"]')).toHaveText(/^[0-9a-f]{64}$/, {
    timeout: 60_000,
  });
  const sha256 = (await card.locator('[data-testid="case-sha256"]').innerText()).trim();
  await page.screenshot({ path: testInfo.outputPath('case-overview.png') });

  // The export dialog previews the report with all of it, as text (nothing from the image runs).
  await card.locator('button:has-text("Export report…")').click();
  const preview = page.frameLocator('[data-testid="export-preview"] iframe');
  await expect(preview.locator('body')).toContainText(ANALYST, { timeout: 60_000 });
  await expect(preview.locator('body')).toContainText(CASE_NOTE);
  await expect(preview.locator('body')).toContainText(FINDING_NOTE);
  await expect(preview.locator('body')).toContainText(sha256);
  await expect(preview.locator('b, script')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('export-dialog.png') });

  const downloading = page.waitForEvent('download', { timeout: 120_000 });
  await page.click('button:has-text("Save PDF…")');
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/\.pdf$/);
  const pdf = readFileSync((await download.path())!);
  expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(pdf.length).toBeGreaterThan(50_000);
  await expect(page.locator('[role="dialog"]')).toHaveCount(0);

  // Closed and opened again: ready from the case, with the verdict, analyst, notes and hash.
  await page.locator('[data-testid="session-tab"]', { hasText: 'image.raw' }).locator('button.close').click();
  await expect(page.locator('[data-testid="recent-images"]')).toContainText('infected/image.raw');
  await page.screenshot({ path: testInfo.outputPath('welcome-recent.png') });
  await page.locator('[data-testid="recent-images"] button', { hasText: 'infected/image.raw' }).click();
  await expect(page.locator('[data-testid="view-overview"]')).toBeVisible({ timeout: 10_000 });
  await expect(card.locator('[data-testid="case-note"]')).toContainText('reopened from its case');
  await expect(page.locator('#case-analyst')).toHaveValue(ANALYST);
  await expect(page.locator('#case-notes')).toHaveValue(CASE_NOTE);
  await expect(card.locator('[data-testid="case-sha256"]')).toHaveText(sha256);
  await page.click('[data-testid="nav-findings"]');
  const row = page.locator('[data-testid="table-body-findings"] [role="row"]', { hasText: findingSubject });
  await expect(row.first().locator('[data-testid="annotation-badge"]')).toHaveText('Suspicious ✎');
});

test('a driver saved as a PE file: the download, the message with its hash, the case and the report', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  await openInfected(page);
  await page.click('[data-testid="nav-drivers"]');
  await page.fill('[data-testid="table-drivers"] input.filter', '\\Driver\\Disk');
  await page
    .locator('[data-testid="table-body-drivers"] [role="row"]', { hasText: '\\Driver\\Disk' })
    .first()
    .click();
  const downloading = page.waitForEvent('download');
  await page.click('[data-testid="driver-detail"] [data-testid="save-image"]');
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('disk.sys');
  const file = readFileSync((await download.path())!);
  expect(file.subarray(0, 2).toString('latin1')).toBe('MZ');
  expect(file.toString('latin1', file.readUInt32LE(0x3c), file.readUInt32LE(0x3c) + 4)).toBe('PE\0\0');
  const sha256 = createHash('sha256').update(file).digest('hex');
  await expect(page.locator('.notice[role="status"]').filter({ hasText: sha256 })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('driver-saved.png') });

  await page.click('[data-testid="nav-overview"]');
  await expect(page.locator('[data-testid="case-extractions"]')).toContainText(sha256);
  await page.locator('[data-testid="case-card"] button:has-text("Export report…")').click();
  const preview = page.frameLocator('[data-testid="export-preview"] iframe');
  await expect(preview.locator('body')).toContainText('Extracted images (1)', { timeout: 60_000 });
  await expect(preview.locator('body')).toContainText(sha256);
});

test('the analyst and the notes can be cleared, and every note shows its limit', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  await openInfected(page);
  const sentUpdate = (field: 'analyst' | 'note') =>
    page.waitForRequest(
      (request) =>
        request.url().endsWith('/api/updateCase') &&
        (request.postDataJSON() as { arg: Record<string, unknown> }).arg[field] !== undefined,
    );
  const limit = `/ ${MAX_NOTE_LENGTH.toLocaleString('en-US')} characters`;

  // Overview › Case: a name and a note, then both cleared: the workbench asks to store ''.
  await page.fill('#case-analyst', 'Fox Mulder');
  await page.locator('#case-analyst').blur();
  await expect(page.locator('#case-notes')).toHaveAttribute('maxlength', String(MAX_NOTE_LENGTH));
  const caseNoteLimit = page.locator('[data-testid="case-card"] [data-testid="note-limit"]');
  await page.fill('#case-notes', 'twelve chars');
  await expect(caseNoteLimit).toHaveText(`12 ${limit}`);
  let sent = sentUpdate('analyst');
  await page.fill('#case-analyst', '');
  await page.locator('#case-analyst').blur();
  expect((await sent).postDataJSON().arg.analyst).toBe('');
  sent = sentUpdate('note');
  await page.fill('#case-notes', '');
  await page.locator('#case-notes').blur();
  expect((await sent).postDataJSON().arg.note).toBe('');
  await expect(caseNoteLimit).toHaveText(`0 ${limit}`);

  // Export: the same fields, the same limit.
  await page.locator('[data-testid="case-card"] button:has-text("Export report…")').click();
  await expect(page.locator('#export-note')).toHaveAttribute('maxlength', String(MAX_NOTE_LENGTH));
  await expect(page.locator('[role="dialog"] [data-testid="note-limit"]')).toContainText(limit);
  await page.fill('#export-analyst', 'Dana Scully');
  await page.locator('#export-analyst').blur();
  sent = sentUpdate('analyst');
  await page.fill('#export-analyst', '');
  await page.locator('#export-analyst').blur();
  expect((await sent).postDataJSON().arg.analyst).toBe('');
  await page.click('[role="dialog"] button[aria-label="Close"]');

  // A finding's note.
  await page.click('[data-testid="nav-findings"]');
  // At its severity cell: the middle of a row may be a link that leaves the view.
  await page
    .locator('[data-testid="table-body-findings"] [role="row"]')
    .first()
    .click({ position: { x: 8, y: 8 } });
  const editor = page.locator('[data-testid="annotation-editor"]');
  await expect(editor.locator('textarea')).toHaveAttribute('maxlength', String(MAX_NOTE_LENGTH));
  await editor.locator('textarea').fill('abc');
  await expect(editor.locator('[data-testid="note-limit"]')).toHaveText(`3 ${limit}`);
  await page.screenshot({ path: testInfo.outputPath('note-limit.png') });
});
