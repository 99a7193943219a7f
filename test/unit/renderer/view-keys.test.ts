// Alt+digit reaches the first ten views; a view past the tenth has no key rather than another
// view's (the view bar's tooltips and the desktop View menu show these keys).

import { describe, expect, test } from 'vitest';
import { VIEWS, viewKey } from '../../../src/common/views';

describe('view keys', () => {
  test('no two views share an Alt key, and each key is the digit the window handler reads', () => {
    const keys = VIEWS.map((_, i) => viewKey(i)).filter((k): k is string => k !== null);
    expect(new Set(keys).size).toBe(keys.length);
    // App.tsx: Alt+n opens VIEWS[(n + 9) % 10].
    VIEWS.forEach((view, i) => {
      const key = viewKey(i);
      if (key !== null) expect(VIEWS[(Number(key) + 9) % 10]).toBe(view);
    });
    expect(VIEWS).toContain('callbacks');
  });
});
