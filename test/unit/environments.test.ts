// Each folder's environment, as ESLint enforces it (eslint.config.js): src/core outside node/ and
// src/common run in any JavaScript environment (no Node module, by either name, and nothing from
// src/core/node/); src/core/node/ may use Node; the renderer, the engine and the builder stay
// apart — from files at any depth, not only one folder down.

import { ESLint } from 'eslint';
import { describe, expect, test } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

/** The restricted imports ESLint reports for `code` as the file at `filePath` (it need not exist). */
async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = [imported];\n`, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const importing = (specifier: string) => `import { imported } from '${specifier}';`;

describe('src/core outside node/ runs anywhere', () => {
  test.each([
    ['src/core/kernel/discover.ts', 'node:path'],
    ['src/core/kernel/discover.ts', 'path'],
    ['src/core/profile/isf.ts', 'fs/promises'],
    ['src/core/profile/isf.ts', 'node:fs/promises'],
    ['src/core/extract/pe-rebuild.ts', 'crypto'],
    ['src/core/scan/segments.ts', 'worker_threads'],
    ['src/core/kernel/disasm.ts', 'module'],
    ['src/core/analyze.ts', 'os'],
    ['src/core/analysis/stages/pool-view.ts', 'zlib'],
    ['src/core/profile/isf.ts', '@napi-rs/lzma'],
    ['src/core/kernel/x.ts', 'ws'],
    ['src/core/compare/x.ts', 'bullmq'],
  ])('%s may not import %s', async (file, specifier) => {
    expect(await restricted(file, importing(specifier))).toHaveLength(1);
  });

  test.each([
    ['src/core/analysis/analyze.ts', '../node/scan/scan'],
    ['src/core/analysis/stages/pool-view.ts', '../../node/scan/scan'],
    ['src/core/engine-handle.ts', './node/engine'],
    ['src/core/report/index.ts', '../node/report/pdf'],
  ])('%s may not import %s (src/core/node)', async (file, specifier) => {
    expect(await restricted(file, importing(specifier))).toHaveLength(1);
  });

  test('a type-only import or a re-export of Node is refused too', async () => {
    expect(
      await restricted(
        'src/core/profile/x.ts',
        "import type { Dirent } from 'node:fs';\nconst imported = 1;",
      ),
    ).toHaveLength(1);
    expect(
      await restricted('src/core/profile/x.ts', "export { readFile } from 'fs';\nconst imported = 1;"),
    ).toHaveLength(1);
  });

  test('its own modules and npm packages are fine', async () => {
    expect(await restricted('src/core/kernel/x.ts', importing('../util/bytes'))).toEqual([]);
    expect(await restricted('src/core/analysis/stages/x.ts', importing('../../paging'))).toEqual([]);
    expect(await restricted('src/core/kernel/x.ts', importing('iced-x86'))).toEqual([]);
    expect(await restricted('src/core/kernel/x.ts', importing('../../common/hex'))).toEqual([]);
  });
});

describe('kernel discovery imports nothing built on it', () => {
  test.each([
    ['src/core/kernel/object-manager.ts', '../objects/directory-index'],
    ['src/core/kernel/discover.ts', '../analysis/modules'],
    ['src/core/kernel/discover.ts', '../layout'],
    ['src/core/kernel/x.ts', '../activity/threads'],
  ])('%s may not import %s', async (file, specifier) => {
    expect(await restricted(file, importing(specifier))).toHaveLength(1);
  });

  test('and still may not use Node', async () => {
    expect(await restricted('src/core/kernel/x.ts', importing('node:fs'))).toHaveLength(1);
    expect(await restricted('src/core/kernel/x.ts', importing('../node/analyze'))).toHaveLength(1);
  });

  test('its own modules and the rooms below it are fine', async () => {
    expect(await restricted('src/core/kernel/x.ts', importing('./object-header'))).toEqual([]);
    expect(await restricted('src/core/kernel/x.ts', importing('../paging'))).toEqual([]);
    expect(await restricted('src/core/kernel/x.ts', importing('../profile'))).toEqual([]);
  });
});

describe('src/core/node/ may use Node and the rest of the engine', () => {
  test.each([
    'node:fs',
    'fs',
    'worker_threads',
    '@napi-rs/lzma',
    '../kernel/discover',
    '../../scan/tags',
    './scan/scan',
  ])('imports %s', async (specifier) => {
    expect(await restricted('src/core/node/scan/x.ts', importing(specifier))).toEqual([]);
  });
});

describe('src/common runs anywhere and holds no engine', () => {
  test.each([
    'node:crypto',
    'crypto',
    'util',
    'ioredis',
    '../core/kernel/discover',
    '../core/node/engine',
    '../core',
  ])('may not import %s', async (specifier) => {
    expect(await restricted('src/common/api.ts', importing(specifier))).toHaveLength(1);
  });

  test('imports its own modules', async () => {
    expect(await restricted('src/common/api.ts', importing('./model'))).toEqual([]);
  });
});

describe('the renderer, the engine and the builder stay apart at any depth', () => {
  test.each([
    ['src/renderer/App.tsx', '../core/kernel/discover'],
    ['src/renderer/views/diff/DiffView.tsx', '../../../core/compare'],
    ['src/renderer/views/DriversView.tsx', 'node:path'],
    ['src/renderer/views/DriversView.tsx', 'fs'],
    ['src/renderer/views/DriversView.tsx', 'electron'],
    ['src/core/analysis/stages/x.ts', '../../../renderer/format'],
    ['src/core/kernel/x.ts', '../../main/index'],
    ['src/core/node/x.ts', 'electron'],
    ['src/core/node/capture/x.ts', '../../../builder/cli'],
    ['src/builder/windows/pe.ts', '../../core/kernel/pe'],
  ])('%s may not import %s', async (file, specifier) => {
    expect(await restricted(file, importing(specifier))).toHaveLength(1);
  });
});
