// The text `irpscope extract` prints: what was written and what a reverser needs to know about it.
// The driver's and module's names, section names and imported DLLs come from the image: each line
// is shown through visibleText (a column is padded after escaping, so it stays aligned).

import { hex } from '../common/hex';
import { visibleText } from '../common/visible-text';
import type { Extraction } from '../core/extract';
import { terminalText } from './terminal-text';

export function renderExtraction(extraction: Extraction, out: string): string {
  const lines: string[] = [];
  lines.push(`${extraction.label} at ${hex(extraction.base)} → ${out}`);
  lines.push(
    `  ${extraction.layout === 'pe' ? `PE ${extraction.machine}, ` : 'raw memory, '}${extraction.bytes.length.toLocaleString('en')} bytes, SizeOfImage ${hex(extraction.sizeOfImage)}` +
      (extraction.entryPoint !== null
        ? `, entry point ${hex(extraction.base + BigInt(extraction.entryPoint))}`
        : ''),
  );
  lines.push(`  SHA-256 ${extraction.sha256}`);
  if (extraction.sections.length > 0) {
    lines.push('  section    virtual address  virtual size  file offset  file size');
    for (const s of extraction.sections)
      lines.push(
        `  ${visibleText(s.name).padEnd(10)} ${hex(s.virtualAddress).padStart(15)}  ${hex(s.virtualSize).padStart(12)}  ${hex(s.pointerToRawData).padStart(11)}  ${hex(s.sizeOfRawData).padStart(9)}`,
      );
  }
  if (extraction.imports)
    lines.push(`  imports: ${extraction.imports.length ? extraction.imports.join(', ') : 'none'}`);
  if (extraction.missing.length === 0) lines.push('  every page was in memory');
  else {
    lines.push('  not in memory (zero-filled):');
    for (const m of extraction.missing)
      lines.push(`    ${hex(extraction.base + BigInt(m.rva))} +${hex(m.size)}  ${m.where}  (${m.status})`);
  }
  for (const note of extraction.notes) lines.push(`  note: ${note}`);
  return terminalText(`${lines.join('\n')}\n`);
}
