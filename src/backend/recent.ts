// The recently opened images, kept as JSON in the data folder (most recent first).

import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureFolder, writeFileAtomic } from '../core/util/atomic-file';

const LIMIT = 12;

export class RecentFiles {
  constructor(private readonly file: string) {}

  list(): string[] {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return Array.isArray(parsed)
        ? parsed.filter((p): p is string => typeof p === 'string').slice(0, LIMIT)
        : [];
    } catch {
      return [];
    }
  }

  add(path: string): void {
    const next = [path, ...this.list().filter((p) => p !== path)].slice(0, LIMIT);
    try {
      ensureFolder(dirname(this.file));
      writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
    } catch {
      // A read-only data folder costs the recent list, nothing else.
    }
  }
}
