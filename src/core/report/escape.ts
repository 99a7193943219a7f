// Every string in a report comes from the image, so from whoever controlled the machine: it is
// escaped for its output format, and control characters are shown rather than sent (a BEL or an
// ANSI escape in a driver name must not reach a terminal, a spreadsheet or a browser as such).

/** Control characters (C0, DEL, C1) and line/paragraph separators as visible \uXXXX escapes. */
export function visibleText(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return visibleText(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * One CSV field: control characters made visible, quoted when needed, and a leading formula
 * character (= + - @) neutralised so a spreadsheet never evaluates image content.
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = visibleText(String(value));
  if (typeof value === 'string' && /^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}
