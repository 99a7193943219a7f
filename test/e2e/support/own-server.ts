// A second web-mode server of the built bundle, over its own data folder: for the specs that need
// an empty case store, a stand-in engine or an image of their own rather than the demo case.

import { pathToFileURL } from 'node:url';
import type { Page } from '@playwright/test';
import { expect } from './fixtures';
import { SERVER_BUNDLE } from './paths';

export interface OwnServer {
  url: string;
  close(): Promise<void>;
}

export async function startOwnServer<S extends OwnServer = OwnServer>(options: {
  dataDirectory: string;
  engineModule?: string;
}): Promise<S> {
  const { startServer } = (await import(pathToFileURL(SERVER_BUNDLE).href)) as {
    startServer(o: object): Promise<S>;
  };
  return startServer({ ...options, openDemoIfEmpty: false });
}

/** Opens `folder/file` through the Open dialog (Ctrl+O) and waits for its analysis. */
export async function openImageFile(page: Page, folder: string, file: string): Promise<void> {
  await page.keyboard.press('Control+o');
  await page.fill('[data-testid="browse-path"]', folder);
  await page.keyboard.press('Enter');
  await page.dblclick(`[data-testid="file-row"]:has-text("${file}")`);
  await expect(page.locator('[data-testid="view-overview"]')).toBeVisible({ timeout: 120_000 });
}
