// Kernels whose layouts no table of their build describes. `--build N` with an ISF of another
// build claims N everywhere a reader takes a build from, under a synthetic PDB identity, while
// every structure follows the ISF. `--future` moves the opaque structures of the newest layout
// (x64 22000, or an x86 profile) as layout/future.ts documents. Expected offsets come from the
// real ISF files and, for x86, the V2vt figures (volatility @328a178e); the moves from the
// documented rule, applied here on its own.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, onTestFinished, test } from 'vitest';
import { buildImage, type BuildImageOptions, type Truth } from '../../../src/builder/index';
import { readIsf } from '../../../src/builder/layout/isf';
import { RawImage, VirtualReader } from '../../support/raw-reader';
import { ISF_DIR } from '../../support/shared';
import {
  accessorOffsets,
  checkAccessors,
  checkObjects,
  checkServiceTable,
  kernelExports,
  kernelFileVersion,
} from './layout-checks';

const isfPath = (guid: string) => join(ISF_DIR, `${guid}-1.json.xz`);
const ISF_14393 = isfPath('517E128F7B7C4EA79491DE6B9B9CE190');
const ISF_17763 = isfPath('8B11040A5928757B11390AC78F6B6925');
const ISF_9600 = isfPath('22597D0B40394E23936F6A24C6C52D5B');
const ISF_22000 = isfPath('32C1A669D5FFEFD41091F636CFDB6E99');
const KUSER = { x64: 0xfffff78000000000n, x86: 0xffdf0000n };

const work = mkdtempSync(join(tmpdir(), 'irpscope-layouts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let counter = 0;
function build(
  options: Omit<BuildImageOptions, 'out' | 'size' | 'seed' | 'format'> & Partial<BuildImageOptions>,
) {
  const out = join(work, `image-${++counter}`);
  onTestFinished(() => rmSync(out, { recursive: true, force: true }));
  return buildImage({ format: 'raw', size: 64 * 1024 * 1024, seed: 3, fill: 'zero', ...options, out });
}

function withImage(result: { image: string; truth: Truth }, check: (v: VirtualReader) => void): void {
  const image = new RawImage(result.image);
  try {
    check(new VirtualReader(image, result.truth.paging, Number(BigInt(result.truth.dtb))));
  } finally {
    image.close();
  }
}

/** The build numbers the image states: VERSIONINFO, NtBuildNumber (exported), KUSER_SHARED_DATA (10+). */
function claimedBuilds(v: VirtualReader, truth: Truth): number[] {
  const exports = kernelExports(v, truth);
  const builds = [
    Number(kernelFileVersion(v, truth).split('.')[2]),
    v.u32(exports.get('NtBuildNumber')!)! & 0xffff,
  ];
  const kuser = KUSER[truth.arch];
  if (v.u32(kuser + 0x26cn)! >= 10) builds.push(v.u32(kuser + 0x260n)!);
  return builds;
}

/** The RSDS record's GUID, in the ISF files' text form. */
function codeViewGuid(v: VirtualReader, truth: Truth): string {
  const base = BigInt(truth.kernelBase);
  const pe = base + BigInt(v.u32(base + 0x3cn)!);
  const debug = base + BigInt(v.u32(pe + (truth.arch === 'x64' ? 0x88n : 0x78n) + 6n * 8n)!);
  const record = base + BigInt(v.u32(debug + 0x14n)!);
  expect(v.read(record, 4)!.toString('latin1')).toBe('RSDS');
  const g = v.read(record + 4n, 16)!;
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  return (
    hex(g.readUInt32LE(0), 8) +
    hex(g.readUInt16LE(4), 4) +
    hex(g.readUInt16LE(6), 4) +
    [...g.subarray(8)].map((b) => hex(b, 2)).join('')
  );
}

describe('--build with an ISF of another build', () => {
  test('a 1607 layout claiming 1809: the build everywhere, a synthetic GUID, 1607 offsets in every object', () => {
    const isf = readIsf(ISF_14393);
    const table = readIsf(ISF_17763);
    const result = build({ isf: ISF_14393, build: 17763, scenario: 'infected' });
    const truth = result.truth;
    expect(truth.build).toBe(17763);
    expect(truth.layout).toMatchObject({ kind: 'other-build', layoutBuild: 14393 });
    expect(truth.pdb.synthetic).toBe(true);
    const pid = isf.userTypes['_EPROCESS']!.fields['UniqueProcessId']!.offset;
    const tablePid = table.userTypes['_EPROCESS']!.fields['UniqueProcessId']!.offset;
    expect(pid).not.toBe(tablePid);
    for (const [struct, layout] of Object.entries(truth.layout.structs))
      for (const [name, offset] of Object.entries(layout.fields))
        expect(offset, `${struct}.${name}`).toBe(isf.userTypes[struct]!.fields[name]!.offset);
    withImage(result, (v) => {
      expect(claimedBuilds(v, truth)).toEqual([17763, 17763, 17763]);
      const guid = codeViewGuid(v, truth);
      expect(guid).toBe(truth.pdb.guid);
      for (const real of [isf.pdb.guid, table.pdb.guid]) expect(guid).not.toBe(real);
      const system = BigInt(truth.processes.find((p) => p.pid === 4)!.eprocess);
      expect(v.ptr(system + BigInt(pid))).toBe(4n);
      expect(v.ptr(system + BigInt(tablePid))).not.toBe(4n);
      // The kernel's own tables stay those of the binary its symbols come from.
      checkServiceTable(v, truth);
      checkObjects(v, truth);
      checkAccessors(v, truth);
    });
  });

  test('the crash-dump header states the claimed build too', () => {
    const result = build({ isf: ISF_14393, build: 17763, scenario: 'clean', format: 'dmp-full' });
    const header = readFileSync(result.image).subarray(0, 0x10);
    expect(header.toString('latin1', 0, 8)).toBe('PAGEDU64');
    expect(header.readUInt32LE(0xc)).toBe(17763);
  });

  test('an 8.1 layout claiming a Windows 10 build puts that build in KUSER_SHARED_DATA, which its ISF lacks', () => {
    expect(readIsf(ISF_9600).userTypes['_KUSER_SHARED_DATA']!.fields['NtBuildNumber']).toBeUndefined();
    const result = build({ isf: ISF_9600, build: 10240, scenario: 'clean' });
    withImage(result, (v) => {
      expect(claimedBuilds(v, result.truth)).toEqual([10240, 10240, 10240]);
      checkServiceTable(v, result.truth);
    });
  });
});

/** The documented moves, applied to one structure's offsets. */
function moved(
  fields: Record<string, number>,
  inserts: Array<[at: number, bytes: number]>,
  swap?: [string, string],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, offset] of Object.entries(fields))
    out[name] = offset + inserts.filter(([at]) => offset >= at).reduce((n, [, bytes]) => n + bytes, 0);
  if (swap) [out[swap[0]], out[swap[1]]] = [out[swap[1]]!, out[swap[0]]!];
  return out;
}

/**
 * What --future must make of a layout (x64 amounts; x86 uses 8 where x64 uses 0x10): KTHREAD +big
 * before Process (ThreadListEntry on XP); ETHREAD +big from the end of the old KTHREAD, +big from
 * Cid, +8 from IrpList, then IrpList and ThreadListEntry swap; EPROCESS +big from
 * ActiveProcessLinks, +8 after ImageFileName.
 */
function expectedFuture(
  unmoved: Truth['layout']['structs'],
  big: number,
): Record<string, { size: number; fields: Record<string, number> }> {
  const kthread = unmoved['_KTHREAD']!;
  const ethread = unmoved['_ETHREAD']!;
  const eprocess = unmoved['_EPROCESS']!;
  // XP's KTHREAD has no Process: its insertion (before ThreadListEntry) is after every field recorded.
  const kthreadAt = kthread.fields['Process'] ?? Number.POSITIVE_INFINITY;
  const out = structuredClone(unmoved);
  out['_KTHREAD'] = { size: kthread.size + big, fields: moved(kthread.fields, [[kthreadAt, big]]) };
  const e = ethread.fields;
  out['_ETHREAD'] = {
    size: ethread.size + 2 * big + 8,
    fields: moved(
      e,
      [
        [kthread.size, big],
        [e['Cid']!, big],
        [e['IrpList']!, 8],
      ],
      ['IrpList', 'ThreadListEntry'],
    ),
  };
  const p = eprocess.fields;
  out['_EPROCESS'] = {
    size: eprocess.size + big + 8,
    fields: moved(p, [
      [p['ActiveProcessLinks']!, big],
      [p['ImageFileName']! + 15, 8],
    ]),
  };
  return out;
}

describe('--future', () => {
  test('x64: build 26100 from the 22000 ISF, opaque structures moved, driver ABI in place, objects and accessors agree', () => {
    const isf = readIsf(ISF_22000);
    const result = build({ isf: ISF_22000, future: true, scenario: 'infected' });
    const truth = result.truth;
    expect(truth.build).toBe(26100);
    expect(truth.version.name).toBe('Windows 11 24H2 (future layout)');
    expect(truth.layout).toMatchObject({ kind: 'future', layoutBuild: 22000 });
    // The unmoved layout is the ISF's.
    for (const [struct, layout] of Object.entries(truth.layout.unmoved!)) {
      expect(layout.size, struct).toBe(isf.userTypes[struct]!.size);
      for (const [name, offset] of Object.entries(layout.fields))
        expect(offset, `${struct}.${name}`).toBe(isf.userTypes[struct]!.fields[name]!.offset);
    }
    expect(truth.layout.structs).toEqual(expectedFuture(truth.layout.unmoved!, 0x10));
    // Spelled out for the record: what a 22000 table gets wrong here.
    const f = (struct: string, name: string) => truth.layout.structs[struct]!.fields[name];
    expect([f('_EPROCESS', 'UniqueProcessId'), f('_EPROCESS', 'ActiveProcessLinks')]).toEqual([0x440, 0x458]);
    expect([f('_EPROCESS', 'ImageFileName'), f('_EPROCESS', 'ThreadListHead')]).toEqual([0x5b8, 0x5f8]);
    expect([f('_ETHREAD', 'Cid'), f('_ETHREAD', 'IrpList'), f('_ETHREAD', 'ThreadListEntry')]).toEqual([
      0x4e8, 0x560, 0x528,
    ]);
    expect(f('_KTHREAD', 'Process')).toBe(0x230);
    expect(f('_KPROCESS', 'DirectoryTableBase')).toBe(0x28);
    withImage(result, (v) => {
      expect(claimedBuilds(v, truth)).toEqual([26100, 26100, 26100]);
      expect(codeViewGuid(v, truth)).not.toBe(isf.pdb.guid);
      checkServiceTable(v, truth);
      checkObjects(v, truth);
      checkAccessors(v, truth);
      // The 22000 offsets do not find these objects.
      const old = (name: string) => BigInt(isf.userTypes['_ETHREAD']!.fields[name]!.offset);
      expect(truth.threads.every((t) => v.ptr(BigInt(t.ethread) + old('Cid') + 8n) !== BigInt(t.tid))).toBe(
        true,
      );
      expect(accessorOffsets(v, truth).get('PsGetThreadProcess')!.offset).toBe(0x230);
    });
  });

  test('x64: the same arguments give the same bytes; another boot gives another valid image', () => {
    const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
    const a = build({ isf: ISF_22000, future: true, scenario: 'clean', fill: 'random' });
    const b = build({ isf: ISF_22000, future: true, scenario: 'clean', fill: 'random' });
    expect(sha(a.image)).toBe(sha(b.image));
    expect(sha(a.files[1]!)).toBe(sha(b.files[1]!));
    const other = build({ isf: ISF_22000, future: true, scenario: 'clean', boot: 2 });
    expect(other.truth.kernelBase).not.toBe(a.truth.kernelBase);
    expect(other.truth.layout).toEqual(a.truth.layout);
    withImage(other, (v) => {
      checkObjects(v, other.truth);
      checkAccessors(v, other.truth);
    });
  });

  // V2vt (volatility @328a178e) offsets of the fields the moves touch, per profile.
  const X86: Record<
    string,
    { build: number; eprocess: Record<string, number>; ethread: Record<string, number> }
  > = {
    'xp-sp3-x86': {
      build: 2600,
      eprocess: {
        UniqueProcessId: 0x84,
        ActiveProcessLinks: 0x88,
        ImageFileName: 0x174,
        ThreadListHead: 0x190,
      },
      ethread: { Cid: 0x1ec, IrpList: 0x210, ThreadListEntry: 0x22c, ThreadsProcess: 0x220 },
    },
    '2003-sp2-x86': {
      build: 3790,
      eprocess: {
        UniqueProcessId: 0x94,
        ActiveProcessLinks: 0x98,
        ImageFileName: 0x164,
        ThreadListHead: 0x180,
      },
      ethread: { Cid: 0x1e4, IrpList: 0x208, ThreadListEntry: 0x224, ThreadsProcess: 0x218 },
    },
    'win7-sp1-x86': {
      build: 7601,
      eprocess: {
        UniqueProcessId: 0xb4,
        ActiveProcessLinks: 0xb8,
        ImageFileName: 0x16c,
        ThreadListHead: 0x188,
      },
      ethread: { Cid: 0x22c, IrpList: 0x24c, ThreadListEntry: 0x268 },
    },
    'win7-sp1-x86-pae': {
      build: 7601,
      eprocess: {
        UniqueProcessId: 0xb4,
        ActiveProcessLinks: 0xb8,
        ImageFileName: 0x16c,
        ThreadListHead: 0x188,
      },
      ethread: { Cid: 0x22c, IrpList: 0x24c, ThreadListEntry: 0x268 },
    },
  };

  test.each(Object.keys(X86))(
    'x86 %s: the same build, a later revision, the fields moved, objects and accessors agree',
    (profile) => {
      const facts = X86[profile]!;
      const plain = build({ profile, scenario: 'clean' });
      const result = build({ profile, future: true, scenario: 'infected' });
      const truth = result.truth;
      expect(truth.build).toBe(facts.build);
      expect(truth.version.revision).toBeGreaterThan(plain.truth.version.revision);
      expect(truth.pdb.guid).not.toBe(plain.truth.pdb.guid);
      expect(truth.layout).toMatchObject({ kind: 'future', layoutBuild: facts.build });
      expect(truth.layout.unmoved).toEqual(plain.truth.layout.structs);
      for (const [name, offset] of Object.entries(facts.eprocess))
        expect(truth.layout.unmoved!['_EPROCESS']!.fields[name], name).toBe(offset);
      for (const [name, offset] of Object.entries(facts.ethread))
        expect(truth.layout.unmoved!['_ETHREAD']!.fields[name], name).toBe(offset);
      expect(truth.layout.structs).toEqual(expectedFuture(truth.layout.unmoved!, 8));
      withImage(result, (v) => {
        const { major, minor, build, revision } = truth.version;
        expect(kernelFileVersion(v, truth)).toBe(`${major}.${minor}.${build}.${revision}`);
        expect(claimedBuilds(v, truth)).toEqual([facts.build, facts.build]);
        checkObjects(v, truth);
        checkAccessors(v, truth);
        // UniqueProcessId stays; the list runs through the moved ActiveProcessLinks, not the table's.
        const system = BigInt(truth.processes.find((p) => p.pid === 4)!.eprocess);
        expect(v.ptr(system + BigInt(facts.eprocess['UniqueProcessId']!))).toBe(4n);
        const first = v.ptr(BigInt(truth.psActiveProcessHead));
        expect(first).toBe(system + BigInt(truth.layout.structs['_EPROCESS']!.fields['ActiveProcessLinks']!));
        expect(first).not.toBe(system + BigInt(facts.eprocess['ActiveProcessLinks']!));
      });
    },
  );
});
