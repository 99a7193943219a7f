// Which build an ISF describes when its PDB is not a known one: inferred from its structure
// layout only when that layout belongs to one build, and refused, naming --build, otherwise. The
// expected builds come from ../shared/README.md's table (ntoskrnl version of each file).

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BuildError } from '../../../src/builder/errors';
import { layoutFromIsf } from '../../../src/builder/layout/from-isf';
import { readIsf, type IsfFile } from '../../../src/builder/layout/isf';
import { KNOWN_LAYOUTS, layoutFeatures } from '../../../src/builder/layout/signatures';
import { ISF_DIR, SHARED } from '../../support/shared';

/** file → build, from the README's "| `<file>` | 10.0.14393.4583 | … |" rows. */
const README_BUILDS = new Map(
  [
    ...readFileSync(join(SHARED, 'README.md'), 'utf8').matchAll(
      /^\| `([0-9A-F]{32}-\d+\.json\.xz)` \| \d+\.\d+\.(\d+)\.\d+ \|/gm,
    ),
  ].map((m) => [m[1]!, Number(m[2])]),
);
const files = readdirSync(ISF_DIR).filter((f) => f.endsWith('.json.xz'));
const isfs = new Map(files.map((file) => [file, readIsf(join(ISF_DIR, file))]));

/** The same symbol table under a PDB identity no one knows. */
function anonymous(isf: IsfFile, changes: (copy: IsfFile) => void = () => {}): IsfFile {
  const copy: IsfFile = structuredClone(isf);
  copy.pdb = { ...copy.pdb, guid: '0123456789ABCDEF0123456789ABCDEF' };
  changes(copy);
  return copy;
}

const isfOfBuild = (build: number) => {
  const file = [...README_BUILDS].find(([, b]) => b === build)![0];
  return isfs.get(file)!;
};

const refusal = (isf: IsfFile): string => {
  try {
    layoutFromIsf(isf);
  } catch (error) {
    expect(error).toBeInstanceOf(BuildError);
    return (error as Error).message;
  }
  throw new Error('the layout was not refused');
};

test('the README names a build for each of the eight ISF files', () => {
  expect(files).toHaveLength(8);
  for (const file of files) expect(README_BUILDS.get(file), file).toBeGreaterThan(7000);
});

describe.each(files)('%s without its PDB identity', (file) => {
  test('infers the build the file describes', () => {
    const layout = layoutFromIsf(anonymous(isfs.get(file)!));
    expect(layout.version.build).toBe(README_BUILDS.get(file));
    expect(layout.version.source).toBe('inferred from structure layouts');
  });

  test("the builder's signature row for it is the file's own layout", () => {
    const build = README_BUILDS.get(file)!;
    const rows = KNOWN_LAYOUTS.filter(
      (k) => k.build === build && k.source.startsWith(`ISF ${file.slice(0, 32)}`),
    );
    expect(rows).toHaveLength(1);
    const features = layoutFeatures(isfs.get(file)!);
    expect(rows[0]!.layout).toEqual(features.layout);
    expect(rows[0]!.sizes).toEqual(features.sizes);
  });
});

test('a 1607 revision (14393 layout, another GUID, another EPROCESS size) is 1607, not 1809', () => {
  // 0x7b0: EPROCESS's size in the 14393 revision V2vt:win10_x64_DD08DD42 describes.
  const revision = anonymous(isfOfBuild(14393), (isf) => {
    isf.userTypes['_EPROCESS']!.size = 0x7b0;
  });
  expect(layoutFromIsf(revision).version.build).toBe(14393);
});

test('a layout 1709, 1803 and 1809 share, with sizes none of them has, is refused naming them and --build', () => {
  const unsure = anonymous(isfOfBuild(17763), (isf) => {
    isf.userTypes['_EPROCESS']!.size = 0x860;
  });
  const message = refusal(unsure);
  for (const build of ['16299', '17134', '17763']) expect(message).toContain(build);
  expect(message).toContain('--build');
});

test('Server 2022 and Windows 11 21H2 layouts are told apart by their KTHREAD, and refused when it matches neither', () => {
  const between = anonymous(isfOfBuild(22000), (isf) => {
    isf.userTypes['_KTHREAD']!.fields['SystemAffinityTokenListHead']!.offset = 0x440;
  });
  const message = refusal(between);
  expect(message).toMatch(/20348.*22000/);
  expect(message).toContain('--build');
});

test('a layout no build has is refused, naming the nearest builds and --build', () => {
  const moved = anonymous(isfOfBuild(19041), (isf) => {
    isf.userTypes['_ETHREAD']!.fields['Cid']!.offset += 0x10;
  });
  const message = refusal(moved);
  expect(message).toMatch(/no build the builder knows \(nearest: 19041/);
  expect(message).toContain('--build');
});

test('--build names the build of a layout that does not settle it, keeping the PDB identity', () => {
  const unsure = anonymous(isfOfBuild(17763), (isf) => {
    isf.userTypes['_EPROCESS']!.size = 0x860;
  });
  const layout = layoutFromIsf(unsure, { build: 17134 });
  expect(layout.version.build).toBe(17134);
  expect(layout.pdb).toMatchObject({ guid: unsure.pdb.guid, synthetic: false });
  expect(layout.variant.kind).toBe('as-described');
});
