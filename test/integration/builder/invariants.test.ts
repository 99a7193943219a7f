// The builder's own invariants: every address in truth.json resolves through the image's own
// page tables to the bytes it names, for every shared ISF build and every x86 profile, clean and
// infected; processes, threads and IRPs follow truth.layout, and the kernel's accessor routines
// read the fields it names. Offsets below are the spec's fixed layouts (../shared/spec §1.2, §1.6, §1.7, §1.12,
// §1.14), independent of the builder's tables.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { X86_PROFILES, buildImage, type Truth } from '../../../src/builder/index';
import { RawImage, VirtualReader } from '../../support/raw-reader';
import { ISF_DIR as SHARED_ISF_DIR } from '../../support/shared';
import { checkAccessors, checkObjects, checkServiceTable, kernelFileVersion } from './layout-checks';

const ISF_DIR = SHARED_ISF_DIR;
const isfFiles = readdirSync(ISF_DIR).filter((f) => f.endsWith('.json.xz'));
const cases = [
  ...isfFiles.map((file) => ({ label: file.slice(0, 8), isf: join(ISF_DIR, file), profile: undefined })),
  ...X86_PROFILES.map((profile) => ({ label: profile, isf: undefined, profile })),
];

const OFFSETS = {
  x64: {
    devObj: 0x8,
    start: 0x18,
    size: 0x20,
    name: 0x38,
    major: 0x70,
    next: 0x10,
    attached: 0x18,
    devType: 0x48,
    devExt: 0x138,
    attachedTo: 0x30,
    dllBase: 0x30,
    imageSize: 0x40,
    linkTarget: 0x8,
    dtb: 0x28,
  },
  x86: {
    devObj: 0x4,
    start: 0x0c,
    size: 0x10,
    name: 0x1c,
    major: 0x38,
    next: 0x0c,
    attached: 0x10,
    devType: 0x2c,
    devExt: 0xb0,
    attachedTo: 0x18,
    dllBase: 0x18,
    imageSize: 0x20,
    linkTarget: 0x8,
    dtb: 0x18,
  },
};

const work = mkdtempSync(join(tmpdir(), 'irpscope-builder-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const big = (hex: string) => BigInt(hex);

function verify(imagePath: string, truth: Truth): void {
  const image = new RawImage(imagePath);
  try {
    const v = new VirtualReader(image, truth.paging, Number(big(truth.dtb)));
    const o = OFFSETS[truth.arch];
    const ptr = truth.arch === 'x64' ? 8 : 4;

    // Kernel image: MZ, export directory named ntoskrnl.exe, RSDS record of the PDB.
    const base = big(truth.kernelBase);
    expect(v.read(base, 2)?.toString('latin1')).toBe('MZ');
    const peAt = base + BigInt(v.u32(base + 0x3cn)!);
    expect(v.read(peAt, 4)?.toString('latin1')).toBe('PE\0\0');
    const dirs = peAt + (truth.arch === 'x64' ? 0x88n : 0x78n);
    const exportRva = v.u32(dirs)!;
    const exportName = v.read(base + BigInt(v.u32(base + BigInt(exportRva) + 0xcn)!), 12)?.toString('latin1');
    expect(exportName).toBe('ntoskrnl.exe');
    const debugRva = v.u32(dirs + 6n * 8n)!;
    const cv = base + BigInt(v.u32(base + BigInt(debugRva) + 0x14n)!);
    expect(v.read(cv, 4)?.toString('latin1')).toBe('RSDS');
    expect(v.u32(cv + 20n)).toBe(truth.pdb.age);
    expect(v.read(cv + 24n, truth.pdb.name.length)?.toString('latin1')).toBe(truth.pdb.name);

    // The version resource names the kernel's version.
    const { major, minor, build, revision } = truth.version;
    expect(kernelFileVersion(v, truth)).toBe(`${major}.${minor}.${build}.${revision}`);

    // KUSER_SHARED_DATA version.
    expect(v.u32(big(truth.kuserSharedData) + 0x26cn)).toBe(truth.version.major);
    expect(v.u32(big(truth.kuserSharedData) + 0x270n)).toBe(truth.version.minor);

    // Drivers: object, name, image, IRP table, device chain and stacks.
    const irp = new Map(truth.irp.map((h) => [`${h.driver}/${h.index}`, big(h.handler)]));
    for (const driver of truth.drivers) {
      const at = big(driver.objectVa);
      expect(v.pa(at), driver.name).toBe(Number(big(driver.objectPa)));
      expect(v.u16(at), driver.name).toBe(4);
      expect(v.unicodeString(at + BigInt(o.name)), driver.name).toBe(
        driver.nameResident ? driver.name : null,
      );
      expect(v.ptr(at + BigInt(o.start))).toBe(big(driver.start));
      for (let i = 0; i < 28; i++)
        expect(v.ptr(at + BigInt(o.major + i * ptr)), `${driver.name}[${i}]`).toBe(
          irp.get(`${driver.name}/${i}`),
        );
      const chain: bigint[] = [];
      for (
        let device = v.ptr(at + BigInt(o.devObj))!;
        device !== 0n && chain.length < 512;
        device = v.ptr(device + BigInt(o.next))!
      )
        chain.push(device);
      expect(chain.sort()).toEqual(driver.devices.map((d) => big(d.objectVa)).sort());
      for (const device of driver.devices) {
        const d = big(device.objectVa);
        expect(v.u16(d)).toBe(3);
        expect(v.ptr(d + 8n)).toBe(at);
        expect(v.u32(d + BigInt(o.devType))).toBe(device.type);
        expect(v.ptr(d + BigInt(o.attached))).toBe(device.attachedDevice ? big(device.attachedDevice) : 0n);
        const extension = v.ptr(d + BigInt(o.devExt))!;
        expect(v.ptr(extension + BigInt(o.attachedTo))).toBe(device.attachedTo ? big(device.attachedTo) : 0n);
      }
    }

    // PsLoadedModuleList holds exactly the linked modules, in load order.
    const head = big(truth.psLoadedModuleList);
    const listed: bigint[] = [];
    for (let entry = v.ptr(head)!; entry !== head && listed.length < 1000; entry = v.ptr(entry)!)
      listed.push(v.ptr(entry + BigInt(o.dllBase))!);
    expect(listed).toEqual(truth.modules.filter((m) => !m.unlinked).map((m) => big(m.base)));
    for (const module of truth.modules) {
      expect(v.read(big(module.base), 2)?.toString('latin1'), module.name).toBe('MZ');
      expect(v.u32(big(module.ldrEntry) + BigInt(o.imageSize))).toBe(module.size);
    }

    // Every handler lies where its verdict says.
    const modules = truth.modules.map((m) => ({
      name: m.name,
      start: big(m.base),
      end: big(m.base) + BigInt(m.size),
    }));
    const owner = (va: bigint) => modules.find((m) => va >= m.start && va < m.end)?.name ?? null;
    for (const h of [...truth.irp, ...truth.fastIo]) {
      const va = big(h.handler);
      expect(owner(va), `${h.driver} ${h.name}`).toBe(h.owner);
      if (h.verdict === 'kernel-default') expect(va).toBe(big(truth.iopInvalidDeviceRequest));
      const code = v.read(va, 16);
      expect(code, `${h.driver} ${h.name} code is resident`).not.toBeNull();
      if (h.verdict === 'inline-patched') expect([0xe9, 0xff, 0x48, 0x68]).toContain(code![0]);
    }

    // Symbolic links name their targets.
    for (const link of truth.links)
      expect(v.unicodeString(big(link.objectVa) + BigInt(o.linkTarget))).toBe(link.target);

    // The System process carries the DTB.
    const system = truth.processes.find((p) => p.pid === 4)!;
    expect(v.ptr(big(system.eprocess) + BigInt(o.dtb))).toBe(big(truth.dtb));

    // Paged-out pages really are unreadable; transition pages keep their frame.
    for (const page of truth.pagedOutPages) expect(v.pa(big(page))).toBeNull();

    // Processes, threads and IRPs lie where truth.layout says, and the kernel's accessors say so too.
    checkObjects(v, truth);
    checkAccessors(v, truth);
    checkServiceTable(v, truth);
  } finally {
    image.close();
  }
}

describe.each(cases)('builder invariants: $label', ({ label, isf, profile }) => {
  for (const scenario of ['clean', 'infected'] as const) {
    test(`${scenario}: every address in the truth resolves to the bytes it names`, () => {
      const out = join(work, `${label}-${scenario}`);
      const result = buildImage({
        isf,
        profile,
        format: 'raw',
        scenario,
        size: 64 * 1024 * 1024,
        seed: 11,
        fill: 'zero',
        out,
      });
      const truth = result.truth;
      expect(truth.drivers.length).toBeGreaterThanOrEqual(100);
      expect(truth.drivers.length).toBeLessThanOrEqual(200);
      expect(truth.drivers.reduce((n, d) => n + d.devices.length, 0)).toBeGreaterThanOrEqual(300);
      verify(result.image, truth);
      const kinds = new Set(truth.findings.filter((f) => f.severity !== 'info').map((f) => f.kind));
      if (scenario === 'clean') expect([...kinds]).toEqual([]);
      else {
        for (const kind of [
          'irp-hook',
          'inline-hook',
          'hidden-driver',
          'unlinked-module',
          'irp-no-module',
          'foreign-filter',
          'fastio-hook',
          'suspicious-name',
        ]) {
          expect(kinds, kind).toContain(kind);
        }
        expect(truth.drivers.filter((d) => d.hidden)).toHaveLength(1);
      }
      rmSync(out, { recursive: true, force: true });
    });
  }
});
