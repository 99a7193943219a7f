// IRPscope's version, from the package.json above the calling module (from the sources or a bundle).

import { readFileSync } from 'node:fs';

export function packageVersion(callerUrl: string): string {
  for (const relative of ['../../package.json', '../package.json', '../../../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, callerUrl), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (parsed.name === 'irpscope' && parsed.version) return parsed.version;
    } catch {
      // Try the next candidate.
    }
  }
  return '0.0.0';
}
