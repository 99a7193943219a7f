// The "Done when": for each real x64 kernel symbol table in ../shared/isf, the built-in
// table for that build gives exactly the ISF's offset, size and bit position/length for every field
// the engine reads, and the same struct sizes. A built-in layout that disagrees is a bug.

import { describe, expect, it } from 'vitest';
import {
  builtinProfile,
  ENGINE_FIELDS,
  isfStruct,
  KDBG_STRUCT,
  OBJECT_HEADER_GENERATION_FIELDS,
  profileFromIsf,
  type FieldLayout,
  type IsfFile,
  type LayoutProfile,
  type StructLayout,
} from '../../../../src/core/profile';
import { loadIsf } from '../../../../src/core/node/profile/isf-load';
import { SHARED_ISFS } from './shared-isf';

const hex = (n: number | undefined) => (n === undefined ? 'none' : `0x${n.toString(16)}`);

function describeField(field: FieldLayout): string {
  const bitsPart = field.bitLength === undefined ? '' : ` bits ${field.bitPosition}+${field.bitLength}`;
  const countPart = field.count === undefined ? '' : ` [${field.count}]`;
  return `@${hex(field.offset)} size ${hex(field.size)}${bitsPart}${countPart}`;
}

function sameField(a: FieldLayout, b: FieldLayout): boolean {
  return (
    a.offset === b.offset &&
    a.size === b.size &&
    a.bitPosition === b.bitPosition &&
    a.bitLength === b.bitLength &&
    a.count === b.count
  );
}

/** Every disagreement between the built-in profile and the ISF, one line per field. */
function disagreements(builtin: LayoutProfile, isf: IsfFile): string[] {
  const problems: string[] = [];
  const isfLayout = (name: string): StructLayout | undefined => isfStruct(isf, name);

  // 1. Everything the built-in table states must be what the ISF says.
  for (const name of builtin.structNames()) {
    if (name === KDBG_STRUCT) continue; // no ISF defines KDDEBUGGER_DATA64 (§1.15)
    const ours = builtin.struct(name);
    const theirs = isfLayout(name);
    if (theirs === undefined) {
      problems.push(`${name}: built-in defines it, ISF does not`);
      continue;
    }
    if (ours.size !== undefined && ours.size !== theirs.size) {
      problems.push(`${name}: sizeof built-in ${hex(ours.size)} vs ISF ${hex(theirs.size)}`);
    }
    for (const [fieldName, field] of Object.entries(ours.fields)) {
      const other = theirs.fields[fieldName];
      if (other === undefined) problems.push(`${name}.${fieldName}: built-in defines it, ISF does not`);
      else if (!sameField(field, other)) {
        problems.push(
          `${name}.${fieldName}: built-in ${describeField(field)} vs ISF ${describeField(other)}`,
        );
      }
    }
  }

  // 2. Every engine field the ISF defines must be in the built-in table.
  for (const [name, fieldNames] of Object.entries(ENGINE_FIELDS)) {
    const theirs = isfLayout(name);
    if (theirs === undefined) continue;
    if (!builtin.hasStruct(name)) {
      problems.push(`${name}: ISF defines it, built-in does not`);
      continue;
    }
    const wanted =
      name === '_OBJECT_HEADER'
        ? [...fieldNames, ...Object.values(OBJECT_HEADER_GENERATION_FIELDS).flat()]
        : fieldNames;
    for (const fieldName of wanted) {
      if (theirs.fields[fieldName] !== undefined && !builtin.hasField(name, fieldName)) {
        problems.push(`${name}.${fieldName}: ISF defines it, built-in does not`);
      }
    }
  }
  return problems;
}

describe('built-in x64 tables agree with the real ISF symbol tables', () => {
  for (const shared of SHARED_ISFS) {
    it(`${shared.version} (${shared.guid}-${shared.age})`, async () => {
      const isf = await loadIsf(shared.file);
      expect(isf.pdb).toMatchObject({ name: 'ntkrnlmp.pdb', guid: shared.guid, age: shared.age });
      expect(isf.arch).toBe('x64');

      const builtin = builtinProfile('x64', shared.build);
      expect(builtin.source).toMatchObject({
        kind: 'builtin',
        table: shared.table,
        tableBuild: shared.build,
      });
      expect(disagreements(builtin, isf)).toEqual([]);

      // §1.15 constant: KdVersionBlock in the KPCR.
      expect(isfStruct(isf, '_KPCR')?.fields['KdVersionBlock']?.offset).toBe(
        builtin.kdbg.kpcrKdVersionBlockOffset,
      );

      // The ISF profile derives the same version facts from the file alone (plus the build).
      const fromIsf = profileFromIsf(isf, { build: shared.build });
      expect(fromIsf.objectHeader).toEqual(builtin.objectHeader);
      expect(fromIsf.pool).toEqual(builtin.pool);
      expect(fromIsf.kdbg).toEqual(builtin.kdbg);
      expect(fromIsf.process).toEqual(builtin.process);
      expect(fromIsf.sharedData).toEqual(builtin.sharedData);
    });
  }
});

describe('profileFromIsf', () => {
  const SYMBOLS = [
    'IopInvalidDeviceRequest',
    'ObpRootDirectoryObject',
    'PsLoadedModuleList',
    'PsActiveProcessHead',
    'ObTypeIndexTable',
    'KdDebuggerDataBlock',
    'KiWaitNever',
    'KiWaitAlways',
    'KdpDataBlockEncoded',
    'IoDriverObjectType',
    'NtWriteFile',
  ];

  for (const shared of SHARED_ISFS) {
    it(`${shared.build}: exact layouts, symbol RVAs and the KDBG fallback`, async () => {
      const isf = await loadIsf(shared.file);
      const profile = profileFromIsf(isf, { build: shared.build });
      expect(profile.id).toBe(`isf:ntkrnlmp.pdb/${shared.guid}-1`);
      expect(profile.source).toEqual({
        kind: 'isf',
        path: shared.file,
        pdbName: 'ntkrnlmp.pdb',
        guid: shared.guid,
        age: 1,
        fallbackTable: shared.table,
        fallbackFor: ['_KDDEBUGGER_DATA64', 'kdbg.size', 'process.dispatcherSignature'],
      });
      expect(profile.arch).toBe('x64');
      expect(profile.pointerSize).toBe(8);

      for (const name of SYMBOLS) expect(profile.symbol(name), name).toBeTypeOf('number');
      expect(profile.symbol('NoSuchKernelSymbol')).toBeUndefined();
      expect(profile.symbol('toString')).toBeUndefined();
      // §1.8.4: the cookie exists from Windows 10 on.
      expect(profile.symbol('ObHeaderCookie') !== undefined).toBe(shared.build >= 9841);
      expect(profile.symbol('PsLoadedModuleList')).toBe(isf.symbols['PsLoadedModuleList']?.address);

      // The ISF's own layout (every field), e.g. _OBJECT_HEADER 0x38 with Body at 0x30.
      expect(profile.sizeOf('_OBJECT_HEADER')).toBe(0x38);
      expect(profile.field('_OBJECT_HEADER', 'Body')).toEqual({ offset: 0x30, size: 8 });
      expect(profile.field('_OBJECT_HEADER', 'Lock').offset).toBe(0x10);
      expect(profile.sizeOf('_EPROCESS')).toBe(isf.userTypes['_EPROCESS']?.size);
      // Every ISF has _LDR_DATA_TABLE_ENTRY; _KLDR_DATA_TABLE_ENTRY only from 14393 on.
      expect(profile.hasStruct('_LDR_DATA_TABLE_ENTRY')).toBe(true);
      expect(profile.hasStruct('_KLDR_DATA_TABLE_ENTRY')).toBe(shared.build >= 14393);

      // KDBG comes from the built-in table of the build.
      expect(profile.struct(KDBG_STRUCT)).toEqual(builtinProfile('x64', shared.build).struct(KDBG_STRUCT));
      expect(profile.structNames()).toContain(KDBG_STRUCT);
      expect(() => profile.struct('_NO_SUCH_TYPE')).toThrow(
        /isf:ntkrnlmp\.pdb.*unknown structure _NO_SUCH_TYPE/,
      );
    });
  }

  it('rejects a build older than any table and an invalid build', async () => {
    const isf = await loadIsf(SHARED_ISFS[0]?.file ?? '');
    expect(() => profileFromIsf(isf, { build: 2195 })).toThrow(/no built-in x64 layout for build 2195/);
    expect(() => profileFromIsf(isf, { build: Number.NaN })).toThrow(/invalid Windows build/);
  });
});
