// Finding QMP sockets: the unix sockets in the folders given (and one level below, where libvirt
// keeps one folder per domain), each asked what VM it serves. QEMU serves one QMP client at a
// time, so a socket that libvirt holds does not greet: it is listed as busy, with the advice to
// capture that VM through virsh.

import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CaptureError } from './errors';
import { describeQemuVm } from './qemu';
import { QmpClient } from './qmp';
import type { QmpSocketProbe } from './types';

const MAX_SOCKETS = 64;

/** libvirt's QMP monitor folders (system and session daemons). */
export function libvirtSocketFolders(): string[] {
  return ['/var/lib/libvirt/qemu', '/run/libvirt/qemu', join(homedir(), '.config/libvirt/qemu/lib')];
}

function socketsIn(folder: string, depth: number, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(folder).sort();
  } catch {
    return;
  }
  for (const name of names) {
    if (out.length >= MAX_SOCKETS) return;
    const path = join(folder, name);
    try {
      const stat = statSync(path);
      if (stat.isSocket()) out.push(path);
      else if (stat.isDirectory() && depth > 0) socketsIn(path, depth - 1, out);
    } catch {
      // vanished or unreadable
    }
  }
}

export async function probeQmpSocket(path: string, timeoutMs = 1000): Promise<QmpSocketProbe> {
  try {
    const client = await QmpClient.connect({ kind: 'unix', path }, { timeoutMs });
    try {
      return { path, state: 'ready', vm: await describeQemuVm(client), reason: null };
    } finally {
      client.close();
    }
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof CaptureError && error.kind === 'not-qmp' && /did not greet/.test(message))
      return {
        path,
        state: 'busy',
        vm: null,
        reason:
          "no greeting: another client holds it (libvirt keeps its VMs' monitors; capture those with virsh), or it is not QMP",
      };
    if (error instanceof CaptureError && error.kind === 'not-qmp')
      return { path, state: 'not-qmp', vm: null, reason: message };
    return { path, state: 'unreachable', vm: null, reason: message };
  }
}

/** Every socket in `folders` (one level deep), probed in parallel. */
export async function findQmpSockets(
  folders: readonly string[],
  timeoutMs = 1000,
): Promise<QmpSocketProbe[]> {
  const paths: string[] = [];
  for (const folder of folders) socketsIn(folder, 1, paths);
  return Promise.all([...new Set(paths)].map((path) => probeQmpSocket(path, timeoutMs)));
}
