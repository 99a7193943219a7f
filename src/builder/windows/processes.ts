// A few processes, enough for the EPROCESS-based DTB discovery routes (spec §1.13, §3.1 item 6):
// the System process in pool, the Idle process in the kernel's data, user processes with their
// own top-level page tables that share the kernel half, all on PsActiveProcessHead.

import { ByteWriter, asciiBytes } from '../bytes';
import { field, hasField, sizeOf, type KernelLayout } from '../layout/kernel-layout';
import type { PageTables } from '../memory/page-tables';
import type { PhysicalMemory } from '../memory/physical';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import type { ObjectManager } from './objects';
import type { PoolRegion } from './pool';

export interface ProcessModel {
  name: string;
  pid: number;
  parent: number;
  eprocessVa: bigint;
  dtb: number;
  tables: PageTables | null;
  /** User-mode address of the PEB; 0 for processes that have none (Idle, System, Registry). */
  peb: bigint;
  /** Unlinked from PsActiveProcessHead by a rootkit (DKOM): its links point at itself. */
  hidden?: boolean;
}

const USER_PROCESSES_MODERN = [
  'smss.exe',
  'csrss.exe',
  'wininit.exe',
  'services.exe',
  'lsass.exe',
  'svchost.exe',
  'explorer.exe',
];
const USER_PROCESSES_LEGACY = [
  'smss.exe',
  'csrss.exe',
  'winlogon.exe',
  'services.exe',
  'lsass.exe',
  'svchost.exe',
  'explorer.exe',
];

export function kprocessSignatureSize(layout: KernelLayout): number {
  // DISPATCHER_HEADER.Size = sizeof(KPROCESS) / 4 while it fits a byte; 0 from 19041 (spec §1.13).
  const quarter = sizeOf(layout, '_KPROCESS') / 4;
  return quarter <= 0xff ? quarter : 0;
}

export function writeEprocess(
  layout: KernelLayout,
  vm: VirtualMemory,
  va: bigint,
  process: ProcessModel,
): void {
  const size = sizeOf(layout, '_EPROCESS');
  const w = new ByteWriter(size, layout.pointerSize);
  const kp = (name: string) => field(layout, '_KPROCESS', name);
  const ep = (name: string) => field(layout, '_EPROCESS', name);
  w.u8(0, 3).u8(2, kprocessSignatureSize(layout)); // DISPATCHER_HEADER: Type = ProcessObject
  w.ptr(kp('DirectoryTableBase'), BigInt(process.dtb));
  w.ptr(ep('UniqueProcessId'), BigInt(process.pid));
  w.ptr(ep('InheritedFromUniqueProcessId'), BigInt(process.parent));
  w.set(ep('ImageFileName'), asciiBytes(process.name.slice(0, 14)));
  if (hasField(layout, '_EPROCESS', 'Peb')) w.ptr(ep('Peb'), process.peb);
  vm.write(va, w.bytes);
}

/**
 * Where a user process's PEB is: on x86 and Windows 7 x64 in one of the pages just below the top
 * of user space (0x7FFDx000, 0x7FFFFFDx000); on Windows 8 and later x64 anywhere low in user
 * space. A reader needs only that it is a user address, and none for System.
 */
function userPebAddress(layout: KernelLayout, rng: Rng): bigint {
  if (layout.arch === 'x86') return BigInt(0x7ffd0000 + rng.int(0, 0xf) * 0x1000);
  if (layout.version.build < 9200) return 0x7fffffd0000n + BigInt(rng.int(0, 0xf) * 0x1000);
  return (BigInt(rng.int(0x10, 0xff)) << 32n) | BigInt(rng.int(0, 0xfffff) * 0x1000);
}

export function createProcesses(
  layout: KernelLayout,
  vm: VirtualMemory,
  phys: PhysicalMemory,
  rng: Rng,
  objects: ObjectManager,
  pool: PoolRegion,
  kernelTables: PageTables,
  idleVa: bigint,
  kuserPfn: number,
  hiddenName: string | null,
): ProcessModel[] {
  const bodySize = sizeOf(layout, '_EPROCESS');
  const processes: ProcessModel[] = [
    {
      name: 'Idle',
      pid: 0,
      parent: 0,
      eprocessVa: idleVa,
      dtb: kernelTables.dtb,
      tables: kernelTables,
      peb: 0n,
    },
  ];
  // A stream of its own: the PEBs do not move the processes' other draws.
  const pebs = rng.fork('processes/peb');
  const pebOf = () => userPebAddress(layout, pebs);
  const system = objects.create({
    type: 'Process',
    bodySize,
    pool,
    pointerCount: rng.int(100, 300),
    handleCount: rng.int(1000, 3000),
  });
  processes.push({
    name: 'System',
    pid: 4,
    parent: 0,
    eprocessVa: system.bodyVa,
    dtb: kernelTables.dtb,
    tables: kernelTables,
    peb: 0n,
  });
  if (layout.version.build >= 17134) {
    const registry = objects.create({ type: 'Process', bodySize, pool });
    processes.push({
      name: 'Registry',
      pid: 0x58 + rng.int(0, 8) * 4,
      parent: 4,
      eprocessVa: registry.bodyVa,
      dtb: 0,
      tables: null,
      peb: 0n,
    });
  }
  let pid = 0x100 + rng.int(0, 0x40) * 4;
  let parent = 4;
  for (const name of layout.version.build < 6000 ? USER_PROCESSES_LEGACY : USER_PROCESSES_MODERN) {
    const object = objects.create({ type: 'Process', bodySize, pool });
    processes.push({ name, pid, parent, eprocessVa: object.bodyVa, dtb: 0, tables: null, peb: pebOf() });
    parent = name === 'smss.exe' ? pid : parent;
    pid += 4 * rng.int(2, 60);
  }
  if (hiddenName !== null) {
    const object = objects.create({ type: 'Process', bodySize, pool });
    processes.push({
      name: hiddenName,
      pid,
      parent,
      eprocessVa: object.bodyVa,
      dtb: 0,
      tables: null,
      peb: pebOf(),
      hidden: true,
    });
  }
  // Each process gets its own top-level table sharing the kernel half (built after every kernel mapping).
  for (const process of processes) {
    if (process.tables) continue;
    const pfn =
      layout.paging === 'pae' ? phys.allocateContiguous(rng, 5, 1, 0x1000000) : phys.allocate(rng, 0x1000000);
    process.tables = kernelTables.forkKernelHalf(pfn);
    process.dtb = process.tables.dtb;
    process.tables.map(0x7ffe0000n, kuserPfn, { user: true });
  }
  kernelTables.map(0x7ffe0000n, kuserPfn, { user: true });
  return processes;
}

/** Writes the EPROCESS bodies and links them on PsActiveProcessHead (the Idle process is not on it). */
export function writeProcesses(
  layout: KernelLayout,
  vm: VirtualMemory,
  processes: ProcessModel[],
  listHeadVa: bigint,
): void {
  const ptr = BigInt(layout.pointerSize);
  const linksAt = BigInt(field(layout, '_EPROCESS', 'ActiveProcessLinks'));
  for (const process of processes) writeEprocess(layout, vm, process.eprocessVa, process);
  const listed = processes.filter((p) => p.pid !== 0 && !p.hidden);
  for (const process of processes.filter((p) => p.hidden)) {
    vm.writePtr(process.eprocessVa + linksAt, process.eprocessVa + linksAt);
    vm.writePtr(process.eprocessVa + linksAt + ptr, process.eprocessVa + linksAt);
  }
  const links = [listHeadVa, ...listed.map((p) => p.eprocessVa + linksAt)];
  for (let i = 0; i < links.length; i++) {
    vm.writePtr(links[i]!, links[(i + 1) % links.length]!);
    vm.writePtr(links[i]! + ptr, links[(i - 1 + links.length) % links.length]!);
  }
}
