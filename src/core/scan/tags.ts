// Pool tags the scan looks for (spec §1.11): driver, device and process objects in both the
// protected (pre-Windows 8) and plain forms, loader entries, and IRPs (the I/O manager's "Irp "
// allocations; some tools write the tag NUL-padded, so both paddings are taken).

export type TagKind = 'driver' | 'device' | 'loader' | 'process' | 'irp';

export interface ScanTag {
  kind: TagKind;
  /** Little-endian u32 of the four tag bytes. */
  value: number;
  text: string;
}

function tag(kind: TagKind, bytes: number[], text: string): ScanTag {
  return { kind, value: (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0, text };
}

export const SCAN_TAGS: readonly ScanTag[] = [
  tag('driver', [0x44, 0x72, 0x69, 0x76], 'Driv'),
  tag('driver', [0x44, 0x72, 0x69, 0xf6], 'Dri\\xF6'),
  tag('device', [0x44, 0x65, 0x76, 0x69], 'Devi'),
  tag('device', [0x44, 0x65, 0x76, 0xe9], 'Dev\\xE9'),
  tag('loader', [0x4d, 0x6d, 0x4c, 0x64], 'MmLd'),
  tag('process', [0x50, 0x72, 0x6f, 0x63], 'Proc'),
  tag('process', [0x50, 0x72, 0x6f, 0xe3], 'Pro\\xE3'),
  tag('irp', [0x49, 0x72, 0x70, 0x20], 'Irp '),
  tag('irp', [0x49, 0x72, 0x70, 0x00], 'Irp\\0'),
];

export interface TagHit {
  kind: TagKind;
  /** Physical address of the POOL_HEADER. */
  headerPa: number;
}

/** One pass over the whole image: its hits sorted by address, and how it went. */
export interface ScanResult {
  hits: TagHit[];
  bytesScanned: number;
  workers: number;
}

/**
 * Finds tags at pool-header positions of `bytes` (which starts at physical `pa`): the tag sits 4
 * bytes into a header aligned to `alignment` (8 on x86, 16 on x64). One pass, one u32 per slot.
 */
export function findTags(
  bytes: Uint8Array,
  pa: number,
  alignment: 8 | 16,
  tags: readonly ScanTag[],
  out: TagHit[],
): void {
  if (bytes.byteOffset % 4 !== 0 || pa % alignment !== 0) throw new Error('scan chunks must be aligned');
  const firstBytes = new Uint8Array(256);
  for (const t of tags) firstBytes[t.value & 0xff] = 1;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  const slots = candidateSlots(words, alignment >>> 2, firstBytes);
  for (const i of slots) {
    const tag = tags.find((t) => t.value === words[i]);
    if (tag) out.push({ kind: tag.kind, headerPa: pa + (i - 1) * 4 });
  }
}

/**
 * Indices of the u32 words at header-tag positions (1, 1 + step, …) whose low byte starts one of
 * the tags. This loop touches every header slot of the image, so it is kept tiny: only a few
 * slots in 256 survive it.
 */
function candidateSlots(words: Uint32Array, step: number, firstBytes: Uint8Array): number[] {
  const slots: number[] = [];
  const n = words.length;
  for (let i = 1; i < n; i += step) if (firstBytes[words[i]! & 0xff]) slots.push(i);
  return slots;
}
