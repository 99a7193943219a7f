// EPROCESS, established in this image. Anchors: the System process (PsInitialSystemProcess, or
// the first entry of PsActiveProcessHead), which is PID 4 and named "System" on every Windows
// since XP, and whose ActiveProcessLinks — the LIST_ENTRY right after UniqueProcessId in every
// version (spec §1.13) — is linked into PsActiveProcessHead with the other processes. Candidate
// offsets come from the exported accessors (PsGetProcessId, PsGetProcessImageFileName,
// PsGetProcessInheritedFromUniqueProcessId), then from the table, then from a bounded search;
// each is accepted only when those invariants hold.

import { hex } from '../../common/hex';
import type { KernelMemory } from '../kernel/memory';
import { walkList } from '../kernel/list-walk';
import type { LayoutProfile } from '../profile';
import type { AccessorRead } from './accessors';
import { candidates, establish, type Candidate, type Established } from './offsets';

export interface ProcessSample {
  va: bigint;
  pid: number;
}

export interface ProcessLayout {
  systemProcess: bigint;
  uniqueProcessId: Established;
  activeProcessLinks: Established;
  imageFileName: Established;
  /** Null when no offset holds the parent PIDs (parents then are not shown). */
  inheritedFromUniqueProcessId: Established | null;
  directoryTableBase: Established;
  /** Processes on PsActiveProcessHead as read with these offsets (bounded). */
  sample: ProcessSample[];
}

export interface ProcessLayoutInput {
  memory: KernelMemory;
  hint: LayoutProfile;
  code: ReadonlyMap<string, AccessorRead>;
  /** PsInitialSystemProcess's value, when the export was read. */
  systemProcess: bigint | null;
  processHead: bigint | null;
  /** The page-table root the kernel was read through. */
  dtb: bigint;
}

export type ProcessLayoutResult = { ok: true; layout: ProcessLayout } | { ok: false; reason: string };

const SYSTEM_PID = 4n;
const SEARCH_END = 0x1000;
const MAX_SAMPLE = 256;

function fromCode(code: ReadonlyMap<string, AccessorRead>, accessor: string, adjust = 0): Candidate | null {
  const read = code.get(accessor);
  return read
    ? { offset: read.offset + adjust, method: 'kernel-code', source: `${accessor}: ${read.instruction}` }
    : null;
}

function fromTable(hint: LayoutProfile, struct: string, field: string): Candidate | null {
  return hint.hasField(struct, field)
    ? { offset: hint.field(struct, field).offset, method: 'table', source: 'the table' }
    : null;
}

const plausiblePid = (pid: bigint | null) => pid !== null && pid < 0x1_0000_0000n && pid % 4n === 0n;

export function establishProcessLayout(input: ProcessLayoutInput): ProcessLayoutResult {
  const { memory, hint, code } = input;
  const ps = memory.pointerSize;
  const step = BigInt(ps);
  const tablePid = fromTable(hint, '_EPROCESS', 'UniqueProcessId');

  // ActiveProcessLinks: System's own LIST_ENTRY in the ring of PsActiveProcessHead. With
  // PsInitialSystemProcess it is found by walking the ring; without it, it is taken to follow
  // UniqueProcessId (true of every version since XP, spec §1.13) and proven by the PID check.
  const head = input.processHead;
  const known = input.systemProcess;
  const ring = head === null ? [] : walkList(memory, head, 0, 16, 'PsActiveProcessHead').records;
  const systemLink =
    known === null ? null : (ring.find((l) => l >= known && l < known + BigInt(SEARCH_END)) ?? null);
  let system: bigint | null = null;
  let linksOffset: number | null = null;
  const pidCheck = (offset: number): string | null => {
    const links = systemLink !== null && known !== null ? Number(systemLink - known) : offset + ps;
    if (offset + ps > links && offset < links + 2 * ps) return null; // inside the LIST_ENTRY
    const anchor = known ?? (head === null ? null : (memory.ptr(head) ?? 0n) - BigInt(links));
    if (anchor === null || !memory.isKernelAddress(anchor)) return null;
    if (memory.ptr(anchor + BigInt(offset)) !== SYSTEM_PID) return null;
    const at = anchor + BigInt(links);
    const flink = memory.ptr(at);
    const blink = memory.ptr(at + step);
    if (flink === null || blink === null || !memory.isKernelAddress(flink) || !memory.isKernelAddress(blink))
      return null;
    if (memory.ptr(flink + step) !== at || memory.ptr(blink) !== at) return null;
    if (head !== null && !ring.includes(at)) return null;
    // The processes after System hold distinct PIDs other than 4 at the same offset.
    const others = ring.filter((l) => l !== at).slice(0, 8);
    const pids = others.map((l) => memory.ptr(l - BigInt(links) + BigInt(offset)));
    if (pids.some((pid) => !plausiblePid(pid) || pid === SYSTEM_PID || pid === 0n)) return null;
    if (new Set(pids).size !== pids.length) return null;
    system = anchor;
    linksOffset = links;
    return `System (${hex(anchor)}) holds PID 4 there, and ${others.length} other processes in PsActiveProcessHead distinct PIDs`;
  };
  const uniqueProcessId = establish(
    candidates([fromCode(code, 'PsGetProcessId'), tablePid], {
      from: 0,
      to: SEARCH_END,
      step: ps,
      near: tablePid?.offset ?? ps,
    }),
    pidCheck,
  );
  if (!uniqueProcessId || system === null || linksOffset === null)
    return {
      ok: false,
      reason:
        known === null && head === null
          ? 'neither PsInitialSystemProcess nor PsActiveProcessHead was found'
          : "no offset holds the System process's PID 4 with its ActiveProcessLinks in the process list",
    };
  const systemProcess: bigint = system;
  const links: number = linksOffset;
  const activeProcessLinks: Established = {
    offset: links,
    method: 'structure',
    detail:
      systemLink !== null
        ? `${hex(links)}: System's LIST_ENTRY in the ring of PsActiveProcessHead`
        : `${hex(links)}: the LIST_ENTRY after UniqueProcessId, linking System into PsActiveProcessHead`,
  };
  const sample = sampleProcesses(memory, input.processHead, systemProcess, uniqueProcessId.offset, links);

  const tableName = fromTable(hint, '_EPROCESS', 'ImageFileName');
  const imageFileName = establish(
    candidates([fromCode(code, 'PsGetProcessImageFileName'), tableName, nameSearch(memory, systemProcess)], {
      from: 0,
      to: 0,
      step: 1,
      near: 0,
    }),
    (offset) => {
      const bytes = memory.bytes(systemProcess + BigInt(offset), 7);
      if (!bytes || String.fromCharCode(...bytes) !== 'System\0') return null;
      const named = sample.filter((p) => printableName(memory, p.va + BigInt(offset))).length;
      if (sample.length > 1 && named < Math.ceil(sample.length * 0.9)) return null;
      return `System's name "System" is there, and ${named} of ${sample.length} listed processes have a name there`;
    },
  );
  if (!imageFileName) return { ok: false, reason: 'no offset holds the System process\'s name "System"' };

  const tableParent = fromTable(hint, '_EPROCESS', 'InheritedFromUniqueProcessId');
  const inheritedFromUniqueProcessId = establish(
    candidates([fromCode(code, 'PsGetProcessInheritedFromUniqueProcessId'), tableParent], {
      from: 0,
      to: SEARCH_END,
      step: ps,
      near: tableParent?.offset ?? uniqueProcessId.offset,
    }),
    (offset) => parentCheck(memory, sample, systemProcess, offset, uniqueProcessId.offset),
  );

  const directoryTableBase = checkDirectoryTableBase(memory, hint, systemProcess, input.dtb);
  return {
    ok: true,
    layout: {
      systemProcess,
      uniqueProcessId,
      activeProcessLinks,
      imageFileName,
      inheritedFromUniqueProcessId,
      directoryTableBase,
      sample,
    },
  };
}

function sampleProcesses(
  memory: KernelMemory,
  head: bigint | null,
  system: bigint,
  pidOffset: number,
  linksOffset: number,
): ProcessSample[] {
  const records =
    head === null ? [system] : walkList(memory, head, linksOffset, MAX_SAMPLE, 'PsActiveProcessHead').records;
  const sample: ProcessSample[] = [];
  for (const va of records) {
    const pid = memory.ptr(va + BigInt(pidOffset));
    if (plausiblePid(pid)) sample.push({ va, pid: Number(pid) });
  }
  return sample;
}

/** Where "System\0" is in the System process's first 4 KiB: a candidate for ImageFileName. */
function nameSearch(memory: KernelMemory, system: bigint): Candidate | null {
  const bytes = memory.bytes(system, SEARCH_END);
  if (!bytes) return null;
  const text = Buffer.from(bytes).toString('latin1');
  const at = text.indexOf('System\0');
  return at < 0
    ? null
    : { offset: at, method: 'structure', source: 'a search of System\'s EPROCESS for "System"' };
}

/** ImageFileName: printable ASCII up to the first NUL, not empty (15 characters at most). */
function printableName(memory: KernelMemory, va: bigint): boolean {
  const bytes = memory.bytes(va, 15);
  if (!bytes || bytes[0] === 0) return false;
  for (const byte of bytes) {
    if (byte === 0) return true;
    if (byte < 0x20 || byte > 0x7e) return false;
  }
  return true;
}

/**
 * InheritedFromUniqueProcessId: 0 for System; for every other process a PID-shaped value that is
 * not its own, and for most of them the PID of a listed process (a parent may have exited).
 */
function parentCheck(
  memory: KernelMemory,
  sample: ProcessSample[],
  system: bigint,
  offset: number,
  pidOffset: number,
): string | null {
  if (offset === pidOffset) return null;
  if (memory.ptr(system + BigInt(offset)) !== 0n) return null;
  const pids = new Set(sample.map((p) => p.pid));
  let known = 0;
  let others = 0;
  for (const process of sample) {
    if (process.va === system) continue;
    others++;
    const parent = memory.ptr(process.va + BigInt(offset));
    if (!plausiblePid(parent) || Number(parent) === process.pid) return null;
    if (pids.has(Number(parent))) known++;
  }
  if (others < 2 || known < Math.ceil(others / 2)) return null;
  return `System's is 0, and ${known} of ${others} other processes name a listed process there`;
}

/** KPROCESS.DirectoryTableBase (+0x18 x86, +0x28 x64 in every version): System's is the kernel's page-table root. */
function checkDirectoryTableBase(
  memory: KernelMemory,
  hint: LayoutProfile,
  system: bigint,
  dtb: bigint,
): Established {
  const offset = hint.field('_KPROCESS', 'DirectoryTableBase').offset;
  const value = memory.ptr(system + BigInt(offset));
  // x64 CR3 keeps a PCID in its low 12 bits; an x86 PAE root is 32-byte aligned.
  const mask = memory.pointerSize === 8 ? ~0xfffn : ~0x1fn;
  if (value !== null && (value & mask) === (dtb & mask))
    return {
      offset,
      method: 'table-checked',
      detail: `${hex(offset)}: the table; System's value there is the kernel's page-table root ${hex(dtb)}`,
    };
  return {
    offset,
    method: 'table',
    detail: `${hex(offset)}: the table (unchecked: System's value there, ${value === null ? 'unreadable' : hex(value)}, is not the page-table root the kernel was read through, ${hex(dtb)})`,
  };
}
