// Pool tags the scan looks for (spec §1.11): driver and device objects in both the protected
// (pre-Windows 8) and plain forms, and loader entries.

export type TagKind = 'driver' | 'device' | 'loader';

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
];

export interface TagHit {
  kind: TagKind;
  /** Physical address of the POOL_HEADER. */
  headerPa: number;
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
  const values = tags.map((t) => t.value);
  const lows = [...new Set(values.map((v) => v & 0xff))];
  if (lows.length > 2) throw new Error('findTags: tags may start with at most two distinct bytes');
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  const slots = candidateSlots(words, alignment >>> 2, lows[0] ?? -1, lows[1] ?? lows[0] ?? -1);
  for (const i of slots) {
    const tag = tags.find((t) => t.value === words[i]);
    if (tag) out.push({ kind: tag.kind, headerPa: pa + (i - 1) * 4 });
  }
}

/**
 * Indices of the u32 words at header-tag positions (1, 1 + step, …) whose low byte is `lowA` or
 * `lowB`. This loop touches every header slot of the image, so it is kept tiny: only about one
 * slot in 128 survives it.
 */
function candidateSlots(words: Uint32Array, step: number, lowA: number, lowB: number): number[] {
  const slots: number[] = [];
  const n = words.length;
  for (let i = 1; i < n; i += step) {
    const low = words[i]! & 0xff;
    if (low === lowA || low === lowB) slots.push(i);
  }
  return slots;
}
