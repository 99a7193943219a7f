// Addresses and other 64-bit values as every result, report and view spells them: "0x" and
// lower-case hex digits (a JSON number cannot hold 64 bits). One type, one formatter, one parser.

/** A value written as "0x…" lower-case hex. */
export type Hex = `0x${string}`;

/** `value` as "0x…", padded with zeros to `width` digits. */
export function hex(value: number | bigint, width = 0): Hex {
  return `0x${value.toString(16).padStart(width, '0')}`;
}

/** The value of a "0x…" string (or of decimal digits); throws SyntaxError on anything else. */
export function parseHex(text: string): bigint {
  return BigInt(text);
}
