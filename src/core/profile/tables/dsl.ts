// A small notation for writing layout tables: fields, arrays, bitfields, two-column (x86/x64)
// definitions for structures that keep their shape across versions, and per-version deltas.

import type { Arch, FieldLayout, StructLayout } from '../types';

export function at(offset: number, size: number): FieldLayout {
  return { offset, size };
}

export function array(offset: number, elementSize: number, count: number): FieldLayout {
  return { offset, size: elementSize * count, count };
}

export function bits(offset: number, unitSize: number, bitPosition: number, bitLength: number): FieldLayout {
  return { offset, size: unitSize, bitPosition, bitLength };
}

/** Field types whose size depends on the architecture, as the spec's tables write them. */
export type DualType =
  | 'i8'
  | 'u8'
  | 'i16'
  | 'u16'
  | 'i32'
  | 'u32'
  | 'u64'
  | 'quad'
  | 'ptr'
  | 'UNICODE_STRING'
  | 'LIST_ENTRY'
  | { readonly array: DualType; readonly count: number };

/** `[x86 offset, x64 offset, type]`: one row of a spec table. */
export type DualRow = readonly [x86: number, x64: number, type: DualType];

export function dualTypeSize(type: DualType, arch: Arch): number {
  const ptr = arch === 'x64' ? 8 : 4;
  if (typeof type === 'object') return dualTypeSize(type.array, arch) * type.count;
  switch (type) {
    case 'i8':
    case 'u8':
      return 1;
    case 'i16':
    case 'u16':
      return 2;
    case 'i32':
    case 'u32':
      return 4;
    case 'u64':
    case 'quad':
      return 8;
    case 'ptr':
      return ptr;
    case 'UNICODE_STRING':
    case 'LIST_ENTRY':
      return 2 * ptr;
  }
}

export type DualFields = Readonly<Record<string, DualRow>>;

export function fieldsFor(rows: DualFields, arch: Arch): Record<string, FieldLayout> {
  const fields: Record<string, FieldLayout> = {};
  for (const [name, [x86, x64, type]] of Object.entries(rows)) {
    const offset = arch === 'x64' ? x64 : x86;
    const size = dualTypeSize(type, arch);
    fields[name] = typeof type === 'object' ? { offset, size, count: type.count } : { offset, size };
  }
  return fields;
}

/** A structure whose layout and size are the same in every version of an architecture. */
export interface DualStruct {
  readonly size: readonly [x86: number, x64: number];
  readonly fields: DualFields;
}

export function structFor(def: DualStruct, arch: Arch): StructLayout {
  return { size: arch === 'x64' ? def.size[1] : def.size[0], fields: fieldsFor(def.fields, arch) };
}

/**
 * A change to one structure relative to the previous table: a new `size`, fields added or moved,
 * fields removed (`null`). A whole `StructLayout` introduces a structure; `null` removes it.
 */
export interface StructPatch {
  readonly size?: number;
  readonly fields?: Readonly<Record<string, FieldLayout | null>>;
}

export interface TableDef {
  readonly id: string;
  readonly name: string;
  readonly arch: Arch;
  readonly build: number;
  /** Only where two tables share a build (Server 2003 RTM vs SP1/SP2, both 3790). */
  readonly servicePack?: number;
  /** The table this one is a delta of; absent for the first table of an architecture. */
  readonly base?: TableDef;
  readonly structs: Readonly<Record<string, StructPatch | null>>;
  /** EPROCESS DISPATCHER_HEADER bytes (§1.13); inherited when absent. */
  readonly dispatcherSignature?: readonly [number, number, number, number];
  readonly cite: readonly string[];
}

export function applyPatch(base: StructLayout | undefined, patch: StructPatch, where: string): StructLayout {
  const fields: Record<string, FieldLayout> = { ...base?.fields };
  for (const [name, layout] of Object.entries(patch.fields ?? {})) {
    if (layout === null) delete fields[name];
    else fields[name] = layout;
  }
  if (base === undefined && patch.fields === undefined)
    throw new Error(`${where}: new structure has no fields`);
  const size = patch.size ?? base?.size;
  return size === undefined ? { fields } : { size, fields };
}
