// What a callback is across boots: its kind and where its routine is in the module that holds
// it (module+offset, as a handler is); a routine in no module by its kind and its first bytes
// (pool addresses change with every boot, the code a rootkit copies there does not).

import type { Callback } from '../../common/model';

export function callbackIdentity(callback: Callback): string {
  const routine = callback.routine;
  if (callback.owner !== null && routine.offset !== null)
    return `${callback.kind}|${callback.owner.toLowerCase()}+${routine.offset}`;
  return `${callback.kind}|code:${routine.disassembly?.bytes ?? routine.address}`;
}
