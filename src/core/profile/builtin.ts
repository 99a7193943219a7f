// Built-in layout tables: resolution of a (arch, build) pair to the nearest lower table, and the
// flattening of a table's delta chain into complete layouts.

import { deriveFacts, FIRST_WINDOWS_10_BUILD } from './facts';
import { KDBG_STRUCT, kdbgLayout, kdbgSizeForBuild } from './kdbg';
import { Profile } from './profile';
import { applyPatch, type TableDef } from './tables/dsl';
import { X64_TABLES } from './tables/x64';
import { X86_TABLES } from './tables/x86';
import { ProfileError, type Arch, type LayoutProfile, type StructLayout } from './types';

const TABLES: Readonly<Record<Arch, readonly TableDef[]>> = { x86: X86_TABLES, x64: X64_TABLES };

export interface BuiltinTableInfo {
  readonly id: string;
  readonly name: string;
  readonly arch: Arch;
  readonly build: number;
  readonly servicePack?: number;
  readonly citations: readonly string[];
}

export interface BuiltinOptions {
  /**
   * Chooses between tables that share a build: Server 2003 RTM (0) vs SP1/SP2 (1+), both 3790.
   * Without it the later service pack is used; `builtinCandidates` lists all of them.
   */
  readonly servicePack?: number;
}

function describe(table: TableDef): BuiltinTableInfo {
  return {
    id: table.id,
    name: table.name,
    arch: table.arch,
    build: table.build,
    ...(table.servicePack === undefined ? {} : { servicePack: table.servicePack }),
    citations: table.cite,
  };
}

export function listBuiltinTables(arch?: Arch): readonly BuiltinTableInfo[] {
  const arches: readonly Arch[] = arch === undefined ? ['x86', 'x64'] : [arch];
  return arches.flatMap((a) => TABLES[a].map(describe));
}

function checkRequest(arch: Arch, build: number): readonly TableDef[] {
  const tables = TABLES[arch] as readonly TableDef[] | undefined;
  if (tables === undefined)
    throw new ProfileError(`unknown architecture ${String(arch)}: expected x86 or x64`);
  if (!Number.isSafeInteger(build) || build <= 0)
    throw new ProfileError(`invalid Windows build number ${build}`);
  return tables;
}

/** Tables of the nearest known build at or below `build` (two for 2003 x86, else one). */
function tablesAtOrBelow(arch: Arch, build: number): readonly TableDef[] {
  const tables = checkRequest(arch, build);
  const lower = tables.filter((table) => table.build <= build);
  if (lower.length === 0) {
    const oldest = tables[0]?.name ?? 'none';
    throw new ProfileError(
      `no built-in ${arch} layout for build ${build}: the oldest ${arch} table is ${oldest}`,
    );
  }
  const nearest = Math.max(...lower.map((table) => table.build));
  return lower.filter((table) => table.build === nearest);
}

function pickServicePack(tables: readonly TableDef[], servicePack: number | undefined): TableDef {
  const ordered = [...tables].sort((a, b) => (a.servicePack ?? 0) - (b.servicePack ?? 0));
  const eligible =
    servicePack === undefined ? ordered : ordered.filter((table) => (table.servicePack ?? 0) <= servicePack);
  const chosen = eligible.at(-1) ?? ordered[0];
  if (chosen === undefined) throw new ProfileError('internal: empty table list');
  return chosen;
}

export function resolveBuiltinTable(
  arch: Arch,
  build: number,
  options: BuiltinOptions = {},
): BuiltinTableInfo {
  return describe(pickServicePack(tablesAtOrBelow(arch, build), options.servicePack));
}

const flattened = new Map<TableDef, ReadonlyMap<string, StructLayout>>();

function flatten(table: TableDef): ReadonlyMap<string, StructLayout> {
  const cached = flattened.get(table);
  if (cached !== undefined) return cached;
  const layouts = new Map(table.base === undefined ? [] : flatten(table.base));
  for (const [name, patch] of Object.entries(table.structs)) {
    if (patch === null) layouts.delete(name);
    else layouts.set(name, applyPatch(layouts.get(name), patch, `${table.id}.${name}`));
  }
  flattened.set(table, layouts);
  return layouts;
}

function dispatcherSignature(table: TableDef): readonly number[] | undefined {
  for (let t: TableDef | undefined = table; t !== undefined; t = t.base) {
    if (t.dispatcherSignature !== undefined) return t.dispatcherSignature;
  }
  return undefined;
}

/** Everything an ISF profile borrows from the built-in table of its build. */
export interface BuiltinFallback {
  readonly table: BuiltinTableInfo;
  readonly layouts: ReadonlyMap<string, StructLayout>;
  readonly dispatcherSignature: readonly number[] | undefined;
}

export function builtinFallback(arch: Arch, build: number): BuiltinFallback {
  const table = pickServicePack(tablesAtOrBelow(arch, build), undefined);
  return {
    table: describe(table),
    layouts: layoutsWithKdbg(table),
    dispatcherSignature: dispatcherSignature(table),
  };
}

const withKdbg = new Map<TableDef, ReadonlyMap<string, StructLayout>>();

function layoutsWithKdbg(table: TableDef): ReadonlyMap<string, StructLayout> {
  const cached = withKdbg.get(table);
  if (cached !== undefined) return cached;
  const layouts = new Map(flatten(table));
  layouts.set(KDBG_STRUCT, kdbgLayout(kdbgSizeForBuild(table.build).size));
  withKdbg.set(table, layouts);
  return layouts;
}

function profileFor(table: TableDef, requestedBuild: number): LayoutProfile {
  const layouts = layoutsWithKdbg(table);
  const lookup = (name: string) => layouts.get(name);
  return new Profile({
    id: `builtin:${table.id}`,
    source: {
      kind: 'builtin',
      table: table.id,
      tableName: table.name,
      tableBuild: table.build,
      requestedBuild,
      ...(table.servicePack === undefined ? {} : { servicePack: table.servicePack }),
      citations: table.cite,
    },
    arch: table.arch,
    build: requestedBuild,
    lookup,
    names: () => [...layouts.keys()],
    facts: deriveFacts({
      arch: table.arch,
      build: table.build,
      lookup,
      typeIndexEncoded: table.build >= FIRST_WINDOWS_10_BUILD,
      dispatcherSignature: dispatcherSignature(table),
      kdbgSize: kdbgSizeForBuild(table.build),
    }),
  });
}

/**
 * The built-in profile for a build: the table of the nearest known build at or below it (19045 →
 * 19041, 7601 → 7 SP1; anything newer than the last table → the last table). Throws `ProfileError`
 * for builds older than the first table of the architecture.
 */
export function builtinProfile(arch: Arch, build: number, options: BuiltinOptions = {}): LayoutProfile {
  return profileFor(pickServicePack(tablesAtOrBelow(arch, build), options.servicePack), build);
}

/** Every table that could describe the build (Server 2003 x86: RTM and SP1/SP2), latest first. */
export function builtinCandidates(arch: Arch, build: number): readonly LayoutProfile[] {
  return [...tablesAtOrBelow(arch, build)]
    .sort((a, b) => (b.servicePack ?? 0) - (a.servicePack ?? 0))
    .map((table) => profileFor(table, build));
}
