// Which engine produced a cached result: a different engine (a new version, or any change to
// its code in a checkout) may find other things, so its old results are analysed again.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANALYSIS_SCHEMA } from '../../common/model';

function hashTree(hash: ReturnType<typeof createHash>, folder: string): void {
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) hashTree(hash, path);
    else if (/\.[cm]?[jt]s$/.test(name)) hash.update(name).update(readFileSync(path));
  }
}

/**
 * The analysis schema, the app's version and a hash of the engine's code: the module given
 * (a stand-in engine), else the bundled engine.js beside this code, else (running from the
 * sources) every file of src/core.
 */
export function engineFingerprint(version: string, engineModule: string | null, callerUrl: string): string {
  const hash = createHash('sha256');
  const here = dirname(fileURLToPath(callerUrl));
  const bundled = join(here, 'engine.js');
  if (engineModule && existsSync(engineModule)) hash.update(readFileSync(engineModule));
  else if (existsSync(bundled)) hash.update(readFileSync(bundled));
  else {
    const core = join(here, '..', 'core');
    if (existsSync(core)) hashTree(hash, core);
    else hash.update(join(here, '..', '..', 'src', 'core'));
  }
  return `${ANALYSIS_SCHEMA} ${version} ${hash.digest('hex').slice(0, 16)}`;
}
