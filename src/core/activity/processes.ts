// Processes (spec §1.13): EPROCESS records from PsActiveProcessHead and from the pool scan, merged
// by address. A process the scan finds but the list (walked to its end) lacks was unlinked:
// the cross-view that exposes DKOM process hiding.

import type { KernelMemory } from '../kernel/memory';
import { readStruct, type LayoutProfile } from '../profile';
import { walkList } from '../kernel/list-walk';

export interface ProcessRecord {
  va: bigint;
  pid: number;
  parentPid: number;
  name: string;
  dtb: bigint;
  onList: boolean;
  scanned: boolean;
}

const MAX_PROCESSES = 65_536;
/** PIDs are multiples of 4 below 2^32 (handle values of PspCidTable). */
const plausiblePid = (pid: bigint) => pid < 0x1_0000_0000n && pid % 4n === 0n;

/** The EPROCESS at `va`, or null when its fields are not those of a process. */
export function readProcess(memory: KernelMemory, profile: LayoutProfile, va: bigint): ProcessRecord | null {
  const fields = ['UniqueProcessId', 'ActiveProcessLinks', 'ImageFileName', 'InheritedFromUniqueProcessId'];
  let end = profile.field('_KPROCESS', 'DirectoryTableBase').offset + profile.pointerSize;
  for (const name of fields) {
    if (!profile.hasField('_EPROCESS', name)) continue;
    const field = profile.field('_EPROCESS', name);
    end = Math.max(end, field.offset + field.size);
  }
  const bytes = memory.bytes(va, end);
  if (!bytes) return null;
  const reader = readStruct(profile, '_EPROCESS', bytes);
  const pid = reader.pointer('UniqueProcessId');
  const parent = profile.hasField('_EPROCESS', 'InheritedFromUniqueProcessId')
    ? reader.pointer('InheritedFromUniqueProcessId')
    : 0n;
  if (!plausiblePid(pid) || !plausiblePid(parent)) return null;
  const name = imageName(reader.raw('ImageFileName'));
  if (name === null) return null;
  const dtb = readStruct(profile, '_KPROCESS', bytes).pointer('DirectoryTableBase');
  return { va, pid: Number(pid), parentPid: Number(parent), name, dtb, onList: false, scanned: false };
}

/** ImageFileName: printable ASCII up to the first NUL, not empty. */
function imageName(raw: Uint8Array): string | null {
  let text = '';
  for (const byte of raw) {
    if (byte === 0) break;
    if (byte < 0x20 || byte > 0x7e) return null;
    text += String.fromCharCode(byte);
  }
  return text.length ? text : null;
}

export interface ProcessView {
  processes: Map<bigint, ProcessRecord>;
  problems: string[];
  /** PsActiveProcessHead was walked back to its head: a process missing from it was unlinked. */
  listComplete: boolean;
}

export function collectProcesses(
  memory: KernelMemory,
  profile: LayoutProfile,
  listHead: bigint | null,
  scanned: readonly bigint[],
): ProcessView {
  const processes = new Map<bigint, ProcessRecord>();
  const problems: string[] = [];
  let listComplete = false;
  if (listHead !== null) {
    const links = profile.field('_EPROCESS', 'ActiveProcessLinks').offset;
    const walk = walkList(memory, listHead, links, MAX_PROCESSES, 'PsActiveProcessHead');
    problems.push(...walk.problems);
    listComplete = walk.complete;
    for (const va of walk.records) {
      const record = readProcess(memory, profile, va);
      if (!record) {
        problems.push(`PsActiveProcessHead: no process at 0x${va.toString(16)}`);
        listComplete = false;
        continue;
      }
      record.onList = true;
      processes.set(va, record);
    }
  } else problems.push('PsActiveProcessHead not found: processes come from the pool scan only');
  for (const va of scanned) {
    const known = processes.get(va);
    if (known) {
      known.scanned = true;
      continue;
    }
    const record = readProcess(memory, profile, va);
    if (!record) continue;
    record.scanned = true;
    processes.set(va, record);
  }
  return { processes, problems, listComplete };
}
