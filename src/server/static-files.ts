// Serves the built renderer (out/renderer) — the same files the desktop app loads.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** The renderer's build folder, from the sources (src/server) or a bundle (out/main, out/node). */
export function findRendererDirectory(moduleUrl: string = import.meta.url): string | null {
  const here = fileURLToPath(new URL('.', moduleUrl));
  // Built output only: from the sources, ../renderer is src/renderer, whose index.html is unbuilt.
  for (const candidate of [join(here, '../renderer'), join(here, '../../out/renderer')]) {
    if (existsSync(join(candidate, 'index.html')) && existsSync(join(candidate, 'assets'))) return candidate;
  }
  return null;
}

export interface StaticFile {
  body: Buffer;
  type: string;
  immutable: boolean;
}

/** The file for a URL path, or null; never anything outside `root`. */
export function staticFile(root: string, urlPath: string): StaticFile | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const full = normalize(join(root, relative));
  if (full !== root && !full.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  try {
    if (!statSync(full).isFile()) return null;
  } catch {
    return null;
  }
  return {
    body: readFileSync(full),
    type: TYPES[extname(full).toLowerCase()] ?? 'application/octet-stream',
    // Vite names built assets by content hash.
    immutable: relative.startsWith('assets/'),
  };
}
