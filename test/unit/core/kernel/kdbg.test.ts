// The encoded KDBG of Windows 8+ x64 (spec §3.5) found on bytes built here: a kernel image whose
// exported KeCapturePersistentThreadState calls KdCopyDataBlock deep in a 2 MiB code section.
// Through that caller the routine is read without searching the kernel's code; without the
// export, the search of the code sections still finds it. The keys the engine reports are checked
// against the ones planted, and the block it decodes against the plaintext.

import { describe, expect, test } from 'vitest';
import {
  capturePersistentThreadStateBytes,
  encodeKdbg,
  kdCopyDataBlockBytes,
} from '../../../../src/builder/windows/kernel-data';
import { findKdbg } from '../../../../src/core/kernel/kdbg';
import { KernelMemory } from '../../../../src/core/kernel/memory';
import type { PeImage } from '../../../../src/core/kernel/pe';
import type { PartialRead } from '../../../../src/core/paging';
import type { LayoutProfile } from '../../../../src/core/profile';
import { virtualSpaceOver } from '../../../support/sparse-memory';

const PAGE = 0x1000;
const BASE = 0xfffff80012000000n;
const KDBG_SIZE = 0x368; // Windows 10 (spec §1.15)
const TEXT = { rva: 0x1000, size: 0x200000 };
const DATA = { rva: 0x201000, size: 0x10000 };
const CALLER_RVA = 0x1100;
const EARLIER_CALLEE_RVA = 0x2000;
const COPY_RVA = 0x180040; // far into .text: a search meets it after 1.5 MiB
const BLOCK_VA = BASE + BigInt(DATA.rva + 0x100);
const FLAG_VA = BASE + BigInt(DATA.rva + 0x800);
const WAIT_NEVER_VA = BASE + BigInt(DATA.rva + 0x810);
const WAIT_ALWAYS_VA = BASE + BigInt(DATA.rva + 0x818);
const WAIT_NEVER = 0x1b2c3d4e5f607183n;
const WAIT_ALWAYS = 0x8899aabbccddeeffn;

/**
 * A kernel image as sparse pages; reads past what is written read zeros, outside the image and in
 * `unmapped` pages (numbered from the image base) fail.
 */
function kernelImage(size = DATA.rva + DATA.size, unmapped = new Set<number>()) {
  const pages = new Map<number, Uint8Array>();
  const write = (va: bigint, bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) {
      const offset = Number(va - BASE) + i;
      const page = Math.floor(offset / PAGE);
      if (!pages.has(page)) pages.set(page, new Uint8Array(PAGE));
      pages.get(page)![offset % PAGE] = bytes[i]!;
    }
  };
  const codeBytesRead = { count: 0 };
  const readPartial = (va: bigint, length: number): PartialRead => {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const offset = Number(va - BASE) + done;
      if (va + BigInt(done) < BASE || offset >= size || unmapped.has(Math.floor(offset / PAGE)))
        return {
          bytes: out.slice(0, done),
          failure: { va: va + BigInt(done), failure: { ok: false, reason: 'not-present', level: 'pte' } },
        };
      const page = pages.get(Math.floor(offset / PAGE));
      const take = Math.min(length - done, PAGE - (offset % PAGE));
      if (page) out.set(page.subarray(offset % PAGE, (offset % PAGE) + take), done);
      if (offset >= TEXT.rva && offset < TEXT.rva + TEXT.size) codeBytesRead.count += take;
      done += take;
    }
    return { bytes: out };
  };
  const virtual = virtualSpaceOver(readPartial);
  return { memory: new KernelMemory(virtual, 8), write, codeBytesRead };
}

function plainBlock(): Uint8Array {
  const block = new Uint8Array(KDBG_SIZE);
  const view = new DataView(block.buffer);
  view.setUint32(0x10, 0x4742444b, true); // 'KDBG'
  view.setUint32(0x14, KDBG_SIZE, true);
  view.setBigUint64(0x18, BASE, true); // KernBase
  view.setBigUint64(0x48, BASE + 0x100000n, true); // PsLoadedModuleList, a value to find again
  return block;
}

function encodedKernel() {
  const image = kernelImage();
  const u64 = (value: bigint) => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, value, true);
    return bytes;
  };
  image.write(BLOCK_VA, encodeKdbg(plainBlock(), WAIT_NEVER, WAIT_ALWAYS, FLAG_VA));
  image.write(FLAG_VA, Uint8Array.of(1));
  image.write(WAIT_NEVER_VA, u64(WAIT_NEVER));
  image.write(WAIT_ALWAYS_VA, u64(WAIT_ALWAYS));
  const copy = BASE + BigInt(COPY_RVA);
  image.write(
    copy,
    kdCopyDataBlockBytes(copy, FLAG_VA, BLOCK_VA, WAIT_NEVER_VA, WAIT_ALWAYS_VA, KDBG_SIZE, 19041),
  );
  const caller = BASE + BigInt(CALLER_RVA);
  image.write(
    caller,
    capturePersistentThreadStateBytes(caller, BLOCK_VA, copy, BASE + BigInt(EARLIER_CALLEE_RVA)),
  );
  return image;
}

const pe: PeImage = {
  base: BASE,
  machine: 0x8664,
  is64: true,
  sizeOfImage: DATA.rva + DATA.size,
  timeDateStamp: 0,
  checksum: 0,
  entryRva: 0,
  sections: [
    { name: '.text', rva: TEXT.rva, size: TEXT.size, characteristics: 0x60000020 },
    { name: '.data', rva: DATA.rva, size: DATA.size, characteristics: 0xc0000040 },
  ],
  exportDirectory: null,
  debugDirectory: null,
};

const profile = {
  build: 19041,
  kdbg: { size: KDBG_SIZE },
  symbol: () => undefined,
} as unknown as LayoutProfile;

function expectThePlantedBlock(found: ReturnType<typeof findKdbg>['found']) {
  expect(found?.va).toBe(BLOCK_VA);
  expect(found?.encoded).toBe(true);
  expect(found?.block).toEqual(plainBlock());
}

describe('the encoded KDBG', () => {
  test("is decoded through KdCopyDataBlock found from its exported caller, without searching the kernel's code", () => {
    const { memory, codeBytesRead } = encodedKernel();
    const exports = new Map([['KeCapturePersistentThreadState', CALLER_RVA]]);
    const { found, tried } = findKdbg(memory, pe, exports, profile, undefined);
    expectThePlantedBlock(found);
    expect(found?.method).toMatch(/KdCopyDataBlock, called from the exported KeCapturePersistentThreadState/);
    expect(tried.join('; ')).not.toMatch(/code pattern/);
    // The caller (one 4 KiB window) and each routine it calls (300 bytes), not the 2 MiB section.
    expect(codeBytesRead.count).toBeLessThanOrEqual(0x1000 + 2 * 300);
  });

  test("without the export, the search of the kernel's code sections finds the routine", () => {
    const { memory, codeBytesRead } = encodedKernel();
    const { found, tried } = findKdbg(memory, pe, new Map(), profile, undefined);
    expectThePlantedBlock(found);
    expect(found?.method).toBe('decoded with keys located by disassembling KdCopyDataBlock');
    expect(tried).toContain(
      'KdCopyDataBlock from its caller: KeCapturePersistentThreadState is not exported',
    );
    expect(codeBytesRead.count).toBeGreaterThan(COPY_RVA - TEXT.rva);
  });

  test('an export whose callees are not KdCopyDataBlock falls back to the search and says why', () => {
    const { memory, write } = encodedKernel();
    // The caller's call to KdCopyDataBlock overwritten with NOPs: only the earlier call remains.
    const caller = BASE + BigInt(CALLER_RVA);
    const bytes = capturePersistentThreadStateBytes(
      caller,
      BLOCK_VA,
      BASE + BigInt(COPY_RVA),
      BASE + BigInt(EARLIER_CALLEE_RVA),
    );
    const view = new DataView(bytes.buffer);
    const call = [...bytes.keys()].find(
      (i) =>
        bytes[i] === 0xe8 &&
        i + 5 <= bytes.length &&
        caller + BigInt(i + 5 + view.getInt32(i + 1, true)) === BASE + BigInt(COPY_RVA),
    )!;
    write(caller + BigInt(call), new Uint8Array(5).fill(0x90));
    const exports = new Map([['KeCapturePersistentThreadState', CALLER_RVA]]);
    const { found, tried } = findKdbg(memory, pe, exports, profile, undefined);
    expectThePlantedBlock(found);
    expect(tried).toContain(
      'KdCopyDataBlock from its caller: none of the 1 routines KeCapturePersistentThreadState calls is KdCopyDataBlock',
    );
  });
});

describe('the plain KDBG in the data sections', () => {
  const WIDE_DATA = { rva: DATA.rva, size: 0x20000 };
  const widePe: PeImage = {
    ...pe,
    sizeOfImage: WIDE_DATA.rva + WIDE_DATA.size,
    sections: [pe.sections[0]!, { ...pe.sections[1]!, size: WIDE_DATA.size }],
  };
  const plainProfile = { ...profile, build: 7601 } as unknown as LayoutProfile;

  test.each([
    ['beside a page that cannot be read', 0x8000, [Math.floor((WIDE_DATA.rva + 0x3000) / PAGE)]],
    ['whose header begins in the 64 KiB before its tag', 0x10000 - 8, []],
  ])('is found %s', (_, at, unmapped) => {
    const { memory, write } = kernelImage(WIDE_DATA.rva + WIDE_DATA.size, new Set(unmapped));
    const va = BASE + BigInt(WIDE_DATA.rva + at);
    write(va, plainBlock());
    const { found } = findKdbg(memory, widePe, new Map(), plainProfile, undefined);
    expect(found?.va).toBe(va);
    expect(found?.encoded).toBe(false);
    expect(found?.block).toEqual(plainBlock());
    expect(found?.method).toBe("scan of ntoskrnl's data sections for 'KDBG'");
  });
});
