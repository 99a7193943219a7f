// The About window (Help › About IRPscope; the application menu on macOS): the version, the
// runtimes it is built on, and why it never updates itself.

import { app, dialog, type BrowserWindow, type MessageBoxOptions } from 'electron';

export const NO_AUTO_UPDATE =
  'No automatic updates: IRPscope never checks for updates, never downloads them and contacts no ' +
  'server of its own. An offline forensic tool must not phone home: a request from an ' +
  "examiner's machine tells whoever sees it that a case is being worked, and from where; and a " +
  'tool that changed itself in the middle of a case could not be trusted to give the same answer ' +
  'twice. A new version is installed from its package, when you decide to.';

export interface Runtimes {
  app: string;
  electron?: string;
  chrome?: string;
  node?: string;
}

export function aboutOptions(runtimes: Runtimes): MessageBoxOptions {
  const built = [
    `Electron ${runtimes.electron ?? '?'}`,
    `Chromium ${runtimes.chrome ?? '?'}`,
    `Node.js ${runtimes.node ?? '?'}`,
  ].join(' · ');
  return {
    type: 'info',
    title: 'About IRPscope',
    message: `IRPscope ${runtimes.app}`,
    detail: [
      'Windows kernel rootkit forensics: drivers, devices and IRP handlers rebuilt from memory images.',
      built,
      NO_AUTO_UPDATE,
    ].join('\n\n'),
    buttons: ['OK'],
    noLink: true,
  };
}

export async function showAbout(window: BrowserWindow | null): Promise<void> {
  const options = aboutOptions({
    app: app.getVersion(),
    electron: process.versions.electron,
    chrome: process.versions.chrome,
    node: process.versions.node,
  });
  if (window) await dialog.showMessageBox(window, options);
  else await dialog.showMessageBox(options);
}
