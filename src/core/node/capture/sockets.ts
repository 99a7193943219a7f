// Finding QMP sockets: the unix sockets in the folders given (and one level below, where libvirt
// keeps one folder per domain), each asked what VM it serves — but only those that can be QMP. A
// folder like /tmp holds the sockets of X11, ssh-agent, tmux, databases: connecting to those is
// rude and says nothing. On Linux the process listening on each socket is found (/proc/net/unix
// gives the listening sockets' inodes, /proc/<pid>/fd who holds them): a socket held by QEMU is
// probed, one held by anything else is skipped with its holder named. Where the holder cannot be
// seen (another user's process, another OS), a socket is probed only if its name says QMP.
//
// QEMU serves one QMP client at a time, so a monitor another client holds does not greet: it is
// listed as busy; libvirt is named only for the sockets in libvirt's own folders, whose monitors
// libvirt holds (capture those VMs through virsh).

import { readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { CaptureError } from './errors';
import { describeQemuVm } from './qemu';
import { QmpClient } from './qmp';
import type { QmpSocketProbe } from './types';

const MAX_SOCKETS = 64;

/** A socket not probed, and why. */
export interface SkippedSocket {
  path: string;
  reason: string;
}

/** A folder that could not be searched, and why. */
export interface FolderProblem {
  folder: string;
  problem: string;
}

export interface QmpSocketSearch {
  probes: QmpSocketProbe[];
  skipped: SkippedSocket[];
  folders: FolderProblem[];
  /** More than MAX_SOCKETS sockets were found; the rest were not looked at. */
  truncated: boolean;
}

interface Holder {
  pid: number;
  command: string;
}

/** libvirt's QMP monitor folders (system and session daemons). */
export function libvirtSocketFolders(): string[] {
  return ['/var/lib/libvirt/qemu', '/run/libvirt/qemu', join(homedir(), '.config/libvirt/qemu/lib')];
}

const FOLDER_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such folder',
  ENOTDIR: 'not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

function socketsIn(folder: string, depth: number, out: string[], problems: FolderProblem[] | null): void {
  let names: string[];
  try {
    names = readdirSync(folder).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    problems?.push({ folder, problem: FOLDER_PROBLEMS[code] ?? (error as Error).message });
    return;
  }
  for (const name of names) {
    if (out.length > MAX_SOCKETS) return;
    const path = join(folder, name);
    try {
      const stat = statSync(path);
      if (stat.isSocket()) out.push(path);
      else if (stat.isDirectory() && depth > 0) socketsIn(path, depth - 1, out, null);
    } catch {
      // vanished or unreadable
    }
  }
}

/** The sockets listening on a path (by their bind path's real path) from /proc/net/unix; null off Linux. */
function listeningSockets(): Map<string, string> | null {
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return null;
  }
  const byInode = new Map<string, string>();
  for (const line of table.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const listening = (Number.parseInt(fields[3]!, 16) & 0x10000) !== 0;
    const path = fields.slice(7).join(' ');
    if (!listening || !path.startsWith('/')) continue;
    try {
      byInode.set(fields[6]!, realpathSync(path));
    } catch {
      // bound, then removed or renamed: no socket file of ours to match
    }
  }
  return byInode;
}

interface Listeners {
  /** The real paths of the sockets some process listens on. */
  listening: Set<string>;
  /** Who holds them, where /proc lets us see. */
  holders: Map<string, Holder>;
}

/** Which of `wanted` (real paths) are listened on, and by which process; null off Linux. */
function socketListeners(wanted: ReadonlySet<string>): Listeners | null {
  const byInode = listeningSockets();
  if (byInode === null) return null;
  for (const [inode, path] of byInode) if (!wanted.has(path)) byInode.delete(inode);
  const listeners: Listeners = { listening: new Set(byInode.values()), holders: new Map() };
  if (byInode.size === 0) return listeners;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return listeners;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      const path = inode === undefined ? undefined : byInode.get(inode);
      if (path === undefined || listeners.holders.has(path)) continue;
      let command = '?';
      try {
        command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        // gone meanwhile
      }
      listeners.holders.set(path, { pid: Number(pid), command });
    }
  }
  return listeners;
}

function isQemu(holder: Holder): boolean {
  return /^(qemu|kvm)/i.test(holder.command);
}

/** A name QEMU users and libvirt give QMP sockets: *.qmp, qmp.sock, monitor.sock, …. */
function namedLikeQmp(path: string): boolean {
  return /qmp|monitor/i.test(basename(path));
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Probes one socket: its VM, or why it cannot be captured. `holder` and `inLibvirt` make the reason true. */
export async function probeQmpSocket(
  path: string,
  timeoutMs = 1000,
  context: { holder?: Holder; inLibvirt?: boolean } = {},
): Promise<QmpSocketProbe> {
  try {
    const client = await QmpClient.connect({ kind: 'unix', path }, { timeoutMs });
    try {
      return { path, state: 'ready', vm: await describeQemuVm(client, timeoutMs), reason: null };
    } finally {
      client.close();
    }
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof CaptureError && error.kind === 'not-qmp' && /did not greet/.test(message))
      return { path, state: 'busy', vm: null, reason: busyReason(timeoutMs, context) };
    if (error instanceof CaptureError && error.kind === 'not-qmp')
      return { path, state: 'not-qmp', vm: null, reason: message };
    return { path, state: 'unreachable', vm: null, reason: message };
  }
}

function busyReason(timeoutMs: number, context: { holder?: Holder; inLibvirt?: boolean }): string {
  const who = context.holder
    ? `QEMU (pid ${context.holder.pid}) does not greet within ${timeoutMs / 1000} s: another client is connected to this monitor`
    : `no greeting within ${timeoutMs / 1000} s: another client is connected to it, or it is not QMP`;
  return context.inLibvirt ? `${who} (libvirt keeps its VMs' monitors: capture this VM with virsh)` : who;
}

function unseenReason(listeners: Listeners | null, realPath: string): string {
  const why =
    listeners === null
      ? 'which program listens on it cannot be seen here'
      : listeners.listening.has(realPath)
        ? "the program listening on it cannot be seen (another user's?)"
        : 'no program is seen listening on it';
  return `not named like a QMP socket (…qmp…, monitor…), and ${why}; name it with --qmp to capture it`;
}

/**
 * The sockets in `folders` (and one level below) that can be QMP, probed in parallel; the others
 * skipped with the reason, and the folders that could not be read with theirs.
 */
export async function findQmpSockets(
  folders: readonly string[],
  timeoutMs = 1000,
  libvirtFolders: readonly string[] = libvirtSocketFolders(),
): Promise<QmpSocketSearch> {
  const found: string[] = [];
  const problems: FolderProblem[] = [];
  for (const folder of folders) socketsIn(folder, 1, found, problems);
  const truncated = found.length > MAX_SOCKETS;
  const paths = [...new Set(found.slice(0, MAX_SOCKETS))];
  const real = new Map(paths.map((p) => [p, realPath(p)]));
  const listeners = socketListeners(new Set(real.values()));
  const skipped: SkippedSocket[] = [];
  const probes: Array<Promise<QmpSocketProbe>> = [];
  for (const path of paths) {
    const holder = listeners?.holders.get(real.get(path)!);
    const inLibvirt = libvirtFolders.some((folder) => path.startsWith(`${folder}/`));
    if (holder && !isQemu(holder))
      skipped.push({ path, reason: `held by ${holder.command} (pid ${holder.pid}), not QEMU` });
    else if (holder) probes.push(probeQmpSocket(path, timeoutMs, { holder, inLibvirt }));
    else if (namedLikeQmp(path) || inLibvirt) probes.push(probeQmpSocket(path, timeoutMs, { inLibvirt }));
    else skipped.push({ path, reason: unseenReason(listeners, real.get(path)!) });
  }
  return { probes: await Promise.all(probes), skipped, folders: problems, truncated };
}
