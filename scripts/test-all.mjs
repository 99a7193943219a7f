#!/usr/bin/env node
// Runs every check and test suite in order and ends with one line "N passed, N failed"
// that sums them all (static checks count as one test each). Exit code is non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const results = [];
const cacheDir = '.cache/test-results';
mkdirSync(cacheDir, { recursive: true });

function run(label, command, args) {
  process.stdout.write(`\n== ${label}: ${command} ${args.join(' ')}\n`);
  const child = spawnSync(command, args, { stdio: 'inherit', shell: false });
  return child.status === 0;
}

function check(label, command, args) {
  const ok = run(label, command, args);
  results.push({ label, passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
}

function vitestSuite(label, config) {
  const out = `${cacheDir}/${label}.json`;
  rmSync(out, { force: true });
  const ok = run(label, 'npx', [
    'vitest',
    'run',
    '--config',
    config,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  if (!existsSync(out)) {
    results.push({ label, passed: 0, failed: 1 });
    return;
  }
  const report = JSON.parse(readFileSync(out, 'utf8'));
  const failed = report.numFailedTests + (ok || report.numFailedTests > 0 ? 0 : 1);
  results.push({ label, passed: report.numPassedTests, failed });
}

check('typecheck', 'npm', ['run', '--silent', 'typecheck']);
check('lint', 'npm', ['run', '--silent', 'lint']);
check('format', 'npm', ['run', '--silent', 'format:check']);
vitestSuite('unit+integration', 'vitest.config.ts');
if (existsSync('playwright.config.ts') && process.env.IRPSCOPE_SKIP_E2E !== '1') {
  const out = `${cacheDir}/e2e.json`;
  rmSync(out, { force: true });
  const ok = run('e2e', 'npx', ['playwright', 'test']);
  if (existsSync(out)) {
    const stats = JSON.parse(readFileSync(out, 'utf8')).stats;
    results.push({
      label: 'e2e',
      passed: stats.expected,
      failed: stats.unexpected + (ok ? 0 : stats.unexpected ? 0 : 1),
    });
  } else {
    results.push({ label: 'e2e', passed: 0, failed: 1 });
  }
}

console.log('\n== summary');
for (const r of results) console.log(`  ${r.label.padEnd(18)} ${r.passed} passed, ${r.failed} failed`);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
