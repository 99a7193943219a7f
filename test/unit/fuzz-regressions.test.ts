// Every crash the fuzz campaign found in a target fed seeds of its own (PE headers, QMP replies,
// case files), replayed from its saved bytes: each must now end in a result or the target's
// documented refusal. (Crashes in the image targets replay over their base images:
// test/integration/engine/fuzz-regressions.test.ts.) Then, per defect found, what now holds.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { visibleText } from '../../src/common/visible-text';
import { replayQmpCapture } from '../../src/core/node/capture/replay';
import { savedInput } from '../fuzz/load';
import { isBytesTarget } from '../fuzz/mutate';
import { readQmpSeedFiles, transcriptBytes, type QmpSeedFile } from '../fuzz/seeds';
import { runInput } from '../fuzz/targets';
import type { SerialInput } from '../fuzz/worker';
import { ROOT } from '../support/shared';

const FOLDER = join(ROOT, 'test/fuzz/regressions');
const saved = readdirSync(FOLDER)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({
    file,
    crash: JSON.parse(readFileSync(join(FOLDER, file), 'utf8')) as {
      outcome: { message: string };
      minimized: SerialInput;
    },
  }))
  .filter(({ crash }) => isBytesTarget(crash.minimized.target));

describe('fuzz regressions of the targets fed seeds of their own', () => {
  test.each(saved)('$file', async ({ crash }) => {
    const outcome = await runInput(undefined, savedInput(crash.minimized, { list: [] }), {
      cli: '',
      scratch: '/tmp',
      timeoutMs: 60_000,
    });
    expect(outcome.status, `${crash.outcome.message} → ${outcome.message ?? ''}`).not.toBe('crash');
  });
});

/** A recorded transcript with one of its lines replaced. */
function edited(name: string, edit: (lines: string[]) => string[]): QmpSeedFile {
  const file = readQmpSeedFiles(ROOT).find((f) => f.name === name)!.file;
  return { ...file, lines: edit([...file.lines]) };
}

async function messageOf(file: QmpSeedFile): Promise<string> {
  const outcome = await replayQmpCapture(transcriptBytes(file), file.options);
  expect(outcome.error).not.toBeNull();
  return outcome.error!.message;
}

describe("a QMP peer's text in a capture's error is one visible line", () => {
  test('an error reply whose description breaks lines (crash-11-522)', async () => {
    // cont refused after a good dump, with QEMU's reason on two lines.
    const file = edited('cont-refused', (lines) => [
      ...lines.slice(0, -1),
      '{"error": {"class": "GenericError", "desc": "Resetting the VM\\nis required\\r\\u2028now"}}',
    ]);
    const message = await messageOf(file);
    expect(message).toBe(visibleText(message));
    expect(message).toContain('Resetting the VM\\u000ais required\\u000d\\u2028now');
  });

  test('a DUMP_COMPLETED event whose error breaks lines, or is long and all controls', async () => {
    const failing = (error: string) =>
      edited('qemu-disk-full', (lines) =>
        lines.map((line) =>
          line.includes('"DUMP_COMPLETED"')
            ? JSON.stringify({ event: 'DUMP_COMPLETED', data: { result: { status: 'failed' }, error } })
            : line,
        ),
      );
    const twoLines = await messageOf(failing('dump: failed\nto save memory'));
    expect(twoLines).toBe(visibleText(twoLines));
    expect(twoLines).toContain('QEMU could not write the dump: dump: failed\\u000ato save memory');
    const bells = await messageOf(failing('\u0007'.repeat(4096)));
    expect(bells).toBe(visibleText(bells));
    expect(bells.length).toBeLessThanOrEqual(8192);
    expect(bells).toMatch(/^QEMU could not write the dump: (\\u0007)+…/);
  });

  test('a dump status nobody knows, with a line separator and a right-to-left override', async () => {
    const file = edited('unknown-dump-status', (lines) =>
      lines.map((line) => line.replace('paused-forever', 'paused\\u2028forever\\u202e')),
    );
    const message = await messageOf(file);
    expect(message).toBe(visibleText(message));
    expect(message).toContain('unknown status "paused\\u2028forever\\u202e"');
  });
});
