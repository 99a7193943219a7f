// Properties the engine keeps for any input, checked with fast-check on generated inputs (a small
// budget here; `npm run fuzz` runs the long mutation campaign on whole images): a container header
// of any bytes opens or is refused with an ImageError; a UNICODE_STRING descriptor of any values
// over any memory gives text that is text, or a reason; a comparison is blind to what changes
// from one boot to the next.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AnalysisResult } from '../../src/common/model';
import { analyzeImage } from '../../src/core/node/analyze';
import { diffResults } from '../../src/core/compare';
import { ImageError } from '../../src/core/image';
import { openImageFromSource } from '../../src/core/image/open';
import { KernelMemory, MAX_STRING_BYTES } from '../../src/core/kernel/memory';
import type { VirtualSpace } from '../../src/core/paging';
import { BufferSource } from '../../src/core/source';
import { buildTestImages, type TestImages } from './backend/images';

const RUNS = Number(process.env.IRPSCOPE_PROPERTY_RUNS ?? 200);

/** Container magics, so generated files reach each parser and not only the raw fallback. */
const MAGICS = [
  [0x50, 0x41, 0x47, 0x45, 0x44, 0x55, 0x36, 0x34], // PAGEDU64
  [0x50, 0x41, 0x47, 0x45, 0x44, 0x55, 0x4d, 0x50], // PAGEDUMP
  [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00], // ELF64
  [0x7f, 0x45, 0x4c, 0x46, 0x01, 0x01, 0x01, 0x00], // ELF32
  [0xd2, 0xbe, 0xd2, 0xbe, 0x00, 0x00, 0x00, 0x00], // VMware state
  [0x45, 0x4d, 0x69, 0x4c, 0x01, 0x00, 0x00, 0x00], // LiME
  [0x4d, 0x44, 0x4d, 0x50, 0x93, 0xa7, 0x00, 0x00], // minidump
];

describe('properties', () => {
  test('a container of any bytes after a known magic opens, or is refused with an ImageError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MAGICS),
        fc.uint8Array({ minLength: 0, maxLength: 0x3000 }),
        fc.array(fc.tuple(fc.nat(0x2fff), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 16 }),
        (magic, body, words) => {
          const bytes = new Uint8Array(Math.max(0x1000, magic.length + body.length));
          bytes.set(magic, 0);
          bytes.set(body.subarray(0, bytes.length - magic.length), magic.length);
          const view = new DataView(bytes.buffer);
          for (const [at, value] of words) if (at + 4 <= bytes.length) view.setUint32(at, value, true);
          try {
            const space = openImageFromSource(new BufferSource(bytes, 'generated'));
            // An opened space answers reads anywhere without throwing.
            space.read(0, 16);
            space.read(space.maxAddress, 16);
          } catch (error) {
            if (!(error instanceof ImageError)) throw error;
          }
        },
      ),
      { numRuns: RUNS, seed: 2026 },
    );
  });

  test('a UNICODE_STRING of any descriptor over any memory is text that is text, or a reason', () => {
    const page = new Uint8Array(0x4000);
    const memory = (bytes: Uint8Array) =>
      new KernelMemory(
        {
          read: (va: bigint, length: number) => {
            const at = Number(va - 0x80000000n);
            return at >= 0 && at + length <= bytes.length
              ? { ok: true, bytes: bytes.subarray(at, at + length) }
              : { ok: false, failure: { reason: 'not-present' } };
          },
        } as unknown as VirtualSpace,
        4,
      );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: page.length, maxLength: page.length }),
        fc.nat(0xffff),
        fc.nat(0xffff),
        fc.oneof(
          fc.nat(0x4000).map((n) => 0x80000000n + BigInt(n)),
          fc.bigInt(0n, 0xffffffffn),
        ),
        (bytes, length, maximumLength, buffer) => {
          const value = memory(bytes).unicodeString({ length, maximumLength, buffer });
          if ('text' in value) {
            expect(value.text.length * 2).toBe(length);
            expect(length).toBeLessThanOrEqual(MAX_STRING_BYTES);
            expect(value.text).not.toContain('\u0000');
          } else {
            expect(value.status).toBeTruthy();
          }
        },
      ),
      { numRuns: RUNS, seed: 2026 },
    );
  });
});

describe('the comparison is blind to what a reboot changes', () => {
  let images: TestImages;
  let result: AnalysisResult;
  beforeAll(async () => {
    images = buildTestImages();
    result = await analyzeImage(images.clean);
  });
  afterAll(() => images.remove());

  test('moved addresses, names lost and auto-numbered devices renumbered: no difference', () => {
    fc.assert(
      fc.property(
        fc.bigInt(1n, 0x1000n).map((pages) => pages * 0x1000n),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (shift, lostDriverNames, renumber) => {
          const other = structuredClone(result);
          // Every kernel address moves by the same amount (another KASLR slide, another pool).
          const moved = JSON.parse(
            JSON.stringify(other).replace(
              /"0x([89a-f][0-9a-f]{7})"/g,
              (_, h: string) => `"0x${(BigInt(`0x${h}`) + shift).toString(16)}"`,
            ),
          ) as AnalysisResult;
          const live = moved.drivers.filter((d) => d.state === 'live' && d.module);
          for (const n of lostDriverNames) {
            const driver = live[n % live.length]!;
            Object.assign(driver, { name: null, objectName: null, nameStatus: 'DriverName paged out' });
          }
          const auto = moved.devices.filter((d) => d.name && /^\\Device\\[0-9a-f]{8}$/.test(d.name));
          for (const n of renumber) {
            const a = auto[n % auto.length]!;
            const b = auto[(n >> 3) % auto.length]!;
            [a.name, b.name] = [b.name, a.name];
            for (const link of moved.links)
              if (link.device === a.id) link.target = a.name;
              else if (link.device === b.id) link.target = b.name;
          }
          const diff = diffResults(result, moved);
          expect(diff.entries.filter((e) => e.variation === null)).toEqual([]);
        },
      ),
      { numRuns: Math.max(10, RUNS / 10), seed: 2026 },
    );
  });
});
