// What the desktop app was asked to open when started (or started again): image paths, and the
// symbol folder after --symbols. A file manager opening a file through the Linux desktop entry
// (Exec … %U, as electron-builder writes it for the .deb and the AppImage) passes a file:// URL,
// not a path. Options (Chromium's and Electron's too) are skipped.

import { fileURLToPath } from 'node:url';

export interface LaunchRequest {
  images: string[];
  symbols: string | null;
}

export function launchRequest(args: readonly string[], isFile: (path: string) => boolean): LaunchRequest {
  const images: string[] = [];
  let symbols: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--symbols') symbols = args[++i] ?? null;
    else if (arg.startsWith('-')) continue;
    else {
      const path = isFile(arg) ? arg : localFileUrlPath(arg);
      if (path !== null && isFile(path)) images.push(path);
    }
  }
  return { images, symbols };
}

/** The path a file:// URL names, or null for anything else (another scheme, another host). */
function localFileUrlPath(arg: string): string | null {
  if (!/^file:\/\//i.test(arg)) return null;
  try {
    return fileURLToPath(arg);
  } catch {
    return null;
  }
}
