// What the desktop app opens when the system starts it on a file (src/main/launch-paths.ts): a
// path on Windows and from a terminal, a file:// URL from a Linux file manager (Exec … %U).

import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { launchRequest } from '../../../src/main/launch-paths';

const folder = mkdtempSync(join(tmpdir(), 'irpscope-launch-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};
const file = (name: string): string => {
  const path = join(folder, name);
  writeFileSync(path, 'x');
  return path;
};

test('a file manager’s file:// URL opens the file it names, spaces and accents included', () => {
  const image = file('mémoire du poste 7.vmem');
  const url = pathToFileURL(image).href;
  expect(url).toContain('m%C3%A9moire%20du%20poste%207.vmem');
  expect(launchRequest(['--no-sandbox', url], isFile)).toEqual({ images: [image], symbols: null });
});

test('paths open as given; options, folders, missing files and other URLs are not images', () => {
  const dump = file('MEMORY.DMP');
  const symbols = join(folder, 'symbols');
  mkdirSync(symbols);
  const args = [
    '--enable-logging',
    dump,
    folder,
    join(folder, 'gone.raw'),
    pathToFileURL(join(folder, 'gone.lime')).href,
    'https://example.com/image.raw',
    'file://otherhost/share/image.raw',
    '--symbols',
    symbols,
  ];
  expect(launchRequest(args, isFile)).toEqual({ images: [dump], symbols });
});
