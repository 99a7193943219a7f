// The other doors into the kernel in the workbench (issue 22): the default infected image, whose
// rootkit planted a process-notify routine in pool code, an image-load notify routine and a
// registry callback in its unlinked module, a shutdown notification on its device, a process
// object callback, a System thread and a timer DPC in pool code and the system-call gate of every
// processor. The Callbacks view lists every
// callback of the builder's truth with its owner and verdict, the planted ones marked; its filters
// narrow the list; a finding opens its callback's evidence; the rootkit driver's detail lists its
// registrations. The clean image of the same system is shown for comparison (screenshots).
// Its own web-mode server and data folder; the images are built here.

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { buildImage, type Truth } from '../../src/builder/index';
import { CALLBACK_LABELS } from '../../src/common/callback-labels';
import type { CallbackKind } from '../../src/common/model';
import { expect, isElectron, test } from './support/fixtures';
import { openImageFile, startOwnServer, type OwnServer } from './support/own-server';
import { DATA } from './support/paths';
import { callbackEntryCount } from './support/truth';
import { firstBytesOf, plantedCallbackRows } from '../support/planted';
import { truthModuleAt, truthPlantedCallbackEntries } from '../support/truth';

const FOLDER = join(DATA, 'e2e-callbacks');
let server: OwnServer;
let truth: Truth;
let cleanTruth: Truth;

function build(scenario: 'clean' | 'infected'): Truth {
  const out = join(FOLDER, scenario);
  buildImage({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario,
    size: 64 * 1024 * 1024,
    seed: 5,
    boot: scenario === 'clean' ? 1 : 2,
    fill: 'zero',
    out,
  });
  return JSON.parse(readFileSync(join(out, 'truth.json'), 'utf8')) as Truth;
}

test.beforeAll(async () => {
  rmSync(FOLDER, { recursive: true, force: true });
  mkdirSync(FOLDER, { recursive: true });
  cleanTruth = build('clean');
  truth = build('infected');
  server = await startOwnServer({ dataDirectory: join(FOLDER, 'data') });
});
test.afterAll(async () => {
  await server?.close();
  rmSync(FOLDER, { recursive: true, force: true });
});

const view = (page: Page) => page.locator('[data-testid="view-callbacks"]');
const row = (page: Page, entry: string) =>
  page.locator(`[data-testid="table-body-callbacks"] [role="row"][data-row-id="${entry}"]`);
/** An x86 address as the workbench shows it: eight hex digits, no 0x. */
const shown = (address: string) => BigInt(address).toString(16).padStart(8, '0');
const count = (page: Page) => page.locator('[data-testid="table-callbacks"] .table-toolbar .count');

test('every callback of the truth with its owner and verdict; filters; a finding opens its evidence; a driver lists its registrations', async ({
  page,
}, testInfo) => {
  test.skip(isElectron(testInfo), 'drives a second web-mode server');
  const registered = truth.registeredCallbacks;
  const planted = registered.filter((c) => c.planted);
  // Four notify routines and callbacks, and the process object callback protecting its process.
  expect(planted).toHaveLength(5);
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="session-tabs"]');

  await openImageFile(page, join(FOLDER, 'clean'), 'image.raw');
  await page.click('[data-testid="nav-callbacks"]');
  await expect(view(page)).toBeVisible();
  await expect(page.locator('[data-testid="callbacks-suspicious-count"]')).toHaveText(
    'every routine lies in its own module',
  );
  await page.screenshot({ path: testInfo.outputPath('callbacks-clean.png') });

  await openImageFile(page, join(FOLDER, 'infected'), 'image.raw');
  await page.click('[data-testid="nav-callbacks"]');
  const everyEntry = callbackEntryCount(truth);
  await expect(count(page)).toHaveText(`${everyEntry} callbacks`);

  // Each head where the truth put it.
  for (const head of truth.callbackHeads) {
    const card = page.locator(`[data-testid="callback-head-${head.kind}"]`);
    await expect(card).toContainText(CALLBACK_LABELS[head.kind as CallbackKind]);
    await expect(card).toContainText(shown(head.address));
    await expect(card).toContainText(String(registered.filter((c) => c.kind === head.kind).length));
  }

  // Every registered routine: its kind, owner and verdict; the planted ones marked with their finding.
  for (const callback of registered) {
    const line = row(page, callback.entry);
    const what = `${callback.kind} slot ${callback.slot}`;
    await expect(line, what).toContainText(CALLBACK_LABELS[callback.kind as CallbackKind]);
    await expect(line, what).toContainText(shown(callback.routine));
    await expect(line, what).toContainText(callback.owner ?? 'no module');
    await expect(line.locator('[data-verdict]'), what).toHaveAttribute(
      'data-verdict',
      callback.owner === null ? 'no-module' : 'own-image',
    );
    if (callback.planted) {
      await expect(line, what).toHaveClass(/suspicious/);
      await expect(line, what).toContainText(/callback-(no-module|hidden-module)/);
    } else {
      await expect(line, what).not.toHaveClass(/suspicious/);
    }
  }
  // The rootkit's driver name (markup, BEL, ESC) on its shutdown notification: text, escaped.
  const rootkitShutdown = row(page, planted.find((c) => c.kind === 'shutdown')!.entry);
  await expect(rootkitShutdown).toContainText('<img src=x');
  await expect(rootkitShutdown).toContainText('\\u0007\\u001b');
  await expect(view(page).locator('img')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('callbacks-infected.png') });

  // The filters: suspicious only (the planted routines, the orphan thread, each processor's hooked
  // gate), then one kind.
  const suspicious = truthPlantedCallbackEntries(truth);
  await page.check('[data-testid="callbacks-suspicious-only"]');
  await expect(count(page)).toHaveText(`${suspicious.length} of ${everyEntry} callbacks`);
  for (const entry of suspicious) await expect(row(page, entry)).toBeVisible();
  await page.uncheck('[data-testid="callbacks-suspicious-only"]');
  await page.selectOption('[data-testid="callbacks-kind"]', 'shutdown');
  const shutdowns = registered.filter((c) => c.kind === 'shutdown');
  await expect(count(page)).toHaveText(`${shutdowns.length} of ${everyEntry} callbacks`);
  for (const callback of shutdowns) await expect(row(page, callback.entry)).toBeVisible();
  // The armed timers: each with its DPC routine and owner; the rootkit's, in pool code, with its period.
  await page.selectOption('[data-testid="callbacks-kind"]', 'timer');
  await expect(count(page)).toHaveText(`${truth.timers.length} of ${everyEntry} callbacks`);
  for (const timer of truth.timers) {
    const line = row(page, timer.timer);
    await expect(line, timer.timer).toContainText(shown(timer.routine));
    await expect(line, timer.timer).toContainText(timer.owner ?? 'no module');
  }
  const plantedTimer = truth.timers.find((t) => t.planted)!;
  await row(page, plantedTimer.timer).click();
  const timerDetail = page.locator('[data-testid="callback-detail"]');
  await expect(timerDetail).toContainText('KTIMER');
  await expect(timerDetail).toContainText(shown(plantedTimer.timer));
  await expect(timerDetail).toContainText('KDPC');
  await expect(timerDetail).toContainText(shown(plantedTimer.dpc));
  await expect(timerDetail).toContainText(`every ${plantedTimer.period} ms`);
  await expect(timerDetail).toContainText('callback-no-module');
  await page.screenshot({ path: testInfo.outputPath('callbacks-timer.png') });
  // A device interrupt's gate: the interrupt object it enters, where its dispatch code goes on to,
  // and the driver's service routine.
  await page.selectOption('[data-testid="callbacks-kind"]', 'idt');
  const connected = truth.idtEntries.find((e) => e.interrupt !== null && e.dispatch !== null)!;
  await page.fill('[data-testid="table-callbacks"] input.filter', connected.owner!);
  await row(page, connected.entry).click();
  const gateDetail = page.locator('[data-testid="callback-detail"]');
  await expect(gateDetail).toContainText(`KINTERRUPT${shown(connected.interrupt!)}`);
  await expect(gateDetail).toContainText(
    `Dispatches to${shown(connected.dispatch!)} ${truthModuleAt(truth, connected.dispatch!)}`,
  );
  await expect(gateDetail).toContainText(shown(connected.routine));
  await page.screenshot({ path: testInfo.outputPath('callbacks-interrupt.png') });
  await page.fill('[data-testid="table-callbacks"] input.filter', '');
  await page.selectOption('[data-testid="callbacks-kind"]', 'all');

  // A finding opens its callback: the pool-code process notify routine, with its evidence.
  const pool = planted.find((c) => c.owner === null)!;
  await page.click('[data-testid="nav-findings"]');
  await page.fill('[data-testid="table-findings"] input.filter', 'callback-no-module');
  await page
    .locator('[data-testid="table-body-findings"] [role="row"]', {
      hasText: BigInt(pool.routine).toString(16),
    })
    .click();
  await page.click('[data-testid="finding-detail"] [data-testid="callback-link"]');
  await expect(view(page)).toBeVisible();
  await expect(page.locator('[data-testid="table-body-callbacks"] [aria-selected="true"]')).toHaveAttribute(
    'data-row-id',
    pool.entry,
  );
  const detail = page.locator('[data-testid="callback-detail"]');
  await expect(detail).toContainText(shown(pool.entry));
  await expect(detail).toContainText(shown(pool.block!));
  await expect(detail).toContainText(shown(pool.routine));
  await expect(detail).toContainText('callback-no-module');
  await expect(detail.locator('[data-testid="callback-code"] .code-block')).not.toBeEmpty();
  await page.screenshot({ path: testInfo.outputPath('callback-selected.png') });
  // So does the orphan thread's: its System thread, started in pool code.
  const orphan = truth.threads.find((t) => t.pid === 4 && t.planted)!;
  await page.click('[data-testid="nav-findings"]');
  await page.fill('[data-testid="table-findings"] input.filter', 'orphan-thread');
  // At its severity cell: the middle of a row may be a link that leaves the view.
  await page
    .locator('[data-testid="table-body-findings"] [role="row"]')
    .first()
    .click({ position: { x: 8, y: 8 } });
  await page.click('[data-testid="finding-detail"] [data-testid="callback-link"]');
  await expect(page.locator('[data-testid="table-body-callbacks"] [aria-selected="true"]')).toHaveAttribute(
    'data-row-id',
    orphan.ethread,
  );
  await expect(detail).toContainText('orphan-thread');
  await row(page, pool.entry).click();
  await expect(detail).toContainText(shown(pool.entry));
  // The slot's address opens the hex view there.
  await detail
    .locator('.evidence .link.address', { hasText: shown(pool.entry) })
    .first()
    .click();
  await expect(page.locator('[data-testid="view-hex"]')).toBeVisible();

  // The rootkit driver's registrations: the routines in its module (the shutdown notification on its device among them).
  const rootkitDriver = planted.find((c) => c.kind === 'shutdown')!.driver!;
  const ofRootkit = registered.filter((c) => c.owner === planted.find((p) => p.owner)!.owner);
  await page.click('[data-testid="nav-drivers"]');
  await page
    .locator(`[data-testid="table-body-drivers"] [role="row"][data-row-id="${rootkitDriver}"]`)
    .click();
  await page.click('[data-testid="driver-tab-registrations"]');
  // And the System threads it started: the keylogger's thread starts in its module.
  const rootkitModule = truth.modules.find((m) => m.name === planted.find((p) => p.owner)!.owner)!;
  const inRootkit = (address: string) =>
    BigInt(address) >= BigInt(rootkitModule.base) &&
    BigInt(address) < BigInt(rootkitModule.base) + BigInt(rootkitModule.size);
  const itsThreads = truth.threads.filter((t) => t.pid === 4 && inRootkit(t.startAddress));
  // And the interrupt gates it hooked, on every processor.
  const itsGates = truth.idtEntries.filter((e) => e.owner === rootkitModule.name);
  expect(itsGates).toHaveLength(truth.idtEntries.filter((e) => e.planted).length);
  const registrations = page.locator('[data-testid="driver-registrations"] tbody tr');
  await expect(registrations).toHaveCount(ofRootkit.length + itsThreads.length + itsGates.length);
  await expect(
    page.locator('[data-testid="driver-registrations"] tbody tr[data-kind="idt"]', {
      hasText: 'idt-hook',
    }),
  ).toHaveCount(itsGates.length);
  for (const thread of itsThreads)
    await expect(
      page.locator('[data-testid="driver-registrations"] tbody tr[data-kind="system-thread"]', {
        hasText: shown(thread.startAddress),
      }),
    ).toBeVisible();
  for (const callback of ofRootkit)
    await expect(
      page.locator(`[data-testid="driver-registrations"] tbody tr[data-kind="${callback.kind}"]`, {
        hasText: shown(callback.routine),
      }),
    ).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('driver-registrations.png') });
  // Each opens its evidence in the Callbacks view.
  const registry = ofRootkit.find((c) => c.kind === 'registry')!;
  await page
    .locator(
      '[data-testid="driver-registrations"] tbody tr[data-kind="registry"] [data-testid="callback-link"]',
    )
    .click();
  await expect(page.locator('[data-testid="table-body-callbacks"] [aria-selected="true"]')).toHaveAttribute(
    'data-row-id',
    registry.entry,
  );

  // The comparison with the clean boot: exactly the planted registrations, the orphan thread and
  // the hooked gates are added callbacks (and the gates they replaced removed), each shown in both
  // images (absent from one) and opening its evidence.
  const callbackRows = plantedCallbackRows(
    truth,
    cleanTruth,
    firstBytesOf(join(FOLDER, 'infected', 'image.raw'), truth),
  );
  await page.click('[data-testid="nav-diff"]');
  const options = await page.locator('[data-testid="diff-baseline"] option').allTextContents();
  const clean = options.findIndex((o) => !o.includes('infected'));
  await page.selectOption('[data-testid="diff-baseline"]', { index: clean });
  await page.fill('[data-testid="table-diff-differences"] input.filter', 'callback');
  const differences = page.locator('[data-testid="table-body-diff-differences"] [role="row"]');
  await expect(differences).toHaveCount(callbackRows.length);
  await expect(differences.filter({ hasText: 'callback added' })).toHaveCount(
    callbackRows.filter((r) => r.change === 'added').length,
  );
  // A callback's row says what it is and where it runs, not the comparison's identity (kind|code:…).
  await expect(differences.filter({ hasText: '|code:' })).toHaveCount(0);
  await differences.filter({ hasText: 'process notify →' }).filter({ hasText: '(no module)' }).click();
  const both = page.locator('[data-testid="diff-callback"]');
  await expect(both.locator('tr', { hasText: 'Baseline' })).toContainText('not registered');
  await expect(both.locator('tr', { hasText: 'This image' })).toContainText(shown(pool.routine));
  await page.screenshot({ path: testInfo.outputPath('diff-callback.png') });
  await both.locator('[data-testid="callback-link"]').click();
  await expect(page.locator('[data-testid="table-body-callbacks"] [aria-selected="true"]')).toHaveAttribute(
    'data-row-id',
    pool.entry,
  );
});
