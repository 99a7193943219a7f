// The order of names in results and reports: case-insensitive (Windows' object names are), then
// exact, by UTF-16 code unit. String.prototype.localeCompare follows the runtime's locale, so the
// same image could list its drivers in another order on another analyst's machine; its first
// call also starts ICU's collator (about 8 ms of every analysis).

/** A total order on strings that is the same on every machine. */
export function compareText(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
