#!/usr/bin/env node
// A long fuzz run: `npm run fuzz [-- --seed S --mutants N]` runs the fuzz suite
// (test/integration/engine/fuzz.test.ts) with N seeded mutants (default 2000) instead of its
// small fixed sample. A failing mutant's name says how to reproduce it (same seed, same count).
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 100000) },
    mutants: { type: 'string', default: '2000' },
  },
});
process.stdout.write(`fuzz: seed ${values.seed}, ${values.mutants} mutants\n`);
const child = spawnSync('npx', ['vitest', 'run', 'test/integration/engine/fuzz.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, IRPSCOPE_FUZZ_SEED: values.seed, IRPSCOPE_FUZZ_MUTANTS: values.mutants },
});
process.exit(child.status ?? 1);
