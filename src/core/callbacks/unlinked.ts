// Whether an address lies in a module unlinked from PsLoadedModuleList: by the module's range, not
// its name (a stale loader entry of a driver since unloaded and loaded again elsewhere shares the
// live driver's name, not its addresses).

import type { Hex, Module } from '../../common/model';

export function inUnlinkedModule(modules: readonly Module[]): (address: Hex) => boolean {
  const ranges = modules
    .filter((m) => m.unlinked)
    .map((m) => ({ start: BigInt(m.base), end: BigInt(m.base) + BigInt(m.size) }));
  return (address) => {
    const va = BigInt(address);
    return ranges.some((r) => va >= r.start && va < r.end);
  };
}
