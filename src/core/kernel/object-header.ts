// OBJECT_HEADER of an object body (spec §1.8): its type (by decoded TypeIndex on Windows 7+, by
// Type pointer before), its optional NAME_INFO (name and directory) and sanity facts.

import { optionalHeaderDistance, readStruct, type LayoutProfile } from '../profile';
import { describeStringFailure, type KernelMemory, type StringFailure } from './memory';

export interface ObjectTypes {
  /** Windows 10+ ObHeaderCookie (null when indices are not encoded). */
  cookie: number | null;
  /** Win7+: index → type name. */
  byIndex: Map<number, string>;
  /** Pre-Win7 (and always, when known): OBJECT_TYPE address → type name. */
  byAddress: Map<bigint, string>;
}

export interface ObjectHeader {
  headerVa: bigint;
  bodyVa: bigint;
  pointerCount: bigint;
  /** The type's name when the type map knows it, else null. */
  typeName: string | null;
  /** Decoded TypeIndex (Win7+) or null. */
  typeIndex: number | null;
  /** Type pointer (pre-Win7) or null. */
  typeAddress: bigint | null;
  infoMask: number;
  /** NAME_INFO: the object's name and its directory, when present. */
  name: { text: string } | StringFailure | null;
  directory: bigint | null;
}

/** Decodes a raw TypeIndex byte of a header at `headerVa` (spec §1.8.4). */
export function decodeTypeIndex(raw: number, headerVa: bigint, cookie: number | null): number {
  if (cookie === null) return raw;
  return (raw ^ Number((headerVa >> 8n) & 0xffn) ^ cookie) & 0xff;
}

export function bodyOffset(profile: LayoutProfile): number {
  return profile.objectHeader.bodyOffset;
}

/** Reads the header of the object whose body is at `bodyVa`; null when the header is unreadable. */
export function readObjectHeader(
  memory: KernelMemory,
  profile: LayoutProfile,
  types: ObjectTypes,
  bodyVa: bigint,
): ObjectHeader | null {
  const headerVa = bodyVa - BigInt(profile.objectHeader.bodyOffset);
  const bytes = memory.bytes(headerVa, profile.objectHeader.bodyOffset);
  if (!bytes) return null;
  const header = readStruct(profile, '_OBJECT_HEADER', bytes);
  const pointerCount = header.pointer('PointerCount');
  let typeIndex: number | null = null;
  let typeAddress: bigint | null = null;
  let typeName: string | null;
  let infoMask = 0;
  let nameInfoAt: bigint | null = null;
  if (profile.objectHeader.generation === 'win7+') {
    typeIndex = decodeTypeIndex(header.number('TypeIndex'), headerVa, types.cookie);
    typeName = types.byIndex.get(typeIndex) ?? null;
    infoMask = header.number('InfoMask');
    const distance = optionalHeaderDistance(profile.objectHeader, infoMask, 'name');
    if (distance !== undefined) nameInfoAt = headerVa - BigInt(distance);
  } else {
    typeAddress = header.pointer('Type');
    typeName = types.byAddress.get(typeAddress) ?? null;
    const offset = header.number('NameInfoOffset');
    if (offset !== 0) nameInfoAt = headerVa - BigInt(offset);
  }
  let name: ObjectHeader['name'] = null;
  let directory: bigint | null = null;
  if (nameInfoAt !== null) {
    const size = profile.sizeOf('_OBJECT_HEADER_NAME_INFO');
    const info = memory.tryBytes(nameInfoAt, size);
    if ('status' in info) {
      name = { status: info.status };
    } else {
      const reader = readStruct(profile, '_OBJECT_HEADER_NAME_INFO', info.bytes);
      directory = reader.pointer('Directory');
      name = memory.unicodeString(reader.unicodeString('Name'));
    }
  }
  return { headerVa, bodyVa, pointerCount, typeName, typeIndex, typeAddress, infoMask, name, directory };
}

/** PointerCount sanity used by Volatility (0 ≤ count < 0x1000000, spec §1.8.3). */
export function plausiblePointerCount(count: bigint, pointerSize: 4 | 8): boolean {
  const signed = pointerSize === 8 ? BigInt.asIntN(64, count) : BigInt.asIntN(32, count);
  return signed >= 0n && signed < 0x1000000n;
}

export function nameText(name: ObjectHeader['name']): string | null {
  return name && 'text' in name ? name.text : null;
}

/** Why a present name cannot be read ("name paged out"), or null. */
export function nameProblem(name: ObjectHeader['name']): string | null {
  return name && 'status' in name ? `name ${describeStringFailure(name)}` : null;
}
