// Every service of the system-service table gets its name, on every build and profile the builder
// lays out: the share of named entries is the whole table the builder wrote, each name is given
// once, and where the builder names a service (the I/O path's, from its own copy of the numbers)
// the engine gives that name. No warning: the kernel's table matches a documented one.

import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { X86_PROFILES, type BuildImageOptions } from '../../../src/builder/index';
import { analyzeImage } from '../../../src/core/node/analyze';
import { imageForTest, isfFiles } from '../../support/images';
import { RawImage, VirtualReader } from '../../support/raw-reader';

const layouts: Array<{ label: string } & Pick<BuildImageOptions, 'isf' | 'profile'>> = [
  ...isfFiles(),
  ...X86_PROFILES.map((profile) => ({ label: profile, profile })),
];

test.each(layouts)('every system service is named: $label', async ({ isf, profile }) => {
  // The same image as analyze.test.ts's clean raw one (shared through the image cache).
  const { image, truth } = imageForTest({
    isf,
    profile,
    format: 'raw',
    scenario: 'clean',
    size: 64 * 1024 * 1024,
    seed: 31,
    fill: 'random',
  });
  const result = await analyzeImage(image);
  const entries = result.serviceTable!.entries;
  const named = entries.filter((e) => /^Nt[A-Za-z0-9]+$/.test(e.name));
  expect(named.length / truth.serviceTable.count).toBe(1);
  expect(new Set(named.map((e) => e.name)).size).toBe(named.length);
  const plantedNames = truth.serviceTable.entries.filter((e) => e.name !== null);
  expect(plantedNames.length).toBeGreaterThan(0);
  for (const planted of plantedNames) expect(entries[planted.index]!.name).toBe(planted.name);
  expect(result.image.warnings.filter((w) => /system-service/.test(w))).toEqual([]);
});

// A table of another size than any documented one for the build (an update the tables do not
// know, or a crafted limit): names are not guessed from a table that may be shifted; the entries
// that land on an exported Nt routine keep its name, the rest show their number, and a warning
// says why.
test('a table whose size no documented table has is named by exports only, with the reason', async () => {
  const { image, truth } = imageForTest({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'clean',
    size: 64 * 1024 * 1024,
    seed: 31,
    fill: 'random',
  });
  const work = mkdtempSync(join(tmpdir(), 'irpscope-service-names-'));
  onTestFinished(() => rmSync(work, { recursive: true, force: true }));
  const copy = join(work, 'image.raw');
  copyFileSync(image, copy);
  const raw = new RawImage(copy);
  const reader = new VirtualReader(raw, truth.paging, Number(BigInt(truth.dtb)));
  const limitAt = reader.pa(BigInt(truth.serviceTable.descriptor) + 8n);
  raw.close();
  const shorter = Buffer.alloc(4);
  shorter.writeUInt32LE(truth.serviceTable.count - 1);
  const fd = openSync(copy, 'r+');
  writeSync(fd, shorter, 0, 4, limitAt!);
  closeSync(fd);

  const result = await analyzeImage(copy);
  const entries = result.serviceTable!.entries;
  expect(entries.length).toBe(truth.serviceTable.count - 1);
  const byExport = entries.filter((e) => !e.name.startsWith('service 0x'));
  expect(byExport.map((e) => [e.index, e.name]).sort()).toEqual(
    truth.serviceTable.entries
      .filter((e) => e.name !== null)
      .map((e) => [e.index, e.name])
      .sort(),
  );
  expect(entries[7]!.name).toBe('service 0x007');
  expect(result.image.warnings).toContain(
    `system-service names: the tables documented for x86 build 7601 have 401 services, this kernel's has 400; ${
      entries.length - byExport.length
    } of 400 entries land on no exported Nt routine and are shown by number`,
  );
});
