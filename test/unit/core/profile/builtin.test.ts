// Built-in tables: build resolution, completeness, and the spec's x86 (and non-ISF x64) values.
// "§" = ../shared/spec/windows-memory.md; each table of expectations names the spec row it copies.

import { describe, expect, it } from 'vitest';
import {
  builtinCandidates,
  builtinProfile,
  listBuiltinTables,
  missingEngineFields,
  ProfileError,
  resolveBuiltinTable,
  type Arch,
} from '../../../../src/core/profile';

const tableOf = (arch: Arch, build: number, servicePack?: number) => {
  const source = builtinProfile(arch, build, servicePack === undefined ? {} : { servicePack }).source;
  if (source.kind !== 'builtin') throw new Error('expected a built-in source');
  return source.table;
};

describe('build resolution', () => {
  it('uses the exact table when one exists', () => {
    expect(tableOf('x64', 19041)).toBe('x64-10-19041');
    expect(tableOf('x86', 2600)).toBe('x86-xp');
    expect(tableOf('x64', 22000)).toBe('x64-11-22000');
  });

  it('resolves a build between two tables to the nearest lower one and says so', () => {
    const profile = builtinProfile('x64', 19045);
    expect(profile.build).toBe(19045);
    expect(profile.source).toMatchObject({ table: 'x64-10-19041', tableBuild: 19041, requestedBuild: 19045 });
    expect(tableOf('x64', 7601)).toBe('x64-7-sp1');
    expect(tableOf('x86', 7601)).toBe('x86-7-sp1');
    expect(tableOf('x64', 9599)).toBe('x64-8');
    expect(tableOf('x86', 10000)).toBe('x86-10-9841');
    expect(tableOf('x64', 20347)).toBe('x64-10-19041');
  });

  it('resolves a build above the newest table to the newest', () => {
    expect(builtinProfile('x64', 26100).source).toMatchObject({
      table: 'x64-11-22000',
      requestedBuild: 26100,
    });
    expect(tableOf('x86', 22621)).toBe('x86-10-19041');
  });

  it('refuses builds below the oldest table, and nonsense', () => {
    expect(() => builtinProfile('x86', 2195)).toThrow(ProfileError);
    expect(() => builtinProfile('x86', 2195)).toThrow(/no built-in x86 layout for build 2195.*Windows XP/);
    expect(() => builtinProfile('x64', 2600)).toThrow(/oldest x64 table is Windows Server 2003/);
    expect(() => builtinProfile('x64', 0)).toThrow(/invalid Windows build number 0/);
    expect(() => builtinProfile('x64', 19041.5)).toThrow(/invalid Windows build/);
    expect(() => builtinProfile('arm64' as Arch, 22000)).toThrow(/unknown architecture arm64/);
  });

  it('tells Server 2003 RTM from SP1/SP2 (both 3790) by service pack', () => {
    expect(tableOf('x86', 3790)).toBe('x86-2003-sp1');
    expect(tableOf('x86', 3790, 0)).toBe('x86-2003-rtm');
    expect(tableOf('x86', 3790, 2)).toBe('x86-2003-sp1');
    expect(builtinCandidates('x86', 3790).map((p) => p.source.kind === 'builtin' && p.source.table)).toEqual([
      'x86-2003-sp1',
      'x86-2003-rtm',
    ]);
    expect(builtinCandidates('x64', 19045)).toHaveLength(1);
    expect(resolveBuiltinTable('x86', 3790, { servicePack: 0 })).toMatchObject({
      id: 'x86-2003-rtm',
      servicePack: 0,
    });
  });

  it('lists one table per spec build and arch, each resolving to itself', () => {
    const tables = listBuiltinTables();
    expect(tables.filter((t) => t.arch === 'x86').map((t) => t.build)).toEqual([
      2600, 3790, 3790, 6000, 6001, 6002, 7600, 7601, 9200, 9600, 9841, 10240, 10586, 14393, 15063, 16299,
      17134, 17763, 18362, 19041,
    ]);
    expect(listBuiltinTables('x64').map((t) => t.build)).toEqual([
      3790, 6000, 6001, 6002, 7600, 7601, 9200, 9600, 9841, 10240, 10586, 14393, 15063, 16299, 17134, 17763,
      18362, 19041, 20348, 22000,
    ]);
    for (const table of tables) {
      const options = table.servicePack === undefined ? {} : { servicePack: table.servicePack };
      expect(resolveBuiltinTable(table.arch, table.build, options).id).toBe(table.id);
      expect(table.citations.length, table.id).toBeGreaterThan(0);
    }
  });
});

describe('every built-in table', () => {
  for (const table of listBuiltinTables()) {
    it(`${table.id} has every field the engine reads`, () => {
      const options = table.servicePack === undefined ? {} : { servicePack: table.servicePack };
      const profile = builtinProfile(table.arch, table.build, options);
      expect(missingEngineFields(profile)).toEqual([]);
      expect(profile.pointerSize).toBe(table.arch === 'x64' ? 8 : 4);
      expect(profile.symbol('PsLoadedModuleList')).toBeUndefined();
      // sizeof these differs between updates of one build, so no table states it.
      const sizeless = new Set(['_EPROCESS', '_ETHREAD', '_FILE_OBJECT']);
      for (const name of profile.structNames()) {
        if (!sizeless.has(name)) expect(profile.sizeOf(name), name).toBeGreaterThan(0);
      }
    });
  }

  it('names the profile, structure and field in errors', () => {
    const profile = builtinProfile('x64', 19041);
    expect(() => profile.struct('_KTHREAD')).toThrow(
      'profile builtin:x64-10-19041: unknown structure _KTHREAD',
    );
    expect(() => profile.field('_DRIVER_OBJECT', 'Nope')).toThrow(/_DRIVER_OBJECT has no field Nope/);
    expect(() => profile.sizeOf('_EPROCESS')).toThrow(/sizeof\(_EPROCESS\) is not known/);
    expect(profile.hasField('_OBJECT_HEADER', 'Type')).toBe(false);
  });

  it('shares the architecture-invariant layouts between versions (§1.2, §1.6)', () => {
    for (const arch of ['x86', 'x64'] as const) {
      const layouts = listBuiltinTables(arch).map((t) =>
        builtinProfile(arch, t.build, t.servicePack === undefined ? {} : { servicePack: t.servicePack }),
      );
      for (const name of ['_DRIVER_OBJECT', '_DEVICE_OBJECT', '_FAST_IO_DISPATCH', '_UNICODE_STRING']) {
        for (const profile of layouts) expect(profile.struct(name)).toEqual(layouts[0]?.struct(name));
      }
    }
  });
});

describe('x86 tables hold the spec values', () => {
  const x86 = (build: number, servicePack?: number) =>
    builtinProfile('x86', build, servicePack === undefined ? {} : { servicePack });

  it('§1.2 DRIVER_OBJECT x86 column, §1.6 DEVICE_OBJECT x86 column', () => {
    for (const build of [2600, 6000, 7601, 9600, 19041]) {
      const p = x86(build);
      expect(p.field('_DRIVER_OBJECT', 'DriverName').offset).toBe(0x1c);
      expect(p.field('_DRIVER_OBJECT', 'DriverExtension').offset).toBe(0x18);
      expect(p.field('_DRIVER_OBJECT', 'MajorFunction')).toEqual({ offset: 0x38, size: 0x70, count: 28 });
      expect(p.sizeOf('_DRIVER_OBJECT')).toBe(0xa8);
      expect(p.field('_DEVICE_OBJECT', 'AttachedDevice').offset).toBe(0x10);
      expect(p.field('_DEVICE_OBJECT', 'DeviceType').offset).toBe(0x2c);
      expect(p.field('_DEVICE_OBJECT', 'DeviceObjectExtension').offset).toBe(0xb0);
      expect(p.sizeOf('_DEVICE_OBJECT')).toBe(0xb8);
      // §1.5: "x86 = 0x28" for FastIoDeviceControl; §1.1 UNICODE_STRING.Buffer x86 0x4.
      expect(p.field('_FAST_IO_DISPATCH', 'FastIoDeviceControl').offset).toBe(0x28);
      expect(p.field('_UNICODE_STRING', 'Buffer')).toEqual({ offset: 4, size: 4 });
      // §1.12 x86 column; §1.14 offsets.
      expect(p.field('_LDR_DATA_TABLE_ENTRY', 'BaseDllName').offset).toBe(0x2c);
      expect(p.field('_KUSER_SHARED_DATA', 'NtMajorVersion').offset).toBe(0x26c);
      // §1.11 x86: 9-bit BlockSize at u16 @2.
      expect(p.field('_POOL_HEADER', 'BlockSize')).toEqual({
        offset: 2,
        size: 2,
        bitPosition: 0,
        bitLength: 9,
      });
      expect(p.pool).toMatchObject({ headerSize: 8, alignment: 8 });
    }
  });

  // §1.4 rows "sizeof: XP/2003/Vista/7 0x1C", "8.0 0x24", "8.1, 10 0x28"; §1.7 sizeof rows.
  it.each([
    [2600, 0x1c, 0x2c],
    [6000, 0x1c, 0x2c],
    [6001, 0x1c, 0x3c],
    [7601, 0x1c, 0x3c],
    [9200, 0x24, 0x3c],
    [9600, 0x28, 0x34],
    [10586, 0x28, 0x38],
    [18362, 0x28, 0x38],
    [19041, 0x28, 0x3c],
  ])(
    'build %i: sizeof DRIVER_EXTENSION %i, DEVOBJ_EXTENSION %i (§1.4, §1.7)',
    (build, driverExt, devobjExt) => {
      expect(x86(build).sizeOf('_DRIVER_EXTENSION')).toBe(driverExt);
      expect(x86(build).field('_DRIVER_EXTENSION', 'ServiceKeyName').offset).toBe(0x0c);
      expect(x86(build).sizeOf('_DEVOBJ_EXTENSION')).toBe(devobjExt);
      expect(x86(build).field('_DEVOBJ_EXTENSION', 'AttachedTo').offset).toBe(0x18);
    },
  );

  // §1.9 rows: XP/2003; Vista RTM; Vista SP1/SP2; 7; 8, 8.1, 10 — x86 column.
  it.each([
    [2600, 0x40, 0x4c, 4, 0xac],
    [3790, 0x40, 0x4c, 4, 0xac],
    [6000, 0x40, 0x4c, 4, 0xac],
    [6002, 0x08, 0x14, 4, 0xb4],
    [7600, 0x08, 0x14, 1, 0x7c],
    [9200, 0x08, 0x14, 1, 0x84],
    [19041, 0x08, 0x14, 1, 0x84],
  ])(
    'build %i: OBJECT_TYPE Name %i Index %i (%i bytes) Key %i (§1.9)',
    (build, name, index, indexSize, key) => {
      const p = x86(build);
      expect(p.field('_OBJECT_TYPE', 'Name').offset).toBe(name);
      expect(p.field('_OBJECT_TYPE', 'Index')).toEqual({ offset: index, size: indexSize });
      expect(p.field('_OBJECT_TYPE', 'Key').offset).toBe(key);
    },
  );

  it('§1.8.1 / §1.8.2 object header x86 columns, §1.10 directory entry', () => {
    const xp = x86(2600);
    expect(xp.objectHeader.generation).toBe('pre-win7');
    expect(xp.field('_OBJECT_HEADER', 'Type').offset).toBe(0x08);
    expect(xp.field('_OBJECT_HEADER', 'NameInfoOffset')).toEqual({ offset: 0x0c, size: 1 });
    expect(xp.objectHeader.bodyOffset).toBe(0x18);
    expect(xp.sizeOf('_OBJECT_DIRECTORY_ENTRY')).toBe(8);
    expect(xp.hasField('_OBJECT_DIRECTORY_ENTRY', 'HashValue')).toBe(false);
    expect(x86(3790, 0).sizeOf('_OBJECT_DIRECTORY_ENTRY')).toBe(8);
    expect(x86(3790, 1).field('_OBJECT_DIRECTORY_ENTRY', 'HashValue').offset).toBe(8);
    expect(x86(2600).sizeOf('_OBJECT_DIRECTORY')).toBe(0xa4); // §1.10 "XP 0xA4"
    expect(x86(3790).sizeOf('_OBJECT_DIRECTORY')).toBe(0xa0); // "2003 x86 0xA0"
    expect(x86(7601).sizeOf('_OBJECT_DIRECTORY')).toBe(0xa8); // "Vista/7 0xA8"

    const seven = x86(7601);
    expect(seven.objectHeader.generation).toBe('win7+');
    expect(seven.field('_OBJECT_HEADER', 'TypeIndex').offset).toBe(0x0c);
    expect(seven.field('_OBJECT_HEADER', 'InfoMask').offset).toBe(0x0e);
    expect(seven.hasField('_OBJECT_HEADER', 'Type')).toBe(false);
    expect(seven.objectHeader.bodyOffset).toBe(0x18);
  });

  // §1.13 x86 rows: KPROCESS size, UniqueProcessId, ActiveProcessLinks, ImageFileName, signature.
  it.each([
    ['XP SP2/SP3', 2600, undefined, 0x6c, 0x84, 0x88, 0x174, [3, 0, 0x1b, 0]],
    ['2003 RTM', 3790, 0, 0x6c, 0x84, 0x88, 0x154, [3, 0, 0x1b, 0]],
    ['2003 SP1/SP2', 3790, 1, 0x78, 0x94, 0x98, 0x164, [3, 0, 0x1e, 0]],
    ['Vista', 6002, undefined, 0x80, 0x9c, 0xa0, 0x14c, [3, 0, 0x20, 0]],
    ['7', 7601, undefined, 0x98, 0xb4, 0xb8, 0x16c, [3, 0, 0x26, 0]],
    ['8 / 8.1', 9600, undefined, 0xa0, 0xb4, 0xb8, 0x170, [3, 0, 0x28, 0]],
    ['10 9841/10240', 10240, undefined, 0xa8, 0xb4, 0xb8, 0x170, [3, 0, 0x2a, 0]],
    ['10 10586/14393', 14393, undefined, 0xa8, 0xb4, 0xb8, 0x174, [3, 0, 0x2a, 0]],
    ['10 15063–18362', 16299, undefined, 0xb0, 0xb4, 0xb8, 0x17c, [3, 0, 0x2c, 0]],
    ['10 19041', 19041, undefined, 0xe0, 0xe4, 0xe8, 0x1ac, [3, 0, 0, 0]],
  ] as const)('§1.13 row "%s x86"', (_row, build, sp, kprocess, pid, links, name, signature) => {
    const p = x86(build, sp);
    expect(p.process).toMatchObject({
      kprocessSize: kprocess,
      directoryTableBase: 0x18,
      uniqueProcessId: pid,
      activeProcessLinks: links,
      imageFileName: name,
      dispatcherSignature: signature,
    });
  });

  // §1.15 "Header.Size per version".
  it.each([
    [2600, 0x290],
    [3790, 0x318],
    [6000, 0x328],
    [6001, 0x330],
    [7601, 0x340],
    [9200, 0x360],
    [10586, 0x360],
    [14393, 0x368],
    [17134, 0x368],
    [17763, 0x380],
  ])('build %i: KDBG size %i on both architectures (§1.15)', (build, size) => {
    expect(x86(build).kdbg.size).toBe(size);
    if (build >= 3790) expect(builtinProfile('x64', build).kdbg.size).toBe(size);
    expect(x86(build).sizeOf('_KDDEBUGGER_DATA64')).toBe(size);
  });

  it('§1.15 KDBG layout drops the fields a shorter block lacks', () => {
    expect(x86(2600).field('_KDDEBUGGER_DATA64', 'PsLoadedModuleList')).toEqual({ offset: 0x48, size: 8 });
    expect(x86(2600).hasField('_KDDEBUGGER_DATA64', 'SizeEProcess')).toBe(false); // 0x2A8 > 0x290
    expect(x86(3790).field('_KDDEBUGGER_DATA64', 'KeLoaderBlock').offset).toBe(0x2d8);
    expect(x86(3790).hasField('_KDDEBUGGER_DATA64', 'OffsetPrcbContext')).toBe(false); // 0x338 > 0x318
    expect(x86(7601).field('_KDDEBUGGER_DATA64', 'OffsetPrcbContext').offset).toBe(0x338);
    expect(x86(7601).kdbg).toMatchObject({ kpcrKdVersionBlockOffset: 0x34, kpcrCpu0Va: 0xffdff000n });
    // DBGKD_GET_VERSION64: 16-bit ProtocolVersion on XP (V2vt:xp_sp2_x86), a byte later.
    expect(x86(2600).field('_DBGKD_GET_VERSION64', 'ProtocolVersion').size).toBe(2);
    expect(x86(3790, 1).field('_DBGKD_GET_VERSION64', 'ProtocolVersion').size).toBe(1);
    expect(x86(2600).field('_DBGKD_GET_VERSION64', 'PsLoadedModuleList').offset).toBe(0x18);
  });

  it('§1.14 NtBuildNumber only from Windows 10', () => {
    expect(x86(9600).hasField('_KUSER_SHARED_DATA', 'NtBuildNumber')).toBe(false);
    expect(x86(9841).field('_KUSER_SHARED_DATA', 'NtBuildNumber').offset).toBe(0x260);
    expect(x86(19041).sharedData).toEqual({ kernelVa: 0xffdf0000n, userVa: 0x7ffe0000n });
  });
});

describe('x64 tables without an ISF hold the spec values', () => {
  // §1.13 x64 rows for builds no shared ISF covers.
  it.each([
    ['2003 SP1/SP2 x64, XP x64', 3790, 0xb8, 0xd8, 0xe0, 0x268, [3, 0, 0x2e, 0]],
    ['Vista x64', 6001, 0xc0, 0xe0, 0xe8, 0x238, [3, 0, 0x30, 0]],
    ['7 x64', 7600, 0x160, 0x180, 0x188, 0x2e0, [3, 0, 0x58, 0]],
    ['8 / 8.1 x64', 9200, 0x2c8, 0x2e0, 0x2e8, 0x438, [3, 0, 0xb2, 0]],
    ['10 x64 9841/10240', 10240, 0x2d8, 0x2e8, 0x2f0, 0x448, [3, 0, 0xb6, 0]],
    ['10 x64 10586/14393', 10586, 0x2d8, 0x2e8, 0x2f0, 0x450, [3, 0, 0xb6, 0]],
    ['10 x64 15063–17763', 17134, 0x2d8, 0x2e0, 0x2e8, 0x450, [3, 0, 0xb6, 0]],
  ] as const)('§1.13 row "%s"', (_row, build, kprocess, pid, links, name, signature) => {
    expect(builtinProfile('x64', build).process).toMatchObject({
      kprocessSize: kprocess,
      directoryTableBase: 0x28,
      uniqueProcessId: pid,
      activeProcessLinks: links,
      imageFileName: name,
      dispatcherSignature: signature,
    });
  });

  it('§1.9 OBJECT_TYPE x64 rows for 2003 and Vista', () => {
    expect(builtinProfile('x64', 3790).field('_OBJECT_TYPE', 'Key').offset).toBe(0x118);
    expect(builtinProfile('x64', 6000).field('_OBJECT_TYPE', 'Name').offset).toBe(0x78);
    expect(builtinProfile('x64', 6001).field('_OBJECT_TYPE', 'Key').offset).toBe(0x120);
    expect(builtinProfile('x64', 7600).field('_OBJECT_TYPE', 'Key').offset).toBe(0xb8);
  });

  it('§1.11 x64 POOL_HEADER: ULONG bitfields up to 8.0, USHORT from 8.1', () => {
    expect(builtinProfile('x64', 9200).field('_POOL_HEADER', 'BlockSize')).toEqual({
      offset: 0,
      size: 4,
      bitPosition: 16,
      bitLength: 8,
    });
    expect(builtinProfile('x64', 9600).field('_POOL_HEADER', 'BlockSize')).toEqual({
      offset: 2,
      size: 2,
      bitPosition: 0,
      bitLength: 8,
    });
  });
});
