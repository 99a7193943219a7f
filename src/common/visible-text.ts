// Strings from an image or a peer (driver names, device names, a VM's name) are chosen by whoever
// controlled that machine. Wherever they are shown (terminal, HTML, PDF, CSV, the workbench) the
// characters that would act instead of being read are shown as visible \uXXXX escapes:
// - C0/C1 controls and DEL (BEL, ESC sequences that recolour or clear a terminal);
// - line and paragraph separators (U+2028/2029), which break lines in some viewers;
// - bidirectional controls (U+061C, U+200E/200F, U+202A–202E, U+2066–2069): a right-to-left
//   override makes "evil\u202Egpj.exe" display as "evilexe.jpg" (Unicode TR#9, and the "Trojan
//   Source" paper, CVE-2021-42574);
// - zero-width and invisible characters (U+200B–200D, U+2060–2064, U+FEFF) that make two names
//   look identical.

const HIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const escapeOne = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The text with every control, bidi or invisible character as a visible \uXXXX escape. */
export function visibleText(text: string): string {
  return text.replace(HIDDEN, escapeOne);
}

/** Split into plain runs and escaped characters, so the latter can be styled. */
export function visibleParts(text: string): Array<{ text: string; control: boolean }> {
  const parts: Array<{ text: string; control: boolean }> = [];
  let last = 0;
  // A fresh copy: matchAll starts where the shared expression's lastIndex was left.
  for (const match of text.matchAll(new RegExp(HIDDEN))) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index), control: false });
    parts.push({ text: escapeOne(match[0]), control: true });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), control: false });
  return parts;
}

/** Whether the text holds any character visibleText would escape. */
export function hasHiddenCharacters(text: string): boolean {
  // test() on a global expression moves its lastIndex: use a copy, leave the shared one alone.
  return new RegExp(HIDDEN).test(text);
}
