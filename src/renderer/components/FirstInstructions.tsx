// The first instructions of a routine: from the result when the engine included them, else
// asked of the session's worker once per address and remembered.

import { useEffect, useState } from 'react';
import type { Disassembly, Hex } from '../../common/model';
import { api } from '../api/client';
import { useActiveSession } from '../state/app-state';
import { visibleText } from '../util/format';

const cache = new Map<string, Promise<Disassembly>>();

function load(session: string, address: Hex): Promise<Disassembly> {
  const key = `${session}|${address}`;
  let promise = cache.get(key);
  if (!promise) {
    promise = api.disassemble({ session, address, count: 4 }).catch(() => ({ bytes: '', instructions: [] }));
    cache.set(key, promise);
  }
  return promise;
}

export function instructionText(disassembly: Disassembly): string {
  return disassembly.instructions.map((i) => visibleText(i.replace(/^[0-9a-f`]+\s+/i, ''))).join(' ; ');
}

export function FirstInstructions({ address, known }: { address: Hex; known?: Disassembly | undefined }) {
  const session = useActiveSession();
  const [loaded, setLoaded] = useState<{ address: Hex; value: Disassembly } | null>(null);
  const id = session?.id;
  useEffect(() => {
    if (known || !id || /^0x0+$/.test(address)) return;
    let live = true;
    void load(id, address).then((value) => live && setLoaded({ address, value }));
    return () => {
      live = false;
    };
  }, [known, id, address]);
  const disassembly = known ?? (loaded?.address === address ? loaded.value : null);
  if (!disassembly) return <span className="absent">…</span>;
  if (disassembly.instructions.length === 0) return <span className="absent">not readable</span>;
  return (
    <span className="mono code" title={disassembly.instructions.map(visibleText).join('\n')}>
      {instructionText(disassembly)}
    </span>
  );
}
