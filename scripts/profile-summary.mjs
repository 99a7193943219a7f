#!/usr/bin/env node
// Where a run's time went, from the V8 CPU profile Node writes with --cpu-prof:
//   node --cpu-prof --cpu-prof-dir=.cache/prof out/node/cli.js info image.raw --json > /dev/null
//   node scripts/profile-summary.mjs .cache/prof/*.cpuprofile [--top 25] [--under findKdbg]
// Prints the functions with the most time including what they call (a function counted once per
// sample however deep it recurses); --under NAME keeps only the time spent below frames of NAME.
// With worker threads, Node writes one profile per thread: the main thread's is the largest.

import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const [value] = args.splice(at, 2).slice(1);
  return value;
};
const top = Number(option('--top', '25'));
const under = option('--under', null);
if (args.length === 0) {
  console.error('usage: profile-summary.mjs FILE.cpuprofile... [--top N] [--under FUNCTION]');
  process.exit(2);
}

for (const file of args) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const sampled = new Map();
  profile.samples.forEach((id, i) => sampled.set(id, (sampled.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const label = ({ callFrame: f }) =>
    `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  const inclusive = new Map();
  let total = 0;
  for (const [id, micros] of sampled) {
    const chain = [];
    for (let at = id; at !== undefined; at = parent.get(at)) chain.push(nodes.get(at));
    const start = under === null ? chain.length : chain.findIndex((n) => n.callFrame.functionName === under);
    if (start < 0) continue;
    total += micros;
    for (const name of new Set(chain.slice(0, start).map(label)))
      inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
  }
  console.log(`${file}: ${(total / 1000).toFixed(1)} ms sampled${under ? ` under ${under}` : ''}`);
  for (const [name, micros] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(micros / 1000).toFixed(1).padStart(9)} ms  ${name}`);
}
