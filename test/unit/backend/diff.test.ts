// The baseline comparison on a clean image and the same system infected on another boot, and on
// results changed the way other boots and damaged captures change them: names paged out, links
// renamed, auto-numbered devices renumbered, a different build, an unrelated system.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pairingText } from '../../../src/common/pairing';
import type { DiffResult } from '../../../src/common/api';
import type { AnalysisResult } from '../../../src/common/model';
import { analyzeImage } from '../../../src/core/node/analyze';
import { diffResults } from '../../../src/core/compare';
import { expectedRows, firstBytesOf, pairRows } from '../../support/planted';
import { buildTestImages, type TestImages } from './images';

let images: TestImages;
let infected: AnalysisResult;
let clean: AnalysisResult;

beforeAll(async () => {
  images = buildTestImages();
  infected = await analyzeImage(images.infected);
  clean = await analyzeImage(images.clean);
});
afterAll(() => images.remove());

const copy = (result: AnalysisResult): AnalysisResult => structuredClone(result);
const differences = (diff: DiffResult) => diff.entries.filter((e) => e.variation === null);

/** The same system after another boot: every kernel address moved, nothing else. */
function rebased(result: AnalysisResult, delta: bigint): AnalysisResult {
  const shift = (text: string): string =>
    text.replace(
      /"0x([89a-f][0-9a-f]{7})"/g,
      (_, h: string) => `"0x${(BigInt(`0x${h}`) + delta).toString(16)}"`,
    );
  return JSON.parse(shift(JSON.stringify(result))) as AnalysisResult;
}

describe('baseline comparison', () => {
  test('an image compared with itself after every address moved shows nothing', () => {
    const diff = diffResults(clean, rebased(clean, 0x10000n));
    expect(diff.entries).toEqual([]);
    expect(diff.counts.drivers.matched).toBe(diff.counts.drivers.baseline);
    expect(diff.pairs.drivers.every((p) => p.status === 'same')).toBe(true);
    expect(diff.pairs.devices.every((p) => p.status === 'same')).toBe(true);
  });

  test('clean against infected on another boot: one entry per anomaly, each carrying its findings', () => {
    const diff = diffResults(clean, infected, { baseline: 'clean', primary: 'infected' });
    const found = differences(diff);
    const byId = new Map(infected.findings.map((f) => [f.id, f]));
    // One row per planted object and callback (a hooked gate on each processor, the gate it
    // replaced), each carrying exactly the findings planted on it.
    const { pairs, extra, missing } = pairRows(
      found,
      expectedRows(
        images.infectedTruth,
        images.cleanTruth,
        firstBytesOf(images.infected, images.infectedTruth),
      ),
    );
    expect(extra.map((e) => e.key)).toEqual([]);
    expect(missing.map((r) => r.key)).toEqual([]);
    for (const [entry, row] of pairs)
      expect(entry.findings.added.map((id) => byId.get(id)!.kind).sort(), entry.id).toEqual(row.kinds);
    const attached = found.flatMap((e) => e.findings.added.map((id) => byId.get(id)!));
    const planted = images.infectedTruth.findings.filter((f) => f.kind !== 'stale-driver');
    expect(attached.map((f) => `${f.kind} ${f.subject}`).sort()).toEqual(
      planted.map((f) => `${f.kind} ${f.subject}`).sort(),
    );
    // The rootkit is one entry: its devices, handlers, link and module inside it.
    const rootkit = found.find((e) => e.kind === 'driver' && e.change === 'added')!;
    expect(rootkit.key).toBe(images.hostileName);
    expect(rootkit.severity).toBe('critical');
    expect(rootkit.changes.some((c) => c.primary?.includes(images.rootkitModule))).toBe(true);
    expect(found.filter((e) => e.key === images.rootkitModule)).toEqual([]);
    expect(found[0]!.severity).toBe('critical');
  });

  test("a hooked gate's rows say what an interrupt gate is, not what a notify routine is", () => {
    const diff = diffResults(clean, infected);
    const gates = diff.entries.filter((e) => e.kind === 'callback' && e.key.startsWith('idt|'));
    const hooked = images.infectedTruth.idtEntries.filter((e) => e.planted);
    // Hooked on every processor: one row for the gate added, one for the kernel's it replaced.
    expect(hooked.length).toBeGreaterThan(1);
    expect(gates).toHaveLength(2);
    for (const gate of gates) {
      expect(gate.why, gate.id).toMatch(/interrupt/i);
      expect(gate.why, gate.id).not.toMatch(/process, thread or image|security products/);
    }
    const thread = diff.entries.find((e) => e.kind === 'callback' && e.key.startsWith('system-thread|'))!;
    expect(thread.why).toMatch(/System thread/);
  });

  test('a hooked handler is compared as module+offset and verdict, and says what paired the driver', () => {
    const diff = diffResults(clean, infected);
    const disk = diff.entries.find((e) => e.key === '\\Driver\\Disk')!;
    const hook = disk.changes.find((c) => c.what === 'IRP_MJ_DEVICE_CONTROL')!;
    expect(hook.baseline).toMatch(/^classpnp\.sys\+0x[0-9a-f]+ \[delegated\]$/i);
    expect(hook.primary).toBe(
      `${images.rootkitModule}+${
        infected.drivers.find((d) => d.name === '\\Driver\\Disk')!.irp[14]!.offset
      } [other-module]`,
    );
    // Paired by facts the comparison states as data, not by sentences to be matched by prefix.
    expect(disk.matchedBy).toContainEqual(expect.objectContaining({ fact: 'name', name: '\\Driver\\Disk' }));
    expect(disk.matchedBy).toContainEqual(expect.objectContaining({ fact: 'image', module: 'disk.sys' }));
    expect(disk.why).toMatch(/point into/);
  });

  test('a driver whose name is paged out in one image is still the same driver', () => {
    const other = copy(clean);
    for (const driver of other.drivers) {
      if (driver.state !== 'live' || !driver.module) continue;
      driver.name = null;
      driver.nameStatus = 'DriverName paged out';
      driver.objectName = null;
    }
    const diff = diffResults(clean, other);
    expect(differences(diff)).toEqual([]);
    const afd = clean.drivers.find((d) => d.serviceKey === 'AFD')!;
    const row = diff.pairs.drivers.find((p) => p.baseline === afd.id)!;
    expect(row.status).toBe('same');
    expect(row.key).toBe('(driver of service AFD)');
    expect(row.matchedBy).toContainEqual({ fact: 'service-key', key: 'AFD' });
    expect(row.matchedBy.map(pairingText).join('; ')).toMatch(/service key AFD/);
  });

  test('without names and service keys, a driver is the image it runs from', () => {
    const other = copy(clean);
    for (const driver of other.drivers)
      if (driver.state === 'live' && driver.module)
        Object.assign(driver, { name: null, objectName: null, serviceKey: null });
    const diff = diffResults(clean, other);
    expect(differences(diff)).toEqual([]);
    expect(diff.counts.drivers.matched).toBe(diff.counts.drivers.baseline);
  });

  test('auto-numbered device names handed out in another order are not changes', () => {
    const other = copy(clean);
    const auto = other.devices.filter((d) => d.name && /^\\Device\\[0-9a-f]{8}$/.test(d.name));
    expect(auto.length).toBeGreaterThan(10);
    const names = auto.map((d) => d.name!).reverse();
    auto.forEach((d, i) => (d.name = names[i]!));
    for (const link of other.links) {
      const at = auto.findIndex((d) => d.id === link.device);
      if (at >= 0) link.target = names[at]!;
    }
    expect(differences(diffResults(clean, other))).toEqual([]);
  });

  test('a volume GUID link renamed on another boot is the same link when it names the same device', () => {
    const base = copy(clean);
    const other = copy(clean);
    const at = base.links.findIndex((l) => l.device !== null);
    base.links[at]!.name = '\\GLOBAL??\\Volume{a0b1c2d3-1111-2222-3333-444444444444}';
    other.links[at]!.name = '\\GLOBAL??\\Volume{00000000-5555-6666-7777-888888888888}';
    expect(differences(diffResults(base, other))).toEqual([]);
    // Another device under a renamed GUID is not the same link.
    other.links[at]!.device = other.devices.find((d) => d.id !== base.links[at]!.device && d.name)!.id;
    expect(
      differences(diffResults(base, other))
        .map((e) => `${e.kind} ${e.change}`)
        .sort(),
    ).toEqual(['link added', 'link removed']);
  });

  test('a link retargeted to another device is a change', () => {
    const other = copy(clean);
    const link = other.links.find((l) => l.device !== null && l.name !== null)!;
    const elsewhere = other.devices.find((d) => d.id !== link.device && d.name && d.nameStatus === null)!;
    link.target = elsewhere.name;
    link.device = elsewhere.id;
    const [entry] = differences(diffResults(clean, other));
    expect(entry).toMatchObject({ kind: 'link', change: 'changed', key: link.name });
  });

  test('a link whose name one image cannot read is the same link when it names the same device', () => {
    const other = copy(clean);
    const link = other.links.find((l) => l.device !== null && l.name !== null)!;
    Object.assign(link, { name: null, nameStatus: 'name paged out' });
    expect(differences(diffResults(clean, other))).toEqual([]);
  });

  test('a different build is compared with a warning; an unrelated system in one sentence', () => {
    const otherBuild = copy(clean);
    otherBuild.image.build = {
      value: { number: 7600, major: 6, minor: 1, name: 'Windows 7' },
      method: 'test',
    };
    const warned = diffResults(clean, otherBuild);
    expect(warned.compatibility.sameBuild).toBe(false);
    expect(warned.compatibility.warnings[0]).toMatch(/differ between builds/);
    const unrelated = copy(clean);
    unrelated.drivers.forEach((d, i) => {
      Object.assign(d, { name: `\\Driver\\other${i}`, serviceKey: `other${i}`, module: null });
      d.irp = [];
    });
    const diff = diffResults(clean, unrelated);
    expect(diff.compatibility.unrelated).toMatch(/not of the same system/);
    expect(diff.entries).toEqual([]);
  });
});
