// PDF reports in the desktop app: the report's HTML loaded in a hidden window with no script,
// no node and the sandbox on, and printed by Electron's own Chromium (its @page rules give the
// pages their header and numbers). The file is read from a temporary folder, removed after.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow } from 'electron';

export async function printPdfWithElectron(html: string): Promise<Buffer> {
  const folder = mkdtempSync(join(tmpdir(), 'irpscope-print-'));
  const window = new BrowserWindow({
    show: false,
    webPreferences: { sandbox: true, javascript: false, nodeIntegration: false, contextIsolation: true },
  });
  try {
    const page = join(folder, 'report.html');
    writeFileSync(page, html);
    await window.loadURL(pathToFileURL(page).href);
    return await window.webContents.printToPDF({ printBackground: true, preferCSSPageSize: true });
  } finally {
    window.destroy();
    rmSync(folder, { recursive: true, force: true });
  }
}
