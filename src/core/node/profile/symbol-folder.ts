// The symbol folder a user names (--symbols): the ISF file for a kernel's PDB found in it and loaded.

import type { SymbolTables } from '../../profile/isf';
import { findIsfForPdb } from './isf-find';
import { loadIsf } from './isf-load';

/** The tables in `folder`; none when no folder is given. */
export function symbolFolder(folder: string | undefined): SymbolTables | undefined {
  if (!folder) return undefined;
  return {
    location: folder,
    async find(pdbName, guid, age) {
      const path = await findIsfForPdb(folder, pdbName, guid, age);
      return path === undefined ? undefined : loadIsf(path);
    },
  };
}
