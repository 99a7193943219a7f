// Notify routines and callbacks against the builder's ground truth, on every shared ISF build and
// x86 profile: the clean system on boot 1 and the same system infected on boot 2 (the default
// infections, which include the callbacks). Every registered routine of the truth is found in its
// slot or list place with its owner and verdict, every planted one is a finding and the clean
// image has none above info; the arrays and lists are found from the kernel's code without
// symbols, and at the same addresses from the symbol file; clean vs infected across boots differs
// in exactly the planted registrations.
// Hostile slots (a reference into unmapped memory, a block naming user memory) are warnings that
// cost only their slot.

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_INFECTIONS, type Infection, type Truth } from '../../../src/builder/index';
import { severityRank } from '../../../src/common/findings';
import { CALLBACK_KINDS, type AnalysisResult } from '../../../src/common/model';
import { analyzeImage } from '../../../src/core/node/analyze';
import { diffResults } from '../../../src/core/compare';
import { isfFiles, SHARED } from '../../support/images';
import { callbackTestImage, everyLayout, oneLayoutPerArch } from '../../support/callback-images';
import { RawImage, VirtualReader } from '../../support/raw-reader';
import { patchedImageCopy } from '../../support/patched-image';
import { truthModuleAt } from '../../support/truth';

const SYMBOLS = join(SHARED, 'isf');
/** The kinds the kernel registers in arrays and lists (System threads, gates and timers are read apart). */
const REGISTERED_KINDS = CALLBACK_KINDS.filter(
  (k) => k !== 'system-thread' && k !== 'idt' && k !== 'gdt' && k !== 'timer',
);
const isRegistered = (kind: string) => (REGISTERED_KINDS as readonly string[]).includes(kind);
const OBJECT_KINDS = ['process-object', 'thread-object', 'desktop-object'];
/** ObRegisterCallbacks exists from Vista SP1 (build 6001) on: XP and 2003 have no object callbacks. */
const hasObjectCallbacks = (truth: Truth) => truth.build >= 6001;
/** One registered routine: an object callback's record holds a pre- and a post-operation routine. */
const routineKey = (entry: string, operation: string | undefined) => `${entry}|${operation ?? ''}`;

function expectTruthFound(result: AnalysisResult, truth: Truth): void {
  for (const array of truth.callbackHeads) {
    const head = result.callbacks.heads.find((h) => h.kind === array.kind)!;
    expect(head.address, array.kind).toBe(array.address);
    expect(head.coverage).toEqual({ state: 'complete', missing: [] });
  }
  const found = new Map(result.callbacks.entries.map((c) => [routineKey(c.entry, c.operation), c]));
  for (const registered of truth.registeredCallbacks) {
    const callback = found.get(routineKey(registered.entry, registered.operation));
    expect(callback, `${registered.kind} ${registered.slot}`).toBeDefined();
    expect(callback!.kind).toBe(registered.kind);
    expect(callback!.slot).toBe(registered.slot);
    expect(callback!.block).toBe(registered.block);
    expect(callback!.routine.address).toBe(registered.routine);
    expect(callback!.owner).toBe(registered.owner);
    if (registered.block !== null || registered.operation) expect(callback!.context).toBe(registered.context);
    expect(callback!.component).toBe(registered.component);
    expect(callback!.device).toBe(registered.device);
    if (registered.driver !== null) expect(callback!.driver).toBe(registered.driver);
    expect(callback!.operation).toBe(registered.operation);
    expect(callback!.routine.verdict).toBe(registered.owner === null ? 'no-module' : 'own-image');
  }
  expect(result.callbacks.entries.filter((c) => isRegistered(c.kind)).length).toBe(
    truth.registeredCallbacks.length,
  );
  expectSystemThreadsFound(result, truth);
  expectGatesFound(result, truth);
  const callbackFindings = result.findings.filter((f) => f.kind.startsWith('callback-'));
  const planted = truth.findings.filter((f) => f.kind.startsWith('callback-'));
  expect(callbackFindings.map((f) => `${f.severity} ${f.kind} ${f.subject}`).sort()).toEqual(
    planted.map((f) => `${f.severity} ${f.kind} ${f.subject}`).sort(),
  );
  for (const finding of callbackFindings) {
    expect(finding.evidence.disassembly?.instructions.length).toBeGreaterThan(0);
    const recorded = [...truth.registeredCallbacks.map((r) => r.entry), ...truth.timers.map((t) => t.timer)];
    expect(recorded.some((entry) => finding.evidence.addresses?.includes(entry))).toBe(true);
  }
}

/** The offset in ntoskrnl of the clean image's system-call gate (0x2E), as hex. */
function removedOffset(truth: Truth): string {
  const gate = truth.idtEntries.find((e) => e.vector === 0x2e && e.processor === 0)!;
  return `0x${(BigInt(gate.routine) - BigInt(truth.kernelBase)).toString(16)}`;
}

/** The truth module holding `address`, by the truth's own bases and sizes. */
/**
 * Every thread of PID 4 in the truth is a system-thread entry with its TID, start address and the
 * module that holds it; the planted one is in no module and is the only orphan-thread finding.
 */
function expectSystemThreadsFound(result: AnalysisResult, truth: Truth): void {
  const head = result.callbacks.heads.find((h) => h.kind === 'system-thread')!;
  expect(head.coverage).toEqual({ state: 'complete', missing: [] });
  const system = truth.threads.filter((t) => t.pid === 4);
  const found = result.callbacks.entries.filter((c) => c.kind === 'system-thread');
  expect(found.map((c) => c.entry).sort()).toEqual(system.map((t) => t.ethread).sort());
  for (const thread of system) {
    const entry = found.find((c) => c.entry === thread.ethread)!;
    expect(entry.tid).toBe(thread.tid);
    expect(entry.routine.address).toBe(thread.startAddress);
    expect(entry.owner).toBe(truthModuleAt(truth, thread.startAddress));
    expect(entry.routine.verdict === 'no-module', thread.ethread).toBe(thread.planted);
  }
  const orphans = result.findings.filter((f) => f.kind === 'orphan-thread');
  const planted = truth.findings.filter((f) => f.kind === 'orphan-thread');
  expect(orphans.map((f) => `${f.severity} ${f.subject}`)).toEqual(
    planted.map((f) => `${f.severity} ${f.subject}`),
  );
  expect(planted.map((f) => f.subject)).toEqual(system.filter((t) => t.planted).map((t) => t.startAddress));
  for (const finding of orphans) {
    expect(finding.evidence.disassembly?.instructions.length).toBeGreaterThan(0);
    const thread = system.find((t) => t.startAddress === finding.subject)!;
    expect(finding.evidence.addresses).toEqual([thread.ethread, thread.startAddress]);
  }
}

/**
 * Every interrupt gate of every processor in the truth is an idt entry with its handler's routine
 * (a KINTERRUPT's ServiceRoutine where it enters one), the module holding it and its object; no
 * call gate; the planted gate is the only idt-hook finding, one for all processors.
 */
function expectGatesFound(result: AnalysisResult, truth: Truth): void {
  for (const kind of ['idt', 'gdt'] as const) {
    const head = result.callbacks.heads.find((h) => h.kind === kind)!;
    expect(head.coverage, kind).toEqual({ state: 'complete', missing: [] });
  }
  const gates = result.callbacks.entries.filter((c) => c.kind === 'idt');
  expect(gates.map((g) => g.entry).sort()).toEqual(truth.idtEntries.map((e) => e.entry).sort());
  expect(new Set(gates.map((g) => g.processor)).size).toBe(truth.processors.length);
  for (const expected of truth.idtEntries) {
    const gate = gates.find((g) => g.entry === expected.entry)!;
    expect(gate.slot).toBe(expected.vector);
    expect(gate.processor).toBe(expected.processor);
    expect(gate.routine.address).toBe(expected.routine);
    expect(gate.block).toBe(expected.interrupt);
    expect(gate.dispatch?.address ?? null).toBe(expected.dispatch);
    if (expected.dispatch) expect(gate.dispatch!.module).toBe(truthModuleAt(truth, expected.dispatch));
    expect(gate.owner).toBe(expected.owner);
    expect(gate.owner).toBe(truthModuleAt(truth, expected.routine));
  }
  expect(result.callbacks.entries.filter((c) => c.kind === 'gdt')).toEqual([]);
  const hooks = result.findings.filter((f) => f.kind === 'idt-hook' || f.kind === 'gdt-call-gate');
  const planted = truth.findings.filter((f) => f.kind === 'idt-hook');
  expect(hooks.map((f) => `${f.severity} ${f.kind} ${f.subject}`)).toEqual(
    planted.map((f) => `${f.severity} ${f.kind} ${f.subject}`),
  );
  for (const hook of hooks) {
    const hooked = truth.idtEntries.filter((e) => e.planted);
    expect(hook.evidence.addresses).toEqual([...hooked.map((e) => e.entry), hooked[0]!.routine]);
  }
}

describe.each(everyLayout())('notify routines: $label', ({ isf, profile }) => {
  test('clean and infected across boots: found with owner and verdict, the planted ones are findings and the only differences', async () => {
    const clean = callbackTestImage({ isf, profile, scenario: 'clean' });
    const infected = callbackTestImage({ isf, profile, scenario: 'infected', boot: 2 });
    expect(clean.truth.registeredCallbacks.length).toBeGreaterThan(0);
    const objectCallbacks = hasObjectCallbacks(clean.truth);
    expect(infected.truth.registeredCallbacks.filter((r) => r.planted).length).toBe(objectCallbacks ? 5 : 4);
    // Every kind has its head in the truth, and the stock system registers in most of them.
    expect(clean.truth.callbackHeads.map((h) => h.kind).sort()).toEqual(
      REGISTERED_KINDS.filter((k) => objectCallbacks || !OBJECT_KINDS.includes(k)).sort(),
    );
    expect(infected.truth.threads.filter((t) => t.planted).length).toBe(1);

    const cleanResult = await analyzeImage(clean.image);
    expectTruthFound(cleanResult, clean.truth);
    expect(cleanResult.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    // Without symbols each array is found through its registration routine's code; the object
    // types' CallbackList at the build's offset, checked against the records on it.
    for (const head of cleanResult.callbacks.heads.filter(
      (h) => isRegistered(h.kind) && !OBJECT_KINDS.includes(h.kind),
    ))
      expect(head.method).toMatch(/^(PsSet|CmRegister|KeRegister|IoRegister)\w+/);
    for (const head of cleanResult.callbacks.heads.filter((h) => OBJECT_KINDS.includes(h.kind))) {
      if (objectCallbacks)
        expect(head.method).toMatch(
          /^build \d+'s _OBJECT_TYPE\.CallbackList \+0x[0-9a-f]+, checked: .* \((PsProcessType|PsThreadType|ExDesktopObjectType) → 0x[0-9a-f]+\)$/,
        );
      else
        expect(head.coverage).toEqual({
          state: 'unavailable',
          missing: ['object callbacks exist from Windows Vista SP1 (build 6001) on'],
        });
    }
    // A kernel without object callbacks left nothing unjudged: every judgement could be made.
    expect(cleanResult.coverage.findings).toEqual({ state: 'complete', missing: [] });

    const infectedResult = await analyzeImage(infected.image);
    expectTruthFound(infectedResult, infected.truth);
    // Most severe first, the callbacks' among the others.
    const ranks = infectedResult.findings.map((f) => severityRank(f.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));

    const diff = diffResults(cleanResult, infectedResult, { baseline: 'clean', primary: 'infected' });
    const callbackEntries = diff.entries.filter((e) => e.kind === 'callback' && e.variation === null);
    const plantedRoutines = infected.truth.registeredCallbacks.filter((r) => r.planted);
    // On x86 the hooked gate of each processor is added, and KiSystemService's gate removed.
    const hookedGates = infected.truth.idtEntries.filter((e) => e.planted);
    const added = callbackEntries.filter((e) => e.change === 'added');
    expect(added.map((e) => e.key.split('|')[0]).sort()).toEqual(
      [
        ...plantedRoutines.map((r) => r.kind),
        'system-thread',
        ...(hookedGates.length > 0 ? ['idt'] : []),
        ...infected.truth.timers.filter((t) => t.planted).map(() => 'timer'),
      ].sort(),
    );
    const removed = callbackEntries.filter((e) => e.change === 'removed');
    // A gate hooked on every processor is one added and one removed row: gates are compared as a set.
    expect(removed.map((e) => e.key)).toEqual(
      hookedGates.length > 0
        ? [
            `idt|${clean.truth.modules.find((m) => BigInt(m.base) === BigInt(clean.truth.kernelBase))!.name.toLowerCase()}+${removedOffset(clean.truth)}`,
          ]
        : [],
    );
    expect(callbackEntries.length).toBe(added.length + removed.length);
    for (const entry of added.filter((e) => !e.key.startsWith('idt|')))
      expect(entry.findings.added.length).toBe(1);
    // The hooked gate's finding is one for all processors, on one of its entries.
    expect(added.filter((e) => e.key.startsWith('idt|')).flatMap((e) => e.findings.added).length).toBe(
      hookedGates.length > 0 ? 1 : 0,
    );
  });

  test.runIf(isf !== undefined)('the symbol file finds the arrays the code finds', async () => {
    const infected = callbackTestImage({ isf, scenario: 'infected', boot: 2 });
    const withSymbols = await analyzeImage(infected.image, { symbols: SYMBOLS });
    expect(withSymbols.image.profile?.source).toBe('isf');
    for (const head of withSymbols.callbacks.heads.filter((h) => isRegistered(h.kind)))
      expect(head.method).toMatch(/^symbol file: \w+/);
    expectTruthFound(withSymbols, infected.truth);
  });
});

describe.each(oneLayoutPerArch())('hostile notify slots: $label', ({ isf, profile }) => {
  test('a slot into unmapped memory and a block naming user memory are warnings; every other routine is found', async () => {
    const { image, truth } = callbackTestImage({ isf, profile, scenario: 'clean' });
    const x64 = truth.arch === 'x64';
    const processArray = BigInt(truth.callbackHeads.find((a) => a.kind === 'process-notify')!.address);
    const used = truth.registeredCallbacks.filter((r) => r.kind === 'process-notify').length;
    const width = x64 ? 8n : 4n;
    const unmapped = x64 ? 0xffffd9000000f001n : 0xbff0f001n;
    const raw = new RawImage(image);
    const reader = new VirtualReader(raw, truth.paging, Number(BigInt(truth.dtb)));
    expect(reader.pa(unmapped & ~0xfffn)).toBeNull();
    raw.close();
    // One free slot references unmapped memory; the first routine's block names user memory.
    const victim = truth.registeredCallbacks.find((r) => r.kind === 'process-notify' && r.slot === 0)!;
    const copy = patchedImageCopy(image, truth, [
      { va: processArray + BigInt(used) * width, value: unmapped },
      { va: BigInt(victim.block!) + width, value: 0x10000n },
    ]);

    const result = await analyzeImage(copy);
    const head = result.callbacks.heads.find((h) => h.kind === 'process-notify')!;
    expect(head.address).toBe(truth.callbackHeads.find((a) => a.kind === 'process-notify')!.address);
    expect(head.coverage.state).toBe('partial');
    expect(head.coverage.missing).toHaveLength(2);
    expect(result.image.warnings).toContainEqual(
      expect.stringMatching(new RegExp(`^process notify slot ${used} .*not in the image$`)),
    );
    expect(result.image.warnings).toContainEqual(
      expect.stringMatching(/^process notify slot 0 .*names 0x10000, not a kernel routine$/),
    );
    const found = new Set(result.callbacks.entries.map((c) => c.entry));
    for (const registered of truth.registeredCallbacks.filter((r) => r !== victim))
      expect(found.has(registered.entry), `${registered.kind} ${registered.slot}`).toBe(true);
    expect(found.has(victim.entry)).toBe(false);
  });
});

describe.each(oneLayoutPerArch())('a looping callback list: $label', ({ isf, profile }) => {
  test('a record whose Flink leads back to itself ends the walk with a warning; the list is still read', async () => {
    const { image, truth } = callbackTestImage({ isf, profile, scenario: 'clean' });
    const first = truth.registeredCallbacks.find((r) => r.kind === 'shutdown' && r.slot === 0)!;
    const copy = patchedImageCopy(image, truth, [{ va: BigInt(first.entry), value: BigInt(first.entry) }]);

    const result = await analyzeImage(copy);
    const head = result.callbacks.heads.find((h) => h.kind === 'shutdown')!;
    expect(head.address).toBe(truth.callbackHeads.find((h) => h.kind === 'shutdown')!.address);
    expect(head.coverage.state).toBe('partial');
    expect(result.image.warnings).toContain(`the shutdown notification list loops back to ${first.entry}`);
    const shutdown = result.callbacks.entries.filter((c) => c.kind === 'shutdown');
    expect(shutdown.map((c) => [c.entry, c.routine.address])).toEqual([[first.entry, first.routine]]);
  });
});

// The other doors the rootkit opens, each named by the infection that plants it: the kind of the
// callback entry it registers (a timer's DPC among them), or the completion hook of a pending
// request. XP has no object callbacks, so objectCallback opens nothing here.
const DOOR_OF: Partial<Record<Infection, string>> = {
  notifyPoolCode: 'process-notify',
  notifyHiddenModule: 'image-load-notify',
  registryCallback: 'registry',
  shutdownNotify: 'shutdown',
  orphanThread: 'system-thread',
  idtHook: 'idt',
  completionHook: 'completion',
  timerDpc: 'timer',
};
const DOOR_KINDS = new Set(['orphan-thread', 'idt-hook', 'completion-hook']);
const isDoorFinding = (kind: string) => kind.startsWith('callback-') || DOOR_KINDS.has(kind);

/** The doors the truth says were planted. */
function plantedDoors(truth: Truth): string[] {
  return [
    ...truth.registeredCallbacks.filter((r) => r.planted).map((r) => r.kind),
    ...truth.threads.filter((t) => t.planted).map(() => 'system-thread'),
    ...truth.idtEntries.filter((e) => e.planted).map(() => 'idt'),
    ...truth.timers.filter((t) => t.planted).map(() => 'timer'),
    ...truth.findings.filter((f) => f.kind === 'completion-hook').map(() => 'completion'),
  ]
    .filter((door, i, all) => all.indexOf(door) === i)
    .sort();
}

/** The doors the engine found: entries in no module or in the rootkit's, and hijacked completions. */
function foundDoors(result: AnalysisResult, rootkitModule: string): string[] {
  const rootkits = (c: AnalysisResult['callbacks']['entries'][number]) =>
    c.kind === 'system-thread' ? c.owner === null : c.owner === null || c.owner === rootkitModule;
  return [
    ...result.callbacks.entries.filter((c) => c.kind !== 'gdt' && rootkits(c)).map((c) => c.kind),
    ...result.findings.filter((f) => f.kind === 'completion-hook').map(() => 'completion'),
  ]
    .filter((door, i, all) => all.indexOf(door) === i)
    .sort();
}

describe('the default infected scenario', () => {
  const build = (infections?: Infection[]) =>
    callbackTestImage({ profile: 'xp-sp3-x86', scenario: 'infected', ...(infections ? { infections } : {}) });
  const expectDoorsFound = async ({ image, truth }: ReturnType<typeof build>): Promise<string[]> => {
    const rootkitModule = truth.drivers.find((d) => d.hidden)!.module!;
    const result = await analyzeImage(image);
    expect(foundDoors(result, rootkitModule)).toEqual(plantedDoors(truth));
    expect(
      result.findings
        .filter((f) => isDoorFinding(f.kind))
        .map((f) => `${f.severity} ${f.kind} ${f.subject}`)
        .sort(),
    ).toEqual(
      truth.findings
        .filter((f) => isDoorFinding(f.kind))
        .map((f) => `${f.severity} ${f.kind} ${f.subject}`)
        .sort(),
    );
    return plantedDoors(truth);
  };

  test('opens every door of the rootkit: each callback, the orphan thread, the IDT gate and the completion hook', async () => {
    const all = build();
    expect([...all.truth.generator.infections].sort()).toEqual([...DEFAULT_INFECTIONS].sort());
    expect(await expectDoorsFound(all)).toEqual(Object.values(DOOR_OF).sort());
  });

  test.each(Object.entries(DOOR_OF) as Array<[Infection, string]>)(
    '--infections without %s leaves that door shut and the others open',
    async (off, door) => {
      const without = build(DEFAULT_INFECTIONS.filter((i) => i !== off));
      expect(without.truth.generator.infections).not.toContain(off);
      expect(await expectDoorsFound(without)).toEqual(
        Object.values(DOOR_OF)
          .filter((d) => d !== door)
          .sort(),
      );
    },
  );
});

describe.each(oneLayoutPerArch())('a patched callback routine: $label', ({ isf, profile }) => {
  test('a routine whose first instruction jumps into another module is inline-patched, a finding with its target', async () => {
    const { image, truth } = callbackTestImage({ isf, profile, scenario: 'clean' });
    const victim = truth.registeredCallbacks.find((r) => r.kind === 'process-notify' && r.slot === 0)!;
    const target = BigInt(truth.kernelBase) + 0x2000n;
    const jump = Buffer.alloc(5);
    jump[0] = 0xe9; // jmp rel32
    jump.writeInt32LE(Number(BigInt.asIntN(32, target - (BigInt(victim.routine) + 5n))), 1);
    const copy = patchedImageCopy(image, truth, [{ va: BigInt(victim.routine), bytes: jump }]);

    const result = await analyzeImage(copy);
    const callback = result.callbacks.entries.find((c) => c.entry === victim.entry)!;
    expect(callback.routine.verdict).toBe('inline-patched');
    expect(callback.routine.target?.address).toBe(`0x${target.toString(16)}`);
    const kernel = truth.modules.find((m) => BigInt(m.base) === BigInt(truth.kernelBase))!;
    expect(callback.routine.target?.module).toBe(kernel.name);
    const findings = result.findings.filter((f) => f.kind.startsWith('callback-'));
    expect(findings.map((f) => [f.kind, f.subject, f.severity])).toEqual([
      ['callback-inline', victim.owner, 'critical'],
    ]);
    expect(findings[0]!.evidence.disassembly?.instructions[0]).toMatch(/jmp/);
  });
});

describe.each(oneLayoutPerArch())('a looping System thread list: $label', ({ isf, profile }) => {
  test('a thread whose Flink leads back to itself ends the walk: partial, with the reason; the threads before it are read', async () => {
    const { image, truth } = callbackTestImage({ isf, profile, scenario: 'infected' });
    const system = truth.threads.filter((t) => t.pid === 4);
    const links = truth.layout.structs._ETHREAD!.fields.ThreadListEntry!;
    const second = BigInt(system[1]!.ethread) + BigInt(links);
    const copy = patchedImageCopy(image, truth, [{ va: second, value: second }]);

    const result = await analyzeImage(copy);
    const head = result.callbacks.heads.find((h) => h.kind === 'system-thread')!;
    expect(head.coverage.state).toBe('partial');
    expect(head.coverage.missing).toEqual([expect.stringMatching(/thread list loops back to /)]);
    const found = result.callbacks.entries.filter((c) => c.kind === 'system-thread');
    expect(found.map((c) => c.entry)).toEqual(system.slice(0, 2).map((t) => t.ethread));
    // The orphan was cut off with the rest of the list: nothing is said of it.
    expect(result.findings.filter((f) => f.kind === 'orphan-thread')).toEqual([]);
  });
});

describe.each(oneLayoutPerArch())('hostile descriptor tables: $label', ({ isf, profile }) => {
  test("an IDT base outside memory costs that processor's gates, with a warning; a call gate into pool is a finding", async () => {
    const { image, truth } = callbackTestImage({ isf, profile, scenario: 'clean' });
    const x64 = truth.arch === 'x64';
    const unmapped = x64 ? 0xffffd9000000f000n : 0xbff0f000n;
    const [first, second] = truth.processors;
    // Processor 1's IDT pointer leads nowhere; processor 0's GDT gets a call gate at 0x60 into pool.
    const pool = BigInt(truth.processors[0]!.idt) + 0x40n;
    const gate = Buffer.alloc(16);
    gate.writeUInt16LE(Number(pool & 0xffffn), 0);
    gate.writeUInt16LE(x64 ? 0x10 : 0x08, 2);
    gate.writeUInt8(0xec, 5); // present, DPL 3, call gate
    gate.writeUInt16LE(Number((pool >> 16n) & 0xffffn), 6);
    if (x64) gate.writeUInt32LE(Number(pool >> 32n), 8);
    const selector = x64 ? 0x48n : 0x60n;
    const copy = patchedImageCopy(image, truth, [
      { va: BigInt(second!.kpcr) + 0x38n, value: unmapped },
      { va: BigInt(first!.gdt) + selector - (x64 ? 0x8n : 0n), bytes: x64 ? gate : gate.subarray(0, 8) },
    ]);

    const result = await analyzeImage(copy);
    const idt = result.callbacks.heads.find((h) => h.kind === 'idt')!;
    expect(idt.coverage.state).toBe('partial');
    const lost = `processor 1: its IDT at 0x${unmapped.toString(16)} is not in the image`;
    expect(idt.coverage.missing).toEqual([lost]);
    expect(result.image.warnings).toContain(lost);
    const gates = result.callbacks.entries.filter((c) => c.kind === 'idt');
    expect(gates.map((g) => g.entry).sort()).toEqual(
      truth.idtEntries
        .filter((e) => e.processor === 0)
        .map((e) => e.entry)
        .sort(),
    );
    const callGates = result.callbacks.entries.filter((c) => c.kind === 'gdt');
    expect(callGates.map((c) => [c.processor, c.routine.address, c.owner])).toEqual([
      [0, `0x${pool.toString(16)}`, null],
    ]);
    const findings = result.findings.filter((f) => f.kind === 'gdt-call-gate');
    expect(findings.map((f) => [f.severity, f.subject])).toEqual([
      ['critical', `GDT 0x${(x64 ? 0x40 : 0x60).toString(16)}`],
    ]);
  });
});

/** The truth's object callbacks of a kind, and the OBJECT_TYPE their records must name. */
function objectCallbacksOf(truth: Truth, kind: string) {
  return truth.registeredCallbacks.filter((r) => r.kind === kind);
}

describe('hostile object callback lists', () => {
  const build = () =>
    callbackTestImage({
      isf: isfFiles()[0]!.isf,
      scenario: 'infected',
      infections: ['hiddenDriver', 'objectCallback'],
    });

  test('a record whose Flink leads back to itself ends the walk: partial, with the reason; the records before it are read', async () => {
    const { image, truth } = build();
    const process = objectCallbacksOf(truth, 'process-object');
    expect(process.length).toBe(2);
    const first = process[0]!;
    const copy = patchedImageCopy(image, truth, [{ va: BigInt(first.entry), value: BigInt(first.entry) }]);

    const result = await analyzeImage(copy);
    const head = result.callbacks.heads.find((h) => h.kind === 'process-object')!;
    expect(head.address).toBe(truth.callbackHeads.find((h) => h.kind === 'process-object')!.address);
    expect(head.coverage).toEqual({
      state: 'partial',
      missing: [`the process object callback list loops back to ${first.entry}`],
    });
    expect(result.image.warnings).toContain(`the process object callback list loops back to ${first.entry}`);
    const found = result.callbacks.entries.filter((c) => c.kind === 'process-object');
    expect(found.map((c) => [c.entry, c.routine.address, c.owner])).toEqual([
      [first.entry, first.routine, first.owner],
    ]);
    // The thread type's list is untouched.
    const threads = result.callbacks.entries.filter((c) => c.kind === 'thread-object');
    expect(threads.map((c) => c.entry)).toEqual(
      objectCallbacksOf(truth, 'thread-object').map((r) => r.entry),
    );
  });

  test('a record whose ObjectType names another type is a warning that costs only that record', async () => {
    const { image, truth } = build();
    const planted = objectCallbacksOf(truth, 'process-object').find((r) => r.planted)!;
    const typeOf = (kind: string) => BigInt(truth.callbackHeads.find((h) => h.kind === kind)!.objectType!);
    const [processType, threadType] = [typeOf('process-object'), typeOf('thread-object')];
    const objectTypeField = truth.arch === 'x64' ? 0x20n : 0x14n;
    const copy = patchedImageCopy(image, truth, [
      { va: BigInt(planted.entry) + objectTypeField, value: threadType },
    ]);

    const result = await analyzeImage(copy);
    const head = result.callbacks.heads.find((h) => h.kind === 'process-object')!;
    const why = `process object callback 1 (${planted.entry}): its ObjectType 0x${threadType.toString(16)} is not the Process type 0x${processType.toString(16)}`;
    expect(head.coverage).toEqual({ state: 'partial', missing: [why] });
    expect(result.image.warnings).toContain(why);
    const found = new Set(result.callbacks.entries.map((c) => c.entry));
    for (const registered of truth.registeredCallbacks)
      expect(found.has(registered.entry), `${registered.kind} ${registered.slot}`).toBe(
        registered !== planted,
      );
    expect(result.findings.filter((f) => f.kind.startsWith('callback-'))).toEqual([]);
  });
});

test('a build whose CallbackList hint is wrong: the offset is found by searching the type, checked by its records', async () => {
  // The Windows 7 SP1 symbol file (CallbackList +0xc0) laid out under build 9200, whose hint is +0xc8.
  const isf = isfFiles().find((f) => f.label === '339E7413')!.isf;
  const { image, truth } = callbackTestImage({
    isf,
    build: 9200,
    scenario: 'infected',
    infections: ['hiddenDriver', 'objectCallback'],
  });
  const result = await analyzeImage(image);
  for (const expected of truth.callbackHeads.filter((h) => h.kind.endsWith('-object'))) {
    const head = result.callbacks.heads.find((h) => h.kind === expected.kind)!;
    expect(head.address, expected.kind).toBe(expected.address);
    expect(BigInt(expected.address) - BigInt(expected.objectType!)).toBe(0xc0n);
    expect(head.coverage).toEqual({ state: 'complete', missing: [] });
    expect(head.method).toMatch(
      /^searched the type \(the hint \+0xc8 failed: .*\): _OBJECT_TYPE\.CallbackList \+0xc0, /,
    );
  }
  const objectCallbacks = truth.registeredCallbacks.filter((r) => r.kind.endsWith('-object'));
  expect(objectCallbacks.filter((r) => r.planted).length).toBe(1);
  expect(
    result.callbacks.entries
      .filter((c) => c.kind.endsWith('-object'))
      .map((c) => [c.kind, c.entry, c.routine.address, c.owner, c.component])
      .sort(),
  ).toEqual(objectCallbacks.map((r) => [r.kind, r.entry, r.routine, r.owner, r.component]).sort());
  const planted = objectCallbacks.find((r) => r.planted)!;
  expect(
    result.findings.filter((f) => f.kind.startsWith('callback-')).map((f) => [f.kind, f.subject]),
  ).toEqual([['callback-hidden-module', planted.owner]]);
});
