// Decides what a file is from its first bytes — never from its name. Memory containers are
// returned for opening; files that are clearly something else are refused with a one-line reason.

import { u32 } from '../util/bytes';
import { DU64_MAGIC, DUMP_MAGIC, PAGE_MAGIC } from './crashdump/header';
import { ImageError } from './errors';
import { LIME_MAGIC } from './lime';
import { isVmwareMagic } from './vmware';

export type ContainerKind = 'crashdump' | 'elf' | 'lime' | 'vmware' | 'raw';

/** How many leading bytes `sniff` wants. */
export const SNIFF_BYTES = 64 * 1024;
export const MIN_RAW_SIZE = 0x1000;

const MDMP = 0x504d444d; // "MDMP": user-mode minidump (MINIDUMP_HEADER.Signature)
const USER = 0x52455355; // "USER": legacy user-mode crash dump ("USERDUMP"/"USERDU64")

function startsWith(bytes: Uint8Array, ...prefix: number[]): boolean {
  return prefix.length <= bytes.length && prefix.every((b, i) => bytes[i] === b);
}

function asciiAt(bytes: Uint8Array, offset: number, length: number): string {
  let text = '';
  for (let i = 0; i < length && offset + i < bytes.length; i++)
    text += String.fromCharCode(bytes[offset + i]!);
  return text;
}

/** `first` holds the file's first bytes (up to SNIFF_BYTES); `size` is the whole file's size. */
export function sniff(name: string, first: Uint8Array, size: number): ContainerKind {
  if (size === 0) throw new ImageError('empty', `${name} is empty (0 bytes)`);
  const word0 = first.length >= 4 ? u32(first, 0) : -1;
  const word1 = first.length >= 8 ? u32(first, 4) : -1;

  if (word0 === PAGE_MAGIC) {
    if (word1 === DUMP_MAGIC || word1 === DU64_MAGIC) return 'crashdump';
    throw new ImageError('corrupt', `${name}: crash dump signature "PAGE" without "DUMP"/"DU64"`);
  }
  if (word0 === MDMP)
    throw new ImageError(
      'user-minidump',
      `${name} is a user-mode minidump (MDMP) of one process, not a kernel memory image`,
    );
  if (word0 === USER && (word1 === DUMP_MAGIC || word1 === DU64_MAGIC))
    throw new ImageError(
      'user-minidump',
      `${name} is a user-mode crash dump (USERDUMP), not a kernel memory image`,
    );
  if (startsWith(first, 0x7f, 0x45, 0x4c, 0x46)) return 'elf';
  if (word0 === LIME_MAGIC) return 'lime';
  if (isVmwareMagic(first)) return 'vmware';

  // Hibernation file header signatures (spec §5.6): "hibr"/"wake" (XP–7), "HIBR"/"WAKE" (8+).
  const signature = asciiAt(first, 0, 4);
  if (['hibr', 'HIBR', 'wake', 'WAKE'].includes(signature))
    throw new ImageError(
      'hibernation',
      `${name} is a Windows hibernation file (hiberfil.sys, signature "${signature}"): its pages are compressed; convert it to a raw memory image first`,
    );
  // EWF (spec §5.7): "EVF\t\r\n\xFF\0" (E01) and "EVF2\r\n\x81\0" (Ex01).
  if (
    startsWith(first, 0x45, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00) ||
    startsWith(first, 0x45, 0x56, 0x46, 0x32, 0x0d, 0x0a, 0x81, 0x00)
  )
    throw new ImageError(
      'ewf',
      `${name} is an EWF (EnCase E01/Ex01) evidence container: export the memory image inside it to a raw file first`,
    );
  if (startsWith(first, 0x50, 0x4b, 0x03, 0x04)) {
    // AFF4 is a ZIP64 container with RDF metadata naming the aff4 lexicon (spec §5.8).
    if (asciiAt(first, 0, first.length).toLowerCase().includes('aff4'))
      throw new ImageError(
        'aff4',
        `${name} is an AFF4 evidence container: export the physical memory stream inside it to a raw file first`,
      );
    throw new ImageError(
      'not-memory-image',
      `${name} is a ZIP archive, not a memory image: extract it first`,
    );
  }
  // Compressed kdump dumps: "KDUMP   "/"DISKDUMP" (QEMU `include/sysemu/dump.h` KDUMP_SIGNATURE,
  // makedumpfile `diskdump_mod.h`) and makedumpfile's flattened stream ("makedumpfile").
  if (['KDUMP   ', 'DISKDUMP'].includes(asciiAt(first, 0, 8)) || asciiAt(first, 0, 12) === 'makedumpfile')
    throw new ImageError(
      'unsupported-format',
      `${name} is a compressed kdump/diskdump file: dump the guest as ELF instead (QEMU dump-guest-memory without compression, or virsh dump --memory-only --format elf)`,
    );
  const other = otherFileType(first);
  if (other !== undefined)
    throw new ImageError('not-memory-image', `${name} is ${other}, not a memory image`);
  if (size < MIN_RAW_SIZE)
    throw new ImageError(
      'too-small',
      `${name} has only ${size} bytes, less than one 4 KiB page: not a memory image`,
    );
  if (looksLikeText(first))
    throw new ImageError('not-memory-image', `${name} is a text file, not a memory image`);
  return 'raw';
}

/** Common non-memory formats by their magic numbers. */
function otherFileType(first: Uint8Array): string | undefined {
  if (startsWith(first, 0x1f, 0x8b)) return 'gzip-compressed data (decompress it first)';
  if (startsWith(first, 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00))
    return 'xz-compressed data (decompress it first)';
  if (startsWith(first, 0x28, 0xb5, 0x2f, 0xfd)) return 'zstd-compressed data (decompress it first)';
  if (startsWith(first, 0x42, 0x5a, 0x68) && first[3] !== undefined && first[3] >= 0x31 && first[3] <= 0x39)
    return 'bzip2-compressed data (decompress it first)';
  if (startsWith(first, 0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c)) return 'a 7-Zip archive (extract it first)';
  if (startsWith(first, 0x52, 0x61, 0x72, 0x21, 0x1a, 0x07)) return 'a RAR archive (extract it first)';
  if (startsWith(first, 0x25, 0x50, 0x44, 0x46, 0x2d)) return 'a PDF document';
  if (startsWith(first, 0x4d, 0x5a) && first.length >= 0x40) {
    const peOffset = u32(first, 0x3c);
    if (peOffset + 4 <= first.length && startsWith(first.subarray(peOffset), 0x50, 0x45, 0x00, 0x00))
      return 'a Windows executable (PE)';
  }
  return undefined;
}

/** Only tab, CR, LF and printable ASCII in the first page: physical memory never looks like that. */
function looksLikeText(first: Uint8Array): boolean {
  const sample = first.subarray(0, Math.min(first.length, MIN_RAW_SIZE));
  if (sample.length === 0) return false;
  for (const byte of sample) {
    if (byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    if (byte < 0x20 || byte > 0x7e) return false;
  }
  return true;
}
