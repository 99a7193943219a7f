// Windows crash dumps built byte by byte (spec §5.2), the two real triage dumps, and hostile headers.

import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ImageError, openImageFromSource, type PhysicalSpace } from '../../../../src/core/image';
import { openImage } from '../../../../src/core/node/open-image';
import { BufferSource } from '../../../../src/core/source';
import { SHARED as SHARED_ROOT } from '../../../support/shared';
import {
  bitmapDump64,
  concat,
  fullDump64,
  header32,
  header64,
  PAGE,
  pages,
  pfnAt,
  summary64,
  Writer,
} from './build';
import { HOSTILE_HEADERS } from './hostile-headers';

const SHARED = `${SHARED_ROOT}/dumps/`;

function open(bytes: Uint8Array): PhysicalSpace {
  return openImageFromSource(new BufferSource(bytes, 'test.dmp'));
}

/** Opens the bytes and says what came of it and how many reads (and bytes) it took. */
function opened(bytes: Uint8Array): {
  space: PhysicalSpace | null;
  error: ImageError | null;
  reads: number;
  bytesRead: number;
} {
  const source = new BufferSource(bytes, 'test.dmp');
  let space: PhysicalSpace | null = null;
  let error: ImageError | null = null;
  try {
    space = openImageFromSource(source);
  } catch (caught) {
    if (!(caught instanceof ImageError)) throw caught;
    error = caught;
  }
  return { space, error, ...source.stats };
}

function failure(action: () => unknown): ImageError {
  try {
    action();
  } catch (error) {
    if (error instanceof ImageError) return error;
    throw error;
  }
  throw new Error('expected an ImageError');
}

describe('64-bit full dump (DumpType 1)', () => {
  const space = open(
    fullDump64([
      [0x1, 2],
      [0x10, 1],
      [0x100, 3],
    ]),
  );

  it('maps three runs to the pages stored after the 0x2000-byte header', () => {
    expect(space.format.id).toBe('crashdump');
    expect(space.format.details).toMatchObject({ width: 64, dumpType: 1 });
    expect(space.runs).toEqual([
      { start: 0x1000, length: 0x2000, fileOffset: 0x2000 },
      { start: 0x10000, length: 0x1000, fileOffset: 0x4000 },
      { start: 0x100000, length: 0x3000, fileOffset: 0x5000 },
    ]);
    expect(space.bytesCovered).toBe(6 * PAGE);
    expect(space.maxAddress).toBe(0x103000);
    expect(space.warnings).toEqual([]);
  });

  it('reads present pages and returns null for any read touching a hole', () => {
    expect(pfnAt(space.read(0x10000, 16))).toBe(0x10);
    expect(pfnAt(space.read(0x102000, 8))).toBe(0x102);
    expect(space.read(0x1ff0, 0x20)).not.toBeNull(); // pages 1 and 2 are contiguous
    expect(space.read(0x2ff0, 0x20)).toBeNull(); // page 3 is a hole
    expect(space.read(0, 1)).toBeNull();
    expect(space.read(0x200000, 4)).toBeNull();
    expect(space.isPresent(0x1000)).toBe(true);
    expect(space.isPresent(0xfff)).toBe(false);
  });

  it('carries the header facts as hints', () => {
    expect(space.hints).toMatchObject({
      dtb: 0x1ad000,
      build: 19041,
      majorVersion: 0xf,
      machine: 'x64',
      processors: 4,
      dumpType: 1,
      psLoadedModuleList: 0xfffff8047c62a390n,
      psActiveProcessHead: 0xfffff8047c61e200n,
      kdDebuggerDataBlock: 0xfffff8047c600b20n,
      bugCheck: { code: 0xe2, parameters: [1n, 2n, 3n, 4n] },
    });
  });
});

describe('32-bit full dump', () => {
  it('reads 8-byte runs after the 0x1000-byte header, and PaeEnabled', () => {
    const h = header32({ dumpType: 1, pae: 1, dtb: 0x31c000 });
    h.u32(0x64, 2).u32(0x68, 3).u32(0x6c, 0).u32(0x70, 2).u32(0x74, 0x9f).u32(0x78, 1);
    const space = open(concat(h.bytes, pages(0, 1, 0x9f)));
    expect(space.runs).toEqual([
      { start: 0, length: 0x2000, fileOffset: 0x1000 },
      { start: 0x9f000, length: 0x1000, fileOffset: 0x3000 },
    ]);
    expect(pfnAt(space.read(0x9f000, 8))).toBe(0x9f);
    expect(space.hints).toMatchObject({ machine: 'x86', paeEnabled: true, dtb: 0x31c000, build: 2600 });
    expect(space.hints.psLoadedModuleList).toBe(0x8055a420n);
  });
});

describe('bitmap dumps (DumpTypes 5 and 6)', () => {
  const set = [0, 1, 2, 5, 8, 9, 10, 11, 12, 13, 14, 15, 39];

  it('turns consecutive set bits into runs over pages stored back to back', () => {
    const space = open(bitmapDump64(5, 'FDMP', set, 40));
    expect(space.format.details).toMatchObject({
      dumpType: 5,
      bitmapSignature: 'FDMP',
      bitmapLayout: 'summary64',
    });
    expect(space.runs).toEqual([
      { start: 0, length: 3 * PAGE, fileOffset: 0x3000 },
      { start: 5 * PAGE, length: PAGE, fileOffset: 0x6000 },
      { start: 8 * PAGE, length: 8 * PAGE, fileOffset: 0x7000 },
      { start: 39 * PAGE, length: PAGE, fileOffset: 0xf000 },
    ]);
    for (const pfn of set) expect(pfnAt(space.read(pfn * PAGE, 8))).toBe(pfn);
    expect(space.read(3 * PAGE, 8)).toBeNull();
    expect(space.warnings).toEqual([]);
  });

  it('reads live-kernel bitmap dumps (type 6, SDMP) the same way', () => {
    const space = open(bitmapDump64(6, 'SDMP', [3, 4], 16));
    expect(space.format.details.bitmapSignature).toBe('SDMP');
    expect(space.runs).toEqual([{ start: 3 * PAGE, length: 2 * PAGE, fileOffset: 0x3000 }]);
  });

  it('reads a kernel summary dump (type 2) that carries the bitmap header, and refuses one that does not', () => {
    const space = open(bitmapDump64(2, 'SDMP', [7], 8));
    expect(pfnAt(space.read(7 * PAGE, 8))).toBe(7);
    const bare = concat(header64({ dumpType: 2 }).bytes, new Uint8Array(PAGE));
    const error = failure(() => open(bare));
    expect(error.kind).toBe('unsupported-format');
    expect(error.message).toMatch(/DumpType 2/);
  });

  it('warns when the present count disagrees with the bitmap, and clips pages past the end of the file', () => {
    const bytes = bitmapDump64(5, 'FDMP', [1, 2, 3], 8);
    new DataView(bytes.buffer).setBigUint64(0x2028, 5n, true);
    const cut = bytes.slice(0, bytes.length - PAGE);
    const space = open(cut);
    expect(space.runs).toEqual([{ start: PAGE, length: 2 * PAGE, fileOffset: 0x3000 }]);
    expect(space.warnings.join('\n')).toMatch(/3 set bits but the header says 5/);
    expect(space.warnings.join('\n')).toMatch(/truncated/);
  });

  it('refuses absurd bitmap sizes and a first page inside the bitmap from the header alone', () => {
    const huge = opened(HOSTILE_HEADERS.hugeBitmap());
    expect(huge.error?.kind).toBe('corrupt');
    expect(huge.error?.message).toMatch(/bitmap size 4294967295 bits is outside 1\.\.2147483647/);
    const inside = opened(HOSTILE_HEADERS.firstPageInsideBitmap());
    expect(inside.error?.message).toMatch(/first page offset 0x2010 lies inside the bitmap/);
    // Refused before the bitmap is streamed: no more reads than the sane dump takes to open.
    const sane = opened(bitmapDump64(5, 'FDMP', [1], 8));
    expect(sane.error).toBeNull();
    for (const hostile of [huge, inside]) expect(hostile.reads).toBeLessThanOrEqual(sane.reads);
  });

  it('reads a bitmap cut short by the end of the file as far as it goes', () => {
    // 64 Ki bits claimed, file ends after 2 bytes of bitmap: the pages would start past EOF anyway.
    const h = header64({ dumpType: 5 });
    const summary = summary64('FDMP', [0, 1], 16, 0x2000 + 0x38 + 8192);
    summary.u64(0x30, 65536);
    const space = failure(() => open(concat(h.bytes, summary.bytes)));
    expect(space.kind).toBe('truncated');
  });
});

describe('32-bit bitmap dumps (unverified layout, validated)', () => {
  it('accepts the 64-bit-style summary at 0x1000 when its set bits match the present count', () => {
    const summary = summary64('FDMP', [2, 3], 8, 0x2000);
    const bytes = concat(
      header32({ dumpType: 5 }).bytes,
      summary.bytes,
      new Uint8Array(0x1000 - summary.bytes.length),
      pages(2, 3),
    );
    const space = open(bytes);
    expect(space.format.details.bitmapLayout).toBe('summary64');
    expect(space.runs).toEqual([{ start: 2 * PAGE, length: 2 * PAGE, fileOffset: 0x2000 }]);
  });

  it('falls back to the WDK _SUMMARY_DUMP32 layout (HeaderSize @0x0C, BitmapSize @0x10, Pages @0x14, bits @0x20)', () => {
    const w = new Writer(0x1000);
    w.ascii(0, 'SDMP').ascii(4, 'DUMP').u32(0x0c, 0x2000).u32(0x10, 16).u32(0x14, 3);
    w.u8(0x20, 0b1100_0000).u8(0x21, 0b0000_0001); // PFNs 6, 7, 8
    const space = open(concat(header32({ dumpType: 5 }).bytes, w.bytes, pages(6, 7, 8)));
    expect(space.format.details.bitmapLayout).toBe('summary32');
    expect(space.runs).toEqual([{ start: 6 * PAGE, length: 3 * PAGE, fileOffset: 0x2000 }]);
    expect(pfnAt(space.read(8 * PAGE, 8))).toBe(8);
  });

  it('refuses a 32-bit bitmap header that fits neither layout', () => {
    const w = new Writer(0x1000);
    w.ascii(0, 'SDMP').ascii(4, 'DUMP'); // everything else zero
    const error = failure(() => open(concat(header32({ dumpType: 5 }).bytes, w.bytes)));
    expect(error.kind).toBe('corrupt');
    expect(error.message).toMatch(/summary64: .*summary32: /);
  });
});

/** RDMP header at 0x2000 + range list at 0x2030; pages from 0x4000. */
function rdmpDump(dumpType: number, ranges: [number, number][], totalPages = 0): Uint8Array {
  const firstPage = 0x4000;
  const metadataSize = firstPage - 0x2020; // MetadataSize − 0x20 == FirstPageOffset − 0x2040
  const w = new Writer(firstPage - 0x2000);
  w.u32(0, 0x40).ascii(4, 'RDMP').ascii(8, 'DUMP').u64(0x10, metadataSize).u64(0x18, firstPage);
  if (dumpType === 0xa) w.u32(0x20, ranges.length).u64(0x28, totalPages);
  ranges.forEach(([pfn, count], k) => w.u64(0x30 + k * 16, pfn).u64(0x38 + k * 16, count));
  const pfns = ranges.flatMap(([pfn, count]) => Array.from({ length: count }, (_, i) => pfn + i));
  return concat(header64({ dumpType }).bytes, w.bytes, pages(...pfns));
}

describe('RDMP dumps (DumpTypes 8, 9, 0xA)', () => {
  it('maps the PFN ranges of a kernel memory dump, ending at PFN 0', () => {
    const space = open(
      rdmpDump(8, [
        [2, 3],
        [0x20, 1],
      ]),
    );
    expect(space.format.details.dumpType).toBe(8);
    expect(space.runs).toEqual([
      { start: 2 * PAGE, length: 3 * PAGE, fileOffset: 0x4000 },
      { start: 0x20 * PAGE, length: PAGE, fileOffset: 0x7000 },
    ]);
    expect(pfnAt(space.read(0x20 * PAGE, 8))).toBe(0x20);
  });

  it('counts pages for a complete dump (0xA), where PFN 0 is a real page', () => {
    const bytes = rdmpDump(
      0xa,
      [
        [0, 2],
        [0x10, 1],
        [0x99, 5], // past TotalNumberOfPages: not part of the dump
      ],
      3,
    );
    const space = open(bytes.slice(0, 0x4000 + 3 * PAGE));
    expect(space.runs).toEqual([
      { start: 0, length: 2 * PAGE, fileOffset: 0x4000 },
      { start: 0x10 * PAGE, length: PAGE, fileOffset: 0x6000 },
    ]);
    expect(pfnAt(space.read(0, 8))).toBe(0);
  });

  it('refuses an RDMP header whose sizes disagree', () => {
    const bytes = rdmpDump(9, [[2, 1]]);
    new DataView(bytes.buffer).setBigUint64(0x2018, 0x5000n, true);
    expect(failure(() => open(bytes)).kind).toBe('corrupt');
  });
});

describe('hostile crash dump headers', () => {
  it('bounds a huge NumberOfRuns by the 42 runs the 64-bit header can hold', () => {
    const hostile = opened(HOSTILE_HEADERS.hugeRunCount());
    expect(hostile.space?.runs).toEqual([{ start: PAGE, length: PAGE, fileOffset: 0x2000 }]);
    expect(hostile.space?.warnings.join('\n')).toMatch(
      /NumberOfRuns 2147483647 exceeds the 42 runs the header can hold; reading 42/,
    );
    // The claim costs nothing: the same reads as the dump that lists its one run honestly.
    const sane = opened(fullDump64([[1, 1]]));
    expect(hostile.reads).toBe(sane.reads);
    expect(hostile.bytesRead).toBe(sane.bytesRead);
  });

  it('clips runs that point past the end of the file, with a warning', () => {
    const space = open(
      fullDump64(
        [
          [1, 2],
          [0x50, 4],
        ],
        { storedPages: 3 },
      ),
    );
    expect(space.runs).toEqual([
      { start: PAGE, length: 2 * PAGE, fileOffset: 0x2000 },
      { start: 0x50 * PAGE, length: PAGE, fileOffset: 0x4000 },
    ]);
    expect(space.read(0x51 * PAGE, 1)).toBeNull();
    expect(space.warnings.join('\n')).toMatch(/truncated/);
  });

  it('errors when no listed page is in the file', () => {
    const error = failure(() => open(fullDump64([[1, 4]], { storedPages: 0 })));
    expect(error.kind).toBe('truncated');
  });

  it('trims overlapping runs so the space stays non-overlapping', () => {
    const space = open(
      fullDump64([
        [0x10, 4],
        [0x12, 4],
      ]),
    );
    expect(space.runs).toEqual([
      { start: 0x10 * PAGE, length: 4 * PAGE, fileOffset: 0x2000 },
      { start: 0x14 * PAGE, length: 2 * PAGE, fileOffset: 0x2000 + 6 * PAGE },
    ]);
    expect(pfnAt(space.read(0x13 * PAGE, 8))).toBe(0x13); // from the first run
    expect(space.warnings.join('\n')).toMatch(/overlapping/);
  });

  it('rejects a run list that is only "PAGE" filler, a cut-short header and an unknown DumpType', () => {
    const filler = header64({ dumpType: 1 });
    expect(failure(() => open(concat(filler.bytes, pages(0)))).kind).toBe('corrupt');
    expect(failure(() => open(fullDump64([[1, 1]]).slice(0, 0x1800))).kind).toBe('truncated');
    expect(failure(() => open(concat(header64({ dumpType: 0x77 }).bytes, pages(0)))).kind).toBe(
      'unsupported-format',
    );
    expect(failure(() => open(new Writer(0x2000).ascii(0, 'PAGEJUNK').bytes)).kind).toBe('corrupt');
  });

  it('refuses a run whose page count would overflow the address space', () => {
    const space = open(
      fullDump64([
        [1, 1],
        [0x10, 1],
      ]),
    );
    expect(space.runs.length).toBe(2);
    const bytes = fullDump64([
      [1, 1],
      [0x10, 1],
    ]);
    new DataView(bytes.buffer).setBigUint64(0x98 + 16 + 8, 0xffffffffffffn, true);
    const clipped = open(bytes);
    expect(clipped.runs).toEqual([{ start: PAGE, length: PAGE, fileOffset: 0x2000 }]);
    expect(clipped.warnings.join('\n')).toMatch(/impossibly large/);
  });
});

describe('real triage dumps (../shared/dumps)', () => {
  it('reads the Windows 10 19041 x64 triage dump: header facts and the saved module list, no memory', () => {
    const space = openImage(`${SHARED}win10-19041-x64-triage.dmp`);
    try {
      expect(space.format.holdsPhysicalMemory).toBe(false);
      expect(space.format.details).toMatchObject({ width: 64, dumpType: 4 });
      expect(space.runs).toEqual([]);
      expect(space.read(0x1ad000, 8)).toBeNull();
      expect(space.hints).toMatchObject({
        dumpType: 4,
        build: 19041,
        dtb: 0x1ad000,
        machine: 'x64',
        psLoadedModuleList: 0xfffff8047c62a390n,
      });
      expect(space.hints.bugCheck?.code).toBe(0x1000007e);
      expect(space.warnings.join('\n')).toMatch(/no physical memory and no pool/);

      const triage = space.triage!;
      expect(triage.validMark).toBe(true);
      expect(triage.modules.length).toBe(151);
      expect(triage.modules[0]).toMatchObject({
        name: 'ntoskrnl.exe',
        path: '\\SystemRoot\\system32\\ntoskrnl.exe',
        base: 0xfffff8047ba00000n,
        size: 0x1046000,
      });
      expect(triage.modules[1]).toMatchObject({ name: 'hal.dll', base: 0xfffff80479440000n });
      for (const module of triage.modules) {
        expect(module.name).toMatch(/^[\w.-]+\.(sys|dll|exe)$/i);
        expect(module.base >= 0xffff800000000000n).toBe(true);
        expect(module.base % 0x1000n).toBe(0n);
        expect(module.size).toBeGreaterThan(0);
      }
      expect(triage.debuggerData?.size).toBe(0x380);
      expect(triage.dataBlocks.length).toBeGreaterThan(0);
    } finally {
      space.close();
    }
  });

  it('refuses the Windows 11 ARM64 triage dump with a one-line reason', () => {
    const error = failure(() => openImage(`${SHARED}win11-22000-arm64-triage.dmp`));
    expect(error.kind).toBe('unsupported-architecture');
    expect(error.message).toMatch(/ARM64 Windows crash dump, build 22000; IRPscope analyses x86\/x64/);
    expect(error.message).not.toMatch(/\n/);
  });

  it('keeps the header facts of a triage dump cut short inside its TRIAGE_DUMP', () => {
    const whole = new Uint8Array(fs.readFileSync(`${SHARED}win10-19041-x64-triage.dmp`));
    const space = open(whole.slice(0, 0x2040));
    expect(space.hints.build).toBe(19041);
    expect(space.triage).toBeUndefined();
    expect(space.warnings.join('\n')).toMatch(/ends inside the TRIAGE_DUMP/);
  });
});

describe('32-bit triage dump (crafted)', () => {
  it('reads TRIAGE_DUMP32 at 0x1000 and its 0x4C-byte driver entries', () => {
    const h = header32({ dumpType: 4, build: 7601 });
    const t = new Writer(0x3000);
    // TRIAGE_DUMP32 at file 0x1000: ValidOffset @0x08, DriverListOffset/Count @0x30/0x34, string pool @0x38/0x3C.
    const list = 0x1100;
    const pool = list + 2 * 0x4c;
    t.u32(0x08, 0x3ffc).u32(0x30, list).u32(0x34, 2).u32(0x38, pool).u32(0x3c, 0x100);
    const names = ['\\WINDOWS\\system32\\ntkrnlpa.exe', '\\WINDOWS\\system32\\hal.dll'];
    let at = pool;
    names.forEach((name, i) => {
      const entry = list + i * 0x4c - 0x1000;
      t.u32(entry, at)
        .u32(entry + 0x1c, 0x804d7000 + i * 0x200000)
        .u32(entry + 0x24, 0x1f8000 - i * 0x1000);
      t.u32(at - 0x1000, name.length);
      for (let c = 0; c < name.length; c++) t.u16(at - 0x1000 + 4 + c * 2, name.charCodeAt(c));
      at += 4 + (name.length + 1) * 2;
    });
    t.ascii(0x3ffc - 0x1000, 'TRGD');
    const space = open(concat(h.bytes, t.bytes));
    expect(space.format.holdsPhysicalMemory).toBe(false);
    expect(space.triage?.validMark).toBe(true);
    expect(space.triage?.modules).toEqual([
      {
        name: 'ntkrnlpa.exe',
        path: names[0],
        base: 0x804d7000n,
        size: 0x1f8000,
        checksum: 0,
        timeDateStamp: 0,
      },
      { name: 'hal.dll', path: names[1], base: 0x806d7000n, size: 0x1f7000, checksum: 0, timeDateStamp: 0 },
    ]);
    expect(space.hints).toMatchObject({ build: 7601, machine: 'x86', dumpType: 4 });
  });
});
