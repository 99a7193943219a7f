import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where web mode keeps the demo case, practice images and the recent list (the desktop app uses Electron's userData). */
export function defaultDataDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IRPSCOPE_DATA_DIR) return env.IRPSCOPE_DATA_DIR;
  const base =
    env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/')
      ? env.XDG_DATA_HOME
      : join(homedir(), '.local', 'share');
  return join(base, 'irpscope');
}
