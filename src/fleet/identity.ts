// Which job an image is: the case's identity of the file (size, modification time, a hash of its
// first and last MiB) and the fingerprint of the engine that analyses it, within one fleet (and,
// for a host, the baselines it is compared among). The same image submitted again is the same
// job, so it is not analysed again; an edited image, another engine or other baselines make a
// new one.

import { createHash } from 'node:crypto';
import { engineFingerprint } from '../core/node/engine-fingerprint';
import { quickIdentity } from '../core/node/identity';
import { packageVersion } from '../core/node/util/package-version';
import type { FileIdentity, FleetJobData } from './types';

export function fileIdentity(path: string): FileIdentity {
  const { size, mtimeMs, quickHash } = quickIdentity(path);
  return { size, mtimeMs, quickHash };
}

let engine: string | undefined;

/** This process's engine: the analysis schema, IRPscope's version and a hash of the engine's code. */
export function currentEngine(): string {
  engine ??= engineFingerprint(packageVersion(import.meta.url), null, import.meta.url);
  return engine;
}

/** BullMQ job ids may not hold ':' and must not look like numbers: a kind letter and hex. */
export function jobIdOf(
  data: Pick<FleetJobData, 'kind' | 'fleet' | 'image' | 'identity' | 'engine' | 'baselines'>,
): string {
  const hash = createHash('sha256');
  for (const part of [
    data.kind,
    data.fleet,
    data.image,
    String(data.identity.size),
    String(data.identity.mtimeMs),
    data.identity.quickHash,
    data.engine,
    [...data.baselines].sort().join(','),
  ])
    hash.update(part).update('\0');
  return `${data.kind === 'host' ? 'h' : 'b'}-${hash.digest('hex').slice(0, 32)}`;
}

/**
 * Why the file a worker sees is not the one submitted (null: it is). The modification time is
 * not compared: another mount of the same storage may round it.
 */
export function identityMismatch(submitted: FileIdentity, now: FileIdentity): string | null {
  if (submitted.size !== now.size)
    return `the image changed since it was submitted (${submitted.size} → ${now.size} bytes)`;
  if (submitted.quickHash !== now.quickHash)
    return 'the image changed since it was submitted (its first or last MiB differs)';
  return null;
}
