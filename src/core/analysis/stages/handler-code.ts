// The opening code of the routines the drivers in the object directories declare, decoded while
// the pool scan runs: the directory walk already names most drivers, their objects and code need
// only the kernel's memory, and the handler judge then finds each routine's first transfer done.

import type { KernelMemory } from '../../kernel/memory';
import type { LayoutProfile } from '../../profile';
import { isPlausibleDriver, readDriverObject } from '../../objects/driver';
import type { Prologues } from '../../verdicts/inline';

export function readHandlerCode(
  memory: KernelMemory,
  profile: LayoutProfile,
  drivers: Iterable<bigint>,
  prologues: Prologues,
): void {
  for (const va of drivers) {
    const object = readDriverObject(memory, profile, va);
    if (!object || !isPlausibleDriver(object)) continue;
    const routines = [
      ...object.majorFunction,
      ...object.fastIo.map((entry) => entry.address),
      object.driverInit,
      object.driverStartIo,
      object.driverUnload,
    ];
    for (const address of new Set(routines))
      if (address !== 0n && memory.isKernelAddress(address)) prologues.transfer(address);
  }
}
