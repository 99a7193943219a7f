// VMware suspend/snapshot state (.vmss/.vmsn) and the .vmem beside it (spec §5.3; `V3:layers/vmware.py`,
// `V2:addrspaces/vmware.py`, `RK:plugins/addrspaces/vmem.py`, `LC:device_file.c`).
// The metadata file is groups of tags; group "memory" says how guest-physical pages map onto the
// memory file (regionPPN/regionPageNum/regionSize), or holds the memory itself (tag "Memory").

import type { ByteSource } from '../source';
import { cString, u16, u32, u64, u8 } from '../util/bytes';
import { fileNameOf } from '../util/file-name';
import { ImageError } from './errors';
import { RunSpace } from './run-space';
import { RunTableBuilder } from './run-table';
import type { PhysicalSpace } from './types';

const MAGICS = new Set([0xbed2bed0, 0xbad1bad1, 0xbed2bed2, 0xbed3bed3]);
const GROUPS_AT = 12;
const GROUP_SIZE = 80;
const MAX_GROUPS = 4096;
const MAX_TAGS = 1 << 20;
const PAGE = 0x1000;

export function isVmwareMagic(first: Uint8Array): boolean {
  return first.length >= 4 && MAGICS.has(u32(first, 0));
}

export interface VmwareTag {
  readonly name: string;
  readonly indices: readonly number[];
  readonly dataOffset: number;
  readonly dataSize: number;
  /** The value of a 1/2/4/8-byte tag. */
  readonly value?: number;
}

export interface VmwareMetadata {
  readonly version: number;
  readonly groupNames: readonly string[];
  /** Tags of group "memory", or undefined when the file has no such group. */
  readonly memoryTags?: readonly VmwareTag[];
}

export function parseVmwareMetadata(source: ByteSource, warnings: string[]): VmwareMetadata {
  const head = source.read(0, GROUPS_AT);
  if (head.length < GROUPS_AT || !MAGICS.has(u32(head, 0)))
    throw new ImageError('corrupt', `${source.name}: not a VMware state file (bad magic)`);
  const version = u32(head, 0) & 0xf;
  let groupCount = u32(head, 8);
  const fit = Math.floor((source.size - GROUPS_AT) / GROUP_SIZE);
  if (groupCount > Math.min(MAX_GROUPS, fit)) {
    warnings.push(`VMware header lists ${groupCount} groups; only ${Math.min(MAX_GROUPS, fit)} fit the file`);
    groupCount = Math.min(MAX_GROUPS, fit);
  }
  const groups = source.read(GROUPS_AT, groupCount * GROUP_SIZE);
  const groupNames: string[] = [];
  let memoryTags: VmwareTag[] | undefined;
  for (let g = 0; g < groupCount; g++) {
    const at = g * GROUP_SIZE;
    const name = cString(groups, at, 64);
    groupNames.push(name);
    if (name === 'memory' && memoryTags === undefined) {
      const tagsOffset = u64(groups, at + 64);
      if (tagsOffset >= BigInt(source.size)) {
        warnings.push('the VMware "memory" group points past the end of the file');
        memoryTags = [];
      } else memoryTags = readTags(source, Number(tagsOffset), version, warnings);
    }
  }
  return { version, groupNames, memoryTags };
}

function readTags(source: ByteSource, start: number, version: number, warnings: string[]): VmwareTag[] {
  const tags: VmwareTag[] = [];
  let at = start;
  const end = source.size;
  const cut = (): VmwareTag[] => {
    warnings.push(
      `the VMware "memory" group's tags run past the end of the file after ${tags.length} tag(s)`,
    );
    return tags;
  };
  while (tags.length < MAX_TAGS) {
    const head = source.read(at, 2);
    if (head.length < 2) return cut();
    const flags = u8(head, 0);
    const nameLength = u8(head, 1);
    if (flags === 0 && nameLength === 0) return tags;
    const indexCount = (flags >> 6) & 3;
    const fixed = source.read(at + 2, nameLength + indexCount * 4);
    if (fixed.length < nameLength + indexCount * 4) return cut();
    const name = cString(fixed, 0, nameLength);
    const indices: number[] = [];
    for (let i = 0; i < indexCount; i++) indices.push(u32(fixed, nameLength + i * 4));
    let dataOffset = at + 2 + nameLength + indexCount * 4;
    let dataSize = flags & 0x3f;
    let value: number | undefined;
    if (dataSize === 62 || dataSize === 63) {
      // Extended data: disk size and memory size (u32 each in version 0, else u64), then a u16
      // padding length and the padding (Rekall `_VMWARE_EXTENDED_DATA64`; V3 assumes no padding).
      const sizeWidth = version === 0 ? 4 : 8;
      const ext = source.read(dataOffset, sizeWidth * 2 + 2);
      if (ext.length < sizeWidth * 2 + 2) return cut();
      const diskSize = sizeWidth === 4 ? BigInt(u32(ext, 0)) : u64(ext, 0);
      const padding = u16(ext, sizeWidth * 2);
      dataOffset += sizeWidth * 2 + 2 + padding;
      if (diskSize > BigInt(end - Math.min(end, dataOffset))) {
        warnings.push(`VMware tag "${name}" claims ${diskSize} bytes past the end of the file`);
        dataSize = Math.max(0, end - dataOffset);
        tags.push({ name, indices, dataOffset, dataSize });
        return tags;
      }
      dataSize = Number(diskSize);
    } else if (dataSize === 1 || dataSize === 2 || dataSize === 4 || dataSize === 8) {
      const data = source.read(dataOffset, dataSize);
      if (data.length < dataSize) return cut();
      if (dataSize === 8) {
        const big = u64(data, 0);
        value = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : undefined;
      } else value = dataSize === 1 ? u8(data, 0) : dataSize === 2 ? u16(data, 0) : u32(data, 0);
    }
    tags.push(
      value === undefined
        ? { name, indices, dataOffset, dataSize }
        : { name, indices, dataOffset, dataSize, value },
    );
    at = dataOffset + dataSize;
  }
  warnings.push(`the VMware "memory" group has more than ${MAX_TAGS} tags; the rest were ignored`);
  return tags;
}

function tagValue(tags: readonly VmwareTag[], name: string, ...indices: number[]): number | undefined {
  return tags.find(
    (t) =>
      t.name === name && t.indices.length === indices.length && t.indices.every((v, i) => v === indices[i]),
  )?.value;
}

/** The embedded memory: tag "Memory" with indices [0, 0] (`V2 VMWareAddressSpace`). */
export function embeddedMemory(meta: VmwareMetadata): VmwareTag | undefined {
  const tag = meta.memoryTags?.find(
    (t) => t.name === 'Memory' && t.indices.length === 2 && t.indices[0] === 0 && t.indices[1] === 0,
  );
  return tag !== undefined && tag.dataSize > 0 ? tag : undefined;
}

export interface VmwareFiles {
  readonly metadata: ByteSource;
  /** The .vmem; when absent the memory must be embedded in the metadata file. */
  readonly memory?: ByteSource;
}

export function openVmware(files: VmwareFiles, inheritedWarnings: readonly string[] = []): PhysicalSpace {
  const warnings = [...inheritedWarnings];
  const { metadata, memory } = files;
  const meta = parseVmwareMetadata(metadata, warnings);
  if (meta.memoryTags === undefined)
    throw new ImageError('corrupt', `${metadata.name}: VMware state file without a "memory" group`);
  const embedded = memory === undefined ? embeddedMemory(meta) : undefined;
  if (memory === undefined && embedded === undefined)
    throw new ImageError(
      'missing-companion',
      `${metadata.name}: this VMware state file holds no memory; open it with the .vmem file of the same name beside it`,
    );
  const data = memory ?? metadata;
  const base = embedded?.dataOffset ?? 0;
  const limit =
    embedded === undefined ? data.size : Math.min(data.size, embedded.dataOffset + embedded.dataSize);

  const builder = new RunTableBuilder();
  const tags = meta.memoryTags;
  const regions = tagValue(tags, 'regionsCount');
  if (regions === undefined || regions === 0) {
    // No region list: one region from PA 0 (V2; LeechCore also treats the file as 1:1).
    warnings.push(
      'VMware metadata lists no memory regions: memory read as one region from physical address 0',
    );
    builder.add(0, limit - base, base);
  } else {
    let missing = 0;
    for (let i = 0; i < Math.min(regions, MAX_TAGS); i++) {
      const ppn = tagValue(tags, 'regionPPN', i);
      const pageNum = tagValue(tags, 'regionPageNum', i);
      const size = tagValue(tags, 'regionSize', i);
      if (ppn === undefined || pageNum === undefined || size === undefined) {
        missing++;
        continue;
      }
      builder.add(ppn * PAGE, size * PAGE, base + pageNum * PAGE);
    }
    if (missing > 0)
      warnings.push(`${missing} of ${regions} VMware memory region(s) lack their PPN/PageNum/Size tags`);
  }
  const table = builder.build(limit, warnings);
  if (table.count === 0)
    throw new ImageError('corrupt', `${metadata.name}: the VMware memory regions map no readable page`);
  const description = embedded
    ? 'VMware state file with embedded memory'
    : `VMware memory file with ${fileNameOf(metadata.name) || 'metadata'} (${regions ?? 1} region(s))`;
  return new RunSpace({
    name: data.name,
    format: {
      id: 'vmware',
      description,
      holdsPhysicalMemory: true,
      details: {
        vmwareVersion: meta.version,
        memoryEmbedded: embedded !== undefined,
        dataFile: data.name,
        metadataFile: metadata.name,
      },
    },
    table,
    data,
    others: memory === undefined ? [] : [metadata],
    warnings,
  });
}
