// What a submit takes: memory images in folders (by extension, recursively, through symbolic
// links, a VMware .vmss with its .vmem once), files as given, labels the report can show; a
// missing or empty input is one clear error before anything else happens.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { FleetError } from '../../../src/fleet/errors';
import { checkBaselines, collectImages } from '../../../src/fleet/inputs';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'irpscope-fleet-inputs-'));
  const file = (path: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), 'x');
  };
  file('hosts/a/image.raw');
  file('hosts/a/truth.json');
  file('hosts/b/memory.DMP');
  file('hosts/c/image.vmem');
  file('hosts/c/image.vmss');
  file('hosts/d/state.vmsn');
  file('hosts/.hidden/image.raw');
  file('hosts/notes.txt');
  file('golden/image.raw');
  file('other/image.raw');
  symlinkSync(join(root, 'other'), join(root, 'hosts/linked'));
  symlinkSync(join(root, 'hosts'), join(root, 'hosts/a/loop'));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('collectImages', () => {
  test('a folder gives its memory images, labelled by their path under it', () => {
    expect(collectImages([join(root, 'hosts')])).toEqual([
      { image: join(root, 'hosts/a/image.raw'), label: 'a/image.raw' },
      { image: join(root, 'hosts/b/memory.DMP'), label: 'b/memory.DMP' },
      { image: join(root, 'hosts/c/image.vmem'), label: 'c/image.vmem' },
      { image: join(root, 'hosts/d/state.vmsn'), label: 'd/state.vmsn' },
      { image: join(root, 'hosts/linked/image.raw'), label: 'linked/image.raw' },
    ]);
  });

  test('files are taken as given; two of one name are told apart by their folder', () => {
    const named = collectImages([join(root, 'golden/image.raw'), join(root, 'other/image.raw')]);
    expect(named.map((n) => n.label)).toEqual(['golden/image.raw', 'other/image.raw']);
  });

  test('the baselines are not hosts', () => {
    const named = collectImages(
      [join(root, 'hosts'), join(root, 'golden')],
      [join(root, 'golden/image.raw')],
    );
    expect(named.map((n) => n.image)).not.toContain(join(root, 'golden/image.raw'));
  });

  test('a missing image or an empty folder is a clear error', () => {
    expect(() => collectImages([join(root, 'hosts'), join(root, 'nope.raw')])).toThrow(
      new FleetError(`cannot read ${join(root, 'nope.raw')}: no such file or folder`),
    );
    mkdirSync(join(root, 'empty'));
    expect(() => collectImages([join(root, 'empty')])).toThrow(/no memory image in/);
    expect(() => checkBaselines([join(root, 'hosts')])).toThrow(/not a file/);
  });
});
