// The command line as a user runs it (the sources through tsx): exit codes, what goes to stdout
// and stderr, and the diff and report commands on a clean and an infected builder image.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Truth } from '../../src/builder/index';
import type { DiffResult } from '../../src/common/api';
import type { AnalysisResult } from '../../src/common/model';
import { buildTestImages, type TestImages } from '../unit/backend/images';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Absolute, so that a command can run in another folder (as the README's examples do).
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

function runIn(cwd: string, script: string, args: string[]) {
  const run = spawnSync(process.execPath, ['--import', TSX, join(ROOT, script), ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function irpscope(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return runIn(ROOT, 'src/cli/main.ts', args);
}

// What acts on a terminal instead of being read (what visibleText escapes), apart from the line feed.
const HIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

let images: TestImages;
let truth: Truth;
/** The infected image with a right-to-left override (U+202E) in the hostile driver's name. */
let bidi: { image: string; name: string };

/** The image with every UTF-16 occurrence of `from` replaced by `to` (same length). */
function patchedImage(path: string, out: string, from: string, to: string): void {
  const bytes = readFileSync(path);
  const [needle, replacement] = [Buffer.from(from, 'utf16le'), Buffer.from(to, 'utf16le')];
  let count = 0;
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1), count++)
    replacement.copy(bytes, at);
  expect(count).toBeGreaterThan(0);
  writeFileSync(out, bytes);
}

beforeAll(() => {
  images = buildTestImages();
  truth = JSON.parse(readFileSync(join(images.folder, 'infected', 'truth.json'), 'utf8')) as Truth;
  const [plain, override] = ["'&\u0007", "'\u202e\u0007"];
  bidi = { image: join(images.folder, 'bidi.raw'), name: images.hostileName.replace(plain, override) };
  patchedImage(images.infected, bidi.image, plain, override);
});
afterAll(() => images.remove());

describe('irpscope --version', () => {
  test("prints the package's version and nothing else, exit code 0", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const run = irpscope(flag);
      expect(run.status).toBe(0);
      expect(run.stdout).toBe(`${version}\n`);
      expect(run.stderr).toBe('');
    }
  });
});

describe('irpscope info', () => {
  test('names the build and the DTB, exit code 0', () => {
    const run = irpscope('info', images.infected);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Windows 7 SP1.*7601/);
    expect(run.stdout).toContain(`0x${BigInt(truth.dtb).toString(16)}`);
  });

  test('a file that is no memory image: exit code 2, the reason on stderr, nothing on stdout', () => {
    const junk = join(images.folder, 'junk.bin');
    writeFileSync(junk, Buffer.alloc(100, 0x41));
    const run = irpscope('info', junk);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^irpscope: .+/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('irpscope analyze', () => {
  test('--json is the analysis document, with the hostile driver among the drivers', () => {
    const run = irpscope('analyze', images.infected, '--json');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as AnalysisResult;
    expect(result.drivers.map((d) => d.name)).toContain(images.hostileName);
  });

  test('a text table never prints the control characters of an image string', () => {
    const run = irpscope('analyze', images.infected, '--table', 'drivers');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('\\u0007');
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).not.toMatch(/[\u0007\u001b]/);
  });
});

describe('irpscope diff', () => {
  test('against the clean system of an earlier boot: the planted findings, exit code 1', () => {
    const run = irpscope('diff', images.clean, images.infected, '--json');
    expect(run.status).toBe(1);
    const diff = JSON.parse(run.stdout) as DiffResult;
    const added = new Set(diff.entries.flatMap((e) => e.findings.added));
    const analysis = JSON.parse(irpscope('analyze', images.infected, '--json').stdout) as AnalysisResult;
    const planted = truth.findings.filter((f) => f.kind !== 'stale-driver');
    expect(
      analysis.findings
        .filter((f) => added.has(f.id))
        .map((f) => `${f.kind} ${f.subject}`)
        .sort(),
    ).toEqual(planted.map((f) => `${f.kind} ${f.subject}`).sort());
    expect(diff.entries[0]!.severity).toBe('critical');
  });

  test('text output names each difference, why it matters and what paired it', () => {
    const run = irpscope('diff', images.clean, images.infected);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^CRITICAL {2}driver added {5}/m);
    expect(run.stdout).toContain('paired by: name \\Driver\\Disk');
    expect(run.stdout).toContain('why: ');
    expect(run.stdout).toMatch(/Between boots, not counted/);
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).not.toMatch(/[\u0007\u001b]/);
  });

  test('an image against itself: no differences, exit code 0', () => {
    const run = irpscope('diff', images.clean, images.clean);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('No differences.');
  });

  test('an unreadable baseline: one line, exit code 2', () => {
    const run = irpscope('diff', join(images.folder, 'missing.raw'), images.clean);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('irpscope report', () => {
  test('HTML with the baseline comparison, the hostile name escaped', () => {
    const out = join(images.folder, 'report.html');
    const run = irpscope('report', images.infected, '--baseline', images.clean, '--out', out);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`wrote ${out}`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('Compared with baseline');
    expect(html).toContain(`${images.rootkitModule.replace('.sys', '')}&lt;img src=x onerror=alert(1)&gt;`);
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<script/i);
  });

  test('JSON to stdout with --out -', () => {
    const run = irpscope('report', images.infected, '--format', 'json', '--out', '-');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as AnalysisResult;
    expect(result.findings.length).toBe(truth.findings.length);
  });
});

describe('output errors: one line, exit code 2, the previous file intact', () => {
  const oneLine = (run: ReturnType<typeof irpscope>, pattern: RegExp) => {
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
    expect(run.stderr).not.toMatch(/internal error| {4}at /);
  };

  test('a folder that does not exist, a path through a file, no permission', () => {
    const missing = join(images.folder, 'no-such-folder', 'report.html');
    oneLine(irpscope('report', images.clean, '--out', missing), /its folder does not exist/);
    const file = join(images.folder, 'a-file');
    writeFileSync(file, 'x');
    oneLine(irpscope('report', images.clean, '--out', join(file, 'report.html')), /not a folder/);
    // Even root may not create files in /sys.
    oneLine(irpscope('report', images.clean, '--out', '/sys/irpscope-report.html'), /permission denied/);
    oneLine(
      irpscope('analyze', images.clean, '--csv', join(images.folder, 'no', 'such', 'tables')),
      /its folder does not exist/,
    );
  });

  test('a named pipe or a device at --out, or at --csv: refused before the analysis, left as it was', () => {
    const special = join(images.folder, 'special');
    mkdirSync(special);
    const fifo = join(special, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const pipe = /: it is a named pipe \(FIFO\), not a (regular file|folder)$/m;
    oneLine(irpscope('report', images.clean, '--out', fifo), pipe);
    // Checked before the image is even opened.
    oneLine(irpscope('report', join(images.folder, 'missing.raw'), '--out', fifo), pipe);
    oneLine(irpscope('extract', images.infected, '--driver', '\\Driver\\Disk', '--out', fifo), pipe);
    oneLine(irpscope('analyze', images.clean, '--csv', fifo), pipe);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    // As root, `report --out /dev/full` once replaced the device node; a node of our own here.
    const device = join(special, 'full');
    if (spawnSync('mknod', [device, 'c', '1', '7']).status === 0) {
      oneLine(
        irpscope('report', images.clean, '--out', device),
        /: it is a character device, not a regular file$/m,
      );
      expect(lstatSync(device).isCharacterDevice()).toBe(true);
    }
    expect(readdirSync(special).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  test('--csv DIR replaces the set of tables as one unit; a folder holding anything else is refused', () => {
    const tables = join(images.folder, 'tables');
    expect(irpscope('analyze', images.clean, '--csv', tables).status).toBe(0);
    const first = readdirSync(tables).sort();
    expect(first).toContain('drivers.csv');
    const before = statSync(join(tables, 'drivers.csv')).ino;
    expect(irpscope('analyze', images.infected, '--csv', tables).status).toBe(0);
    expect(readdirSync(tables).sort()).toEqual(first);
    expect(statSync(join(tables, 'drivers.csv')).ino).not.toBe(before);
    expect(readFileSync(join(tables, 'drivers.csv'), 'utf8')).toContain(
      images.rootkitModule.replace('.sys', ''),
    );
    writeFileSync(join(tables, 'notes.txt'), 'mine');
    oneLine(irpscope('analyze', images.clean, '--csv', tables), /holds more than the tables \(notes\.txt\)/);
    expect(readFileSync(join(tables, 'notes.txt'), 'utf8')).toBe('mine');
  });

  test('a file too large for the limit (as on a full disk) leaves the previous report and no debris', () => {
    const out = join(images.folder, 'kept.json');
    writeFileSync(out, 'the previous report');
    const run = spawnSync(
      'bash',
      [
        '-c',
        `ulimit -f 64; exec ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(join(ROOT, 'src/cli/main.ts'))} report ${JSON.stringify(images.infected)} --format json --out ${JSON.stringify(out)}`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    oneLine(
      { status: run.status, stdout: run.stdout, stderr: run.stderr },
      /larger than this file system or the size limit/,
    );
    expect(readFileSync(out, 'utf8')).toBe('the previous report');
    expect(readdirSync(images.folder).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('image strings reach the terminal neutralised', () => {
  test('extract --driver shows the hostile name escaped, and so does an error quoting a name', () => {
    const out = join(images.folder, 'hostile.sys');
    const run = irpscope('extract', images.infected, '--driver', images.hostileName, '--out', out);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toMatch(HIDDEN);
    expect(run.stdout).toContain('"\'&\\u0007\\u001b[31m');
    const missing = irpscope(
      'extract',
      images.infected,
      '--driver',
      'evil\u202egpj.exe\u0007\u009b2J',
      '--out',
      out,
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).not.toMatch(HIDDEN);
    expect(missing.stderr).toContain('evil\\u202egpj.exe');
  });

  test('a right-to-left override in a driver name: escaped in every text and JSON output, JSON still lossless', () => {
    const out = join(images.folder, 'bidi.sys');
    const runs = [
      irpscope('analyze', bidi.image),
      irpscope('analyze', bidi.image, '--table', 'drivers'),
      irpscope('diff', images.clean, bidi.image),
      irpscope('extract', bidi.image, '--driver', bidi.name, '--out', out),
    ];
    for (const run of runs) {
      expect(run.status === 0 || run.status === 1, run.stderr).toBe(true);
      expect(run.stdout + run.stderr).not.toMatch(HIDDEN);
      expect(run.stdout).toContain("'\\u202e\\u0007");
    }
    const analysis = irpscope('analyze', bidi.image, '--json');
    const diff = irpscope('diff', images.clean, bidi.image, '--json');
    const extraction = irpscope('extract', bidi.image, '--driver', bidi.name, '--out', out, '--json');
    for (const run of [analysis, diff, extraction]) expect(run.stdout).not.toMatch(HIDDEN);
    expect((JSON.parse(analysis.stdout) as AnalysisResult).drivers.map((d) => d.name)).toContain(bidi.name);
    expect((JSON.parse(diff.stdout) as DiffResult).entries.map((e) => e.key)).toContain(bidi.name);
    expect((JSON.parse(extraction.stdout) as { label: string }).label).toContain(bidi.name);
  });
});

/**
 * The image with the headers of the module loaded at `base` replaced by extract's crafted header:
 * e_lfanew 0x1c0, SizeOfOptionalHeader 0, one empty section, SizeOfHeaders 0x200.
 */
function craftedModuleImage(out: string, module: Truth['modules'][number]): void {
  const bytes = readFileSync(images.infected);
  let count = 0;
  for (let page = 0; page + 0x1000 <= bytes.length; page += 0x1000) {
    if (bytes.readUInt16LE(page) !== 0x5a4d) continue;
    const nt = page + bytes.readUInt32LE(page + 0x3c);
    if (nt + 0x58 > page + 0x1000 || bytes.readUInt32LE(nt + 8) !== module.timeDateStamp) continue;
    if (bytes.readUInt32LE(nt + 24 + 0x38) !== module.size) continue;
    bytes.fill(0, page + 0x40, page + 0x1000);
    bytes.writeUInt32LE(0x1c0, page + 0x3c);
    bytes.writeUInt32LE(0x4550, page + 0x1c0);
    bytes.writeUInt16LE(0x14c, page + 0x1c4); // machine x86
    bytes.writeUInt16LE(1, page + 0x1c6); // one section
    bytes.writeUInt16LE(0, page + 0x1d4); // SizeOfOptionalHeader 0
    bytes.writeUInt16LE(0x10b, page + 0x1d8); // the magic, where the empty section's name is
    bytes.writeUInt32LE(module.size, page + 0x1d8 + 0x38);
    bytes.writeUInt32LE(0x200, page + 0x1d8 + 0x3c); // SizeOfHeaders
    count++;
  }
  expect(count).toBe(1);
  writeFileSync(out, bytes);
}

describe('irpscope extract', () => {
  test('a crafted PE header: the memory as it was, with the reason; never a RangeError', () => {
    const crafted = join(images.folder, 'crafted-header.raw');
    const disk = truth.drivers.find((d) => d.name === '\\Driver\\Disk')!;
    const module = truth.modules.find((m) => BigInt(m.base) === BigInt(disk.start))!;
    craftedModuleImage(crafted, module);
    const out = join(images.folder, 'crafted.sys');
    const run = irpscope('extract', crafted, '--module', module.name, '--out', out, '--json');
    expect(run.stderr).not.toMatch(/RangeError|internal error| {4}at /);
    expect(run.status).toBe(0);
    const written = JSON.parse(run.stdout) as { layout: string; notes: string[]; size: number };
    expect(written.layout).toBe('raw');
    expect(written.notes[0]).toMatch(
      /SizeOfOptionalHeader 0 is smaller than the 96 bytes of the PE32 optional header/,
    );
    expect(readFileSync(out).length).toBe(written.size);
  });

  test('writes the hooked driver as a PE file and says what it wrote; misuse is one line, exit 2', () => {
    const out = join(images.folder, 'extracted.sys');
    const disk = truth.drivers.find((d) => d.name === '\\Driver\\Disk')!;
    const module = truth.modules.find((m) => BigInt(m.base) === BigInt(disk.start))!;
    const run = irpscope('extract', images.infected, '--driver', '\\Driver\\Disk', '--out', out, '--json');
    expect(run.status).toBe(0);
    const written = JSON.parse(run.stdout) as {
      schema: string;
      base: string;
      size: number;
      sha256: string;
      layout: string;
      sections: Array<{ name: string }>;
    };
    expect(written.schema).toBe('irpscope-extract/1');
    expect(BigInt(written.base)).toBe(BigInt(module.base));
    expect(written.layout).toBe('pe');
    const file = readFileSync(out);
    expect(file.length).toBe(written.size);
    expect(createHash('sha256').update(file).digest('hex')).toBe(written.sha256);
    expect(file.readUInt32LE(file.readUInt32LE(0x3c) + 8)).toBe(module.timeDateStamp);

    const text = irpscope('extract', images.infected, '--module', module.name, '--out', out);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`SHA-256 ${written.sha256}`);
    for (const args of [[], ['--driver', 'NoSuchDriver'], ['--module', 'a.sys', '--driver', 'b']]) {
      const bad = irpscope('extract', images.infected, ...args, '--out', out);
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(/^irpscope: [^\n]+\n$/);
    }
  });
});

/** The commands of a README code block (`$ ` lines, `\` continued) with the lines each printed. */
function examples(block: string): Array<{ args: string[]; output: string }> {
  const found: Array<{ command: string; output: string[] }> = [];
  let continued = false;
  for (const line of block.split('\n')) {
    const last = found[found.length - 1];
    if (line.startsWith('$ ')) found.push({ command: line.slice(2), output: [] });
    else if (continued && last) last.command += ` ${line.trim()}`;
    else last?.output.push(line);
    continued = line.endsWith('\\');
    if (continued) found[found.length - 1]!.command = found[found.length - 1]!.command.slice(0, -1);
  }
  return found.map((c) => ({
    args: c.command.trim().split(/\s+/),
    output: c.output.join('\n').replace(/\n+$/, ''),
  }));
}

describe('README', () => {
  test('the extract example is what extract prints on the image the README builds, run after run', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### `irpscope extract'));
    const build = /`npm run --silent build-image -- ([^`]+)`/.exec(section)![1]!.split(/\s+/);
    const [extract] = examples(/```\n([\s\S]*?)```/.exec(section)![1]!);
    expect(extract!.args.slice(0, 3)).toEqual(['npx', 'irpscope', 'extract']);
    const folder = mkdtempSync(join(tmpdir(), 'irpscope-readme-'));
    try {
      const built = runIn(folder, 'src/builder/cli.ts', build);
      expect(built.status, built.stderr).toBe(0);
      for (let run = 0; run < 2; run++) {
        const extracted = runIn(folder, 'src/cli/main.ts', extract!.args.slice(2));
        expect(extracted.status, extracted.stderr).toBe(0);
        expect(extracted.stdout).toBe(`${extract!.output}\n`);
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
