// Debian's Chromium as every browser run of this project starts it (the e2e tests, the
// screenshots, the UI benchmark): never a downloaded browser, nothing that reaches the network.

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
