// Where the Electron binary is, without require('electron') (which tries to download it).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function electronBinary(): string | null {
  const module = join(process.cwd(), 'node_modules', 'electron');
  const pathFile = join(module, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const binary = process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, relative)
    : join(module, 'dist', relative);
  return existsSync(binary) ? binary : null;
}
