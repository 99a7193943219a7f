import { describe, expect, test } from 'vitest';
import { hasHiddenCharacters } from '../../../src/common/visible-text';
import {
  formatAddress,
  localTimes,
  parseAddress,
  visibleParts,
  visibleText,
} from '../../../src/renderer/util/format';
import {
  currentLocation,
  moveHistory,
  navigateHistory,
  type History,
} from '../../../src/renderer/state/navigation';

describe('untrusted text', () => {
  const hostile = '\\Driver\\netfltx<img src=x onerror=alert(1)>"\'&\u0007\u001b[31m';

  test('control characters are shown as escapes; markup stays text for React to escape', () => {
    expect(visibleText(hostile)).toBe('\\Driver\\netfltx<img src=x onerror=alert(1)>"\'&\\u0007\\u001b[31m');
    const parts = visibleParts(hostile);
    expect(parts.filter((p) => p.control).map((p) => p.text)).toEqual(['\\u0007', '\\u001b']);
    expect(parts.map((p) => p.text).join('')).toBe(visibleText(hostile));
  });

  test('a right-to-left override is escaped wherever it is, whatever was asked before', () => {
    const name = 'Keyboard\u202elass0 \u200b';
    const escaped = 'Keyboard\\u202elass0 \\u200b';
    // The workbench asks whether a note holds hidden characters before showing it escaped.
    expect(hasHiddenCharacters(name)).toBe(true);
    expect(
      visibleParts(name)
        .map((p) => p.text)
        .join(''),
    ).toBe(escaped);
    expect(hasHiddenCharacters('a\u202eb')).toBe(true);
    expect(hasHiddenCharacters('plain')).toBe(false);
    expect(visibleParts('x\u202e').map((p) => p.text)).toEqual(['x', '\\u202e']);
    expect(visibleText(name)).toBe(escaped);
  });
});

describe('addresses', () => {
  test('typed addresses in the usual notations', () => {
    expect(parseAddress('0x8a292140')).toBe(0x8a292140n);
    expect(parseAddress('8a292140')).toBe(0x8a292140n);
    expect(parseAddress('8a292140h')).toBe(0x8a292140n);
    expect(parseAddress('fffff803`12345678')).toBe(0xfffff80312345678n);
    expect(parseAddress('0n4096')).toBe(4096n);
    expect(parseAddress('hello')).toBeNull();
    expect(parseAddress('')).toBeNull();
  });

  test('shown as WinDbg does', () => {
    expect(formatAddress('0x8a292140', false)).toBe('8a292140');
    expect(formatAddress(0xfffff80312345678n, true)).toBe('fffff803`12345678');
  });
});

describe('navigation history', () => {
  const start: History = { entries: [{ session: 's1', view: 'overview' }], index: 0 };

  test('push, back, forward; a push after going back drops the forward entries', () => {
    let h = navigateHistory(start, { view: 'drivers', driver: 'd1' }, 'push');
    h = navigateHistory(h, { view: 'hex', hex: { space: 'virtual', address: '0x10' } }, 'push');
    expect(currentLocation(h).view).toBe('hex');
    h = moveHistory(h, -1);
    expect(currentLocation(h)).toMatchObject({ view: 'drivers', driver: 'd1' });
    h = moveHistory(h, 1);
    expect(currentLocation(h).view).toBe('hex');
    h = moveHistory(moveHistory(h, -1), -1);
    h = navigateHistory(h, { view: 'findings' }, 'push');
    expect(h.entries.map((e) => e.view)).toEqual(['overview', 'findings']);
  });

  test('keyboard selection replaces the current entry; the same location is not pushed twice', () => {
    let h = navigateHistory(start, { view: 'drivers', driver: 'd1' }, 'push');
    h = navigateHistory(h, { driver: 'd2' }, 'replace');
    h = navigateHistory(h, { driver: 'd3' }, 'replace');
    expect(h.entries).toHaveLength(2);
    expect(currentLocation(h).driver).toBe('d3');
    expect(navigateHistory(h, { driver: 'd3' }, 'push')).toBe(h);
  });

  test('switching images clears selections, and coming back restores them', () => {
    let h = navigateHistory(
      start,
      { view: 'drivers', driver: 'd1', hex: { space: 'virtual', address: '0x10' } },
      'push',
    );
    h = navigateHistory(h, { session: 's2' }, 'push');
    expect(currentLocation(h)).toEqual({ session: 's2', view: 'drivers' });
    h = navigateHistory(h, { view: 'flow', flow: { device: 'x', operation: 'ReadFile' } }, 'push');
    h = navigateHistory(h, { session: 's1' }, 'push');
    expect(currentLocation(h)).toMatchObject({
      session: 's1',
      view: 'flow',
      driver: 'd1',
      hex: { address: '0x10' },
    });
    expect(currentLocation(h).flow).toBeUndefined();
  });
});

describe('times in notes', () => {
  test('an ISO time in a backend note is shown as the workbench shows times', () => {
    const note = 'reopened from its case (analysed 2026-12-06T22:47:36.413Z)';
    expect(localTimes(note, (d) => `[${d.getTime()}]`)).toBe(
      `reopened from its case (analysed [${Date.parse('2026-12-06T22:47:36.413Z')}])`,
    );
    expect(localTimes(note)).not.toMatch(/T22:47:36/);
    expect(localTimes('no time here')).toBe('no time here');
  });
});
