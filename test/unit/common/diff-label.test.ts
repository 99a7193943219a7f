// A difference's label: the object's name, and for a callback what it is and where it runs
// rather than the comparison's identity.

import { describe, expect, test } from 'vitest';
import { diffEntryLabel } from '../../../src/common/diff-label';

describe('diffEntryLabel', () => {
  test('a driver, device or module is its key: its name', () => {
    expect(diffEntryLabel({ kind: 'driver', key: '\\Driver\\AFD', baseline: null, primary: null })).toBe(
      '\\Driver\\AFD',
    );
  });

  test('a callback is the side that has it, in words', () => {
    const added = {
      kind: 'callback' as const,
      key: 'process-notify|code:535657894638908b703433c05083ec0c',
      baseline: null,
      primary: { text: 'process notify → 0x8207ae38 (no module) [no-module]' },
    };
    expect(diffEntryLabel(added)).toBe('process notify → 0x8207ae38 (no module) [no-module]');
    const removed = {
      kind: 'callback' as const,
      key: 'idt|ntkrnlmp.exe+0x3400',
      baseline: { text: 'IDT gate → ntkrnlmp.exe+0x3400 [kernel]', module: 'ntkrnlmp.exe' },
      primary: null,
    };
    expect(diffEntryLabel(removed)).toBe('IDT gate → ntkrnlmp.exe+0x3400 [kernel]');
  });
});
