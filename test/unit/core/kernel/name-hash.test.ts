// The engine's object-name hash against the builder's (which writes every directory entry's
// HashValue with it): the same value for ASCII names, the engine's fast path, and for names
// outside ASCII, where each code point is upcased on its own.

import { describe, expect, test } from 'vitest';
import { objectNameHash } from '../../../../src/core/kernel/name-hash';
import { directoryHash } from '../../../../src/builder/windows/objects';

describe('objectNameHash', () => {
  test.each([
    '',
    'Driver',
    'FileSystem',
    'GLOBAL??',
    'HarddiskVolume1',
    'ACPI_HAL',
    'zz@[`{~',
    'Gerät',
    'ÆØÅ-lab',
    'straße',
    'Σίσυφος',
    'дисплей',
    'rootkit\u202egnp.exe',
    'emoji😀name',
    'lone\ud800surrogate',
  ])('%s hashes as the builder writes it', (name) => {
    expect(objectNameHash(name)).toBe(directoryHash(name));
  });
});
