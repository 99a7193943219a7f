// fileNameOf, the engine's own basename, against Node's for POSIX and Windows paths.

import { posix, win32 } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fileNameOf } from '../../../../src/core/util/file-name';

describe('fileNameOf', () => {
  test('names the file as path.posix.basename does', () => {
    for (const path of ['/images/win.vmem', 'win.vmem', 'dir/sub/win10.vmss', '/images/dir/', '/', ''])
      expect(fileNameOf(path), path).toBe(posix.basename(path));
  });

  test('names the file as path.win32.basename does', () => {
    for (const path of [
      'C:\\images\\win.vmem',
      'D:/mixed\\dir/win.vmsn',
      '\\\\server\\share\\x.dmp',
      'C:\\dir\\',
    ])
      expect(fileNameOf(path), path).toBe(win32.basename(path));
  });
});
