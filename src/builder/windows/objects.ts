// The object manager's on-memory shapes: optional headers, OBJECT_HEADER (both generations,
// spec §1.8), object types and ObTypeIndexTable (§1.9), directories with their hash buckets
// (§1.10) and symbolic links.

import { ByteWriter, utf16le } from '../bytes';
import { field, optionalHeaderSize, sizeOf, type KernelLayout } from '../layout/kernel-layout';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import { objectTag, type PoolBlock, type PoolRegion } from './pool';

export interface ObjectOptions {
  type: string;
  bodySize: number;
  name?: string;
  directory?: ObjectDirectory;
  pool: PoolRegion;
  /** Allocate page-aligned without a pool header (objects larger than a page). */
  big?: boolean;
  /** In a block that has since been freed (a stale object). */
  freed?: boolean;
  creatorInfo?: boolean;
  quotaInfo?: boolean;
  handleInfo?: boolean;
  extendedInfo?: boolean;
  permanent?: boolean;
  pointerCount?: number;
  handleCount?: number;
}

export interface KernelObject {
  type: string;
  bodyVa: bigint;
  headerVa: bigint;
  block: PoolBlock | null;
  name?: string;
  nameBufferVa?: bigint;
  infoMask: number;
}

/** Object type Keys (the pool tags of their objects) where they are not the name's first four letters. */
const TYPE_KEYS: Record<string, string> = { Type: 'ObjT', 'ALPC Port': 'ALPC' };

/** OB_FLAG_* / Win8+ Flags bits (§1.8.2). */
const FLAG_KERNEL_OBJECT = 0x02;
const FLAG_CREATOR_INFO_PRE7 = 0x04;
const FLAG_PERMANENT = 0x10;

export interface ObjectTypeEntry {
  name: string;
  index: number;
  object: KernelObject;
}

export class ObjectManager {
  readonly types = new Map<string, ObjectTypeEntry>();
  private readonly ptr: 4 | 8;

  constructor(
    readonly layout: KernelLayout,
    private readonly vm: VirtualMemory,
    private readonly rng: Rng,
    /** Paged pool for name strings (ObNm): pageable, may be paged out. */
    private readonly namePool: PoolRegion,
    /** ObHeaderCookie (Windows 10+), or 0. */
    readonly cookie: number,
  ) {
    this.ptr = layout.pointerSize;
  }

  typeIndex(type: string): number {
    const at = this.layout.objectTypes.indexOf(type);
    if (at < 0) throw new Error(`object type ${type} is not in this kernel's type table`);
    return at + 2;
  }

  /** The raw TypeIndex byte stored in a header at `headerVa` (§1.8.4). */
  encodedTypeIndex(type: string, headerVa: bigint): number {
    const index = this.typeIndex(type);
    if (!this.layout.typeIndexEncoded) return index;
    return (index ^ Number((headerVa >> 8n) & 0xffn) ^ this.cookie) & 0xff;
  }

  typeKey(type: string): string {
    return (TYPE_KEYS[type] ?? type).padEnd(4, ' ').slice(0, 4);
  }

  /** Writes a UTF-16 string into its own pool allocation; returns the buffer VA. */
  stringBuffer(pool: PoolRegion, tag: string, text: string, terminator = false): bigint {
    const bytes = utf16le(text, terminator);
    const block = pool.allocate(tag, Math.max(bytes.length, 2));
    this.vm.write(block.dataVa, bytes);
    return block.dataVa;
  }

  infoMaskFor(options: ObjectOptions): number {
    let mask = 0;
    if (options.creatorInfo) mask |= 0x01;
    if (options.name !== undefined) mask |= 0x02;
    if (options.handleInfo) mask |= 0x04;
    if (options.quotaInfo) mask |= 0x08;
    if (options.extendedInfo && this.layout.optionalHeaders.some((h) => h.name === 'EXTENDED_INFO'))
      mask |= 0x40;
    return mask;
  }

  create(options: ObjectOptions): KernelObject {
    const layout = this.layout;
    const infoMask = this.infoMaskFor(options);
    // Headers from the farthest (highest bit) down to CREATOR_INFO, which touches the OBJECT_HEADER.
    const present = layout.optionalHeaders
      .filter((h) => (infoMask & h.bit) !== 0)
      .sort((a, b) => b.bit - a.bit);
    const optionalSize = present.reduce((n, h) => n + h.size, 0);
    const bodyOffset = field(layout, '_OBJECT_HEADER', 'Body');
    const footerSize = infoMask & 0x40 ? 0x10 : 0;
    const total = optionalSize + bodyOffset + options.bodySize + footerSize;
    let start: bigint;
    let block: PoolBlock | null = null;
    if (options.big) {
      start = options.pool.allocateBig(total);
    } else {
      const tag = objectTag(this.typeKey(options.type), layout.protectedPoolTags);
      block = options.freed ? options.pool.allocateFreed(tag, total) : options.pool.allocate(tag, total);
      start = block.dataVa;
    }
    const headerVa = start + BigInt(optionalSize);
    const bodyVa = headerVa + BigInt(bodyOffset);
    let cursor = start;
    const offsets: Record<string, bigint> = {};
    for (const header of present) {
      offsets[header.name] = cursor;
      cursor += BigInt(header.size);
    }
    const object: KernelObject = { type: options.type, bodyVa, headerVa, block, infoMask };
    if (options.name !== undefined) {
      object.name = options.name;
      object.nameBufferVa = this.stringBuffer(this.namePool, 'ObNm', options.name);
      this.writeNameInfo(
        offsets['NAME_INFO']!,
        options.name,
        object.nameBufferVa,
        options.directory?.object.bodyVa ?? 0n,
      );
    }
    if (offsets['CREATOR_INFO'] !== undefined) this.writeCreatorInfo(offsets['CREATOR_INFO']);
    if (offsets['QUOTA_INFO'] !== undefined) this.writeQuotaInfo(offsets['QUOTA_INFO']);
    if (offsets['EXTENDED_INFO'] !== undefined) {
      // OBJECT_HEADER_EXTENDED_INFO.Footer → the OBJECT_FOOTER appended after the body.
      this.vm.writePtr(offsets['EXTENDED_INFO'], bodyVa + BigInt(options.bodySize));
    }
    this.writeHeader(object, options, offsets);
    options.directory?.insert(options.name ?? '', bodyVa);
    return object;
  }

  private writeNameInfo(at: bigint, name: string, buffer: bigint, directory: bigint): void {
    const layout = this.layout;
    const w = new ByteWriter(optionalHeaderSize(layout, 'NAME_INFO'), this.ptr);
    w.ptr(field(layout, '_OBJECT_HEADER_NAME_INFO', 'Directory'), directory);
    w.unicodeString(
      field(layout, '_OBJECT_HEADER_NAME_INFO', 'Name'),
      name.length * 2,
      name.length * 2,
      buffer,
    );
    this.vm.write(at, w.bytes);
  }

  private writeCreatorInfo(at: bigint): void {
    // TypeList links objects of the type; an object created without type tracking points to itself.
    const w = new ByteWriter(optionalHeaderSize(this.layout, 'CREATOR_INFO'), this.ptr);
    w.ptr(0, at)
      .ptr(this.ptr, at)
      .ptr(this.ptr * 2, 4n); // CreatorUniqueProcess = System (PID 4)
    this.vm.write(at, w.bytes);
  }

  private writeQuotaInfo(at: bigint): void {
    const w = new ByteWriter(optionalHeaderSize(this.layout, 'QUOTA_INFO'), this.ptr);
    w.u32(0, 0x200).u32(4, 0x800); // PagedPoolCharge, NonPagedPoolCharge
    this.vm.write(at, w.bytes);
  }

  private writeHeader(object: KernelObject, options: ObjectOptions, offsets: Record<string, bigint>): void {
    const layout = this.layout;
    const size = field(layout, '_OBJECT_HEADER', 'Body');
    const w = new ByteWriter(size, this.ptr);
    const pointerCount = BigInt(options.pointerCount ?? this.rng.int(2, 40));
    w.ptr(field(layout, '_OBJECT_HEADER', 'PointerCount'), pointerCount);
    w.ptr(
      field(layout, '_OBJECT_HEADER', 'HandleCount'),
      BigInt(options.handleCount ?? (this.rng.chance(0.2) ? 1 : 0)),
    );
    let flags = FLAG_KERNEL_OBJECT | (options.permanent ? FLAG_PERMANENT : 0);
    if (layout.objectHeader === 'type-index') {
      w.u8(
        field(layout, '_OBJECT_HEADER', 'TypeIndex'),
        this.encodedTypeIndex(options.type, object.headerVa),
      );
      w.u8(field(layout, '_OBJECT_HEADER', 'InfoMask'), object.infoMask);
    } else {
      const type = this.types.get(options.type);
      w.ptr(field(layout, '_OBJECT_HEADER', 'Type'), type ? type.object.bodyVa : object.bodyVa);
      const distance = (name: string) =>
        offsets[name] === undefined ? 0 : Number(object.headerVa - offsets[name]!);
      w.u8(field(layout, '_OBJECT_HEADER', 'NameInfoOffset'), distance('NAME_INFO'));
      w.u8(field(layout, '_OBJECT_HEADER', 'HandleInfoOffset'), distance('HANDLE_INFO'));
      w.u8(field(layout, '_OBJECT_HEADER', 'QuotaInfoOffset'), distance('QUOTA_INFO'));
      if (offsets['CREATOR_INFO'] !== undefined) flags |= FLAG_CREATOR_INFO_PRE7;
    }
    w.u8(field(layout, '_OBJECT_HEADER', 'Flags'), flags);
    this.vm.write(object.headerVa, w.bytes);
  }

  /** Creates the OBJECT_TYPE objects and, on Windows 7+, fills ObTypeIndexTable at `tableVa`. */
  createTypes(pool: PoolRegion, directory: ObjectDirectory | undefined, tableVa: bigint | undefined): void {
    const layout = this.layout;
    const bodySize = sizeOf(layout, '_OBJECT_TYPE');
    // "Type" first: every other type object's header refers to it.
    const names = ['Type', ...layout.objectTypes.filter((t) => t !== 'Type')];
    for (const name of names) {
      const object = this.create({
        type: 'Type',
        bodySize,
        name,
        directory,
        pool,
        permanent: true,
        creatorInfo: true,
      });
      const index = this.typeIndex(name);
      this.types.set(name, { name, index, object });
      const w = new ByteWriter(bodySize, this.ptr);
      const typeList = field(layout, '_OBJECT_TYPE', 'TypeList');
      w.ptr(typeList, object.bodyVa + BigInt(typeList)).ptr(
        typeList + this.ptr,
        object.bodyVa + BigInt(typeList),
      );
      const buffer = this.stringBuffer(pool, 'ObNm', name);
      w.unicodeString(field(layout, '_OBJECT_TYPE', 'Name'), name.length * 2, name.length * 2, buffer);
      const indexOffset = field(layout, '_OBJECT_TYPE', 'Index');
      if (layout.objectHeader === 'type-index') w.u8(indexOffset, index);
      else w.u32(indexOffset, index);
      w.set(field(layout, '_OBJECT_TYPE', 'Key'), new TextEncoder().encode(this.typeKey(name)));
      this.vm.write(object.bodyVa, w.bytes);
    }
    // The "Type" object itself was created before its own type existed: point its header at itself.
    if (layout.objectHeader === 'type-pointer') {
      const type = this.types.get('Type')!;
      this.vm.writePtr(
        type.object.headerVa + BigInt(field(layout, '_OBJECT_HEADER', 'Type')),
        type.object.bodyVa,
      );
    }
    if (tableVa !== undefined) {
      // Index 0 is NULL; index 1 holds the 0xbad0b0b0 marker; types start at 2.
      this.vm.writePtr(tableVa, 0n);
      this.vm.writePtr(tableVa + BigInt(this.ptr), 0xbad0b0b0n);
      for (const entry of this.types.values())
        this.vm.writePtr(tableVa + BigInt(entry.index * this.ptr), entry.object.bodyVa);
    }
  }

  typeObject(name: string): KernelObject {
    const entry = this.types.get(name);
    if (!entry) throw new Error(`no object type ${name}`);
    return entry.object;
  }
}

/** OBJECT_DIRECTORY with 37 hash buckets of OBJECT_DIRECTORY_ENTRY chains (§1.10). */
export class ObjectDirectory {
  readonly object: KernelObject;
  readonly entries: Array<{ name: string; bodyVa: bigint; entryVa: bigint }> = [];

  constructor(
    private readonly manager: ObjectManager,
    private readonly vm: VirtualMemory,
    private readonly entryPool: PoolRegion,
    objectPool: PoolRegion,
    name: string | undefined,
    parent: ObjectDirectory | undefined,
  ) {
    this.object = manager.create({
      type: 'Directory',
      bodySize: sizeOf(manager.layout, '_OBJECT_DIRECTORY'),
      name,
      directory: parent,
      pool: objectPool,
      permanent: true,
    });
  }

  /** Inserts at the head of the name's bucket, as ObpInsertDirectoryEntry does. */
  insert(name: string, bodyVa: bigint): void {
    const layout = this.manager.layout;
    const ptr = layout.pointerSize;
    const hash = directoryHash(name);
    const bucketVa = this.object.bodyVa + BigInt((hash % 37) * ptr);
    const entrySize = sizeOf(layout, '_OBJECT_DIRECTORY_ENTRY');
    const block = this.entryPool.allocate('ObDi', entrySize);
    const w = new ByteWriter(entrySize, ptr);
    w.ptr(field(layout, '_OBJECT_DIRECTORY_ENTRY', 'ChainLink'), this.vm.readPtr(bucketVa));
    w.ptr(field(layout, '_OBJECT_DIRECTORY_ENTRY', 'Object'), bodyVa);
    if (layout.structs['_OBJECT_DIRECTORY_ENTRY']?.fields['HashValue'] !== undefined) {
      w.u32(field(layout, '_OBJECT_DIRECTORY_ENTRY', 'HashValue'), hash);
    }
    this.vm.write(block.dataVa, w.bytes);
    this.vm.writePtr(bucketVa, block.dataVa);
    this.entries.push({ name, bodyVa, entryVa: block.dataVa });
  }

  /** Removes an entry from its bucket chain (what a rootkit does to hide an object). */
  unlink(bodyVa: bigint): void {
    const layout = this.manager.layout;
    const ptr = layout.pointerSize;
    const chain = field(layout, '_OBJECT_DIRECTORY_ENTRY', 'ChainLink');
    const objectField = field(layout, '_OBJECT_DIRECTORY_ENTRY', 'Object');
    for (let bucket = 0; bucket < 37; bucket++) {
      let link = this.object.bodyVa + BigInt(bucket * ptr);
      let entry = this.vm.readPtr(link);
      while (entry !== 0n) {
        if (this.vm.readPtr(entry + BigInt(objectField)) === bodyVa) {
          this.vm.writePtr(link, this.vm.readPtr(entry + BigInt(chain)));
          this.entries.splice(
            this.entries.findIndex((e) => e.bodyVa === bodyVa),
            1,
          );
          return;
        }
        link = entry + BigInt(chain);
        entry = this.vm.readPtr(link);
      }
    }
    throw new Error('directory entry to unlink not found');
  }
}

/**
 * The object-directory name hash of ReactOS' ObpLookupEntryDirectory (ntoskrnl/ob/obdir.c):
 * h += (h << 1) + (h >> 1) + upcase(c), 32-bit, bucket = h % 37.
 */
export function directoryHash(name: string): number {
  let hash = 0;
  for (const char of name) {
    const code = char.toUpperCase().charCodeAt(0);
    hash = (hash + ((hash << 1) >>> 0) + (hash >>> 1) + code) >>> 0;
  }
  return hash;
}
