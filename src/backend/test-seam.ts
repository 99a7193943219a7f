// What the tests may see inside a backend and no client may: not exported from index.ts, not a
// method of Backend, so neither transport can reach it and the API stays the contract alone.

import type { Backend } from './backend';

/** The thread id of a session's live worker, or null when it has none (queued, ended, cancelled). */
export function workerThreadId(backend: Backend, session: string): number | null {
  // Bracket access is TypeScript's deliberate way past `private`, for exactly this kind of seam.
  const found = backend['byId'].get(session);
  if (!found) throw new Error(`no session ${session}`);
  return found.workerThreadId;
}
