// Notify routines of two images: a callback is its kind and its routine's module+offset (pool
// code: its first bytes), so another boot of the same system has the same callbacks, and a
// registration only one image has is one difference. Counted as a multiset: a driver that
// registers the same routine twice and then once is a difference too.
// System threads are compared only when they start in no module: the kernel and drivers start
// and end worker threads as load demands (ExpWorkerThread's dynamic workers, a driver's queue
// threads), so which ones run at capture differs from boot to boot, while a thread in pool code
// is the rootkit's whatever the boot.
// Timers are compared by routine alone, not by count: how many timers a driver has armed at the
// moment of capture (one per connection, per pending request) differs from boot to boot, while a
// DPC routine that only one image's timers run is a difference. So are IDT and GDT gates: each
// processor has its own table, and a gate hooked on every processor is one difference (its
// finding names the processors), not one per processor.

import { CALLBACK_LABELS } from '../../common/callback-labels';
import type { Callback } from '../../common/model';
import { callbackIdentity } from '../callbacks/identity';
import type { Entries } from './entries';
import type { Side } from './identity';

function callbackText(callback: Callback): string {
  const routine = callback.routine;
  const where = callback.owner ? `${callback.owner}+${routine.offset}` : `${routine.address} (no module)`;
  return `${CALLBACK_LABELS[callback.kind]} → ${where} [${routine.verdict}]`;
}

/** Kinds compared as a set of routines rather than a count of registrations (see above). */
const ONE_PER_ROUTINE: ReadonlySet<Callback['kind']> = new Set(['timer', 'idt', 'gdt']);

function byIdentity(callbacks: readonly Callback[]): Map<string, Callback[]> {
  const groups = new Map<string, Callback[]>();
  for (const callback of callbacks) {
    if (callback.kind === 'system-thread' && callback.owner !== null) continue;
    const key = callbackIdentity(callback);
    const group = groups.get(key) ?? [];
    if (ONE_PER_ROUTINE.has(callback.kind) && group.length > 0) continue;
    groups.set(key, [...group, callback]);
  }
  return groups;
}

export function compareCallbacks(entries: Entries, baseline: Side, image: Side): void {
  const before = byIdentity(baseline.result.callbacks.entries);
  const after = byIdentity(image.result.callbacks.entries);
  for (const [groups, others, change, side] of [
    [after, before, 'added', image],
    [before, after, 'removed', baseline],
  ] as const) {
    for (const [key, callbacks] of groups) {
      const extra = callbacks.slice(others.get(key)?.length ?? 0);
      for (const callback of extra) {
        const text = callbackText(callback);
        const ref = { text, ...(callback.owner ? { module: callback.owner } : {}) };
        const entry = entries.add({
          kind: 'callback',
          change,
          key,
          severity: change === 'added' ? (callback.owner ? 'medium' : 'high') : 'low',
          summary: `${text} is registered only ${side.where}`,
          matchedBy: [],
          unknown: [],
          changes: [],
          baseline: change === 'removed' ? ref : null,
          primary: change === 'added' ? ref : null,
          variation: null,
        });
        (change === 'added' ? entries.callbackB : entries.callbackA).set(key, entry);
      }
    }
  }
}
