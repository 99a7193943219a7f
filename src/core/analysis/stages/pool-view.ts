// View 3 of the drivers (and the only view of scanned devices, loader entries, processes and
// IRPs): the pool scan's tag hits carved into objects.

import type { KernelMemory } from '../../kernel/memory';
import { carveLoaderEntry, carveObject, carvePoolBlock, type CarveContext } from '../../objects/carve';
import { readLoaderEntry, type LoaderEntry } from '../../kernel/module-list';
import type { LayoutProfile } from '../../profile';
import type { ScanResult } from '../../scan/tags';
import { plausibleLoaderEntry } from '../modules';

export interface PoolView {
  drivers: Array<{ va: bigint | null; pa: number; freed: boolean }>;
  devices: bigint[];
  loaders: LoaderEntry[];
  processes: bigint[];
  irps: Array<{ va: bigint; room: number }>;
}

export function carvePoolHits(
  carve: CarveContext,
  memory: KernelMemory,
  profile: LayoutProfile,
  hits: ScanResult['hits'],
): PoolView {
  const view: PoolView = { drivers: [], devices: [], loaders: [], processes: [], irps: [] };
  for (const hit of hits) {
    if (hit.kind === 'irp') {
      const block = carvePoolBlock(carve, hit);
      if (block && !block.freed && block.dataVa !== null)
        view.irps.push({ va: block.dataVa, room: block.room });
      continue;
    }
    if (hit.kind === 'loader') {
      const entry = carveLoaderEntry(carve, hit);
      if (!entry || entry.freed || entry.entryVa === null) continue;
      const loader = readLoaderEntry(memory, profile, entry.entryVa);
      if (loader && plausibleLoaderEntry(memory, loader)) view.loaders.push(loader);
      continue;
    }
    const object = carveObject(carve, hit);
    if (!object) continue;
    if (object.kind === 'driver')
      view.drivers.push({ va: object.bodyVa, pa: object.bodyPa, freed: object.freed });
    else if (object.bodyVa === null || object.freed) continue;
    else if (object.kind === 'device') view.devices.push(object.bodyVa);
    else view.processes.push(object.bodyVa);
  }
  return view;
}
