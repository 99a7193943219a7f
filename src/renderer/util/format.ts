// Display helpers. Strings from the image are attacker-chosen: React already renders them as
// text, never markup; here control characters become visible escapes too (a BEL or an ANSI
// escape in a driver name is evidence, and must be seen, not swallowed).

export { visibleParts, visibleText } from '../../common/visible-text';

/** Address as WinDbg shows 64-bit ones: fffff803`1a2b3c4d; 32-bit ones plain. */
export function formatAddress(value: string | bigint, wide: boolean): string {
  const n = typeof value === 'bigint' ? value : BigInt(value);
  if (!wide) return n.toString(16).padStart(8, '0');
  const text = n.toString(16).padStart(16, '0');
  return `${text.slice(0, 8)}\`${text.slice(8)}`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatHexSize(bytes: number): string {
  return `0x${bytes.toString(16)}`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** Parses what an analyst types: "0x8a29 2140", "fffff803`12345678", "8a292140h", decimal with "0n". */
export function parseAddress(text: string): bigint | null {
  const cleaned = text.trim().replace(/[`'_\s]/g, '');
  if (cleaned === '') return null;
  try {
    if (/^0n\d+$/i.test(cleaned)) return BigInt(cleaned.slice(2));
    if (/^0x[0-9a-f]+$/i.test(cleaned)) return BigInt(cleaned);
    if (/^[0-9a-f]+h?$/i.test(cleaned)) return BigInt(`0x${cleaned.replace(/h$/i, '')}`);
  } catch {
    return null;
  }
  return null;
}

export function shortDriverName(name: string | null | undefined): string {
  return (name ?? '').replace(/^\\(Driver|FileSystem)\\/, '');
}

/** Orders "0x…" strings by value (string order would put 0x9 after 0x10). */
export function compareHex(a: string | null | undefined, b: string | null | undefined): number {
  const x = a ? BigInt(a) : -1n;
  const y = b ? BigInt(b) : -1n;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Notes from the backend carry ISO times ("…changed since 2026-12-06T22:47:36.413Z"); shown in local
 * time, like every other time in the workbench.
 */
export function localTimes(text: string, format = (date: Date) => date.toLocaleString()): string {
  return text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, (iso) => format(new Date(iso)));
}
