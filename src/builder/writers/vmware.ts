// VMware snapshot: guest memory in a .vmem file, its layout in the .vmss "memory" group
// (regionsCount, regionPPN/regionPageNum/regionSize per region, spec §5.3). Guests above
// 3 GiB have two regions around the PCI hole below 4 GiB.

import { ByteWriter } from '../bytes';
import { PAGE } from '../memory/physical';
import type { BuiltSystem } from '../windows/system';
import { ImageFile, writePhysicalRange } from './stream';

interface Region {
  ppn: number;
  pageNum: number;
  size: number;
}

function regions(system: BuiltSystem): Region[] {
  const max = system.phys.maxAddress;
  const low = Math.min(max, 0xc0000000);
  const out: Region[] = [{ ppn: 0, pageNum: 0, size: low / PAGE }];
  if (max > 0x100000000) out.push({ ppn: 0x100000, pageNum: low / PAGE, size: (max - 0x100000000) / PAGE });
  return out;
}

/** One tag: flags (index count << 6 | data size), name length, name, u32 indices, data. */
function tag(name: string, indices: number[], value: number): Uint8Array {
  const w = new ByteWriter(2 + name.length + indices.length * 4 + 4, 4);
  w.u8(0, (indices.length << 6) | 4)
    .u8(1, name.length)
    .ascii(2, name);
  indices.forEach((index, i) => w.u32(2 + name.length + i * 4, index));
  w.u32(2 + name.length + indices.length * 4, value);
  return w.bytes;
}

export function vmssBytes(system: BuiltSystem): Uint8Array {
  const groups: Array<[string, Uint8Array[]]> = [
    ['Checkpoint', [tag('ID', [], 0x1c1a), tag('version', [], 9)]],
    ['cpu', [tag('nvcpu', [], system.hints.processors)]],
    [
      'memory',
      (() => {
        const list = regions(system);
        const tags = [tag('regionsCount', [], list.length), tag('align_mask', [], 0xffff)];
        list.forEach((r, i) =>
          tags.push(
            tag('regionPPN', [i], r.ppn),
            tag('regionPageNum', [i], r.pageNum),
            tag('regionSize', [i], r.size),
          ),
        );
        return tags;
      })(),
    ],
  ];
  const headerSize = 12 + groups.length * 80;
  const bodies = groups.map(([, tags]) => {
    const total = tags.reduce((n, t) => n + t.length, 0) + 2;
    const out = new Uint8Array(total);
    let at = 0;
    for (const t of tags) {
      out.set(t, at);
      at += t.length;
    }
    return out;
  });
  const total = headerSize + bodies.reduce((n, b) => n + b.length, 0);
  const w = new ByteWriter(total, 8);
  w.set(0, Uint8Array.of(0xd2, 0xbe, 0xd2, 0xbe))
    .u32(4, 0)
    .u32(8, groups.length);
  let at = headerSize;
  groups.forEach(([name], i) => {
    const g = 12 + i * 80;
    w.ascii(g, name)
      .u64(g + 64, BigInt(at))
      .u64(g + 72, BigInt(bodies[i]!.length));
    w.set(at, bodies[i]!);
    at += bodies[i]!.length;
  });
  return w.bytes;
}

export function writeVmware(system: BuiltSystem, vmemPath: string, vmssPath: string, sparse: boolean): void {
  const file = new ImageFile(vmemPath, sparse);
  for (const region of regions(system)) {
    writePhysicalRange(
      file,
      system.phys,
      system.noise,
      region.ppn * PAGE,
      (region.ppn + region.size) * PAGE,
      region.pageNum * PAGE,
    );
  }
  file.close();
  const meta = new ImageFile(vmssPath, false);
  meta.writeAt(0, vmssBytes(system));
  meta.close();
}
