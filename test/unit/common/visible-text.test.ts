import { describe, expect, test } from 'vitest';
import { hasHiddenCharacters, visibleParts, visibleText } from '../../../src/common/visible-text';
import { csvField, escapeHtml } from '../../../src/core/report/escape';

describe('untrusted text is shown, never obeyed', () => {
  test('a right-to-left override cannot disguise a name', () => {
    const name = 'evil\u202egpj.exe';
    expect(visibleText(name)).toBe('evil\\u202egpj.exe');
    expect(escapeHtml(name)).toBe('evil\\u202egpj.exe');
    expect(csvField(name)).toBe('evil\\u202egpj.exe');
  });

  test('every bidi control, zero-width character and BOM becomes an escape', () => {
    const hidden = [
      0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2066,
      0x2067, 0x2068, 0x2069, 0xfeff,
    ];
    for (const code of hidden) {
      const text = `a${String.fromCharCode(code)}b`;
      expect(visibleText(text)).toBe(`a\\u${code.toString(16).padStart(4, '0')}b`);
      expect(hasHiddenCharacters(text)).toBe(true);
    }
  });

  test('terminal controls become escapes; ordinary non-ASCII text is kept', () => {
    expect(visibleText('a\u0007b\u001b[31m\u2028\u009b')).toBe('a\\u0007b\\u001b[31m\\u2028\\u009b');
    expect(visibleText('Küche \u00e9t\u00e9 \u4e2d\u6587')).toBe('Küche \u00e9t\u00e9 \u4e2d\u6587');
    expect(hasHiddenCharacters('plain')).toBe(false);
  });

  test('parts mark each escaped character', () => {
    const parts = visibleParts('x\u202ey\u0007');
    expect(parts).toEqual([
      { text: 'x', control: false },
      { text: '\\u202e', control: true },
      { text: 'y', control: false },
      { text: '\\u0007', control: true },
    ]);
  });
});
