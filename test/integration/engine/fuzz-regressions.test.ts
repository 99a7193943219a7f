// Every crash the fuzz campaign (npm run fuzz) found in an image target, replayed with its
// minimized input: the saved patches over the same base image, against the same entry point. Each
// must now end in a result or a clear ImageError. The base images are built as the campaign builds
// them. (The other targets' crashes replay without images: test/unit/fuzz-regressions.test.ts.)

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { layouts, prepareCorpus } from '../../fuzz/corpus';
import { savedInput } from '../../fuzz/load';
import { isBytesTarget } from '../../fuzz/mutate';
import { runInput } from '../../fuzz/targets';
import type { SerialInput } from '../../fuzz/worker';
import { ROOT } from '../../support/shared';

const FOLDER = join(ROOT, 'test/fuzz/regressions');
const saved = readdirSync(FOLDER)
  .filter((f) => f.endsWith('.json'))
  .map((file) => {
    const crash = JSON.parse(readFileSync(join(FOLDER, file), 'utf8')) as {
      outcome: { message: string };
      minimized: SerialInput;
    };
    return { file, crash };
  })
  .filter(({ crash }) => !isBytesTarget(crash.minimized.target));

describe('fuzz regressions', () => {
  test('there are saved crashes to replay', () => {
    expect(saved.length).toBeGreaterThan(0);
  });

  test.each(saved)(
    '$file',
    async ({ crash }) => {
      const input = crash.minimized;
      const available = layouts(ROOT).available.filter((l) => input.base.startsWith(`${l.key}-`));
      expect(available.length, `the base ${input.base} can be built here`).toBeGreaterThan(0);
      const [base] = prepareCorpus(ROOT, join(ROOT, '.cache/fuzz'), available, [input.base]);
      const outcome = await runInput(base!, savedInput(input, { list: [base!] }), {
        cli: join(ROOT, 'bin/irpscope.mjs'),
        scratch: '/tmp',
        timeoutMs: 60_000,
      });
      expect(outcome.status, `${crash.outcome.message} → ${outcome.message ?? ''}`).not.toBe('crash');
    },
    120_000,
  );
});
