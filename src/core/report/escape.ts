// Every string in a report comes from the image, so from whoever controlled the machine: it is
// escaped for its output format, and control characters are shown rather than sent (a BEL or an
// ANSI escape in a driver name must not reach a terminal, a spreadsheet or a browser as such).

import { visibleText } from '../../common/visible-text';

export { visibleText };

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
