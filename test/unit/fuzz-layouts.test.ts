import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { layouts } from '../fuzz/corpus';
import { ROOT } from '../support/shared';

// `npm run fuzz` in a checkout with no ../shared/isf beside it once failed outright; the x86
// layouts need nothing outside the checkout, so only x64 is skipped, with the reason.
describe('fuzz campaign layouts', () => {
  const folders: string[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it('runs the x86 layouts and names the missing symbols when there is no shared data', () => {
    const empty = mkdtempSync(join(tmpdir(), 'irpscope-no-shared-'));
    folders.push(empty);
    vi.stubEnv('IRPSCOPE_SHARED', empty);
    const { available, skipped } = layouts(ROOT);
    expect(available.map((l) => l.key)).toEqual(['x86-pae', 'x86']);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/^x64: no .*1C9875F7.*beside this checkout/);
  });

  it('adds x64 first when the shared symbols are there', () => {
    const { available, skipped } = layouts(ROOT);
    expect(available.map((l) => l.key)).toEqual(['x64', 'x86-pae', 'x86']);
    expect(skipped).toEqual([]);
  });
});
