// Headers that claim far more than their file holds: a run count of 2^31, a bitmap of 2^32 bits,
// a bitmap that would hold its own first page, 65,534 program headers. The container tests check
// that each is refused or bounded from the header alone; `npm run bench` times opening them.

import { bitmapDump64, elf64, fullDump64, pages } from './build';

export const HOSTILE_HEADERS = {
  /** A full dump whose NumberOfRuns is 0x7fffffff; the 64-bit header holds 42 runs. */
  hugeRunCount: (): Uint8Array => fullDump64([[1, 1]], { numberOfRuns: 0x7fffffff }),
  /** A bitmap dump whose bitmap claims 0xffffffff bits. */
  hugeBitmap: (): Uint8Array => {
    const bytes = bitmapDump64(5, 'FDMP', [1], 8);
    new DataView(bytes.buffer).setBigUint64(0x2030, 0xffffffffn, true);
    return bytes;
  },
  /** A bitmap dump whose first stored page would lie inside its own bitmap. */
  firstPageInsideBitmap: (): Uint8Array => {
    const bytes = bitmapDump64(5, 'FDMP', [1], 8);
    new DataView(bytes.buffer).setBigUint64(0x2020, 0x2010n, true);
    return bytes;
  },
  /** An ELF core whose e_phnum says 0xfffe program headers; two are there. */
  hugeProgramHeaderCount: (): Uint8Array => {
    const bytes = elf64(new Uint8Array(0), [{ paddr: 0, data: pages(0) }]);
    new DataView(bytes.buffer).setUint16(0x38, 0xfffe, true);
    return bytes;
  },
};
