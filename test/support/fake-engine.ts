// Kept for the e2e suite and scripts/screenshots.mjs, which still name this path: the engine the
// tests run is recorded-engine.ts (the real engine, recorded, with failures on request).
export { openEngine } from './recorded-engine';
