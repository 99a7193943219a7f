import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { builtinModules } from 'node:module';

/** A relative import of a file in a folder named `folder` (`../core/x`, `../../core`, `./core/x`). */
const pathInto = (folder) => `^(\\.{1,2}/)+(.*/)?${folder}(/|$)`;

const runsAnywhere =
  'This code runs in any JavaScript environment: Node-only code belongs in src/core/node/.';
/** Node's own modules by their bare names (fs, path, worker_threads, fs/promises…). */
const nodeModules = builtinModules
  .filter((name) => !name.startsWith('_'))
  .map((name) => ({ name, message: runsAnywhere }));
/** npm packages that exist only on Node (native bindings, sockets, Redis). */
const nodeOnlyPackages = ['@napi-rs/lzma', 'ws', 'bullmq', 'ioredis'].map((name) => ({
  name,
  message: runsAnywhere,
}));
/** Imports by name that need Node: its built-in modules and the Node-only packages. */
const nodeOnly = [...nodeModules, ...nodeOnlyPackages];
const nodeScheme = { regex: '^node:', message: runsAnywhere };
const intoNodeRoom = {
  regex: pathInto('node'),
  message: 'Only src/core/node/ imports src/core/node/: the rest of the engine runs without Node.',
};
const noUi = {
  regex: `${pathInto('(renderer|main|builder)')}|^(electron|react|react-dom)(/|$)`,
  message: 'src/core must stay free of UI, Electron and the builder.',
};

export default tseslint.config(
  { ignores: ['node_modules', 'out', 'dist', 'coverage', '.cache', 'test-results'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      'no-restricted-syntax': [
        'error',
        {
          // hex(value, width): map would pass each element's index as the width ("0x00", "0x000").
          selector: "CallExpression[callee.property.name='map'] > Identifier.arguments[name='hex']",
          message: 'map passes the index as hex’s width: write .map((v) => hex(v)).',
        },
      ],
    },
  },
  {
    // The engine is pure TypeScript: no UI, no Electron, no DOM (../shared/DESIGN.md); outside
    // src/core/node/ it runs in any JavaScript environment, so it uses no Node module either.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/node/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: nodeOnly, patterns: [noUi, nodeScheme, intoNodeRoom] }],
    },
  },
  {
    // Kernel discovery is the ground the object readers and analyses stand on: it reads what it
    // needs itself (object headers, directories, the loader list), so no arrow runs back up.
    files: ['src/core/kernel/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeOnly,
          patterns: [
            noUi,
            nodeScheme,
            intoNodeRoom,
            {
              regex: pathInto('(objects|activity|callbacks|analysis|layout|extract|compare|report)'),
              message: 'src/core/kernel/ is discovery: the rooms built on it may import it, not the reverse.',
            },
          ],
        },
      ],
    },
  },
  {
    // src/core/node/: the engine's parts that need Node (files, worker threads, sockets, processes).
    files: ['src/core/node/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noUi] }] },
  },
  {
    // The contract between processes, shared with the renderer: it runs anywhere and holds no engine.
    files: ['src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeOnly,
          patterns: [
            nodeScheme,
            {
              regex: pathInto('core'),
              message: 'src/common is the contract; the engine (src/core) implements it.',
            },
          ],
        },
      ],
    },
  },
  {
    // The builder writes images from published layouts; it must not borrow the engine's assumptions.
    files: ['src/builder/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: pathInto('core'), message: 'The builder must stay independent of the engine.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: nodeOnly,
          patterns: [
            {
              regex: `${pathInto('core')}|^node:|^electron(/|$)`,
              message: 'The renderer reaches the engine only through src/common/api.ts.',
            },
          ],
        },
      ],
    },
  },
);
