// Raw images, LiME, the run table's guarantees, and every file IRPscope must refuse by content.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageError, openImageFromSource, type ImageErrorKind } from '../../../../src/core/image';
import { openImage } from '../../../../src/core/node/open-image';
import { RunTableBuilder } from '../../../../src/core/image/run-table';
import { BufferSource } from '../../../../src/core/source';
import { concat, PAGE, pages, pfnAt, Writer } from './build';

function failure(action: () => unknown): ImageError {
  try {
    action();
  } catch (error) {
    if (error instanceof ImageError) return error;
    throw error;
  }
  throw new Error('expected an ImageError');
}

function openBytes(bytes: Uint8Array, name = 'image.bin') {
  return openImageFromSource(new BufferSource(bytes, name));
}

describe('raw images', () => {
  it('map physical address = file offset', () => {
    const space = openBytes(pages(0, 1, 2));
    expect(space.format.id).toBe('raw');
    expect(space.runs).toEqual([{ start: 0, length: 3 * PAGE, fileOffset: 0 }]);
    expect(pfnAt(space.read(2 * PAGE, 8))).toBe(2);
    expect(space.read(3 * PAGE - 4, 8)).toBeNull(); // runs past the end
    expect(space.read(3 * PAGE, 1)).toBeNull();
    expect(space.warnings).toEqual([]);
  });

  it('accept random bytes (raw is the fallback) but note a partial last page', () => {
    const random = new Uint8Array(PAGE + 100);
    let x = 12345;
    for (let i = 0; i < random.length; i++) random[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const space = openBytes(random);
    expect(space.format.id).toBe('raw');
    expect(space.warnings.join('\n')).toMatch(/not a whole number of 4 KiB pages/);
  });

  it('reject physical reads with invalid arguments', () => {
    const space = openBytes(pages(0));
    expect(() => space.read(-1, 4)).toThrow(RangeError);
    expect(() => space.read(0, 2 ** 40)).toThrow(RangeError);
    expect(space.read(0, 0)?.length).toBe(0);
  });
});

describe('LiME', () => {
  function range(start: number, data: Uint8Array): Uint8Array {
    const head = new Writer(32)
      .u32(0, 0x4c694d45)
      .u32(4, 1)
      .u64(8, start)
      .u64(16, start + data.length - 1);
    return concat(head.bytes, data);
  }

  it('maps each range after its 32-byte header (inclusive end address)', () => {
    const space = openBytes(concat(range(0, pages(0, 1)), range(0x100000, pages(0x100))));
    expect(space.format.id).toBe('lime');
    expect(space.runs).toEqual([
      { start: 0, length: 2 * PAGE, fileOffset: 32 },
      { start: 0x100000, length: PAGE, fileOffset: 32 + 2 * PAGE + 32 },
    ]);
    expect(pfnAt(space.read(0x100000, 8))).toBe(0x100);
  });

  it('stops at a broken header, an impossible range or the end of the file, keeping what came before', () => {
    const junk = new Writer(64).ascii(0, 'junkjunk').bytes;
    const space = openBytes(concat(range(0, pages(0)), junk));
    expect(space.runs.length).toBe(1);
    expect(space.warnings.join('\n')).toMatch(/no LiME header/);

    const backwards = new Writer(32).u32(0, 0x4c694d45).u32(4, 1).u64(8, 0x5000).u64(16, 0x1000).bytes;
    expect(openBytes(concat(range(0, pages(0)), backwards)).warnings.join('\n')).toMatch(/impossible end/);

    const cut = concat(range(0, pages(0)), range(0x10000, pages(0x10, 0x11))).slice(0, 32 + PAGE + 32 + PAGE);
    const clipped = openBytes(cut);
    expect(clipped.runs[1]).toEqual({ start: 0x10000, length: PAGE, fileOffset: 32 + PAGE + 32 });
    expect(failure(() => openBytes(concat(backwards, pages(0)))).kind).toBe('corrupt');
  });
});

describe('run table', () => {
  it('sorts, merges contiguous runs, trims overlaps and caps the count', () => {
    const builder = new RunTableBuilder(3);
    builder.add(0x5000, 0x1000, 0x1000);
    builder.add(0x0, 0x1000, 0x0);
    builder.add(0x1000, 0x1000, 0x2000); // not file-contiguous with the run at 0: stays separate
    expect(builder.add(0x9000, 0x1000, 0x3000)).toBe(false);
    const warnings: string[] = [];
    const table = builder.build(0x10000, warnings);
    expect(table.count).toBe(3);
    expect([table.at(0), table.at(1), table.at(2)].map((r) => r.start)).toEqual([0, 0x1000, 0x5000]);
    expect(warnings.join('\n')).toMatch(/sorted/);
    expect(warnings.join('\n')).toMatch(/more than 3 runs/);
    expect(table.find(0x1fff)).toBe(1);
    expect(table.find(0x2000)).toBe(-1);
  });
});

describe('files that are not memory images', () => {
  let dir: string;
  const write = (name: string, bytes: Uint8Array | string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'irpscope-formats-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const page = (prefix: number[] | string): Uint8Array => {
    const bytes = new Uint8Array(4 * PAGE);
    const head = typeof prefix === 'string' ? [...prefix].map((c) => c.charCodeAt(0)) : prefix;
    bytes.set(head, 0);
    return bytes;
  };

  const cases: [string, Uint8Array | string, ImageErrorKind, RegExp][] = [
    ['user.dmp', page('MDMP'), 'user-minidump', /user-mode minidump \(MDMP\)/],
    ['olduser.dmp', page('USERDU64'), 'user-minidump', /user-mode crash dump/],
    [
      'hiberfil.sys',
      page('hibr'),
      'hibernation',
      /hibernation file .*"hibr".*convert it to a raw memory image first/,
    ],
    ['hiberfil8.sys', page('HIBR'), 'hibernation', /"HIBR"/],
    ['wake.sys', page('wake'), 'hibernation', /"wake"/],
    ['wake8.sys', page('WAKE'), 'hibernation', /"WAKE"/],
    ['disk.E01', page([0x45, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00]), 'ewf', /EWF/],
    ['disk.Ex01', page([0x45, 0x56, 0x46, 0x32, 0x0d, 0x0a, 0x81, 0x00]), 'ewf', /EWF/],
    [
      'mem.aff4',
      concat(page([0x50, 0x4b, 0x03, 0x04]), new TextEncoder().encode('information.turtle aff4:ImageStream')),
      'aff4',
      /AFF4/,
    ],
    ['guest.kdump', page('KDUMP   '), 'unsupported-format', /kdump\/diskdump .*as ELF/],
    ['archive.zip', page([0x50, 0x4b, 0x03, 0x04]), 'not-memory-image', /ZIP archive/],
    ['mem.raw.gz', page([0x1f, 0x8b, 0x08]), 'not-memory-image', /gzip/],
    ['mem.xz', page([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'not-memory-image', /xz/],
    ['notes.txt', 'These are my notes.\n'.repeat(300), 'not-memory-image', /text file/],
    ['tiny.bin', new Uint8Array(100).fill(0xcc), 'too-small', /only 100 bytes/],
    ['empty.bin', new Uint8Array(0), 'empty', /empty/],
  ];

  for (const [name, bytes, kind, message] of cases) {
    it(`refuses ${name} as ${kind}`, () => {
      const error = failure(() => openImage(write(name, bytes)));
      expect(error.kind).toBe(kind);
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/\n/);
    });
  }

  it('refuses a PE executable', () => {
    const pe = page('MZ');
    new DataView(pe.buffer).setUint32(0x3c, 0x80, true);
    pe.set([0x50, 0x45, 0, 0], 0x80);
    expect(failure(() => openImage(write('driver.sys', pe))).message).toMatch(/Windows executable/);
  });

  it('gives typed errors for a directory, a missing file and an unreadable (non-regular) file', () => {
    expect(failure(() => openImage(dir)).kind).toBe('directory');
    expect(failure(() => openImage(path.join(dir, 'missing.raw'))).kind).toBe('not-found');
    expect(failure(() => openImage('/dev/null')).kind).toBe('unreadable');
  });

  it('does not go by the name: a crash dump named .vmem is a crash dump, a raw image named .dmp is raw', () => {
    const dump = new Writer(0x2000, 'PAGE').ascii(0, 'PAGEDU64').u32(0x30, 0x8664).u32(0xf98, 4);
    expect(openImage(write('odd.vmem', dump.bytes)).format.id).toBe('crashdump');
    expect(openImage(write('memory.dmp', pages(0, 1))).format.id).toBe('raw');
  });
});
