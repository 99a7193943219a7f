#!/usr/bin/env node
// Part of npm run bench (run under tsx): how long the engine takes to see through headers and
// tables that claim far more than they hold. The tests check what comes of each (a refusal or a
// bound, with its reason, from the header alone); how fast that is depends on the machine, so it
// is measured here, median of many runs, not asserted. Prints a Markdown table.

import { performance } from 'node:perf_hooks';
import { openImageFromSource } from '../src/core/image/index.ts';
import { BufferSource } from '../src/core/source/index.ts';
import { HOSTILE_HEADERS } from '../test/unit/core/image/hostile-headers.ts';
import { tablesOfThemselves } from '../test/unit/core/paging/memory.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function timed(action, runs) {
  return median(
    Array.from({ length: runs }, () => {
      const started = performance.now();
      action();
      return performance.now() - started;
    }),
  );
}

function open(bytes) {
  try {
    openImageFromSource(new BufferSource(bytes, 'hostile'));
  } catch {
    // A refusal is the expected outcome for some: its time is what is measured.
  }
}

const rows = [
  ['crash dump, NumberOfRuns 0x7fffffff', HOSTILE_HEADERS.hugeRunCount()],
  ['crash dump, bitmap of 0xffffffff bits', HOSTILE_HEADERS.hugeBitmap()],
  ['crash dump, first page inside the bitmap', HOSTILE_HEADERS.firstPageInsideBitmap()],
  ['ELF core, e_phnum 0xfffe', HOSTILE_HEADERS.hugeProgramHeaderCount()],
].map(([what, bytes]) => [what, `${timed(() => open(bytes), RUNS * 40).toFixed(3)} ms to open`]);

const space = tablesOfThemselves();
const walk = timed(() => space.forEachMapping(0n, 1n << 64n, () => undefined), RUNS);
rows.push([
  'x64 page tables whose entries point back at their table',
  `${(walk / 1000).toFixed(2)} s to walk to the default cap (4,194,304 mappings)`,
]);

console.log(
  [
    '| hostile input | figure |',
    '| --- | --- |',
    ...rows.map(([what, figure]) => `| ${what} | ${figure} |`),
  ].join('\n'),
);
