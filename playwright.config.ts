// End-to-end tests: the built renderer and server in Debian's Chromium through web mode (browsers
// are never downloaded), and — when an Electron binary is installed — the same specs in the
// desktop app. Results for scripts/test-all.mjs go to .cache/test-results/e2e.json.

import { defineConfig } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from './scripts/chromium.mjs';
import { electronBinary } from './test/e2e/support/electron';

export default defineConfig({
  testDir: 'test/e2e',
  globalSetup: './test/e2e/support/global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  outputDir: '.cache/test-results/e2e-artifacts',
  reporter: [['list'], ['json', { outputFile: '.cache/test-results/e2e.json' }]],
  use: {
    viewport: { width: 1440, height: 900 },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'web',
      use: {
        browserName: 'chromium',
        launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
      },
    },
    ...(electronBinary() ? [{ name: 'electron', metadata: { electron: true } }] : []),
  ],
});
