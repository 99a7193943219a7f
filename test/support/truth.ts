// The engine's result against the builder's ground truth: drivers, devices, stacks, modules,
// links, every handler's owner and verdict, and findings equal to the planted anomalies. Used by
// the analysis tests and by every test that gets an image another way (a live capture).

import { expect } from 'vitest';
import type { Truth } from '../../src/builder/index';
import type { AnalysisResult, Hex } from '../../src/common/model';

const norm = (hex: string | null) => (hex === null ? null : BigInt(hex));

export function expectAnalysisMatchesTruth(result: AnalysisResult, truth: Truth): void {
  expectServiceTableMatchesTruth(result, truth);
  expectActivityMatchesTruth(result, truth);
  // Drivers: live ones exactly, freed ones exactly.
  const live = result.drivers.filter((d) => d.state === 'live');
  expect(live.map((d) => d.objectVa).sort()).toEqual(truth.drivers.map((d) => d.objectVa).sort());
  expect(
    result.drivers
      .filter((d) => d.state === 'freed')
      .map((d) => d.objectVa)
      .sort(),
  ).toEqual(truth.staleDrivers.map((d) => d.objectVa).sort());
  const drivers = new Map(live.map((d) => [d.objectVa, d]));
  for (const t of truth.drivers) {
    const d = drivers.get(t.objectVa)!;
    // Both the DriverName buffer and the object name can be paged out; then the name is unknown.
    if (t.nameResident || t.objectNameResident) expect(d.name, t.objectVa).toBe(t.name);
    else expect(d.name ?? d.nameStatus, t.objectVa).toMatch(/paged out|unreadable/);
    expect(norm(d.start), t.name).toBe(norm(t.start));
    expect(d.size, t.name).toBe(t.size);
    expect(d.module, t.name).toBe(t.module);
    expect(d.foundBy.includes('directory'), `${t.name} in its directory`).toBe(!t.hidden);
    expect(d.foundBy, t.name).toContain('pool-scan');
    expect(d.devices.sort(), t.name).toEqual(t.devices.map((x) => x.objectVa).sort());
    if (t.objectNameResident) expect(d.objectName, t.name).toBe(t.objectName);
  }
  // Devices, their names, types and stacks.
  const devices = new Map(result.devices.map((d) => [d.objectVa, d]));
  const truthDevices = truth.drivers.flatMap((d) => d.devices);
  expect([...devices.keys()].sort()).toEqual(truthDevices.map((d) => d.objectVa).sort());
  for (const t of truthDevices) {
    const d = devices.get(t.objectVa)!;
    expect(d.type, t.objectVa).toBe(t.type);
    expect(d.attachedDevice, `${t.name} attached device`).toBe(t.attachedDevice);
    expect(d.attachedTo, `${t.name} attached to`).toBe(t.attachedTo);
    expect(d.driver).toBe(truth.drivers.find((x) => x.name === t.driver)!.objectVa);
    if (t.nameResident && d.nameStatus === null) expect(d.name, t.objectVa).toBe(t.name);
    else if (t.nameResident)
      expect(t.name!.endsWith(`\\${d.name}`), `${t.name} vs ${d.name} (${d.nameStatus})`).toBe(true);
    // A name inferred from a link and the name's hash is the device's real name.
    if (d.inferredName !== null) expect(d.inferredName, t.objectVa).toBe(t.name);
  }
  // Every link that names a device names the right one.
  for (const link of result.links.filter((l) => l.device !== null))
    expect(truthDevices.find((t) => t.objectVa === link.device)?.name, link.name ?? link.objectVa).toBe(
      link.target,
    );
  // Modules, listed and unlinked.
  expect(result.modules.map((m) => `${m.base} ${m.name} ${m.unlinked}`).sort()).toEqual(
    truth.modules.map((m) => `${m.base} ${m.name} ${m.unlinked}`).sort(),
  );
  // The PE identity of every module whose headers are in memory (all of them in builder images).
  expect(result.modules.map((m) => `${m.name} ${m.timeDateStamp} ${m.checksum}`).sort()).toEqual(
    truth.modules.map((m) => `${m.name} ${m.timeDateStamp} ${m.checksum}`).sort(),
  );
  // Symbolic links whose names are readable.
  const links = new Map(result.links.map((l) => [l.name, l.target]));
  for (const t of truth.links.filter((l) => l.nameResident)) expect(links.get(t.name), t.name).toBe(t.target);
  // Every IRP, FastIo and callback handler: address, owner, verdict.
  const handler = (list: 'irp' | 'fastIo' | 'callbacks', driver: Hex, name: string) =>
    drivers.get(driver)?.[list].find((h) => h.name === name);
  const byName = new Map(truth.drivers.map((d) => [d.name, d.objectVa]));
  for (const [list, entries] of [
    ['irp', truth.irp],
    ['fastIo', truth.fastIo],
    ['callbacks', truth.callbacks],
  ] as const) {
    for (const t of entries) {
      const h = handler(list, byName.get(t.driver)!, t.name);
      expect(h, `${t.driver} ${t.name}`).toBeDefined();
      expect([h!.address, h!.module, h!.verdict], `${t.driver} ${t.name}`).toEqual([
        t.handler,
        t.owner,
        t.verdict,
      ]);
    }
    const counted = live.reduce((n, d) => n + d[list].length, 0);
    expect(counted, list).toBe(entries.length);
  }
  // Findings: exactly the planted anomalies.
  const found = result.findings.map((f) => `${f.severity} ${f.kind} ${f.subject}`).sort();
  const planted = truth.findings.map((f) => `${f.severity} ${f.kind} ${f.subject}`).sort();
  expect(found).toEqual(planted);
}

/** The system-service table: found where the builder put it, every entry sent where it sends it. */
export function expectServiceTableMatchesTruth(result: AnalysisResult, truth: Truth): void {
  const table = result.serviceTable;
  expect(table, 'service table').not.toBeNull();
  expect(norm(table!.descriptor)).toBe(norm(truth.serviceTable.descriptor));
  expect(norm(table!.base)).toBe(norm(truth.serviceTable.table));
  expect(table!.limit).toBe(truth.serviceTable.count);
  expect(table!.entries.map((e) => [e.index, norm(e.address)])).toEqual(
    truth.serviceTable.entries.map((e) => [e.index, norm(e.target)]),
  );
  for (const t of truth.serviceTable.entries) {
    const entry = table!.entries[t.index]!;
    if (t.name) expect(entry.name, `service ${t.index}`).toBe(t.name);
    expect(entry.module, `${entry.name}`).toBe(t.module);
  }
}

/**
 * Processes (all but Idle, which is on no list and in no pool), their threads, and the IRPs in
 * flight with their issuing thread, file object and every stack location in use.
 */
export function expectActivityMatchesTruth(result: AnalysisResult, truth: Truth): void {
  const processes = truth.processes.filter((p) => p.pid !== 0);
  expect(
    result.processes.map((p) => [norm(p.objectVa), p.name, p.pid, p.hidden]).sort(byFirst),
    'processes',
  ).toEqual(processes.map((p) => [norm(p.eprocess), p.name.slice(0, 15), p.pid, p.hidden]).sort(byFirst));
  const parentOf = new Map(processes.map((p) => [p.pid, p.parent]));
  for (const p of result.processes) expect(p.parentPid, p.name).toBe(parentOf.get(p.pid));
  expect(
    result.threads
      .map((t) => [norm(t.objectVa), t.tid, t.pid, norm(t.startAddress), norm(t.win32StartAddress)])
      .sort(byFirst),
    'threads',
  ).toEqual(
    truth.threads
      .map((t) => [norm(t.ethread), t.tid, t.pid, norm(t.startAddress), norm(t.win32StartAddress)])
      .sort(byFirst),
  );
  const threadsOf = (pid: number) => truth.threads.filter((t) => t.pid === pid).map((t) => norm(t.ethread));
  for (const p of result.processes)
    expect(p.threads.map(norm).sort(), `${p.name} threads`).toEqual(threadsOf(p.pid).sort());
  expect(result.irps.map((i) => norm(i.address)).sort(), 'IRPs').toEqual(
    truth.irps.map((i) => norm(i.address)).sort(),
  );
  const devices = new Map(result.devices.map((d) => [norm(d.objectVa), d]));
  for (const t of truth.irps) {
    const irp = result.irps.find((i) => norm(i.address) === norm(t.address))!;
    const label = `IRP ${t.address} (${t.device})`;
    expect(irp.foundBy, label).toEqual(['pool-scan', 'thread-irp-list']);
    expect([irp.tid, irp.pid, norm(irp.thread)], label).toEqual([t.tid, t.pid, norm(t.thread)]);
    expect(irp.processName, label).toBe(truth.processes.find((p) => p.pid === t.pid)!.name);
    expect([irp.major, irp.stackCount, irp.currentLocation, irp.size, irp.flags], label).toEqual([
      t.major,
      t.stackCount,
      t.currentLocation,
      t.size,
      t.flags,
    ]);
    expect([norm(irp.fileObject), irp.fileName], label).toEqual([norm(t.fileObject), t.fileName]);
    expect(norm(irp.device), label).toBe(norm(t.pendingOn));
    // The file was opened on the device where the request waits (its name may be paged out).
    expect(norm(irp.fileDevice), label).toBe(norm(t.pendingOn));
    const named = devices.get(norm(irp.fileDevice))!;
    if (named.name !== null) expect(named.name, label).toBe(t.device);
    expect(
      irp.stack.map((s) => [
        s.index,
        norm(s.device),
        s.major,
        s.completion?.module ?? null,
        norm(s.completion?.address ?? null),
      ]),
      label,
    ).toEqual(
      t.locations.map((l) => [
        l.index,
        norm(l.device),
        l.major,
        l.completionModule,
        norm(l.completionRoutine),
      ]),
    );
    for (const s of irp.stack) expect(s.driver, label).toBe(devices.get(norm(s.device))!.driver);
    const thread = result.threads.find((th) => norm(th.objectVa) === norm(t.thread))!;
    expect(thread.irps.map(norm), label).toContain(norm(t.address));
  }
}

function byFirst(a: unknown[], b: unknown[]): number {
  const x = a[0] as bigint;
  const y = b[0] as bigint;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The module of the truth that holds `address`, or null (pool code). */
export function truthModuleAt(truth: Truth, address: string): string | null {
  const va = BigInt(address);
  const module = truth.modules.find((m) => va >= BigInt(m.base) && va < BigInt(m.base) + BigInt(m.size));
  return module?.name ?? null;
}

/**
 * The callback entries the rootkit planted: its registered routines, the System thread it started
 * in pool code, the IDT gate it hooked on each processor and the timer whose DPC is its pool code.
 */
export function truthPlantedCallbackEntries(truth: Truth): string[] {
  return [
    ...truth.registeredCallbacks.filter((c) => c.planted).map((c) => c.entry),
    ...truth.threads.filter((t) => t.pid === 4 && t.planted).map((t) => t.ethread),
    ...truth.idtEntries.filter((e) => e.planted).map((e) => e.entry),
    ...truth.timers.filter((t) => t.planted).map((t) => t.timer),
  ];
}

/**
 * Every entry the analysis's callbacks section should hold, by the truth: the registered
 * routines, the System process's threads, every processor's interrupt gates and the armed timers
 * (a GDT call gate only when one is planted, which no image here does).
 */
export function truthCallbackEntries(
  truth: Truth,
): Array<{ kind: string; entry: string; owner: string | null; driver: string | null }> {
  return [
    ...truth.registeredCallbacks.map((c) => ({
      kind: c.kind,
      entry: c.entry,
      owner: c.owner,
      driver: c.driver ?? null,
    })),
    ...truth.threads
      .filter((t) => t.pid === 4)
      .map((t) => ({
        kind: 'system-thread',
        entry: t.ethread,
        owner: truthModuleAt(truth, t.startAddress),
        driver: null,
      })),
    ...truth.idtEntries.map((e) => ({ kind: 'idt', entry: e.entry, owner: e.owner, driver: null })),
    ...truth.timers.map((t) => ({ kind: 'timer', entry: t.timer, owner: t.owner, driver: null })),
  ];
}
