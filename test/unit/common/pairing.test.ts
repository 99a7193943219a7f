// Pairing evidence is data; its words come from one phrasebook, with image strings made visible.

import { describe, expect, test } from 'vitest';
import { pairingLine, pairingText, unknownLine, unknownText } from '../../../src/common/pairing';

describe('pairing facts in words', () => {
  test('each fact says what agreed', () => {
    expect(pairingText({ fact: 'name', name: '\\Driver\\Disk', sources: ['DriverName', 'DriverName'] })).toBe(
      '\\Driver\\Disk'.replace(/^/, 'name ') + ' (DriverName)',
    );
    expect(
      pairingText({ fact: 'image', module: 'disk.sys', size: 0x1000, timeDateStamp: 0x5e, checksum: 0 }),
    ).toBe('image disk.sys (0x1000 bytes, timestamp 0x5e)');
    expect(pairingText({ fact: 'service-number', index: 0x112, build: 7601 })).toBe(
      'service number 0x112 in build 7601',
    );
    expect(unknownText({ fact: 'service-key', side: 'baseline' })).toBe(
      'service key unreadable in the baseline',
    );
    expect(unknownText({ fact: 'blind-links', side: 'image', count: 2 })).toMatch(
      /^2 links in this image have/,
    );
  });

  test('a hostile name cannot act on the terminal or the page', () => {
    const hostile = 'evil\u202egpj.sys\u001b[31m';
    expect(pairingLine([{ fact: 'name', name: hostile }])).toBe('name evil\\u202egpj.sys\\u001b[31m');
    const line = unknownLine([{ fact: 'numbered-name', side: 'image', name: hostile }]);
    expect(line.includes('\u001b') || line.includes('\u202e')).toBe(false);
    expect(line).toContain('evil\\u202egpj.sys');
  });
});
