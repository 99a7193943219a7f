// The last step before the terminal: every line of what a command prints, to stdout or stderr,
// passes through visibleText, so no string from an image (a driver's name, a section's, an error
// quoting either) can ring the bell, recolour or clear the screen, or reorder text with a bidi
// control, whichever renderer built the line and whether or not it escaped its fields itself.

import { visibleText } from '../common/visible-text';

/** `text` with each line's control, bidi and invisible characters shown as \uXXXX. */
export function terminalText(text: string): string {
  return text.split('\n').map(visibleText).join('\n');
}

/**
 * A JSON document for the terminal. JSON.stringify leaves C1 controls, bidi controls and invisible
 * characters raw inside strings; written as \uXXXX escapes they are the same JSON value (a
 * program reading it gets the very string from the image) and inert on a terminal.
 */
export function terminalJson(value: unknown): string {
  return `${terminalText(JSON.stringify(value, null, 2))}\n`;
}
