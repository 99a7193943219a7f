// Volatility 3 ISF (Intermediate Symbol Format) symbol tables, checked to be a Windows kernel's
// before use (the files are read, decompressed and cached by node/profile/isf-load.ts).
// Format as found in ../shared/isf/windows/ntkrnlmp.pdb/*.json.xz (metadata.format 6.1.0):
// metadata.windows.pdb {GUID, age, database, machine_type}, user_types, base_types, enums, symbols.

import type { Arch, PointerSize } from './types';

export interface IsfType {
  readonly kind: string;
  readonly name?: string;
  readonly count?: number;
  readonly subtype?: IsfType;
  readonly type?: IsfType;
  readonly bit_position?: number;
  readonly bit_length?: number;
}

export interface IsfUserType {
  readonly kind: string;
  readonly size: number;
  readonly fields: Readonly<Record<string, { readonly offset: number; readonly type: IsfType }>>;
}

export interface IsfPdb {
  readonly name: string;
  /** Upper-case hex, as in the file (and the symbol file name). */
  readonly guid: string;
  readonly age: number;
  readonly machineType?: number;
}

export interface IsfFile {
  readonly path: string;
  readonly pdb: IsfPdb;
  readonly arch: Arch;
  readonly pointerSize: PointerSize;
  readonly userTypes: Readonly<Record<string, IsfUserType>>;
  readonly baseTypes: Readonly<Record<string, { readonly size: number }>>;
  readonly enums: Readonly<Record<string, { readonly size: number }>>;
  readonly symbols: Readonly<Record<string, { readonly address?: number }>>;
}

export class IsfError extends Error {
  override readonly name = 'IsfError';
}

/** IMAGE_FILE_MACHINE_* (§1.16). */
const MACHINE_I386 = 0x14c;
const MACHINE_AMD64 = 0x8664;

/** A record's own entry: symbol and type names come from files and images, so `toString` is data. */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function requireNumber(value: unknown, what: string, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new IsfError(`${path}: ${what} is not a number`);
  return value;
}

/** Checks the parts this module relies on; the bulk of user_types is checked lazily when used. */
export function parseIsf(text: string, path: string): IsfFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new IsfError(`${path}: not a JSON symbol table (${(error as Error).message})`);
  }
  const notKernel = (why: string) => new IsfError(`${path}: not a Windows kernel symbol table: ${why}`);
  if (!isRecord(json)) throw notKernel('top level is not an object');
  const { metadata, user_types: userTypes, base_types: baseTypes, enums, symbols } = json;
  const windows = isRecord(metadata) ? metadata['windows'] : undefined;
  const pdb = isRecord(windows) ? windows['pdb'] : undefined;
  if (!isRecord(pdb)) throw notKernel('no metadata.windows.pdb');
  const { GUID: guid, age, database, machine_type: machineType } = pdb;
  if (typeof guid !== 'string' || !/^[0-9a-f]{32}$/i.test(guid))
    throw notKernel('metadata.windows.pdb.GUID is missing');
  if (typeof database !== 'string') throw notKernel('metadata.windows.pdb.database is missing');
  if (!isRecord(userTypes) || !isRecord(userTypes['_DRIVER_OBJECT']))
    throw notKernel('no user_types._DRIVER_OBJECT');
  if (!isRecord(symbols)) throw notKernel('no symbols');
  if (!isRecord(baseTypes) || !isRecord(baseTypes['pointer'])) throw notKernel('no base_types.pointer');

  const pointerSize = requireNumber(baseTypes['pointer']['size'], 'base_types.pointer.size', path);
  if (pointerSize !== 4 && pointerSize !== 8) throw notKernel(`pointer size ${pointerSize}`);
  const arch: Arch = pointerSize === 8 ? 'x64' : 'x86';
  if (machineType !== undefined) {
    const expected = arch === 'x64' ? MACHINE_AMD64 : MACHINE_I386;
    if (machineType !== expected) {
      const shown = typeof machineType === 'number' ? `0x${machineType.toString(16)}` : String(machineType);
      throw notKernel(`machine type ${shown} is not ${arch}`);
    }
  }
  return {
    path,
    pdb: {
      name: database,
      guid: guid.toUpperCase(),
      age: requireNumber(age, 'metadata.windows.pdb.age', path),
      ...(typeof machineType === 'number' ? { machineType } : {}),
    },
    arch,
    pointerSize,
    userTypes: userTypes as IsfFile['userTypes'],
    baseTypes: baseTypes as IsfFile['baseTypes'],
    enums: (isRecord(enums) ? enums : {}) as IsfFile['enums'],
    symbols: symbols as IsfFile['symbols'],
  };
}

/**
 * Where a kernel's symbol table is looked up by the PDB its RSDS record names: on Node, a
 * Volatility 3 style symbol folder (node/profile/symbol-folder.ts).
 */
export interface SymbolTables {
  /** Where the tables are looked for, as a warning names it (the folder). */
  readonly location: string;
  /** The table for this PDB, or undefined when there is none; rejects when the one found is unusable. */
  find(pdbName: string, guid: string, age: number): Promise<IsfFile | undefined>;
}
