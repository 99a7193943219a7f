// One build for both shells: the Electron main process with every worker thread it starts (each
// emitted beside it so siblingWorker/startWorker find them), the sandboxed preload (CommonJS,
// as Electron's sandbox requires), and the renderer — which the web server serves as well.

import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;
const at = (path: string): string => resolve(root, path);

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      sourcemap: true,
      rollupOptions: {
        input: {
          index: at('src/main/index.ts'),
          server: at('src/server/index.ts'),
          'session-worker': at('src/backend/session-worker.ts'),
          'builder-worker': at('src/backend/builder-worker.ts'),
          engine: at('src/core/node/engine.ts'),
          // The pool scan's worker thread, beside the engine bundle that starts it (siblingWorker).
          'scan-worker': at('src/core/node/scan/scan-worker.ts'),
        },
        output: {
          format: 'es',
          entryFileNames: '[name].js',
          // Shared code stays in the same folder, so workers started from it are still siblings.
          chunkFileNames: 'chunk-[hash].js',
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: at('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: at('src/renderer'),
    base: './',
    plugins: [react()],
    worker: { format: 'es' },
    build: {
      outDir: at('out/renderer'),
      emptyOutDir: true,
      sourcemap: false,
      minify: true,
      chunkSizeWarningLimit: 6000,
      rollupOptions: { input: { index: at('src/renderer/index.html') } },
    },
  },
});
