// From a pool-tag hit to the object in the block (spec §1.11, §4.1): read the POOL_HEADER, find
// the OBJECT_HEADER whose optional headers exactly fill the gap after it, check the object type
// (decoded TypeIndex on Windows 7+, Type pointer before) and the body's own Type field.

import type { PhysicalSpace } from '../image';
import type { KernelMemory } from '../kernel/memory';
import { readStruct, type LayoutProfile } from '../profile';
import type { TagHit } from '../scan/tags';
import { decodeTypeIndex, plausiblePointerCount } from '../kernel/object-header';

export interface PoolHeader {
  headerPa: number;
  blockSize: number;
  poolType: number;
  /** PoolType 0: the block was freed (its content may be stale). */
  freed: boolean;
}

export type CarvedKind = 'driver' | 'device' | 'process';

export interface CarvedObject {
  kind: CarvedKind;
  bodyPa: number;
  bodyVa: bigint | null;
  freed: boolean;
  /** False when the type could not be checked (encoded TypeIndex of a block with no known VA). */
  typeVerified: boolean;
}

export interface CarvedLoaderEntry {
  entryPa: number;
  entryVa: bigint | null;
  freed: boolean;
}

export interface CarveContext {
  space: PhysicalSpace;
  memory: KernelMemory;
  profile: LayoutProfile;
  cookie: number | null;
  /** Win7+: TypeIndex of Driver/Device; pre-7: their OBJECT_TYPE addresses. */
  driverType: number | bigint | null;
  deviceType: number | bigint | null;
  processType: number | bigint | null;
  /** Virtual address of a physical page, when the kernel maps it. */
  vaOfPa: (pa: number) => bigint | null;
}

const PAGE = 0x1000;

export function readPoolHeader(
  space: PhysicalSpace,
  profile: LayoutProfile,
  headerPa: number,
): PoolHeader | null {
  const bytes = space.read(headerPa, profile.pool.headerSize);
  if (!bytes) return null;
  if (profile.pointerSize === 8) {
    return { headerPa, blockSize: bytes[2]! * 16, poolType: bytes[3]!, freed: bytes[3] === 0 };
  }
  const word = bytes[2]! | (bytes[3]! << 8);
  const poolType = word >> 9;
  return { headerPa, blockSize: (word & 0x1ff) * 8, poolType, freed: poolType === 0 };
}

/** The block's bytes after its header, through its VA when known (a block never spans pages, §1.11). */
function blockData(
  context: CarveContext,
  header: PoolHeader,
): { bytes: Uint8Array; dataPa: number; dataVa: bigint | null } | null {
  const headerSize = context.profile.pool.headerSize;
  const dataPa = header.headerPa + headerSize;
  const length = Math.min(header.blockSize - headerSize, PAGE - (dataPa % PAGE));
  if (length <= 0) return null;
  const bytes = context.space.read(dataPa, length);
  if (!bytes) return null;
  const pageVa = context.vaOfPa(dataPa - (dataPa % PAGE));
  return { bytes, dataPa, dataVa: pageVa === null ? null : pageVa + BigInt(dataPa % PAGE) };
}

function optionalSizeWin7(
  profile: LayoutProfile,
  infoMask: number,
): { size: number; padded: boolean } | null {
  let known = 0;
  let size = 0;
  let padded = false;
  for (const header of profile.objectHeader.optionalHeaders) {
    if (header.infoMaskBit === undefined) continue;
    known |= header.infoMaskBit;
    if (infoMask & header.infoMaskBit) {
      size += header.size;
      if (header.kind === 'padding') padded = true;
    }
  }
  return (infoMask & ~known) !== 0 ? null : { size, padded };
}

/** Distance from the OBJECT_HEADER to its farthest optional header, pre-Windows 7 (§1.8.1). */
function optionalSizePre7(profile: LayoutProfile, header: ReturnType<typeof readStruct>): number {
  const creator = header.number('Flags') & 0x04 ? profile.sizeOf('_OBJECT_HEADER_CREATOR_INFO') : 0;
  return Math.max(
    creator,
    header.number('NameInfoOffset'),
    header.number('HandleInfoOffset'),
    header.number('QuotaInfoOffset'),
  );
}

/**
 * What each carved kind's body must hold: how many bytes are read, and its first field — the I/O
 * manager's Type (u16: DRIVER 4, DEVICE 3, spec §1.2) or the dispatcher header's Type byte
 * (ProcessObject 3, §1.13).
 */
function bodyShape(profile: LayoutProfile, kind: CarvedKind): { size: number; type: number; width: 1 | 2 } {
  switch (kind) {
    case 'driver':
      return { size: profile.sizeOf('_DRIVER_OBJECT'), type: 4, width: 2 };
    case 'device':
      return { size: profile.sizeOf('_DEVICE_OBJECT'), type: 3, width: 2 };
    case 'process': {
      const name = profile.field('_EPROCESS', 'ImageFileName');
      return { size: name.offset + name.size, type: 3, width: 1 };
    }
  }
}

function expectedTypeOf(context: CarveContext, kind: CarvedKind): number | bigint | null {
  return kind === 'driver'
    ? context.driverType
    : kind === 'device'
      ? context.deviceType
      : context.processType;
}

export function carveObject(context: CarveContext, hit: TagHit): CarvedObject | null {
  if (hit.kind !== 'driver' && hit.kind !== 'device' && hit.kind !== 'process') return null;
  const kind = hit.kind;
  const { profile } = context;
  // A process is only carved through an EPROCESS layout established in this image.
  if (kind === 'process' && !profile.hasField('_EPROCESS', 'ImageFileName')) return null;
  const header = readPoolHeader(context.space, profile, hit.headerPa);
  if (!header) return null;
  const shape = bodyShape(profile, kind);
  const bodyOffset = profile.objectHeader.bodyOffset;
  const need = bodyOffset + shape.size;
  if (header.blockSize < profile.pool.headerSize + need) return null;
  const data = blockData(context, header);
  if (!data) return null;
  const maxOptional = profile.objectHeader.optionalHeaders.reduce((n, h) => n + h.size, 0) + 0x40;
  const expectedType = expectedTypeOf(context, kind);
  const align = profile.pool.alignment;
  for (let k = 0; k <= maxOptional && k + need <= data.bytes.length; k += align) {
    const object = readStruct(profile, '_OBJECT_HEADER', data.bytes, k);
    if (!plausiblePointerCount(object.pointer('PointerCount'), profile.pointerSize)) continue;
    let typeVerified: boolean;
    if (profile.objectHeader.generation === 'win7+') {
      const optional = optionalSizeWin7(profile, object.number('InfoMask'));
      if (!optional || (optional.padded ? optional.size > k : optional.size !== k)) continue;
      const headerVa = data.dataVa === null ? null : data.dataVa + BigInt(k);
      const raw = object.number('TypeIndex');
      if (context.cookie !== null && headerVa === null) {
        typeVerified = false;
      } else {
        if (decodeTypeIndex(raw, headerVa ?? 0n, context.cookie) !== expectedType) continue;
        typeVerified = true;
      }
    } else {
      if (optionalSizePre7(profile, object) !== k) continue;
      if (object.pointer('Type') !== expectedType) continue;
      typeVerified = true;
    }
    const bodyAt = k + bodyOffset;
    const bodyType =
      shape.width === 2 ? data.bytes[bodyAt]! | (data.bytes[bodyAt + 1]! << 8) : data.bytes[bodyAt]!;
    if (bodyType !== shape.type) continue;
    return {
      kind,
      bodyPa: data.dataPa + bodyAt,
      bodyVa: data.dataVa === null ? null : data.dataVa + BigInt(bodyAt),
      freed: header.freed,
      typeVerified,
    };
  }
  return null;
}

/** A pool block's data: where it starts, how many bytes it holds, whether it was freed. */
export function carvePoolBlock(
  context: CarveContext,
  hit: TagHit,
): { dataVa: bigint | null; room: number; freed: boolean } | null {
  const header = readPoolHeader(context.space, context.profile, hit.headerPa);
  if (!header) return null;
  const data = blockData(context, header);
  if (!data) return null;
  return {
    dataVa: data.dataVa,
    room: header.blockSize - context.profile.pool.headerSize,
    freed: header.freed,
  };
}

/** A loader entry at the start of an MmLd block (V3 modscan's constraint, spec §3.4 item 5). */
export function carveLoaderEntry(context: CarveContext, hit: TagHit): CarvedLoaderEntry | null {
  if (hit.kind !== 'loader') return null;
  const header = readPoolHeader(context.space, context.profile, hit.headerPa);
  if (!header || header.blockSize < context.profile.pool.headerSize + 0x40) return null;
  const data = blockData(context, header);
  if (!data) return null;
  return { entryPa: data.dataPa, entryVa: data.dataVa, freed: header.freed };
}
