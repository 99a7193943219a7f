// Layouts found, not assumed: a real kernel read under another build number (whose table puts
// EPROCESS and ETHREAD fields elsewhere) still gives the processes, threads and IRPs of the truth,
// with no symbol file; and an image whose EPROCESS layout cannot be established says so instead of
// showing nonsense.

import { copyFileSync, openSync, closeSync, writeSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Truth } from '../../../src/builder/index';
import { renderSummary } from '../../../src/cli/render-analysis';
import { renderInfo } from '../../../src/cli/render-info';
import { analyzeImage } from '../../../src/core/node/analyze';
import { builtinProfile } from '../../../src/core/profile';
import { imageForTest, isfFiles } from '../../support/images';
import { RawImage, translate } from '../../support/raw-reader';
import { expectActivityMatchesTruth } from '../../support/truth';

/** Each real kernel, and a build number whose table lays EPROCESS or ETHREAD out otherwise. */
const WRONG_BUILD: Record<string, number> = {
  '6.1.7601': 7600,
  '6.3.9600': 9200,
  '10.0.14393': 17763,
  '10.0.17763': 18362,
  '10.0.18362': 17763,
  '10.0.19041': 18362,
  '10.0.20348': 19041,
  '10.0.22000': 19041,
};

const SIZE = 64 * 1024 * 1024;

describe.each(isfFiles())('a real kernel under another build number: $label', ({ isf }) => {
  test('processes, threads and IRPs in flight equal the truth, with no symbol file', async () => {
    const real = imageForTest({
      isf,
      format: 'raw',
      scenario: 'infected',
      size: SIZE,
      seed: 41,
      fill: 'zero',
    });
    const version = `${real.truth.version.major}.${real.truth.version.minor}.${real.truth.version.build}`;
    const wrong = WRONG_BUILD[version]!;
    expect(wrong, version).toBeDefined();
    const { image, truth } = imageForTest({
      isf,
      build: wrong,
      format: 'raw',
      scenario: 'infected',
      size: SIZE,
      seed: 41,
      fill: 'zero',
    });
    const result = await analyzeImage(image);
    expect(result.image.build?.value.number).toBe(wrong);
    // The table for the claimed build is wrong for this kernel somewhere the engine reads.
    const table = builtinProfile('x64', wrong);
    const realTable = builtinProfile('x64', real.truth.version.build);
    const moved = ['UniqueProcessId', 'ImageFileName', 'ThreadListHead', 'InheritedFromUniqueProcessId']
      .map((f) => ['_EPROCESS', f])
      .concat(['Cid', 'ThreadListEntry', 'IrpList', 'StartAddress'].map((f) => ['_ETHREAD', f]))
      .filter(([s, f]) => table.field(s!, f!).offset !== realTable.field(s!, f!).offset);
    expect(moved.length, 'fields the claimed build puts elsewhere').toBeGreaterThan(0);

    expectActivityMatchesTruth(result, truth);
    expect(result.coverage.processes.state).toBe('complete');
    expect(result.coverage.threads.state).toBe('complete');
    const layouts = result.image.layouts ?? [];
    for (const structure of ['_EPROCESS', '_ETHREAD'])
      expect(layouts.find((l) => l.structure === structure)?.state, structure).toBe('established');
  });
});

/** Overwrites bytes at a kernel virtual address of a raw image, through the truth's page tables. */
function patch(path: string, truth: Truth, va: bigint, bytes: Buffer): void {
  const image = new RawImage(path);
  const pa = translate(image, truth.paging, Number(BigInt(truth.dtb)), va);
  image.close();
  expect(pa, `0x${va.toString(16)} is mapped`).not.toBeNull();
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, pa!);
  closeSync(fd);
}

describe('a layout that cannot be established', () => {
  test.each([
    { label: 'x86 7 SP1', profile: 'win7-sp1-x86' as const },
    { label: 'x64 10 2004', isf: isfFiles().find((f) => f.label.startsWith('1C9875F7'))!.isf },
  ])(
    '$label: a System process with no PID 4 and no name gives "not available", never nonsense',
    async (layout) => {
      const { image, truth } = imageForTest({
        ...layout,
        format: 'raw',
        scenario: 'infected',
        size: SIZE,
        seed: 42,
        fill: 'zero',
      });
      const broken = `${image}.broken`;
      copyFileSync(image, broken);
      const system = truth.processes.find((p) => p.pid === 4)!;
      const eprocess = BigInt(system.eprocess);
      const table = builtinProfile(truth.paging === 'x64' ? 'x64' : 'x86', truth.version.build);
      const ptr = truth.paging === 'x64' ? 8 : 4;
      // DKOM on the System process itself: its PID and its name overwritten.
      patch(
        broken,
        truth,
        eprocess + BigInt(table.field('_EPROCESS', 'UniqueProcessId').offset),
        Buffer.alloc(ptr, 0x5a),
      );
      patch(
        broken,
        truth,
        eprocess + BigInt(table.field('_EPROCESS', 'ImageFileName').offset),
        Buffer.from('xxxxxxxx'),
      );
      const result = await analyzeImage(broken);
      expect(result.processes).toEqual([]);
      expect(result.threads).toEqual([]);
      expect(result.coverage.processes.state).toBe('unavailable');
      expect(result.coverage.processes.missing.join(' ')).toMatch(
        /^the layout of _EPROCESS could not be established: no offset holds the System process's PID 4/,
      );
      expect(result.coverage.threads.state).toBe('unavailable');
      // IRPs are of the driver ABI: still read from pool, but no thread or process is named.
      expect(result.irps.length).toBe(truth.irps.length);
      expect(result.irps.every((i) => i.processName === null)).toBe(true);
      expect(result.coverage.irps.state).toBe('partial');
      expect(result.coverage.findings.missing.join(' ')).toMatch(/hidden processes cannot be judged/);
      // Drivers and devices do not depend on it.
      expect(result.drivers.length).toBeGreaterThan(50);
      const summary = renderSummary(result);
      expect(summary).toMatch(
        /^processes: not available, threads: not available, \d+ IRPs in flight \(partial\)$/m,
      );
      expect(summary).toMatch(
        /processes, threads not available: the layout of _EPROCESS could not be established/,
      );
      expect(renderInfo(result.image)).toMatch(
        /_EPROCESS\s+NOT ESTABLISHED: no offset holds the System process's PID 4/,
      );
    },
  );
});

/** The offsets the engine established, as the truth spells them ({struct: {field: offset}}). */
function establishedOffsets(
  result: Awaited<ReturnType<typeof analyzeImage>>,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const layout of result.image.layouts ?? [])
    for (const field of layout.fields)
      if (field.offset !== null) (out[layout.structure] ??= {})[field.field] = Number(field.offset);
  return out;
}

const FUTURE: Array<{
  label: string;
  isf?: string;
  profile?: 'xp-sp3-x86' | '2003-sp2-x86' | 'win7-sp1-x86' | 'win7-sp1-x86-pae';
}> = [
  { label: 'x64 (from 11 21H2)', isf: isfFiles().find((f) => f.label.startsWith('32C1A669'))!.isf },
  { label: 'x86 XP SP3', profile: 'xp-sp3-x86' },
  { label: 'x86 2003 SP2', profile: '2003-sp2-x86' },
  { label: 'x86 7 SP1', profile: 'win7-sp1-x86' },
  { label: 'x86 7 SP1 PAE', profile: 'win7-sp1-x86-pae' },
];

describe.each(FUTURE)('a kernel newer than every table: $label', (layout) => {
  test('fields inserted and lists reordered: the truth, with each offset established in the image', async () => {
    const { image, truth } = imageForTest({
      ...layout,
      future: true,
      format: 'raw',
      scenario: 'infected',
      size: SIZE,
      seed: 43,
      fill: 'zero',
    });
    expect(truth.layout.kind).toBe('future');
    const result = await analyzeImage(image);
    expectActivityMatchesTruth(result, truth);
    expect(result.coverage.threads.state).toBe('complete');
    // Every field the readers use sits where the builder wrote it; several are not where the table says.
    const established = establishedOffsets(result);
    const written = truth.layout.structs;
    const checked = [
      [
        '_EPROCESS',
        [
          'UniqueProcessId',
          'ActiveProcessLinks',
          'ImageFileName',
          'InheritedFromUniqueProcessId',
          'ThreadListHead',
        ],
      ],
      ['_ETHREAD', ['Cid', 'ThreadListEntry', 'StartAddress', 'Win32StartAddress', 'IrpList']],
    ] as const;
    let moved = 0;
    for (const [struct, fields] of checked)
      for (const field of fields) {
        expect(established[struct]?.[field], `${struct}.${field}`).toBe(written[struct]!.fields[field]);
        const unmoved = truth.layout.unmoved?.[struct]?.fields[field];
        if (unmoved !== undefined && unmoved !== written[struct]!.fields[field]) moved++;
      }
    expect(moved, 'fields the future layout moved').toBeGreaterThan(3);
  });
});
