// The `workbench` page every spec uses: web mode in Chromium (the server from global setup), or
// the desktop app when the project is 'electron' — same specs, same assertions.

import { _electron as electron, test as base, expect, type Page } from '@playwright/test';
import { DATA, ROOT } from './paths';
import { electronBinary } from './electron';

export { expect };

export const test = base.extend<{ workbench: Page; dialogs: string[] }>({
  // Playwright reads a fixture's dependencies from its first parameter: this one has none.
  // eslint-disable-next-line no-empty-pattern
  dialogs: async ({}, use) => {
    await use([]);
  },
  workbench: async ({ page, dialogs }, use, testInfo) => {
    let target = page;
    let close = async (): Promise<void> => {};
    if (testInfo.project.metadata?.electron) {
      const app = await electron.launch({
        executablePath: electronBinary()!,
        args: [ROOT],
        env: { ...process.env, IRPSCOPE_DATA_DIR: DATA } as Record<string, string>,
      });
      target = await app.firstWindow();
      await target.setViewportSize({ width: 1440, height: 900 });
      close = () => app.close();
    } else {
      await page.goto(process.env.IRPSCOPE_E2E_URL!);
    }
    // No page of this workbench may ever open a dialog: an alert() would mean injected markup ran.
    target.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await target.waitForSelector('[data-testid="view-overview"]', { timeout: 120_000 });
    await use(target);
    await close();
  },
});

export function isElectron(testInfo: { project: { metadata?: Record<string, unknown> } }): boolean {
  return !!testInfo.project.metadata?.electron;
}
