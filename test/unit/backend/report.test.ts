import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diffResults } from '../../../src/core/compare';
import type { AnalysisResult } from '../../../src/common/model';
import {
  csvBundle,
  csvField,
  escapeHtml,
  htmlReport,
  jsonReport,
  makeReport,
  visibleText,
} from '../../../src/core/report/index';
import { analyse, buildTestImages, type TestImages } from './images';

let images: TestImages;
let infected: AnalysisResult;
let clean: AnalysisResult;

beforeAll(async () => {
  images = buildTestImages();
  infected = await analyse(images.infected);
  clean = await analyse(images.clean);
});
afterAll(() => images.remove());

describe('escaping', () => {
  test('control characters become visible escapes', () => {
    expect(visibleText('a\u0007b\u001b[31m\u2028')).toBe('a\\u0007b\\u001b[31m\\u2028');
  });

  test('markup is escaped', () => {
    expect(escapeHtml('<img src=x onerror=alert(1)>"\'&')).toBe(
      '&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;',
    );
  });

  test('CSV fields are quoted and formulas neutralised', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=cmd|calc')).toBe("'=cmd|calc");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField(-2)).toBe('-2');
    expect(csvField(null)).toBe('');
  });
});

describe('reports', () => {
  test('the HTML report shows the hostile driver name escaped, never as markup', () => {
    const html = htmlReport(infected, { label: 'infected', diff: diffResults(clean, infected) });
    expect(html).toContain(escapeHtml(visibleText(images.hostileName)));
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;\\u0007\\u001b[31m');
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('\u0007');
    expect(html).not.toContain('\u001b');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("default-src 'none'");
  });

  test('CSV holds every table and no raw control character', () => {
    const csv = csvBundle(infected);
    for (const name of ['drivers', 'irp', 'devices', 'modules', 'links', 'findings'])
      expect(csv).toContain(`${name}.csv\n`);
    expect(csv).not.toContain('\u0007');
    expect(csv).toContain(
      `${images.rootkitModule.replace('.sys', '')}<img src=x onerror=alert(1)>""'&\\u0007\\u001b[31m`,
    );
  });

  test('JSON is the result itself, deterministic', () => {
    expect(JSON.parse(jsonReport(infected))).toEqual(infected);
    expect(jsonReport(infected)).toBe(jsonReport(infected));
  });

  test('file names are safe whatever the label', () => {
    expect(makeReport(infected, 'html', { label: '../../etc/<x>.raw' }).fileName).toBe('irpscope-x.html');
    expect(makeReport(infected, 'csv', { label: 'Demo: infected system' }).mimeType).toBe('text/csv');
  });
});
