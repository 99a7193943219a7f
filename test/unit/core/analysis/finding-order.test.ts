// The order findings are listed and numbered in: most severe first, and within a severity as the
// rootkit's story reads (what hides, then the doors it bent, then the callbacks it left), so the
// first finding of an infected image is the rootkit's own driver.

import { expect, test } from 'vitest';
import { compareFindings, type Severity } from '../../../../src/common/findings';
import { analyzeImage } from '../../../../src/core/node/analyze';
import { imageForSuite } from '../../../support/images';

test("an infected image's findings open with the hidden driver; its callbacks follow the hooks it set", async () => {
  const { image, truth } = imageForSuite({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'infected',
    size: 64 * 1024 * 1024,
    seed: 1,
    fill: 'zero',
  });
  const { findings } = await analyzeImage(image);
  const hiddenDriver = truth.findings.find((f) => f.kind === 'hidden-driver')!;
  expect([findings[0]!.kind, findings[0]!.subject]).toEqual(['hidden-driver', hiddenDriver.subject]);
  // Numbered in that order (a callback's finding is known by its identity instead).
  const numbered = findings.map((f) => f.id).filter((id) => /^F\d+$/.test(id));
  expect(numbered).toEqual(numbered.map((_, i) => `F${String(i + 1).padStart(3, '0')}`));
  const critical: string[] = findings.filter((f) => f.severity === 'critical').map((f) => f.kind);
  const last = (kind: string) => critical.lastIndexOf(kind);
  const first = (kind: string) => critical.indexOf(kind);
  expect(last('hidden-driver')).toBeLessThan(first('hidden-process'));
  expect(last('ssdt-inline')).toBeLessThan(first('inline-hook'));
  expect(last('completion-hook')).toBeLessThan(first('callback-no-module'));
  expect(last('callback-hidden-module')).toBeLessThan(first('orphan-thread'));
});

test('severity first; a kind the story does not list comes after those it lists; then by subject', () => {
  const f = (severity: Severity, kind: string, subject = 'x') => ({ severity, kind, subject });
  const sorted = [
    f('high', 'hidden-driver'),
    f('critical', 'zz-new-kind'),
    f('critical', 'callback-no-module', 'b'),
    f('critical', 'callback-no-module', 'a'),
    f('critical', 'aa-new-kind'),
    f('critical', 'hidden-driver'),
  ].sort(compareFindings);
  expect(sorted.map((x) => `${x.severity} ${x.kind} ${x.subject}`)).toEqual([
    'critical hidden-driver x',
    'critical callback-no-module a',
    'critical callback-no-module b',
    'critical aa-new-kind x',
    'critical zz-new-kind x',
    'high hidden-driver x',
  ]);
});
