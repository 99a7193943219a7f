// Where the shared data (../shared: ISF symbol tables, real crash dumps, the spec) is: beside this
// checkout, else beside the repository it was cloned from (a CI clone in /tmp has an origin
// remote pointing at the working repository), or wherever IRPSCOPE_SHARED says.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export function sharedDirectory(root: string): string {
  if (process.env.IRPSCOPE_SHARED) return process.env.IRPSCOPE_SHARED;
  const beside = join(root, '../shared');
  if (existsSync(beside)) return beside;
  try {
    const origin = execFileSync('git', ['-C', root, 'remote', 'get-url', 'origin'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const besideOrigin = isAbsolute(origin) ? join(origin, '../shared') : null;
    if (besideOrigin && existsSync(besideOrigin)) return besideOrigin;
  } catch {
    // not a git checkout, or no origin
  }
  return beside;
}

export const SHARED = sharedDirectory(ROOT);
export const ISF_DIR = join(SHARED, 'isf/windows/ntkrnlmp.pdb');
/** Windows 10 2004 x64: the ISF most tests build with. */
export const ISF_19041 = join(ISF_DIR, '1C9875F76C8F0FBF3EB9A9D7C1C27406-1.json.xz');
