// Hostile images: a builder image with bytes changed the way a rootkit or a corrupted capture
// would change them. Each must give a partial result with reasons, promptly — never a hang or a crash.

import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, onTestFinished, test } from 'vitest';
import type { Truth } from '../../../src/builder/index';
import type { TruthDevice } from '../../../src/builder/truth';
import type { AnalysisResult, Finding } from '../../../src/common/model';
import { ImageError } from '../../../src/core/image';
import { analyzeImage } from '../../../src/core/node/analyze';
import { RawImage, VirtualReader } from '../../support/raw-reader';
import { imageForSuite, isfFiles } from '../../support/images';

const work = mkdtempSync(join(tmpdir(), 'irpscope-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cases = [
  {
    label: 'x64 19041',
    isf: isfFiles().find((f) => f.isf.includes('1C9875F7'))!.isf,
    profile: undefined,
    ptr: 8,
  },
  { label: 'x86 XP PAE', isf: undefined, profile: 'xp-sp3-x86', ptr: 4 },
] as const;

/** x64 / x86 offsets from the spec (§1.2, §1.6, §1.10, §1.12). */
const O = {
  8: { driverName: 0x38, nextDevice: 0x10, attachedDevice: 0x18, chainLink: 0 },
  4: { driverName: 0x1c, nextDevice: 0x0c, attachedDevice: 0x10, chainLink: 0 },
};
/** ETHREAD.ThreadListEntry (ISF 19041; V2vt xp_sp3_x86) and IRP.StackCount (wdm.h; both). */
const THREAD_O = {
  8: { threadListEntry: 0x4e8, stackCount: 0x42 },
  4: { threadListEntry: 0x22c, stackCount: 0x22 },
};

interface Patch {
  va: bigint;
  bytes: Buffer;
}

function pointer(value: bigint, size: 4 | 8): Buffer {
  const out = Buffer.alloc(size);
  if (size === 8) out.writeBigUInt64LE(value);
  else out.writeUInt32LE(Number(value & 0xffffffffn));
  return out;
}

/** A copy of the image with the patches written at their physical addresses, removed with its test. */
function patched(
  image: string,
  truth: Truth,
  name: string,
  makePatches: (v: VirtualReader) => Patch[],
): string {
  const path = join(work, `${name}.raw`);
  copyFileSync(image, path);
  onTestFinished(() => rmSync(path, { force: true }));
  const raw = new RawImage(path);
  const reader = new VirtualReader(raw, truth.paging, Number(BigInt(truth.dtb)));
  const patches = makePatches(reader);
  raw.close();
  const fd = openSync(path, 'r+');
  for (const patch of patches) {
    const pa = reader.pa(patch.va);
    if (pa === null) throw new Error(`cannot patch unmapped ${patch.va.toString(16)}`);
    writeSync(fd, patch.bytes, 0, patch.bytes.length, pa);
  }
  closeSync(fd);
  return path;
}

/** Every driver the truth has, live or freed, and nothing else: the damage lost none of them. */
function expectEveryDriver(result: AnalysisResult, truth: Truth): void {
  const vas = (state: string) =>
    result.drivers
      .filter((d) => d.state === state)
      .map((d) => d.objectVa)
      .sort();
  expect(vas('live')).toEqual(truth.drivers.map((d) => d.objectVa).sort());
  expect(vas('freed')).toEqual(truth.staleDrivers.map((d) => d.objectVa).sort());
}

/**
 * Each device's stack as the truth's links give it, with some AttachedDevice pointers replaced:
 * down AttachedTo to the bottom, then up AttachedDevice until a device would come a second time.
 */
function expectedStacks(devices: TruthDevice[], attachedDevice: Map<string, string>): Map<string, string[]> {
  const byVa = new Map<string, TruthDevice>(devices.map((d) => [d.objectVa, d]));
  const above = (va: string) =>
    attachedDevice.has(va) ? attachedDevice.get(va)! : byVa.get(va)!.attachedDevice;
  const stacks = new Map<string, string[]>();
  for (const device of devices) {
    let bottom = device;
    for (const seen = new Set([bottom.objectVa]); bottom.attachedTo && !seen.has(bottom.attachedTo);) {
      bottom = byVa.get(bottom.attachedTo)!;
      seen.add(bottom.objectVa);
    }
    const stack: string[] = [];
    for (let at: string | null = bottom.objectVa; at !== null && !stack.includes(at); at = above(at))
      stack.push(at);
    stacks.set(device.objectVa, stack);
  }
  return stacks;
}

describe.each(cases)('hostile $label', ({ isf, profile, ptr }) => {
  const { image, truth } = imageForSuite({
    isf,
    profile,
    format: 'raw',
    scenario: 'infected',
    size: 64 * 1024 * 1024,
    seed: 41,
    fill: 'zero',
  });
  const o = O[ptr];
  const big = (hex: string) => BigInt(hex);
  const withDevices = truth.drivers.filter((d) => d.devices.length >= 3);

  test('a NextDevice chain that loops back', async () => {
    const driver = withDevices[0]!;
    const first = big(driver.devices[driver.devices.length - 1]!.objectVa);
    const last = big(driver.devices[0]!.objectVa);
    const path = patched(image, truth, 'next-loop', () => [
      { va: last + BigInt(o.nextDevice), bytes: pointer(first, ptr) },
    ]);
    const result = await analyzeImage(path);
    // The walk stops where the chain comes back: every device of the driver once, no other.
    const found = result.drivers.find((d) => d.objectVa === driver.objectVa)!;
    expect([...found.devices].sort()).toEqual(driver.devices.map((d) => d.objectVa).sort());
    expectEveryDriver(result, truth);
    expect(result.devices.map((d) => d.objectVa).sort()).toEqual(
      truth.drivers.flatMap((d) => d.devices.map((x) => x.objectVa)).sort(),
    );
    // The chase that ended early says why, naming the driver and where the chain came back.
    expect(result.image.warnings).toContain(
      `driver object ${driver.objectVa}: its NextDevice chain loops back to ${driver.devices[driver.devices.length - 1]!.objectVa}`,
    );
  });

  test('a device stack whose AttachedDevice pointers form a cycle', async () => {
    const [a, b] = withDevices[1]!.devices;
    const path = patched(image, truth, 'stack-loop', () => [
      { va: big(a!.objectVa) + BigInt(o.attachedDevice), bytes: pointer(big(b!.objectVa), ptr) },
      { va: big(b!.objectVa) + BigInt(o.attachedDevice), bytes: pointer(big(a!.objectVa), ptr) },
    ]);
    const result = await analyzeImage(path);
    // Every device is still there, and every stack is the truth's — the two in the cycle each
    // once, the walk ending where a device would come again — including those of a and b.
    const truthDevices = truth.drivers.flatMap((d) => d.devices);
    const expected = expectedStacks(
      truthDevices,
      new Map([
        [a!.objectVa, b!.objectVa],
        [b!.objectVa, a!.objectVa],
      ]),
    );
    expect(expected.get(a!.objectVa)).toEqual(expect.arrayContaining([a!.objectVa, b!.objectVa]));
    const stacks = new Map<string, string[]>(result.devices.map((d) => [d.objectVa, d.stack]));
    expect([...stacks.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [va, stack] of expected) expect(stacks.get(va), va).toEqual(stack);
    expectEveryDriver(result, truth);
    // The loop is said once, with both devices in it.
    const loops = result.image.warnings.filter((w) =>
      w.startsWith('device stack loops through AttachedDevice'),
    );
    expect(loops).toHaveLength(1);
    expect(loops[0]).toContain(a!.objectVa);
    expect(loops[0]).toContain(b!.objectVa);
  });

  test('a service descriptor with a huge limit, or a table outside the kernel, is refused with the reason', async () => {
    const descriptor = big(truth.serviceTable.descriptor);
    const limitAt = descriptor + BigInt(2 * ptr);
    const huge = patched(image, truth, 'ssdt-limit', () => [
      { va: limitAt, bytes: pointer(0x7fffffffn, ptr) },
    ]);
    const first = await analyzeImage(huge);
    // x86 also finds the table through the export: the same patched descriptor, so none.
    expect(first.serviceTable).toBeNull();
    expect(first.image.warnings.join('\n')).toMatch(/system-service table not found.*limit 2147483647/);
    const elsewhere = patched(image, truth, 'ssdt-base', () => [
      { va: descriptor, bytes: pointer(ptr === 8 ? 0xffff800000001000n : 0x1000n, ptr) },
    ]);
    const second = await analyzeImage(elsewhere);
    expect(second.serviceTable).toBeNull();
    expect(second.image.warnings.join('\n')).toMatch(/outside the kernel image/);
    expect(second.drivers.length).toBe(truth.drivers.length + truth.staleDrivers.length);
  });

  test('PsLoadedModuleList with an entry pointing to itself', async () => {
    const module = truth.modules[5]!;
    const entry = big(module.ldrEntry);
    const path = patched(image, truth, 'list-loop', () => [{ va: entry, bytes: pointer(entry, ptr) }]);
    const result = await analyzeImage(path);
    expect(result.image.warnings.join('\n')).toMatch(/PsLoadedModuleList loops/);
    // The pool scan still finds every module; the ones cut off the list now look unlinked.
    expect(result.modules.length).toBe(truth.modules.length);
  });

  test('a \\Driver bucket whose chain loops: the drivers cut off are found, and only suspected hidden', async () => {
    const cutOff: string[] = [];
    const path = patched(image, truth, 'dir-loop', (v) => {
      const directory = big(truth.objectDirectories.find((d) => d.path === '\\Driver')!.objectVa);
      for (let bucket = 0; bucket < 37; bucket++) {
        const head = v.ptr(directory + BigInt(bucket * ptr))!;
        if (head === 0n || v.ptr(head + BigInt(o.chainLink)) === 0n) continue;
        // The entries after the head (OBJECT_DIRECTORY_ENTRY: ChainLink, then Object).
        for (let entry = v.ptr(head)!; entry !== 0n; entry = v.ptr(entry + BigInt(o.chainLink))!)
          cutOff.push(`0x${v.ptr(entry + BigInt(ptr))!.toString(16)}`);
        return [{ va: head + BigInt(o.chainLink), bytes: pointer(head, ptr) }];
      }
      throw new Error('no \\Driver bucket with two entries');
    });
    expect(cutOff.length).toBeGreaterThan(0);
    const result = await analyzeImage(path);
    expect(result.image.warnings.join('\n')).toMatch(
      /\\Driver: bucket \d+: chain stopped at 0x[0-9a-f]+ \(loop\)/,
    );
    expectEveryDriver(result, truth);
    const listed = result.drivers.filter((d) => d.foundBy.includes('directory')).map((d) => d.objectVa);
    const hidden = truth.drivers.find((d) => d.hidden)!;
    expect(listed.sort()).toEqual(
      truth.drivers
        .filter((d) => !d.hidden && !cutOff.includes(d.objectVa))
        .map((d) => d.objectVa)
        .sort(),
    );
    // Off a directory read in part, a driver is suspected hidden, never called so outright.
    expect(result.coverage.drivers.state).toBe('partial');
    const suspected = result.findings.filter((f) => f.kind === 'hidden-driver');
    expect(suspected.map((f) => f.evidence.driver).sort()).toEqual([...cutOff, hidden.objectVa].sort());
    for (const finding of suspected) expect(finding.severity, finding.subject).toBe('medium');
  });

  test('DriverName with Length 0xFFFF, and one pointing into user space', async () => {
    const [a, b] = truth.drivers.filter((d) => !d.hidden && d.objectNameResident);
    const path = patched(image, truth, 'bad-names', () => [
      { va: big(a!.objectVa) + BigInt(o.driverName), bytes: Buffer.from([0xff, 0xff, 0xff, 0xff]) },
      { va: big(b!.objectVa) + BigInt(o.driverName + (ptr === 8 ? 8 : 4)), bytes: pointer(0x10000n, ptr) },
    ]);
    const result = await analyzeImage(path);
    for (const t of [a!, b!]) {
      const driver = result.drivers.find((d) => d.objectVa === t.objectVa)!;
      expect(driver.nameStatus).toMatch(/invalid/);
      expect(driver.name).toBe(t.name); // rebuilt from its directory and object name
    }
  });

  test('names of freed driver objects: junk is an unreadable name with its address; a hostile one is a finding', async () => {
    const [long, zeros] = truth.staleDrivers;
    const surrogates = truth.drivers.find((d) => !d.hidden && d.module !== null)!;
    const hostile = truth.staleDrivers[0]!;
    const unicode = (length: number, buffer: bigint) => {
      const out = Buffer.alloc(ptr === 8 ? 16 : 8);
      out.writeUInt16LE(length, 0);
      out.writeUInt16LE(length, 2);
      out.set(pointer(buffer, ptr), ptr === 8 ? 8 : 4);
      return out;
    };
    // 2,160 characters of neighbouring pool (the review's case), a name of NULs, lone surrogates.
    const pool = big(long!.objectVa) & ~0xfffn;
    // Junk where nothing reads: the unused tail of KUSER_SHARED_DATA's page.
    const junk = big(truth.kuserSharedData) + 0xe00n;
    const path = patched(image, truth, 'freed-names', () => [
      { va: big(long!.objectVa) + BigInt(o.driverName), bytes: unicode(4320, pool + 0x20n) },
      { va: junk, bytes: Buffer.alloc(0x40) },
      { va: big(zeros!.objectVa) + BigInt(o.driverName), bytes: unicode(0x40, junk) },
      { va: big(surrogates.objectVa) + BigInt(o.driverName), bytes: unicode(8, junk + 0x40n) },
      { va: junk + 0x40n, bytes: Buffer.from([0x41, 0, 0x00, 0xd8, 0x42, 0, 0x00, 0xdc]) },
    ]);
    const result = await analyzeImage(path);
    const named = (t: { objectVa: string }) => result.drivers.find((d) => d.objectVa === t.objectVa)!;
    expect(named(long!).nameStatus).toMatch(/invalid .*\(4320 bytes at 0x/);
    expect(named(zeros!).nameStatus).toMatch(/not text .*\(64 bytes at 0x/);
    expect(named(surrogates).nameStatus).toMatch(/not text/);
    for (const driver of result.drivers)
      expect((driver.name ?? '').length, driver.objectVa).toBeLessThan(300);

    // A freed object with a hostile name is flagged like a live one.
    const name = '\\Driver\\gone<script>\u0007';
    const hostilePath = patched(image, truth, 'freed-hostile', () => {
      const text = Buffer.from(name, 'utf16le');
      const at = big(truth.kuserSharedData) + 0xe80n;
      return [
        { va: big(hostile.objectVa) + BigInt(o.driverName), bytes: unicode(text.length, at) },
        { va: at, bytes: text },
      ];
    });
    const flagged = await analyzeImage(hostilePath);
    const finding = flagged.findings.find(
      (f) => f.kind === 'suspicious-name' && f.evidence.driver === hostile.objectVa,
    );
    expect(finding?.explanation).toMatch(/freed driver object/);
  });

  test("\\Driver's own name lost: the directory is recognised by what it holds, and hidden is still hidden", async () => {
    // Make the name of the \\Driver directory object unreadable: a NUL where its first letter was.
    const directory = truth.objectDirectories.find((d) => d.path === '\\Driver')!;
    const path = patched(image, truth, 'driver-dir-name', () => [
      { va: big(directory.nameVa!), bytes: Buffer.alloc(2) },
    ]);
    const result = await analyzeImage(path);
    expect(result.image.warnings.join('\n')).toMatch(/object directory \\Driver recognised by what it holds/);
    const hidden = truth.drivers.find((d) => d.hidden)!;
    const listed = result.drivers.filter((d) => d.foundBy.includes('directory'));
    expect(listed.length).toBe(truth.drivers.filter((d) => !d.hidden).length);
    expect(
      result.findings.some((f) => f.kind === 'hidden-driver' && f.evidence.driver === hidden.objectVa),
    ).toBe(true);
  });

  test("every name the root's directories had lost (one page of names paged out): the root is known by its entries' hashes", async () => {
    const topLevel = truth.objectDirectories.filter((d) => /^\\[^\\]+$/.test(d.path) && d.nameVa);
    expect(topLevel.length).toBeGreaterThanOrEqual(3);
    const path = patched(image, truth, 'root-names', () =>
      topLevel.map((d) => ({ va: big(d.nameVa!), bytes: Buffer.alloc(2) })),
    );
    const result = await analyzeImage(path);
    const warnings = result.image.warnings.join('\n');
    expect(warnings).not.toMatch(/root object directory was not found/);
    expect(warnings).toMatch(/object directory \\GLOBAL\?\? recognised by what it holds/);
    expect(result.links.map((l) => l.name).sort()).toEqual(truth.links.map((l) => l.name).sort());
    expect(result.drivers.filter((d) => d.foundBy.includes('directory')).length).toBe(
      truth.drivers.filter((d) => !d.hidden).length,
    );
  });

  test('an unlinked loader entry under another pool tag is found through its driver object', async () => {
    // A kernel that tags loader entries otherwise (ReactOS: 'klmo'): the MmLd scan cannot see it.
    const rootkit = truth.modules.find((m) => m.unlinked)!;
    const header = ptr === 8 ? 16 : 8;
    const path = patched(image, truth, 'loader-tag', () => [
      { va: big(rootkit.ldrEntry) - BigInt(header) + 4n, bytes: Buffer.from('klmo', 'latin1') },
    ]);
    const result = await analyzeImage(path);
    const module = result.modules.find((m) => m.name === rootkit.name)!;
    expect(module.foundBy).toEqual(['driver-section']);
    expect(module.unlinked).toBe(true);
    const finding = result.findings.find((f) => f.kind === 'unlinked-module' && f.subject === rootkit.name);
    expect(finding?.explanation).toMatch(/DriverSection/);
  });

  test("KUSER_SHARED_DATA's page lost (its PTE points past the image): a full result on an unverified DTB", async () => {
    const kuser = big(truth.kuserSharedData);
    // The PTE's own virtual address through the self-map (spec §2): PAE at 0xC0000000, x64 at the randomised index.
    const pteVa =
      ptr === 4
        ? 0xc0000000n + (kuser >> 12n) * 8n
        : BigInt.asUintN(64, (0xffffn << 48n) | (BigInt(truth.selfMapIndex!) << 39n)) +
          ((kuser >> 12n) & 0xfffffffffn) * 8n;
    const path = patched(image, truth, 'kuser-lost', () => [{ va: pteVa, bytes: pointer(0x7ff00063n, 8) }]);
    const result = await analyzeImage(path);
    expect(result.image.dtb).toEqual({ value: truth.dtb, method: expect.stringMatching(/unverified/) });
    expect(result.image.warnings.join('\n')).toMatch(/KUSER_SHARED_DATA's page is not in the image/);
    expect(result.drivers.filter((d) => d.state === 'live').length).toBe(truth.drivers.length);
  });

  test('PsLoadedModuleList cut by an unreadable link: the modules past it are not judged unlinked', async () => {
    const intact = await analyzeImage(image);
    expect(intact.findings.some((f) => f.kind === 'unlinked-module')).toBe(true);
    const entry = big(truth.modules[3]!.ldrEntry);
    const path = patched(image, truth, 'list-cut', (v) => {
      for (let va = big(truth.kernelBase) - 0x400000n; va < big(truth.kernelBase); va += 0x1000n)
        if (v.pa(va) === null) return [{ va: entry, bytes: pointer(va + 0x10n, ptr) }];
      throw new Error('no unmapped kernel page');
    });
    const result = await analyzeImage(path);
    expect(result.modules.length).toBe(truth.modules.length);
    expect(result.modules.filter((m) => m.unlinked)).toEqual([]);
    expect(result.findings.filter((f) => f.kind === 'unlinked-module')).toEqual([]);
    expect(result.image.warnings.join('\n')).toMatch(
      /not judged unlinked: PsLoadedModuleList could not be walked/,
    );
  });

  test('truncated at any point: never a critical finding the intact image lacks', async () => {
    // By the object it is about: a device's name may be past the cut (its finding then names its address).
    const key = (f: Finding) =>
      `${f.kind} ${f.evidence.driver ?? f.evidence.device ?? f.evidence.modules?.[0] ?? f.subject}`;
    const intact = new Set((await analyzeImage(image)).findings.map(key));
    const size = statSync(image).size;
    let partial = 0;
    for (const fraction of [0.7, 0.85, 0.93, 0.97, 0.99]) {
      const path = join(work, `cut-${fraction}.raw`);
      copyFileSync(image, path);
      onTestFinished(() => rmSync(path, { force: true }));
      truncateSync(path, Math.floor(size * fraction));
      // A cut that takes the kernel (or its page tables) away is refused: no kernel, no answer.
      const result = await analyzeImage(path).catch((error: unknown) => {
        if (error instanceof ImageError && error.kind === 'no-kernel') return null;
        throw error;
      });
      if (!result) continue;
      if (result.drivers.length > 0) partial++;
      expect(result.image.warnings.length, `${fraction}`).toBeGreaterThan(0);
      const invented = result.findings.filter((f) => f.severity === 'critical' && !intact.has(key(f)));
      expect(invented.map(key), `${fraction}`).toEqual([]);
    }
    expect(partial).toBeGreaterThan(0);
  });

  test('a thread list that loops and an IRP with an impossible stack are cut off with the reason', async () => {
    const t = THREAD_O[ptr];
    const csrss = truth.processes.find((p) => p.name === 'csrss.exe')!;
    const threads = truth.threads.filter((th) => th.pid === csrss.pid);
    expect(threads.length).toBeGreaterThanOrEqual(2);
    const second = big(threads[1]!.ethread) + BigInt(t.threadListEntry);
    const [broken, ...others] = truth.irps;
    const path = patched(image, truth, 'activity', () => [
      // The second thread's Flink points at itself: the walk must stop, not spin.
      { va: second, bytes: pointer(second, ptr) },
      { va: big(broken!.address) + BigInt(t.stackCount), bytes: Buffer.from([0xff]) },
    ]);
    const result = await analyzeImage(path);
    const warnings = result.image.warnings.join('\n');
    expect(warnings).toMatch(/csrss\.exe \(\d+\) thread list loops/);
    expect(result.processes.length).toBe(truth.processes.length - 1); // all but Idle
    expect(result.threads.filter((th) => th.pid === csrss.pid).length).toBeGreaterThanOrEqual(2);
    // Only the IRP with the impossible stack is dropped: every other one the truth has is found.
    expect(others.length, 'IRPs that must be kept').toBeGreaterThan(0);
    expect(result.irps.map((i) => i.address).sort()).toEqual(others.map((i) => i.address).sort());
  });

  test('a device whose DriverObject overlaps into an unmapped page', async () => {
    const device = withDevices[2]!.devices[0]!;
    const path = patched(image, truth, 'cross-page', (v) => {
      // A page followed by an unmapped one, in kernel space.
      for (let va = big(truth.kernelBase) - 0x400000n; va < big(truth.kernelBase); va += 0x1000n) {
        if (v.pa(va) !== null && v.pa(va + 0x1000n) === null)
          return [{ va: big(device.objectVa) + 8n, bytes: pointer(va + 0xff0n, ptr) }];
      }
      for (const module of truth.modules) {
        const end = big(module.base) + BigInt(module.size);
        if (v.pa(end - 0x1000n) !== null && v.pa(end) === null)
          return [{ va: big(device.objectVa) + 8n, bytes: pointer(end - 0x10n, ptr) }];
      }
      throw new Error('no page next to an unmapped one');
    });
    const result = await analyzeImage(path);
    expect(result.devices.find((d) => d.objectVa === device.objectVa)).toBeDefined();
    expect(result.image.warnings.join('\n')).toMatch(
      new RegExp(`device ${device.objectVa} names a driver object at 0x[0-9a-f]+ that cannot be read as one`),
    );
    expectEveryDriver(result, truth);
  });
});

describe('x86 without PAE: the DTB first found belongs to another process', () => {
  const { image, truth } = imageForSuite({
    profile: 'win7-sp1-x86',
    format: 'dmp-full',
    scenario: 'infected',
    size: 64 * 1024 * 1024,
    seed: 43,
    fill: 'zero',
  });

  /** File offset of a physical address in a 32-bit full crash dump (one page of header, then the runs). */
  function fileOffset(pa: number): number {
    let before = 0;
    for (const run of truth.physicalRuns) {
      const start = Number(BigInt(run.start));
      if (pa >= start && pa < start + run.length) return 0x1000 + before + (pa - start);
      before += run.length;
    }
    throw new Error(`0x${pa.toString(16)} is in no run`);
  }

  test("whose directory lacks recent kernel mappings: the System process's DirectoryTableBase is used", async () => {
    const user = truth.processes.find((p) => p.pid !== 4 && p.dtb !== truth.dtb)!;
    const path = join(work, 'other-process-dtb.dmp');
    copyFileSync(image, path);
    onTestFinished(() => rmSync(path, { force: true }));
    const fd = openSync(path, 'r+');
    // The header's DirectoryTableBase names the user process's page directory…
    const header = Buffer.alloc(4);
    header.writeUInt32LE(Number(BigInt(user.dtb)));
    writeSync(fd, header, 0, 4, 0x10);
    // …whose entries for the drivers loaded last (the driver area, not the kernel's own window)
    // were never copied in.
    const kernelTable = Number(BigInt(truth.kernelBase) >> 22n);
    const tables = new Set(
      truth.modules.map((m) => Number(BigInt(m.base) >> 22n)).filter((i) => i !== kernelTable && i < 0x300),
    );
    expect(tables.size).toBeGreaterThan(0);
    for (const index of tables)
      writeSync(fd, Buffer.alloc(4), 0, 4, fileOffset(Number(BigInt(user.dtb)) + index * 4));
    closeSync(fd);
    const result = await analyzeImage(path);
    expect(result.image.dtb?.value).toBe(truth.dtb);
    expect(result.image.dtb?.method).toMatch(/DirectoryTableBase of the System process/);
    expect(result.drivers.filter((d) => d.state === 'live').length).toBe(truth.drivers.length);
    // The drivers' images are readable: their PE identity and their handlers' verdicts are right.
    expect(result.modules.filter((m) => m.timeDateStamp === null)).toEqual([]);
    expect(result.findings.map((f) => `${f.kind} ${f.subject}`).sort()).toEqual(
      truth.findings.map((f) => `${f.kind} ${f.subject}`).sort(),
    );
  });
});
