// --path-map: a worker sees the submitted paths under another mount; the longest whole-folder
// prefix wins and other paths are left alone.

import { describe, expect, test } from 'vitest';
import { parsePathMap, pathMapper } from '../../../src/fleet/path-map';
import { FleetError } from '../../../src/fleet/errors';

describe('--path-map', () => {
  const map = pathMapper([
    parsePathMap('/mnt/evidence=/srv/evidence'),
    parsePathMap('/mnt/evidence/2026/=/fast/2026'),
  ]);

  test('the longest folder prefix is replaced', () => {
    expect(map('/mnt/evidence/a/host.raw')).toBe('/srv/evidence/a/host.raw');
    expect(map('/mnt/evidence/2026/b/host.raw')).toBe('/fast/2026/b/host.raw');
    expect(map('/mnt/evidence')).toBe('/srv/evidence');
  });

  test('a prefix that is not a whole folder, or no prefix, leaves the path as it is', () => {
    expect(map('/mnt/evidence-old/host.raw')).toBe('/mnt/evidence-old/host.raw');
    expect(map('/data/host.raw')).toBe('/data/host.raw');
  });

  test('FROM=TO is required', () => {
    for (const bad of ['/a', '=/b', '/a=', '']) expect(() => parsePathMap(bad), bad).toThrow(FleetError);
  });
});
