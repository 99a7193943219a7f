// Runs one input of a target that is not a whole image and judges it. Each entry point has one
// documented way to refuse (a reason, a CaptureError, a CaseFileRejection); a result must keep
// the entry point's promises; anything else — another exception, a broken promise — is a crash.

import { createHash } from 'node:crypto';
import { CaseFileRejection, parseCaseFile } from '../../src/backend/cases/case-file';
import { visibleText } from '../../src/common/visible-text';
import { replayQmpCapture, ReplayBrokenPromise } from '../../src/core/node/capture/replay';
import {
  ExtractError,
  MAX_IMAGE_SIZE,
  rebuildPe,
  type ExtractedImage,
  type PageReader,
} from '../../src/core/extract';
import { withSha256 } from '../../src/core/node/extract-from-image';
import type { KernelMemory } from '../../src/core/kernel/memory';
import {
  exportName,
  MAX_SECTIONS,
  parsePeHeaders,
  readCodeView,
  readExports,
  readPe,
} from '../../src/core/kernel/pe';
import type { PeMemory } from './mutate-bytes';
import type { Outcome } from './targets';

const PAGE = 0x1000;
const SECTION_HEADER = 40;

class BrokenPromise extends Error {}

function crash(error: unknown): Outcome {
  if (error instanceof BrokenPromise) return { status: 'crash', message: `broken promise: ${error.message}` };
  const e = error instanceof Error ? error : new Error(String(error));
  return { status: 'crash', message: `${e.name}: ${e.message.split('\n')[0]}`, stack: e.stack };
}

// ---------------------------------------------------------------- pe-headers

function checkHeaders(bytes: Uint8Array): ReturnType<typeof parsePeHeaders> {
  const parsed = parsePeHeaders(bytes);
  if (!parsed.ok) {
    if (typeof parsed.reason !== 'string' || parsed.reason.length === 0 || parsed.reason.includes('\n'))
      throw new BrokenPromise(`a reason that is not one line: ${JSON.stringify(parsed.reason)}`);
    return parsed;
  }
  const h = parsed.headers;
  const fixed = h.is64 ? 0x70 : 0x60;
  const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  if (h.optionalHeaderOffset + fixed > h.sectionTableOffset)
    throw new BrokenPromise('the section table starts inside the fixed optional header');
  if (h.sectionTableOffset + h.sections.length * SECTION_HEADER > bytes.length)
    throw new BrokenPromise(
      `${h.sections.length} sections at 0x${h.sectionTableOffset.toString(16)} reported as parsed from ${bytes.length} bytes`,
    );
  if (h.sections.length > MAX_SECTIONS) throw new BrokenPromise(`${h.sections.length} sections`);
  if (
    h.directories.length > 16 ||
    h.optionalHeaderOffset + fixed + h.directories.length * 8 > h.sectionTableOffset
  )
    throw new BrokenPromise(`${h.directories.length} data directories outside the optional header`);
  for (const value of [
    h.entryRva,
    h.sizeOfImage,
    h.sizeOfHeaders,
    h.fileAlignment,
    h.checksum,
    h.timeDateStamp,
  ])
    if (!u32(value)) throw new BrokenPromise(`a header field of ${value}`);
  for (const s of h.sections)
    if (
      s.name.length > 8 ||
      ![s.virtualAddress, s.virtualSize, s.sizeOfRawData, s.characteristics].every(u32)
    )
      throw new BrokenPromise(`a section header read as ${JSON.stringify(s)}`);
  return parsed;
}

/**
 * Memory where the header page is `bytes` and the other pages are zero, absent, zero and absent
 * by turns, or the header page again (so that every RVA the header names lands on bytes).
 */
function memoryOf(base: bigint, bytes: Uint8Array, other: PeMemory): PageReader {
  const first = new Uint8Array(PAGE);
  first.set(bytes.subarray(0, PAGE));
  const zero = new Uint8Array(PAGE);
  return (va) => {
    const page = (va - base) / BigInt(PAGE);
    if (va < base || (va - base) % BigInt(PAGE) !== 0n) return { status: 'not present' };
    if (page === 0n || other === 'repeated')
      return bytes.length === 0 ? { status: 'not present' } : { bytes: first };
    if (other === 'zero' || (other === 'mixed' && page % 3n !== 0n)) return { bytes: zero };
    return { status: 'not present' };
  };
}

/** The same memory as the engine's PE readers see it: bytes at any address, or null. */
function kernelMemoryOf(base: bigint, reader: PageReader): KernelMemory {
  const bytes = (va: bigint, length: number): Uint8Array | null => {
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const at = va + BigInt(done);
      const offset = Number((at - base) & BigInt(PAGE - 1));
      const page = reader(at - BigInt(offset));
      if (!('bytes' in page)) return null;
      const n = Math.min(PAGE - offset, length - done);
      out.set(page.bytes.subarray(offset, offset + n), done);
      done += n;
    }
    return out;
  };
  return { bytes } as unknown as KernelMemory;
}

/** The engine's readers on the header: readPe, the export directory, the CodeView record. */
function checkReaders(base: bigint, reader: PageReader): void {
  const memory = kernelMemoryOf(base, reader);
  const pe = readPe(memory, base);
  if (!pe) return;
  exportName(memory, pe);
  const exports = readExports(memory, pe);
  if (exports.size > 20_000) throw new BrokenPromise(`${exports.size} exports`);
  const codeView = readCodeView(memory, pe);
  if (codeView && codeView.pdbName.length > 0x200) throw new BrokenPromise('an unbounded PDB name');
}

function checkRebuild(image: ExtractedImage, headerBytes: number): void {
  if (createHash('sha256').update(image.bytes).digest('hex') !== image.sha256)
    throw new BrokenPromise('the SHA-256 is not that of the bytes');
  if (image.bytes.length > MAX_IMAGE_SIZE + PAGE)
    throw new BrokenPromise(`a file of ${image.bytes.length} bytes`);
  let missing = 0;
  for (const range of image.missing) {
    if (range.rva < 0 || range.size <= 0 || range.rva + range.size > image.sizeOfImage)
      throw new BrokenPromise(`a missing range ${JSON.stringify(range)} outside the image`);
    missing += range.size;
  }
  if (missing > image.sizeOfImage) throw new BrokenPromise('more missing than the image holds');
  if (image.layout === 'raw') return;
  for (const s of image.sections)
    if (s.sizeOfRawData > 0 && s.pointerToRawData + s.sizeOfRawData > image.bytes.length)
      throw new BrokenPromise(`section ${s.name} laid past the end of the file`);
  // A rebuilt file is a PE file: its headers parse, with the sections it says it wrote.
  const again = parsePeHeaders(image.bytes.subarray(0, Math.max(PAGE, headerBytes)));
  if (!again.ok) throw new BrokenPromise(`the rebuilt file's headers do not parse: ${again.reason}`);
  if (again.headers.sections.length !== image.sections.length)
    throw new BrokenPromise('the rebuilt file has another number of sections');
}

export function runPeHeaders(bytes: Uint8Array, base: bigint, other: PeMemory): Outcome {
  try {
    const parsed = checkHeaders(bytes);
    const reader = memoryOf(base, bytes, other);
    checkReaders(base, reader);
    let image: ExtractedImage;
    try {
      image = withSha256(rebuildPe(reader, base, parsed.ok ? null : PAGE * 4));
    } catch (error) {
      if (error instanceof ExtractError) return { status: 'refused', message: `rebuild: ${error.message}` };
      throw error;
    }
    checkRebuild(
      image,
      parsed.ok ? parsed.headers.sectionTableOffset + parsed.headers.sections.length * SECTION_HEADER : 0,
    );
    return parsed.ok ? { status: 'result' } : { status: 'refused', message: parsed.reason };
  } catch (error) {
    return crash(error);
  }
}

// ---------------------------------------------------------------- qmp-replies

export async function runQmpReplies(
  bytes: Uint8Array,
  options: Parameters<typeof replayQmpCapture>[1],
): Promise<Outcome> {
  try {
    const outcome = await replayQmpCapture(bytes, options);
    if (outcome.error) {
      // The replay checks for one line; what a peer sent is also shown escaped in the message.
      if (visibleText(outcome.error.message) !== outcome.error.message)
        throw new BrokenPromise(
          `a control or invisible character raw in the error: ${visibleText(outcome.error.message.slice(0, 160))}`,
        );
      return { status: 'refused', message: `${outcome.error.kind}: ${outcome.error.message}` };
    }
    if (!outcome.result) throw new BrokenPromise('neither a result nor an error');
    return { status: 'result' };
  } catch (error) {
    if (error instanceof ReplayBrokenPromise)
      return { status: 'crash', message: `broken promise: ${error.message}` };
    return crash(error);
  }
}

// ---------------------------------------------------------------- case-files

/** Every object in a parsed case file is a plain object or array: no key set a prototype. */
function checkPlain(value: unknown): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const prototype = Object.getPrototypeOf(v) as unknown;
    if (prototype !== Object.prototype && prototype !== Array.prototype && prototype !== null)
      throw new BrokenPromise(
        'an object of the parsed file has another prototype (a "__proto__" key took effect)',
      );
    stack.push(...Object.values(v as Record<string, unknown>));
  }
}

const OBJECT_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join();

export function runCaseFile(bytes: Uint8Array): Outcome {
  try {
    let parsed;
    try {
      parsed = parseCaseFile(bytes);
    } catch (error) {
      if (!(error instanceof CaseFileRejection)) throw error;
      const reason = error.reason;
      if (reason.length === 0 || reason.length > 300 || visibleText(reason) !== reason)
        throw new BrokenPromise(
          `a rejection that is not one visible line of at most 300 characters: ${JSON.stringify(reason.slice(0, 120))}`,
        );
      return { status: 'refused', message: reason };
    }
    checkPlain(parsed);
    JSON.stringify(parsed);
    return { status: 'result' };
  } catch (error) {
    return crash(error);
  } finally {
    if (Object.getOwnPropertyNames(Object.prototype).sort().join() !== OBJECT_KEYS)
      // eslint-disable-next-line no-unsafe-finally
      return { status: 'crash', message: 'broken promise: Object.prototype was changed' };
  }
}
