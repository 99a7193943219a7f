// One definition of the counts, said alike everywhere: the CLI summary, the HTML report and the
// comparison count the loaded drivers (live driver objects) and the unloaded ones (driver objects
// in freed pool) apart, and a part that could not be read shows "not available" with its reason in
// the report as in the CLI. (They disagreed: "115 drivers, 2 freed" in the UI and report, "113
// drivers (2 freed)" in the CLI, "113 of 113 paired" in the comparison.)

import { copyFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { expect, test } from 'vitest';
import { renderSummary } from '../../../src/cli/render-analysis';
import { countsOf } from '../../../src/common/counts';
import { analyzeImage } from '../../../src/core/node/analyze';
import { diffResults } from '../../../src/core/compare';
import { htmlReport } from '../../../src/core/report/html';
import { builtinProfile } from '../../../src/core/profile';
import { imageForTest } from '../../support/images';
import { RawImage, translate } from '../../support/raw-reader';

const IMAGE = {
  profile: 'win7-sp1-x86' as const,
  format: 'raw' as const,
  size: 64 * 1024 * 1024,
  seed: 44,
  fill: 'zero' as const,
};

test('loaded and unloaded drivers are counted alike in the CLI, the report and the comparison, from the truth', async () => {
  const { image, truth } = imageForTest({ ...IMAGE, scenario: 'infected', boot: 2 });
  const baseline = imageForTest({ ...IMAGE, scenario: 'clean', boot: 1 });
  const result = await analyzeImage(image);
  const counts = countsOf(result);
  // The truth's drivers are the loaded ones; its freed objects are apart.
  expect(counts.drivers).toBe(truth.drivers.length);
  expect(counts.unloadedDrivers).toBeGreaterThan(0);
  expect(counts.drivers + counts.unloadedDrivers).toBe(result.drivers.length);
  const phrase = `${counts.drivers} drivers (+${counts.unloadedDrivers} unloaded)`;
  expect(renderSummary(result)).toContain(phrase);
  expect(htmlReport(result)).toContain(phrase);
  expect(htmlReport(result)).toContain(
    `Drivers (${counts.drivers} loaded, ${counts.unloadedDrivers} unloaded)`,
  );
  const diff = diffResults(await analyzeImage(baseline.image), result);
  expect(diff.counts.drivers.primary).toBe(counts.drivers);
});

test('a part that could not be read is "not available" with its reason in the report, as in the CLI', async () => {
  const { image, truth } = imageForTest({ ...IMAGE, scenario: 'infected', boot: 1 });
  const broken = `${image}.no-system`;
  copyFileSync(image, broken);
  const system = truth.processes.find((p) => p.pid === 4)!;
  const table = builtinProfile('x86', truth.version.build);
  const raw = new RawImage(broken);
  const fd = openSync(broken, 'r+');
  for (const field of ['UniqueProcessId', 'ImageFileName']) {
    const va = BigInt(system.eprocess) + BigInt(table.field('_EPROCESS', field).offset);
    writeSync(fd, Buffer.alloc(4, 0x5a), 0, 4, translate(raw, truth.paging, Number(BigInt(truth.dtb)), va)!);
  }
  closeSync(fd);
  raw.close();
  const result = await analyzeImage(broken);
  const html = htmlReport(result);
  expect(html).toContain('<span>processes: not available</span>');
  expect(html).toMatch(
    /<b>processes, threads<\/b> not available: the layout of _EPROCESS could not be established/,
  );
  expect(html).not.toContain('<p>No findings.</p>');
  expect(renderSummary(result)).toMatch(/^processes: not available/m);
});
