// Reads a Volatility 3 ISF (Intermediate Symbol Format) file: the JSON (optionally
// xz-compressed) that describes a Windows kernel's structure layouts and symbol RVAs.
// Format: https://github.com/volatilityfoundation/volatility3 (schema in
// volatility3/schemas/schema-6.2.0.json): user_types{name:{size, fields{name:{offset,type}}}},
// symbols{name:{address}}, metadata.windows.pdb{GUID, age, database, machine_type}.

import { readFileSync } from 'node:fs';
import { xz } from '@napi-rs/lzma';
import { BuildError } from '../errors';

export interface IsfField {
  offset: number;
  type: IsfType;
}

export interface IsfType {
  kind: string;
  name?: string;
  subtype?: IsfType;
  count?: number;
  bit_position?: number;
  bit_length?: number;
  type?: IsfType;
}

export interface IsfStruct {
  size: number;
  fields: Record<string, IsfField>;
}

export interface IsfFile {
  path: string;
  pdb: { name: string; guid: string; age: number; machineType: number };
  userTypes: Record<string, IsfStruct>;
  baseTypes: Record<string, { size: number }>;
  symbols: Record<string, { address: number }>;
}

export function readIsf(path: string): IsfFile {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (error) {
    throw new BuildError(`cannot read ISF file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  let text: string;
  try {
    text = (raw[0] === 0xfd && raw[1] === 0x37 ? xz.decompressSync(raw) : raw).toString('utf8');
  } catch {
    throw new BuildError(`ISF file ${path} is not valid xz data`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BuildError(`ISF file ${path} is not JSON`);
  }
  return validateIsf(path, json);
}

function validateIsf(path: string, json: unknown): IsfFile {
  const doc = json as {
    metadata?: {
      windows?: { pdb?: { GUID?: string; age?: number; database?: string; machine_type?: number } };
    };
    user_types?: Record<string, IsfStruct>;
    base_types?: Record<string, { size: number }>;
    symbols?: Record<string, { address: number }>;
  };
  const pdb = doc?.metadata?.windows?.pdb;
  const required = ['_DRIVER_OBJECT', '_DEVICE_OBJECT', '_OBJECT_HEADER', '_POOL_HEADER', '_EPROCESS'];
  const missing = required.filter((name) => !doc?.user_types?.[name]);
  if (!pdb?.GUID || pdb.age === undefined || !doc.symbols || missing.length > 0) {
    throw new BuildError(
      `${path} is not a Windows kernel symbol table (ISF)` +
        (missing.length ? `: missing ${missing.join(', ')}` : ': no PDB metadata or symbols'),
    );
  }
  const database = (pdb.database ?? '').toLowerCase();
  if (!/^nt(oskrnl|krnlmp|krnlpa|krpamp)\.pdb$/.test(database)) {
    throw new BuildError(`${path} describes ${pdb.database ?? 'an unnamed PDB'}, not an NT kernel`);
  }
  if (pdb.machine_type !== 0x8664) {
    throw new BuildError(
      `${path} is not an x64 kernel (machine type ${pdb.machine_type}); x86 uses --profile`,
    );
  }
  for (const symbol of [
    'PsLoadedModuleList',
    'IopInvalidDeviceRequest',
    'ObpRootDirectoryObject',
    'KdDebuggerDataBlock',
  ]) {
    if (!doc.symbols[symbol]) throw new BuildError(`${path} lacks the kernel symbol ${symbol}`);
  }
  return {
    path,
    pdb: {
      name: pdb.database ?? 'ntkrnlmp.pdb',
      guid: pdb.GUID.toUpperCase(),
      age: pdb.age,
      machineType: pdb.machine_type,
    },
    userTypes: doc.user_types ?? {},
    baseTypes: doc.base_types ?? {},
    symbols: doc.symbols,
  };
}

/** Size in bytes of an ISF type reference (pointer size 8). */
export function isfTypeSize(isf: IsfFile, type: IsfType): number {
  switch (type.kind) {
    case 'pointer':
      return 8;
    case 'base':
      return isf.baseTypes[type.name ?? '']?.size ?? 0;
    case 'struct':
    case 'union':
      return isf.userTypes[type.name ?? '']?.size ?? 0;
    case 'array':
      return (type.count ?? 0) * (type.subtype ? isfTypeSize(isf, type.subtype) : 0);
    case 'bitfield':
      return type.type ? isfTypeSize(isf, type.type) : 0;
    case 'enum':
      return 4;
    default:
      return 0;
  }
}
