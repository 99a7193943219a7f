// Checks that a built image's process and thread objects, and its kernel's accessor routines, say
// what truth.json says, read the way a symbol-free reader would: exports from the PE export
// directory, offsets from the accessors' decoded code, objects through the image's own page
// tables.

import { expect } from 'vitest';
import type { Truth } from '../../../src/builder/truth';
import type { VirtualReader } from '../../support/raw-reader';
import { decodeAccessor } from '../../unit/builder/accessor-decode';

export const ACCESSORS = [
  'PsGetProcessId',
  'PsGetProcessImageFileName',
  'PsGetProcessInheritedFromUniqueProcessId',
  'PsGetProcessPeb',
  'PsGetThreadId',
  'PsGetThreadProcessId',
  'PsGetThreadProcess',
  'IoThreadToProcess',
] as const;

/** The kernel's exports by name → VA, from its PE export directory. */
export function kernelExports(v: VirtualReader, truth: Truth): Map<string, bigint> {
  const base = BigInt(truth.kernelBase);
  const pe = base + BigInt(v.u32(base + 0x3cn)!);
  const directory = base + BigInt(v.u32(pe + (truth.arch === 'x64' ? 0x88n : 0x78n))!);
  const count = v.u32(directory + 0x18n)!;
  const functions = base + BigInt(v.u32(directory + 0x1cn)!);
  const names = base + BigInt(v.u32(directory + 0x20n)!);
  const ordinals = base + BigInt(v.u32(directory + 0x24n)!);
  const out = new Map<string, bigint>();
  for (let i = 0; i < count; i++) {
    const nameVa = base + BigInt(v.u32(names + BigInt(i * 4))!);
    const name = v.read(nameVa, 64)!.toString('latin1').split('\0')[0]!;
    const ordinal = v.u16(ordinals + BigInt(i * 2))!;
    out.set(name, base + BigInt(v.u32(functions + BigInt(ordinal * 4))!));
  }
  return out;
}

/** Each accessor's decoded effect, read from the image at its export. */
export function accessorOffsets(
  v: VirtualReader,
  truth: Truth,
): Map<string, { kind: string; offset: number }> {
  const exports = kernelExports(v, truth);
  const out = new Map<string, { kind: string; offset: number }>();
  for (const name of ACCESSORS) {
    const va = exports.get(name);
    expect(va, `${name} is exported`).toBeDefined();
    const decoded = decodeAccessor(v.read(va!, 32)!, truth.arch === 'x64' ? 64 : 32);
    out.set(name, { kind: decoded.kind, offset: decoded.offset });
  }
  return out;
}

const layoutOffset = (truth: Truth, struct: string, name: string): number => {
  const offset = truth.layout.structs[struct]?.fields[name];
  expect(offset, `${struct}.${name} in truth.layout`).toBeDefined();
  return offset!;
};

/**
 * The accessors read the fields truth.layout names, and, applied to every process and thread in
 * the truth, give that object's PID, name, parent, PEB, TID and owner.
 */
export function checkAccessors(v: VirtualReader, truth: Truth): void {
  const ptr = BigInt(truth.arch === 'x64' ? 8 : 4);
  const found = accessorOffsets(v, truth);
  const at = (name: string) => BigInt(found.get(name)!.offset);
  expect(found.get('PsGetProcessImageFileName')!.kind).toBe('address');
  expect(Number(at('PsGetProcessId'))).toBe(layoutOffset(truth, '_EPROCESS', 'UniqueProcessId'));
  expect(Number(at('PsGetThreadProcessId'))).toBe(layoutOffset(truth, '_ETHREAD', 'Cid'));
  for (const process of truth.processes.filter((p) => p.pid !== 0)) {
    const eprocess = BigInt(process.eprocess);
    expect(v.ptr(eprocess + at('PsGetProcessId')), process.name).toBe(BigInt(process.pid));
    expect(v.ptr(eprocess + at('PsGetProcessInheritedFromUniqueProcessId')), process.name).toBe(
      BigInt(process.parent),
    );
    expect(v.ptr(eprocess + at('PsGetProcessPeb')), process.name).toBe(
      process.peb === null ? 0n : BigInt(process.peb),
    );
    const name = v
      .read(eprocess + at('PsGetProcessImageFileName'), 15)!
      .toString('latin1')
      .split('\0')[0];
    expect(name).toBe(process.name.slice(0, 14));
  }
  const eprocessOf = new Map(truth.processes.map((p) => [p.pid, BigInt(p.eprocess)]));
  for (const thread of truth.threads) {
    const ethread = BigInt(thread.ethread);
    expect(v.ptr(ethread + at('PsGetThreadId'))).toBe(BigInt(thread.tid));
    expect(v.ptr(ethread + at('PsGetThreadProcessId'))).toBe(BigInt(thread.pid));
    expect(v.ptr(ethread + at('PsGetThreadProcess'))).toBe(eprocessOf.get(thread.pid));
    expect(v.ptr(ethread + at('IoThreadToProcess'))).toBe(eprocessOf.get(thread.pid));
  }
  expect(at('PsGetThreadId') - at('PsGetThreadProcessId')).toBe(ptr);
}

/** Walks a LIST_ENTRY ring from its head: the entries' addresses (bounded). */
function ring(v: VirtualReader, head: bigint): bigint[] {
  const out: bigint[] = [];
  for (let entry = v.ptr(head)!; entry !== head && out.length < 4096; entry = v.ptr(entry)!) out.push(entry);
  return out;
}

/**
 * The objects are laid out as truth.layout says: PsActiveProcessHead through ActiveProcessLinks,
 * each process's threads through ThreadListHead/ThreadListEntry, each thread's IRPs through
 * IrpList/IRP.ThreadListEntry, CLIENT_IDs, start addresses and the KTHREAD/APC-state owners.
 */
export function checkObjects(v: VirtualReader, truth: Truth): void {
  const off = (struct: string, name: string) => BigInt(layoutOffset(truth, struct, name));
  const links = off('_EPROCESS', 'ActiveProcessLinks');
  const listed = ring(v, BigInt(truth.psActiveProcessHead)).map((entry) => entry - links);
  expect(listed.sort()).toEqual(
    truth.processes
      .filter((p) => p.pid !== 0 && !p.hidden)
      .map((p) => BigInt(p.eprocess))
      .sort(),
  );
  const threadEntry = off('_ETHREAD', 'ThreadListEntry');
  const cid = off('_ETHREAD', 'Cid');
  const ptr = BigInt(truth.arch === 'x64' ? 8 : 4);
  for (const process of truth.processes.filter((p) => p.pid !== 0)) {
    const threads = ring(v, BigInt(process.eprocess) + off('_EPROCESS', 'ThreadListHead')).map(
      (e) => e - threadEntry,
    );
    expect(threads.sort(), process.name).toEqual(
      truth.threads
        .filter((t) => t.pid === process.pid)
        .map((t) => BigInt(t.ethread))
        .sort(),
    );
  }
  const irpLinks = off('_IRP', 'ThreadListEntry');
  const tcb = off('_ETHREAD', 'Tcb');
  const owners = [
    ...(truth.layout.structs['_KTHREAD']?.fields['Process'] !== undefined
      ? [tcb + off('_KTHREAD', 'Process')]
      : []),
    tcb + off('_KTHREAD', 'ApcState') + off('_KAPC_STATE', 'Process'),
    ...(truth.layout.structs['_ETHREAD']?.fields['ThreadsProcess'] !== undefined
      ? [off('_ETHREAD', 'ThreadsProcess')]
      : []),
  ];
  const eprocessOf = new Map(truth.processes.map((p) => [p.pid, BigInt(p.eprocess)]));
  for (const thread of truth.threads) {
    const ethread = BigInt(thread.ethread);
    expect(v.ptr(ethread + cid)).toBe(BigInt(thread.pid));
    expect(v.ptr(ethread + cid + ptr)).toBe(BigInt(thread.tid));
    expect(v.ptr(ethread + off('_ETHREAD', 'StartAddress'))).toBe(BigInt(thread.startAddress));
    expect(v.ptr(ethread + off('_ETHREAD', 'Win32StartAddress'))).toBe(BigInt(thread.win32StartAddress));
    for (const owner of owners) expect(v.ptr(ethread + owner)).toBe(eprocessOf.get(thread.pid));
    const irps = ring(v, ethread + off('_ETHREAD', 'IrpList')).map((e) => e - irpLinks);
    expect(irps.sort()).toEqual(
      truth.irps
        .filter((irp) => irp.thread === thread.ethread)
        .map((irp) => BigInt(irp.address))
        .sort(),
    );
  }
}

/** The kernel's VERSIONINFO file version (spec §1.16): RT_VERSION's VS_FIXEDFILEINFO, as a.b.c.d. */
export function kernelFileVersion(v: VirtualReader, truth: Truth): string {
  const base = BigInt(truth.kernelBase);
  const pe = base + BigInt(v.u32(base + 0x3cn)!);
  const root = base + BigInt(v.u32(pe + (truth.arch === 'x64' ? 0x88n : 0x78n) + 2n * 8n)!);
  /** The target of the entry with `id` (any entry when null) in the directory at `directory`. */
  const entry = (directory: bigint, id: number | null): number => {
    const count = v.u16(directory + 0xcn)! + v.u16(directory + 0xen)!;
    for (let i = 0; i < count; i++) {
      const at = directory + 0x10n + BigInt(i * 8);
      if (id === null || v.u32(at) === id) return v.u32(at + 4n)!;
    }
    throw new Error(`no resource entry ${id}`);
  };
  const subdirectory = (target: number) => {
    expect(target & 0x80000000, 'a subdirectory').not.toBe(0);
    return root + BigInt(target & 0x7fffffff);
  };
  const dataEntry = root + BigInt(entry(subdirectory(entry(subdirectory(entry(root, 16)), null)), null));
  const info = base + BigInt(v.u32(dataEntry)!);
  expect(v.read(info + 6n, 30)!.toString('utf16le')).toBe('VS_VERSION_INFO');
  const fixed = info + 0x28n;
  expect(v.u32(fixed)).toBe(0xfeef04bd);
  const ms = v.u32(fixed + 8n)!;
  const ls = v.u32(fixed + 0xcn)!;
  return `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}`;
}

/**
 * The system-service table in memory sends every service where the truth says: x86 entries are
 * addresses; x64 entries are LONGs, the target's offset from the table shifted left by 4.
 */
export function checkServiceTable(v: VirtualReader, truth: Truth): void {
  const table = BigInt(truth.serviceTable.table);
  const bytes = v.read(table, truth.serviceTable.count * 4)!;
  for (const entry of truth.serviceTable.entries) {
    const raw = bytes.readInt32LE(entry.index * 4);
    const target = truth.arch === 'x64' ? table + BigInt(raw >> 4) : BigInt(raw >>> 0);
    expect(target, `service ${entry.index}`).toBe(BigInt(entry.target));
  }
}
