// VMware .vmss/.vmsn metadata with a .vmem beside it, and memory embedded in the state file (spec §5.3).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageError, openImageFromSource } from '../../../../src/core/image';
import { openImage } from '../../../../src/core/node/open-image';
import { BufferSource } from '../../../../src/core/source';
import { concat, PAGE, pages, pfnAt, Writer } from './build';

interface Tag {
  name: string;
  indices?: number[];
  /** An integer of 4 bytes, or extended data. */
  value?: number;
  data?: Uint8Array;
  padding?: number;
}

/** Encodes tags (spec §5.3): flags (index count << 6 | size), name length, name, u32 indices, data. */
function encodeTags(tags: Tag[], version: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const tag of tags) {
    const indices = tag.indices ?? [];
    const extended = tag.data !== undefined;
    const size = extended ? 62 : 4;
    const head = new Writer(2 + tag.name.length + indices.length * 4);
    head
      .u8(0, (indices.length << 6) | size)
      .u8(1, tag.name.length)
      .ascii(2, tag.name);
    indices.forEach((v, i) => head.u32(2 + tag.name.length + i * 4, v));
    parts.push(head.bytes);
    if (extended) {
      const width = version === 0 ? 4 : 8;
      const padding = tag.padding ?? 0;
      const ext = new Writer(width * 2 + 2 + padding);
      if (width === 4) ext.u32(0, tag.data!.length).u32(4, tag.data!.length);
      else ext.u64(0, tag.data!.length).u64(8, tag.data!.length);
      ext.u16(width * 2, padding);
      parts.push(ext.bytes, tag.data!);
    } else {
      parts.push(new Writer(4).u32(0, tag.value ?? 0).bytes);
    }
  }
  parts.push(new Uint8Array(2)); // flags 0, name length 0: end of group
  return concat(...parts);
}

/** A state file with groups "Checkpoint" and "memory"; magic 0xBED3BED3 (version 3) by default. */
function stateFile(memoryTags: Tag[], magic = 0xbed3bed3): Uint8Array {
  const version = magic & 0xf;
  const header = new Writer(12 + 2 * 80);
  header.u32(0, magic).u32(4, 0).u32(8, 2);
  const checkpointTags = encodeTags([{ name: 'memSize', value: 16 }], version);
  const checkpointAt = header.bytes.length;
  const memoryAt = checkpointAt + checkpointTags.length;
  header
    .ascii(12, 'Checkpoint')
    .u64(12 + 64, checkpointAt)
    .u64(12 + 72, checkpointTags.length);
  const memory = encodeTags(memoryTags, version);
  header
    .ascii(92, 'memory')
    .u64(92 + 64, memoryAt)
    .u64(92 + 72, memory.length);
  return concat(header.bytes, checkpointTags, memory);
}

/** Two regions with the PCI hole: PA 0–2 pages at file page 0, PA 4 GiB at file page 2. */
const regionTags: Tag[] = [
  { name: 'regionsCount', value: 2 },
  { name: 'regionPPN', indices: [0], value: 0 },
  { name: 'regionPageNum', indices: [0], value: 0 },
  { name: 'regionSize', indices: [0], value: 2 },
  { name: 'regionPPN', indices: [1], value: 0x100000 },
  { name: 'regionPageNum', indices: [1], value: 2 },
  { name: 'regionSize', indices: [1], value: 3 },
];
const vmem = pages(0, 1, 0x100000, 0x100001, 0x100002);

describe('.vmem with .vmss metadata', () => {
  it('maps regions, including the gap below 4 GiB', () => {
    const space = openImageFromSource(new BufferSource(vmem, 'vm.vmem'), {
      vmwareMetadata: new BufferSource(stateFile(regionTags), 'vm.vmss'),
    });
    expect(space.format.id).toBe('vmware');
    expect(space.format.details).toMatchObject({ vmwareVersion: 3, memoryEmbedded: false });
    expect(space.runs).toEqual([
      { start: 0, length: 2 * PAGE, fileOffset: 0 },
      { start: 0x100000000, length: 3 * PAGE, fileOffset: 2 * PAGE },
    ]);
    expect(pfnAt(space.read(0x100001000, 8))).toBe(0x100001);
    expect(space.read(2 * PAGE, 8)).toBeNull();
    expect(space.maxAddress).toBe(0x100003000);
  });

  it('reads version-0 metadata (u32 extended sizes) and tolerates padding before extended data', () => {
    const embedded = pages(0, 1);
    const state = stateFile([{ name: 'Memory', indices: [0, 0], data: embedded, padding: 6 }], 0xbed2bed0);
    const space = openImageFromSource(new BufferSource(state, 'vm.vmsn'));
    expect(space.format.details).toMatchObject({ vmwareVersion: 0, memoryEmbedded: true });
    expect(space.warnings.join('\n')).toMatch(/no memory regions/);
    expect(space.runs.length).toBe(1);
    expect(space.runs[0]!.length).toBe(2 * PAGE);
    expect(pfnAt(space.read(PAGE, 8))).toBe(1);
  });

  it('reads memory embedded in a .vmss through its regions, relative to the Memory tag data', () => {
    const data = pages(0, 0x100000);
    const tags: Tag[] = [
      { name: 'regionsCount', value: 2 },
      { name: 'regionPPN', indices: [0], value: 0 },
      { name: 'regionPageNum', indices: [0], value: 0 },
      { name: 'regionSize', indices: [0], value: 1 },
      { name: 'regionPPN', indices: [1], value: 0x100000 },
      { name: 'regionPageNum', indices: [1], value: 1 },
      { name: 'regionSize', indices: [1], value: 1 },
      { name: 'Memory', indices: [0, 0], data },
    ];
    const space = openImageFromSource(new BufferSource(stateFile(tags), 'vm.vmss'));
    expect(space.format.details.memoryEmbedded).toBe(true);
    expect(pfnAt(space.read(0, 8))).toBe(0);
    expect(pfnAt(space.read(0x100000000, 8))).toBe(0x100000);
    expect(space.runs[0]!.fileOffset).toBeGreaterThan(0);
  });

  it('says the .vmem is needed when the state file holds no memory', () => {
    try {
      openImageFromSource(new BufferSource(stateFile(regionTags), 'vm.vmss'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ImageError);
      expect((error as ImageError).kind).toBe('missing-companion');
      expect((error as ImageError).message).toMatch(/\.vmem/);
    }
  });

  it('clips regions past the end of the .vmem and survives tags cut short', () => {
    const short = openImageFromSource(new BufferSource(vmem.slice(0, 3 * PAGE), 'vm.vmem'), {
      vmwareMetadata: new BufferSource(stateFile(regionTags), 'vm.vmss'),
    });
    expect(short.runs[1]).toEqual({ start: 0x100000000, length: PAGE, fileOffset: 2 * PAGE });
    expect(short.warnings.join('\n')).toMatch(/truncated/);

    const state = stateFile(regionTags);
    const cut = state.slice(0, state.length - 30);
    const partial = openImageFromSource(new BufferSource(vmem, 'vm.vmem'), {
      vmwareMetadata: new BufferSource(cut, 'vm.vmss'),
    });
    expect(partial.warnings.join('\n')).toMatch(/past the end of the file/);
    expect(partial.runs[0]).toEqual({ start: 0, length: 2 * PAGE, fileOffset: 0 });
  });

  it('bounds a hostile group count', () => {
    const state = stateFile(regionTags);
    new DataView(state.buffer).setUint32(8, 0xffffffff, true);
    const space = openImageFromSource(new BufferSource(vmem, 'vm.vmem'), {
      vmwareMetadata: new BufferSource(state, 'vm.vmss'),
    });
    expect(space.warnings.join('\n')).toMatch(/groups/);
    expect(space.runs.length).toBe(2);
  });
});

describe('openImage finds the VMware companion by name', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'irpscope-vmware-'));
    fs.writeFileSync(path.join(dir, 'win.vmem'), vmem);
    fs.writeFileSync(path.join(dir, 'win.vmss'), stateFile(regionTags));
    fs.writeFileSync(path.join(dir, 'alone.vmem'), vmem);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('opens a .vmem with the .vmss beside it', () => {
    const space = openImage(path.join(dir, 'win.vmem'));
    expect(space.format.id).toBe('vmware');
    expect(space.format.details.metadataFile).toBe(path.join(dir, 'win.vmss'));
    expect(pfnAt(space.read(0x100002000, 8))).toBe(0x100002);
    space.close();
  });

  it('opens a .vmss whose memory is in the .vmem beside it', () => {
    const space = openImage(path.join(dir, 'win.vmss'));
    expect(space.format.details.dataFile).toBe(path.join(dir, 'win.vmem'));
    expect(space.runs.length).toBe(2);
    space.close();
  });

  it('reads a lone .vmem as raw, and says why', () => {
    const space = openImage(path.join(dir, 'alone.vmem'));
    expect(space.format.id).toBe('raw');
    expect(space.warnings.join('\n')).toMatch(/no \.vmss\/\.vmsn beside alone\.vmem/);
    space.close();
  });
});
