import { join } from 'node:path';

export const ROOT = process.cwd();
/** Shared with npm run screenshots: the demo case is built there once. */
export const DATA = join(ROOT, '.cache', 'irpscope-data');
export const DEMO = join(DATA, 'demo', 'win7-sp1-x86-seed1-64M-boots');
export const SERVER_BUNDLE = join(ROOT, 'out', 'main', 'server.js');
export const RECORDED_ENGINE = join(ROOT, 'test', 'support', 'recorded-engine.ts');
