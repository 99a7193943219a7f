import { describe, expect, test } from 'vitest';
import { htmlReport } from '../../../../src/core/report/index';
import { useReportMaterial } from './fixture';

const material = useReportMaterial();

/** The findings' sections of an HTML report, each with its heading's finding id. */
function findingSections(html: string): Array<{ id: string; body: string }> {
  return [...html.matchAll(/<section class="finding [^"]*">([\s\S]*?)<\/section>/g)].map((m) => ({
    // "SEVERITY <id> · kind · subject": F001…, or a callback finding's identity (kind|module+offset).
    id: /<h3><span[^>]*>[^<]*<\/span> (\S+) · /.exec(m[1]!)?.[1] ?? '',
    body: m[1]!,
  }));
}

describe('evidence of a finding', () => {
  test('the bytes at an address are shown once per finding, even for a result that crossed JSON', () => {
    const { infected } = material();
    const sections = findingSections(htmlReport(infected));
    const inline = infected.findings.filter((f) => f.evidence.disassembly);
    expect(inline.length).toBeGreaterThan(0);
    for (const finding of inline) {
      const section = sections.find((s) => s.id === finding.id)!;
      const shown = [...section.body.matchAll(/Bytes at ([^:]*):/g)].map((m) => m[1]);
      expect(shown.length, finding.id).toBeGreaterThan(0);
      expect(new Set(shown).size, `${finding.id}: ${shown.join(', ')}`).toBe(shown.length);
      const bytes = (finding.evidence.disassembly!.bytes.match(/../g) ?? []).join(' ');
      expect(section.body.split(bytes).length - 1, finding.id).toBe(1);
    }
  });
});
