// Finding the ISF file for a kernel's PDB (RSDS record: name, GUID, age) in a user's symbol folder.
// Volatility 3 names them `windows/<pdb name>/<GUID upper-case>-<age decimal>.json.xz`
// (V3:symbols/windows/pdbutil.py `load_windows_symbol_table`); users also keep flat folders or
// other nestings, so after the standard places the folder is searched by file name.

import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

const EXTENSIONS = ['.json.xz', '.json', '.json.gz'] as const;
/** Bounds on the fallback search, so a wrong folder (a whole disk) cannot stall the analysis. */
const MAX_DEPTH = 8;
const MAX_ENTRIES = 50_000;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `{1C9875F7-6C8F-0FBF-3EB9-A9D7C1C27406}` or any case → `1C9875F76C8F0FBF3EB9A9D7C1C27406`. */
function normaliseGuid(guid: string): string | undefined {
  const hex = guid.replace(/[{}-]/g, '').toUpperCase();
  return /^[0-9A-F]{32}$/.test(hex) ? hex : undefined;
}

/** The PDB name comes from the image (RSDS record): use it only if it is a plain file name. */
function isPlainFileName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && basename(name) === name && !name.includes('\\');
}

/**
 * The path of the ISF file for the PDB, or undefined when the folder has none (or the GUID is not
 * 32 hex digits). Looks first at
 * `<dir>/windows/<pdb>/`, `<dir>/<pdb>/` and `<dir>/`, then anywhere below `<dir>` by file name
 * (case-insensitive, bounded depth).
 */
export async function findIsfForPdb(
  dir: string,
  pdbName: string,
  guid: string,
  age: number,
): Promise<string | undefined> {
  const normalised = normaliseGuid(guid);
  if (normalised === undefined || !Number.isSafeInteger(age) || age < 0) return undefined;
  const names = EXTENSIONS.map((ext) => `${normalised}-${age}${ext}`);
  const pdbFolders = isPlainFileName(pdbName) ? [join(dir, 'windows', pdbName), join(dir, pdbName)] : [];
  for (const folder of [...pdbFolders, dir]) {
    for (const name of names) {
      const candidate = join(folder, name);
      if (await isFile(candidate)) return candidate;
    }
  }
  return searchByName(dir, new Set(names.map((name) => name.toLowerCase())));
}

async function searchByName(root: string, wanted: ReadonlySet<string>): Promise<string | undefined> {
  let visited = 0;
  let level: string[] = [root];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const folder of level) {
      let entries: Dirent[];
      try {
        entries = await readdir(folder, { withFileTypes: true });
      } catch {
        continue;
      }
      // Sorted so that the same folder always yields the same file.
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (++visited > MAX_ENTRIES) return undefined;
        const path = join(folder, entry.name);
        if (entry.isFile() && wanted.has(entry.name.toLowerCase())) return path;
        if (entry.isDirectory()) next.push(path);
      }
    }
    level = next;
  }
  return undefined;
}
