// The server-side file browser behind Open Image in web mode (a browser cannot hand a page the
// path of a local file). Lists one folder: folders first, then files, by name.

import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { DirectoryListing } from '../common/api';

const MAX_ENTRIES = 5000;

export function listDirectory(path: string | null, start: string = homedir()): DirectoryListing {
  const folder = resolve(path && path.trim() !== '' ? path : start);
  if (!statSync(folder).isDirectory()) throw new Error(`${folder} is not a folder`);
  const entries: DirectoryListing['entries'] = [];
  for (const dirent of readdirSync(folder, { withFileTypes: true })) {
    if (dirent.name.startsWith('.')) continue;
    const full = join(folder, dirent.name);
    try {
      const stat = statSync(full);
      if (stat.isDirectory()) entries.push({ name: dirent.name, path: full, kind: 'directory', size: 0 });
      else if (stat.isFile()) entries.push({ name: dirent.name, path: full, kind: 'file', size: stat.size });
    } catch {
      // Broken links and unreadable entries are left out.
    }
    if (entries.length >= MAX_ENTRIES) break;
  }
  entries.sort((a, b) =>
    a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'directory' ? -1 : 1,
  );
  const parent = dirname(folder);
  return { path: folder, parent: parent === folder ? null : parent, entries };
}
