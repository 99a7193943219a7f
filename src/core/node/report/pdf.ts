// PDF reports are the HTML report printed by Chromium: its @page rules give A4 landscape pages
// with the case in the header and "Page N of M" in the footer (CSS page-margin boxes), and the
// tables repeat their headers across pages. The desktop app prints with Electron's own
// Chromium; the CLI and web mode use a Chromium-based browser installed on the machine.

import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export class PdfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PdfError';
  }
}

const COMMANDS = [
  'chromium',
  'chromium-browser',
  'google-chrome',
  'google-chrome-stable',
  'microsoft-edge',
  'msedge',
];
const FIXED_PATHS = [
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
  'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
  'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
];

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** IRPSCOPE_CHROMIUM, else the first Chromium-based browser on PATH or in its usual place. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.IRPSCOPE_CHROMIUM) return executable(env.IRPSCOPE_CHROMIUM) ? env.IRPSCOPE_CHROMIUM : null;
  const extensions = process.platform === 'win32' ? ['.exe'] : [''];
  for (const command of COMMANDS)
    for (const folder of (env.PATH ?? '').split(delimiter))
      for (const extension of extensions) {
        const candidate = join(folder, command + extension);
        if (folder && executable(candidate)) return candidate;
      }
  return FIXED_PATHS.find(executable) ?? null;
}

export interface PrintOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Prints `html` to PDF with a headless Chromium; throws PdfError with the reason. */
export async function printPdf(html: string, options: PrintOptions = {}): Promise<Buffer> {
  const chromium = findChromium(options.env);
  if (!chromium)
    throw new PdfError(
      'no Chromium-based browser was found to print the PDF (install chromium or Google Chrome, or set IRPSCOPE_CHROMIUM to one); the HTML report prints the same from any browser',
    );
  const work = mkdtempSync(join(tmpdir(), 'irpscope-pdf-'));
  try {
    const page = join(work, 'report.html');
    const out = join(work, 'report.pdf');
    writeFileSync(page, html);
    const args = [
      '--headless',
      '--disable-gpu',
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--no-first-run',
      '--disable-extensions',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(work, 'profile')}`,
      '--no-pdf-header-footer',
      `--print-to-pdf=${out}`,
      pathToFileURL(page).href,
    ];
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let text = '';
      child.stderr.on('data', (chunk: Buffer) => {
        if (text.length < 65536) text += chunk.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new PdfError(`${chromium} could not be started: ${error.message}`));
      });
      child.on('close', (exitCode) => {
        clearTimeout(timer);
        resolve({ code: exitCode, stderr: text });
      });
    });
    let pdf: Buffer;
    try {
      pdf = readFileSync(out);
    } catch {
      const reason =
        stderr.split('\n').find((l) => /error|fatal/i.test(l) && !/dbus|gcm|gpu/i.test(l)) ?? `exit ${code}`;
      throw new PdfError(`${chromium} did not print the PDF: ${reason.trim().slice(0, 300)}`);
    }
    if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-')
      throw new PdfError(`${chromium} wrote something that is not a PDF`);
    return pdf;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
