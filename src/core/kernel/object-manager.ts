// Object-manager facts found at run time: the object types (Driver, Device, Directory, ...)
// and their indices, the Windows 10+ ObHeaderCookie (spec §1.8.4), and the root directory (§1.10).

import { readStruct, type LayoutProfile } from '../profile';
import { HASH_BUCKETS, listDirectory, type DirectoryEntry } from './object-directory';
import { objectNameHash } from './name-hash';
import { decodeTypeIndex, readObjectHeader, type ObjectTypes } from './object-header';
import { decode } from './disasm';
import type { KernelMemory } from './memory';

/** Directories every root object directory holds (WinObj; ReactOS ntoskrnl/ob/obinit.c). */
const ROOT_NAMES = new Set([
  'driver',
  'device',
  'filesystem',
  'objecttypes',
  'global??',
  '??',
  'kernelobjects',
  'callback',
  'basenamedobjects',
  'knowndlls',
  'sessions',
  'windows',
  'arcname',
  'nls',
  'security',
  'rpc control',
]);

const ROOT_NAME_HASHES = new Map([...ROOT_NAMES].map((name) => [objectNameHash(name), name]));

/**
 * How many of the root's well-known directories `candidate` holds: by name, or, when a name is
 * paged out (a whole page of them often is), by the name's hash the entry keeps and a NAME_INFO
 * whose directory is the candidate. Kernels without HashValue keep only the bucket; it counts
 * for a Directory object, or one of unknown type as XP's are.
 */
function wellKnownChildren(entries: readonly DirectoryEntry[], candidate: bigint): number {
  const found = new Set<string>();
  for (const entry of entries) {
    const name = entry.name?.toLowerCase();
    if (name !== undefined) {
      if (ROOT_NAMES.has(name)) found.add(name);
      continue;
    }
    if (entry.header.directory !== candidate) continue;
    if (entry.hash !== null) {
      const byHash = ROOT_NAME_HASHES.get(entry.hash);
      if (byHash) found.add(byHash);
    } else if (entry.header.typeName === 'Directory' || entry.header.typeName === null) {
      const byBucket = [...ROOT_NAME_HASHES].find(
        ([hash, known]) => hash % HASH_BUCKETS === entry.bucket && !found.has(known),
      );
      if (byBucket) found.add(byBucket[1]);
    }
  }
  return found.size;
}

export interface Discovered<T> {
  value: T;
  method: string;
}

export interface ObjectManagerFacts {
  types: ObjectTypes;
  /** OBJECT_TYPE body addresses by type name. */
  typeObjects: Map<string, bigint>;
  cookie: Discovered<number> | null;
  rootDirectory: Discovered<bigint> | null;
  typeIndex: Discovered<{ Driver: number; Device: number }> | null;
  warnings: string[];
}

const TYPE_EXPORTS: Array<[string, string]> = [
  ['IoDriverObjectType', 'Driver'],
  ['IoDeviceObjectType', 'Device'],
  ['IoFileObjectType', 'File'],
  ['PsProcessType', 'Process'],
  ['PsThreadType', 'Thread'],
];

/** OBJECT_TYPE.Name and .Index of a type object. */
function readType(
  memory: KernelMemory,
  profile: LayoutProfile,
  va: bigint,
): { name: string; index: number } | null {
  const size = Math.max(
    profile.field('_OBJECT_TYPE', 'Key').offset + 4,
    profile.field('_OBJECT_TYPE', 'Index').offset + 4,
  );
  const bytes = memory.bytes(va, size);
  if (!bytes) return null;
  const reader = readStruct(profile, '_OBJECT_TYPE', bytes);
  const name = memory.unicodeString(reader.unicodeString('Name'));
  if (!('text' in name) || name.text.length === 0 || name.text.length > 64) return null;
  return { name: name.text, index: reader.number('Index') };
}

/** ObGetObjectType's last `movzx r32, byte [mem]` reads ObHeaderCookie (Volatility 2's finder). */
function cookieFromCode(memory: KernelMemory, address: bigint): bigint | null {
  const code = memory.bytes(address, 0x80);
  if (!code) return null;
  let cookieVa: bigint | null = null;
  for (const instruction of decode(code, address, memory.pointerSize === 8 ? 64 : 32, 40)) {
    if (instruction.isMovzxByteMemory && instruction.memoryAddress !== null)
      cookieVa = instruction.memoryAddress;
    if (instruction.flow === 'return') break;
  }
  return cookieVa;
}

/** What every step of object-manager discovery reads: the kernel, its layouts and its exports. */
interface Discovery {
  memory: KernelMemory;
  profile: LayoutProfile;
  /** A kernel variable's address: from the symbol file, else from the export table. */
  symbol(name: string): bigint | undefined;
  /** A symbol-file variable's address only (never an export). */
  isfSymbol(name: string): bigint | undefined;
}

export function findObjectManager(
  memory: KernelMemory,
  profile: LayoutProfile,
  kernelBase: bigint,
  exports: Map<string, number>,
  kdbgBlock: Uint8Array | null,
): ObjectManagerFacts {
  const at = (rva: number | undefined) => (rva === undefined ? undefined : kernelBase + BigInt(rva));
  const discovery: Discovery = {
    memory,
    profile,
    symbol: (name) => at(profile.symbol(name) ?? exports.get(name)),
    isfSymbol: (name) => at(profile.symbol(name)),
  };
  const warnings: string[] = [];
  const typeObjects = exportedTypeObjects(discovery);
  const types: ObjectTypes = { cookie: null, byIndex: new Map([[2, 'Type']]), byAddress: new Map() };
  let cookie: Discovered<number> | null = null;
  if (profile.objectHeader.typeIndexEncoded) {
    cookie = findHeaderCookie(discovery, typeObjects, warnings);
    types.cookie = cookie?.value ?? 0;
  }
  const objectTypesDirectory = addTypeObjectsByName(discovery, types, typeObjects);
  const typeIndex = indexTypes(discovery, types, typeObjects, warnings);
  const rootDirectory = findRootDirectory(discovery, types, kdbgBlock, objectTypesDirectory);
  if (!rootDirectory) warnings.push('the root object directory was not found: the directory walk is skipped');
  return { types, typeObjects, cookie, rootDirectory, typeIndex, warnings };
}

/** The type objects the kernel exports a pointer to (IoDriverObjectType…). */
function exportedTypeObjects({ memory, symbol }: Discovery): Map<string, bigint> {
  const typeObjects = new Map<string, bigint>();
  for (const [variable, type] of TYPE_EXPORTS) {
    const at = symbol(variable);
    const value = at === undefined ? null : memory.ptr(at);
    if (value && memory.isKernelAddress(value)) typeObjects.set(type, value);
  }
  return typeObjects;
}

/** The raw TypeIndex byte of an object's header. */
function rawTypeIndex({ memory, profile }: Discovery, headerVa: bigint): number | undefined {
  return memory.bytes(headerVa + BigInt(profile.field('_OBJECT_HEADER', 'TypeIndex').offset), 1)?.[0];
}

/** ObHeaderCookie (Windows 10+): the first candidate that decodes every type object to index 2. */
function findHeaderCookie(
  discovery: Discovery,
  typeObjects: ReadonlyMap<string, bigint>,
  warnings: string[],
): Discovered<number> | null {
  const { memory, profile } = discovery;
  const bodyOffset = BigInt(profile.objectHeader.bodyOffset);
  const byte = (va: bigint | null | undefined) =>
    va === null || va === undefined ? null : (memory.bytes(va, 1)?.[0] ?? null);
  const candidates: Array<[string, () => number | null]> = [
    ['ISF symbol ObHeaderCookie', () => byte(discovery.isfSymbol('ObHeaderCookie'))],
    [
      'disassembly of the exported ObGetObjectType',
      () => {
        const at = discovery.symbol('ObGetObjectType');
        return byte(at === undefined ? null : cookieFromCode(memory, at));
      },
    ],
    [
      "the Driver type object's own header (a type object always has type index 2)",
      () => {
        const driverType = typeObjects.get('Driver');
        if (driverType === undefined) return null;
        const headerVa = driverType - bodyOffset;
        const raw = rawTypeIndex(discovery, headerVa);
        return raw === undefined ? null : (raw ^ Number((headerVa >> 8n) & 0xffn) ^ 2) & 0xff;
      },
    ],
  ];
  for (const [method, get] of candidates) {
    const value = get();
    if (value === null) continue;
    const agrees = [...typeObjects.values()].every((body) => {
      const raw = rawTypeIndex(discovery, body - bodyOffset);
      return raw === undefined || decodeTypeIndex(raw, body - bodyOffset, value) === 2;
    });
    if (agrees) return { value, method };
    warnings.push(
      `ObHeaderCookie from ${method} (0x${value.toString(16)}) does not decode the type objects; ignored`,
    );
  }
  warnings.push('ObHeaderCookie not found: object types cannot be decoded');
  return null;
}

/**
 * Every type object by name: the \ObjectTypes directory (reached through a type object's
 * NAME_INFO), then the ISF's ObTypeIndexTable. Returns the \ObjectTypes directory, if found.
 */
function addTypeObjectsByName(
  discovery: Discovery,
  types: ObjectTypes,
  typeObjects: Map<string, bigint>,
): bigint | null {
  const { memory, profile } = discovery;
  const anyType = typeObjects.get('Driver') ?? typeObjects.values().next().value;
  const objectTypesDirectory =
    anyType === undefined ? null : (readObjectHeader(memory, profile, types, anyType)?.directory ?? null);
  if (objectTypesDirectory && memory.isKernelAddress(objectTypesDirectory)) {
    for (const entry of listDirectory(memory, profile, types, objectTypesDirectory).entries) {
      const type = readType(memory, profile, entry.header.bodyVa);
      if (type) typeObjects.set(type.name, entry.header.bodyVa);
    }
  }
  const table = discovery.isfSymbol('ObTypeIndexTable');
  if (table !== undefined) {
    for (let index = 2; index < 256; index++) {
      const body = memory.ptr(table + BigInt(index * profile.pointerSize));
      if (!body) break;
      const type = memory.isKernelAddress(body) ? readType(memory, profile, body) : null;
      if (type && !typeObjects.has(type.name)) typeObjects.set(type.name, body);
    }
  }
  return objectTypesDirectory;
}

/** The type maps by address and (Windows 7+) by index, and the Driver and Device indices. */
function indexTypes(
  { memory, profile }: Discovery,
  types: ObjectTypes,
  typeObjects: ReadonlyMap<string, bigint>,
  warnings: string[],
): Discovered<{ Driver: number; Device: number }> | null {
  const winSeven = profile.objectHeader.generation === 'win7+';
  for (const [name, body] of typeObjects) {
    types.byAddress.set(body, name);
    if (winSeven) {
      const type = readType(memory, profile, body);
      if (type) types.byIndex.set(type.index, name);
    }
  }
  if (!winSeven) return null;
  const driver = [...types.byIndex].find(([, n]) => n === 'Driver')?.[0];
  const device = [...types.byIndex].find(([, n]) => n === 'Device')?.[0];
  if (driver === undefined || device === undefined) {
    warnings.push('the Driver/Device object type indices were not found');
    return null;
  }
  return {
    value: { Driver: driver, Device: device },
    method: 'OBJECT_TYPE.Index of the Driver and Device type objects',
  };
}

/** Root directory: ISF symbol, KDBG's ObpRootDirectoryObject, or the \ObjectTypes directory's parent. */
function findRootDirectory(
  discovery: Discovery,
  types: ObjectTypes,
  kdbgBlock: Uint8Array | null,
  objectTypesDirectory: bigint | null,
): Discovered<bigint> | null {
  const { memory, profile } = discovery;
  const candidates: Array<[string, () => bigint | null]> = [
    [
      'ISF symbol ObpRootDirectoryObject',
      () => {
        const at = discovery.isfSymbol('ObpRootDirectoryObject');
        return at === undefined ? null : memory.ptr(at);
      },
    ],
    [
      'KDBG ObpRootDirectoryObject',
      () => {
        if (!kdbgBlock || kdbgBlock.length < 0xa0) return null;
        const variable = new DataView(kdbgBlock.buffer, kdbgBlock.byteOffset).getBigUint64(0x98, true);
        return memory.ptr(profile.pointerSize === 8 ? variable : variable & 0xffffffffn);
      },
    ],
    [
      'parent of the \\ObjectTypes directory',
      () =>
        objectTypesDirectory
          ? (readObjectHeader(memory, profile, types, objectTypesDirectory)?.directory ?? null)
          : null,
    ],
  ];
  for (const [method, get] of candidates) {
    const value = get();
    if (!value || !memory.isKernelAddress(value)) continue;
    if (wellKnownChildren(listDirectory(memory, profile, types, value).entries, value) >= 3)
      return { value, method };
  }
  return null;
}
