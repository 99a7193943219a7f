// The seed corpora of the fuzz targets that are not whole images (test/fuzz/seeds.ts). The QMP
// transcripts were recorded from real captures (record-qmp.ts): replayed, each ends as its live
// capture ended, having sent the same commands. The crafted PE headers each reach the edge they
// are named after. The JSON trees the case-file mutations edit write out the document they read.

import { describe, expect, it } from 'vitest';
import { replayQmpCapture } from '../../src/core/node/capture/replay';
import { parsePeHeaders } from '../../src/core/kernel/pe';
import { JsonEdits, MAX_REPEATED, parseTree, writeTree } from '../fuzz/json-edits';
import { runPeHeaders } from '../fuzz/targets-bytes';
import { CONNECTION_BREAK, craftedPeSeeds, readQmpSeedFiles, transcriptBytes } from '../fuzz/seeds';
import { ROOT } from '../support/shared';

describe('the recorded QMP transcripts', () => {
  const files = readQmpSeedFiles(ROOT);

  it.each(files)('$name replays as the live capture went', async ({ file }) => {
    const outcome = await replayQmpCapture(transcriptBytes(file), file.options);
    const kind = outcome.error?.kind ?? 'result';
    // Where the peer ended a connection the transcript has a line that is not QMP: the replay
    // breaks the connection there, as the capture breaks a connection that sends one.
    const peerEnded = file.lines.includes(CONNECTION_BREAK);
    expect(kind).toBe(peerEnded && file.live.kind === 'disconnected' ? 'not-qmp' : file.live.kind);
    // The replay's clock counts commands and the waits' bounds, not real time: a dump that never
    // progresses is given up after another number of polls. Every other dialogue is the same.
    const polled = /no progress for/.test(outcome.error?.message ?? '');
    if (!polled) expect(outcome.commands).toEqual(file.commands);
    else expect(outcome.commands.slice(0, 7)).toEqual(file.commands.slice(0, 7));
  });

  it('reach every ending the capture tests cover, from a real QEMU and from misbehaving peers', () => {
    const endings = new Set(files.map(({ file }) => file.live.kind));
    for (const kind of [
      'result',
      'not-qmp',
      'disconnected',
      'timeout',
      'cancelled',
      'qmp-error',
      'dump-failed',
      'resume-failed',
    ])
      expect(endings, kind).toContain(kind);
    expect(files.filter(({ file }) => file.source.startsWith('QEMU')).length).toBeGreaterThanOrEqual(3);
  });
});

describe('the crafted PE headers', () => {
  const seeds = new Map(craftedPeSeeds().map((seed) => [seed.key.replace(/^crafted:/, ''), seed.bytes]));
  const reason = (name: string) => {
    const parsed = parsePeHeaders(seeds.get(name)!);
    return parsed.ok ? `parsed, ${parsed.headers.sections.length} sections` : parsed.reason;
  };

  it('reach the edges they are named after', () => {
    expect(reason('pe32+')).toBe('parsed, 2 sections');
    expect(reason('pe32')).toBe('parsed, 2 sections');
    expect(reason('e_lfanew-at-the-end')).toMatch(
      /e_lfanew 0xffc puts the NT headers outside the 4096 bytes/,
    );
    expect(reason('file-header-at-the-end')).toMatch(
      /optional header magic|SizeOfOptionalHeader|section table/,
    );
    expect(reason('optional-header-size-0')).toMatch(/SizeOfOptionalHeader 0 is smaller/);
    expect(reason('section-table-past-the-end')).toMatch(/section table .* runs past/);
    expect(reason('huge-section-count')).toMatch(/65535 sections: more than the loader's 96/);
    // The builder's NT headers at 0xe8: the PE32+ section table starts at 0xe8 + 4 + 20 + 0xf0.
    const fit = Math.floor((0x1000 - (0xe8 + 4 + 20 + 0xf0)) / 40);
    expect(reason('most-sections-in-a-page')).toBe(`parsed, ${fit} sections`);
    expect(reason('loader-limit-of-sections')).toBe('parsed, 96 sections');
    expect(reason('one-past-the-loader-limit')).toMatch(/97 sections/);
    expect(reason('no-sections')).toBe('parsed, 0 sections');
    expect(reason('dos-header-only')).toMatch(/e_lfanew .* outside the 64 bytes/);
    expect(reason('directory-count-huge')).toBe('parsed, 2 sections');
    expect(parsePeHeaders(seeds.get('directory-count-huge')!)).toMatchObject({
      ok: true,
      headers: { directories: { length: 16 } },
    });
  });

  it('each ends in a result or a reason, never a crash, parsed and rebuilt', () => {
    for (const [name, bytes] of seeds)
      for (const memory of ['zero', 'absent', 'mixed', 'repeated'] as const)
        expect(runPeHeaders(bytes, 0xfffff80012340000n, memory).status, `${name}, ${memory}`).not.toBe(
          'crash',
        );
  });
});

describe('the JSON trees of the case-file mutations', () => {
  const text = JSON.stringify({
    schema: 'irpscope-case/2',
    annotations: { 'driver:0x1': { status: null, note: 'a\u0007b' } },
    list: [1, 2.5, -0, 'x', true, null, { deep: [[[]]] }],
  });

  it('write out unedited what JSON.stringify writes', () => {
    const tree = parseTree(text)!;
    expect(writeTree(tree.root, new JsonEdits())).toBe(JSON.stringify(JSON.parse(text)));
  });

  it('keep a key twice and a "__proto__" key as text, which JSON.parse reads as own data', () => {
    const tree = parseTree(text)!;
    const edits = new JsonEdits();
    edits.add(tree.root, '"schema":"irpscope-case/1"');
    edits.add(tree.root, '"__proto__":{"polluted":"yes"}');
    const written = writeTree(tree.root, edits);
    expect(written.match(/"schema"/g)).toHaveLength(2);
    const parsed = JSON.parse(written) as Record<string, unknown>;
    expect(parsed.schema).toBe('irpscope-case/1');
    expect(Object.getOwnPropertyNames(parsed)).toContain('__proto__');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it('drop, rename and repeat entries where the edits say', () => {
    const tree = parseTree(text)!;
    const edits = new JsonEdits();
    const list = tree.root.entries!.find((e) => e.key === 'list')!.value;
    edits.drop(list, 0);
    edits.repeat(list, 3, 2);
    edits.rename(tree.root, 0, '"Schema"');
    const parsed = JSON.parse(writeTree(tree.root, edits)) as { Schema: string; list: unknown[] };
    expect(parsed.Schema).toBe('irpscope-case/2');
    expect(parsed.list).toEqual([2.5, 0, 'x', 'x', 'x', true, null, { deep: [[[]]] }]);
  });

  it('repeat an item only as far as MAX_REPEATED of its text, as other edits made it', () => {
    // A megabyte string put into an item repeated 10,000 times made a string V8 cannot hold.
    const tree = parseTree(text)!;
    const edits = new JsonEdits();
    const list = tree.root.entries!.find((e) => e.key === 'list')!.value;
    edits.replace(list.items![3]!, JSON.stringify('y'.repeat(1 << 20)));
    edits.repeat(list, 3, 10_000);
    const parsed = JSON.parse(writeTree(tree.root, edits)) as { list: unknown[] };
    const copies = parsed.list.filter((item) => item === 'y'.repeat(1 << 20)).length;
    expect(copies).toBe(1 + Math.floor(MAX_REPEATED / ((1 << 20) + 2)));
  });
});
