// End-to-end tests: the built renderer and server in Debian's Chromium through web mode (browsers
// are never downloaded), and — when an Electron binary is installed — the same specs in the
// desktop app. Results for scripts/test-all.mjs go to .cache/test-results/e2e.json.

import { defineConfig } from '@playwright/test';
import { electronBinary } from './test/e2e/support/electron';

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

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
        launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs },
      },
    },
    ...(electronBinary() ? [{ name: 'electron', metadata: { electron: true } }] : []),
  ],
});
