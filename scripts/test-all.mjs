#!/usr/bin/env node
// Runs every check and test suite in order and ends with one line "N passed, N failed" that sums
// them all (static checks count as one test each). Before it, each suite's passed, failed and
// skipped tests, the test files that failed to load (each one fails the run), and the suites or
// projects that did not run, with why. Exit code is non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const results = [];
const notRun = [];
const cacheDir = '.cache/test-results';
mkdirSync(cacheDir, { recursive: true });

function run(label, command, args) {
  process.stdout.write(`\n== ${label}: ${command} ${args.join(' ')}\n`);
  const child = spawnSync(command, args, { stdio: 'inherit', shell: false });
  return child.status === 0;
}

function check(label, command, args) {
  const ok = run(label, command, args);
  results.push({ label, passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0, loadFailures: [] });
}

/** A suite whose runner failed without saying which test failed counts one failure of its own. */
function unexplained(ok, failed, loadFailures) {
  return !ok && failed === 0 && loadFailures.length === 0 ? 1 : 0;
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
    results.push({
      label,
      passed: 0,
      failed: 1,
      skipped: 0,
      loadFailures: ['(no report: the runner did not finish)'],
    });
    return;
  }
  const report = JSON.parse(readFileSync(out, 'utf8'));
  // A file that fails to load (a syntax or import error) has no test results, only a message.
  const loadFailures = report.testResults
    .filter((file) => file.status === 'failed' && file.assertionResults.length === 0)
    .map((file) => file.name.replace(`${process.cwd()}/`, ''));
  const failed = report.numFailedTests + loadFailures.length;
  results.push({
    label,
    passed: report.numPassedTests,
    failed: failed + unexplained(ok, failed, loadFailures),
    skipped: report.numPendingTests + report.numTodoTests,
    loadFailures,
  });
}

function electronBinary() {
  const module = join(process.cwd(), 'node_modules', 'electron');
  const pathFile = join(module, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(module, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

function e2eSuite() {
  const out = `${cacheDir}/e2e.json`;
  rmSync(out, { force: true });
  if (!electronBinary())
    notRun.push(
      'e2e project "electron": no Electron binary is installed (it cannot be downloaded here); the specs ran in Chromium only',
    );
  const ok = run('e2e', 'npx', ['playwright', 'test']);
  if (!existsSync(out)) {
    results.push({
      label: 'e2e',
      passed: 0,
      failed: 1,
      skipped: 0,
      loadFailures: ['(no report: Playwright did not finish)'],
    });
    return;
  }
  const report = JSON.parse(readFileSync(out, 'utf8'));
  const stats = report.stats;
  const loadFailures = (report.errors ?? []).map((e) => (e.message ?? String(e)).split('\n')[0]);
  const failed = stats.unexpected + loadFailures.length;
  results.push({
    label: 'e2e',
    passed: stats.expected + (stats.flaky ?? 0),
    failed: failed + unexplained(ok, failed, loadFailures),
    skipped: stats.skipped,
    loadFailures,
  });
}

check('typecheck', 'npm', ['run', '--silent', 'typecheck']);
check('lint', 'npm', ['run', '--silent', 'lint']);
check('format', 'npm', ['run', '--silent', 'format:check']);
vitestSuite('unit+integration', 'vitest.config.ts');
if (!existsSync('playwright.config.ts')) notRun.push('e2e: no playwright.config.ts');
else if (process.env.IRPSCOPE_SKIP_E2E === '1') notRun.push('e2e: IRPSCOPE_SKIP_E2E=1');
else e2eSuite();

console.log('\n== summary');
for (const r of results) {
  console.log(`  ${r.label.padEnd(18)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  for (const file of r.loadFailures) console.log(`    failed to load: ${file}`);
}
for (const reason of notRun) console.log(`  not run: ${reason}`);
const sum = (key) => results.reduce((n, r) => n + r[key], 0);
const loadFailures = results.reduce((n, r) => n + r.loadFailures.length, 0);
console.log(
  `  ${sum('skipped')} skipped, ${loadFailures} test file${loadFailures === 1 ? '' : 's'} failed to load`,
);
console.log(`${sum('passed')} passed, ${sum('failed')} failed`);
process.exit(sum('failed') === 0 ? 0 : 1);
