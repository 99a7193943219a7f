// Loaded kernel modules: PE images mapped page by page (with the non-resident pages real systems
// have: discarded INIT, paged-out PAGE), routines placed in their code, and one loader entry per
// module in its own MmLd pool block, threaded on PsLoadedModuleList (spec §1.12, §3.4).

import { ByteWriter, alignUp, utf16le } from '../bytes';
import { field, sizeOf, type KernelLayout } from '../layout/kernel-layout';
import { MM_EXECUTE_READ, MM_READWRITE } from '../memory/page-tables';
import { PAGE } from '../memory/physical';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import { dispatchRoutine, fillCodePage, type CodeArch } from './code';
import { SCN_CODE, SCN_DATA, SCN_DISCARDABLE_CODE, SCN_RDATA, peHeaders, type PeSection } from './pe';
import type { PoolRegion } from './pool';

export interface LoadedModule {
  name: string;
  path: string;
  base: bigint;
  size: number;
  entry: bigint;
  timeDateStamp: number;
  checksum: number;
  sections: PeSection[];
  /** Loader entry VA once written. */
  ldrVa: bigint;
  unlinked: boolean;
  /** The kernel and HAL are mapped by the boot loader; their pages are managed elsewhere. */
  external: boolean;
  routines: Map<string, bigint>;
  /** The image's own stream: where its routines go and what their code is (the same every boot). */
  rng: Rng;
  textCursor: number;
  textEnd: number;
  dataCursor: number;
  dataEnd: number;
}

/** Image sizes of well-known modules (x64 Windows 10, rounded); others get a plausible random size. */
const KNOWN_SIZES: Record<string, number> = {
  'ntfs.sys': 0x2d5000,
  'tcpip.sys': 0x2f0000,
  'ndis.sys': 0x15c000,
  'dxgkrnl.sys': 0x1b3000,
  'netio.sys': 0x92000,
  'fltmgr.sys': 0x6d000,
  'wdf01000.sys': 0xe3000,
  'acpi.sys': 0xc4000,
  'storport.sys': 0xa0000,
  'classpnp.sys': 0x6c000,
  'afd.sys': 0x98000,
  'http.sys': 0x1a6000,
  'ci.dll': 0xc5000,
  'cng.sys': 0xbe000,
  'win32k.sys': 0x1f0000,
  'wdfilter.sys': 0x59000,
  'srv2.sys': 0xcc000,
  'rdbss.sys': 0x81000,
  'mrxsmb.sys': 0x85000,
  'hal.dll': 0x6f000,
  'ks.sys': 0x6e000,
  'portcls.sys': 0x5a000,
  'usbxhci.sys': 0x8e000,
  'usbhub3.sys': 0xb5000,
  'volsnap.sys': 0x6b000,
  'disk.sys': 0x1e000,
  'beep.sys': 0x9000,
  'null.sys': 0xa000,
  'partmgr.sys': 0x31000,
};

function moduleSizeFor(name: string, rng: Rng, arch: CodeArch): number {
  const known = KNOWN_SIZES[name.toLowerCase()];
  const size = known ?? alignUp(rng.int(0xc000, 0x48000), PAGE);
  return arch === 'x86' ? Math.max(0xc000, alignUp(Math.floor(size * 0.7), PAGE)) : size;
}

export class ModuleLoader {
  readonly modules: LoadedModule[] = [];
  private nextVa: bigint;
  private readonly arch: CodeArch;

  /**
   * `system` decides what a module's file holds (size, timestamp, code, where its routines are);
   * `boot` decides where this boot loads it and which of its pageable pages are resident.
   */
  constructor(
    private readonly layout: KernelLayout,
    private readonly vm: VirtualMemory,
    private readonly system: Rng,
    private readonly boot: Rng,
    driverArea: bigint,
  ) {
    this.nextVa = driverArea;
    this.arch = layout.arch;
  }

  /** Registers the kernel or HAL, mapped by the caller; routines can still be placed in its code. */
  addExternal(
    name: string,
    path: string,
    base: bigint,
    size: number,
    entry: bigint,
    timeDateStamp: number,
    checksum: number,
    sections: PeSection[],
  ): LoadedModule {
    const text = sections.find((s) => s.name === 'KVASCODE') ?? sections.find((s) => s.name === '.text');
    const module: LoadedModule = {
      name,
      path,
      base,
      size,
      entry,
      timeDateStamp,
      checksum,
      sections,
      ldrVa: 0n,
      unlinked: false,
      external: true,
      routines: new Map(),
      rng: this.system.fork(`module/${name.toLowerCase()}`),
      textCursor: text ? text.rva + text.virtualSize / 2 : 0x1000,
      textEnd: text ? text.rva + text.virtualSize : 0x1000,
      dataCursor: 0,
      dataEnd: 0,
    };
    this.modules.push(module);
    return module;
  }

  /** Maps a driver or library image at the next free place of the driver area. */
  load(
    name: string,
    path: string,
    options: { dll?: boolean; size?: number; at?: bigint; preMapped?: boolean } = {},
  ): LoadedModule {
    const rng = this.system.fork(`module/${name.toLowerCase()}`);
    const sections = sectionPlan(options.size ?? moduleSizeFor(name, rng, this.arch));
    const last = sections[sections.length - 1]!;
    const size = last.rva + last.virtualSize;
    const base = options.at ?? this.allocateVa(size);
    const timeDateStamp = 0x50000000 + (rng.next() & 0x1fffffff);
    const checksum = (rng.next() & 0xfffff) + 0x10000;
    const text = sections[0]!;
    const data = sections.find((s) => s.name === '.data')!;
    const init = sections.find((s) => s.name === 'INIT')!;
    const entry = base + BigInt(init.rva + 0x10);
    const module: LoadedModule = {
      name,
      path,
      base,
      size,
      entry,
      timeDateStamp,
      checksum,
      sections,
      ldrVa: 0n,
      unlinked: false,
      external: false,
      routines: new Map(),
      rng,
      textCursor: text.rva + 0x10 * rng.int(1, 16),
      textEnd: text.rva + text.virtualSize,
      dataCursor: data.rva + 0x40,
      dataEnd: data.rva + data.virtualSize,
    };
    this.mapImage(module, options.dll ?? false, options.preMapped ?? false);
    this.modules.push(module);
    return module;
  }

  private allocateVa(size: number): bigint {
    const va = this.nextVa;
    this.nextVa += BigInt(alignUp(size, PAGE) + PAGE * this.boot.int(1, 24));
    return va;
  }

  /** Maps the image page by page, or (`preMapped`, inside the kernel's large pages) only fills it. */
  private mapImage(module: LoadedModule, dll: boolean, preMapped: boolean): void {
    const codeSeed = module.rng.next();
    for (let rva = 0; rva < module.size; rva += PAGE) {
      const va = module.base + BigInt(rva);
      const section = module.sections.find((s) => rva >= s.rva && rva < s.rva + alignUp(s.virtualSize, PAGE));
      const residency = preMapped ? 'resident' : this.residency(section, rva);
      if (residency === 'absent') continue;
      if (residency === 'paged-out') {
        this.vm.markNotResident(va, {
          kind: 'pagefile',
          pageFile: 0,
          offsetPages: this.boot.int(0x100, 0xfffff),
          protection: section && section.characteristics & 0x20 ? MM_EXECUTE_READ : MM_READWRITE,
        });
        continue;
      }
      const code = section !== undefined && (section.characteristics & 0x20) !== 0;
      let pfn: number;
      if (preMapped) {
        pfn = this.vm.pa(va) / PAGE;
      } else {
        pfn = this.vm.phys.allocate(this.boot);
        this.vm.mapFrame(va, pfn, { writable: !code, executable: code });
      }
      if (code)
        this.vm.phys.setGenerator(pfn, (out) =>
          fillCodePage(out, this.arch, codeSeed ^ Math.imul(rva, 0x85ebca6b)),
        );
      else this.vm.phys.zeroPage(pfn);
    }
    this.vm.write(
      module.base,
      peHeaders({
        machine: this.arch,
        imageBase: module.base,
        sizeOfImage: module.size,
        entryRva: Number(module.entry - module.base),
        timeDateStamp: module.timeDateStamp,
        checksum: module.checksum,
        sections: module.sections,
        dll,
      }),
    );
  }

  /** Which pages of an image are in memory: code and data yes, discarded INIT no, pageable PAGE partly. */
  private residency(section: PeSection | undefined, rva: number): 'resident' | 'paged-out' | 'absent' {
    if (rva === 0) return 'resident';
    if (!section) return 'absent';
    switch (section.name) {
      case '.text':
      case '.data':
      case '.rdata':
        return 'resident';
      case 'PAGE':
        return this.boot.chance(0.35) ? 'paged-out' : 'resident';
      case 'INIT':
        return 'absent';
      default:
        return this.boot.chance(0.5) ? 'absent' : 'resident';
    }
  }

  /** A routine of `module` named `label`, placed once in its resident code and reused after. */
  routine(module: LoadedModule, label: string, bytes?: Uint8Array): bigint {
    const existing = module.routines.get(label);
    if (existing !== undefined) return existing;
    const code = bytes ?? dispatchRoutine(this.arch, module.rng);
    let rva = alignUp(module.textCursor, 16);
    // Keep a routine inside one page so that it is never cut by a non-resident page.
    if (Math.floor(rva / PAGE) !== Math.floor((rva + code.length - 1) / PAGE)) rva = alignUp(rva, PAGE);
    if (rva + code.length > module.textEnd) throw new Error(`no room for routine ${label} in ${module.name}`);
    module.textCursor = rva + code.length + 16 * module.rng.int(1, 12);
    const va = module.base + BigInt(rva);
    this.vm.write(va, code);
    module.routines.set(label, va);
    return va;
  }

  /** Room for a data structure (such as a FAST_IO_DISPATCH table) in the module's .data. */
  dataSlot(module: LoadedModule, size: number): bigint {
    const rva = alignUp(module.dataCursor, 16);
    if (rva + size > module.dataEnd) throw new Error(`no room for data in ${module.name}`);
    module.dataCursor = rva + size;
    return module.base + BigInt(rva);
  }

  ownerOf(va: bigint): LoadedModule | undefined {
    return this.modules.find((m) => va >= m.base && va < m.base + BigInt(m.size));
  }

  /**
   * Writes one loader entry per module (MmLd pool blocks) and links them, in load order, on the
   * PsLoadedModuleList head; `linked` decides which entries are on the list.
   */
  writeLoaderEntries(pool: PoolRegion, listHeadVa: bigint): void {
    const layout = this.layout;
    const ptr = layout.pointerSize;
    const entryStruct = '_KLDR_DATA_TABLE_ENTRY';
    const entrySize = sizeOf(layout, entryStruct);
    const f = (name: string) => field(layout, entryStruct, name);
    for (const module of this.modules) {
      const baseName = utf16le(module.name);
      const full = utf16le(module.path);
      // One MmLd allocation holds the entry followed by the BaseDllName and FullDllName strings.
      const block = pool.allocate('MmLd', entrySize + baseName.length + full.length);
      module.ldrVa = block.dataVa;
      const fullVa = block.dataVa + BigInt(entrySize + baseName.length);
      const w = new ByteWriter(entrySize + baseName.length + full.length, ptr);
      w.ptr(f('DllBase'), module.base).ptr(f('EntryPoint'), module.entry).u32(f('SizeOfImage'), module.size);
      w.unicodeString(f('FullDllName'), full.length - 2, full.length, fullVa);
      w.unicodeString(
        f('BaseDllName'),
        baseName.length - 2,
        baseName.length,
        block.dataVa + BigInt(entrySize),
      );
      w.u32(f('Flags'), 0x49104000);
      // LoadCount (ObsoleteLoadCount on 8.1) of a boot-loaded module.
      const loadCount =
        layout.structs[entryStruct]?.fields['LoadCount'] ??
        layout.structs[entryStruct]?.fields['ObsoleteLoadCount'];
      if (loadCount !== undefined) w.u16(loadCount, 1);
      if (layout.structs[entryStruct]?.fields['TimeDateStamp'] !== undefined)
        w.u32(f('TimeDateStamp'), module.timeDateStamp);
      if (layout.structs[entryStruct]?.fields['CheckSum'] !== undefined)
        w.u32(f('CheckSum'), module.checksum);
      w.set(entrySize, baseName).set(entrySize + baseName.length, full);
      this.vm.write(block.dataVa, w.bytes);
    }
    const linked = this.modules.filter((m) => !m.unlinked);
    const links = [listHeadVa, ...linked.map((m) => m.ldrVa + BigInt(f('InLoadOrderLinks')))];
    for (let i = 0; i < links.length; i++) {
      const next = links[(i + 1) % links.length]!;
      const previous = links[(i - 1 + links.length) % links.length]!;
      this.vm.writePtr(links[i]!, next);
      this.vm.writePtr(links[i]! + BigInt(ptr), previous);
    }
    // An unlinked entry keeps the links it had when it was cut out: they still point at its old neighbours.
    for (const module of this.modules.filter((m) => m.unlinked)) {
      const at = this.modules.indexOf(module);
      const before = this.modules
        .slice(0, at)
        .reverse()
        .find((m) => !m.unlinked);
      const after = this.modules.slice(at + 1).find((m) => !m.unlinked);
      const self = module.ldrVa + BigInt(f('InLoadOrderLinks'));
      this.vm.writePtr(self, after ? after.ldrVa : listHeadVa);
      this.vm.writePtr(self + BigInt(ptr), before ? before.ldrVa : listHeadVa);
    }
  }
}

/** Section layout of a driver image: .text, .rdata, .data, PAGE, INIT, .rsrc, .reloc. */
function sectionPlan(size: number): PeSection[] {
  const at = (fraction: number) => Math.max(0x1000, Math.floor((size * fraction) / PAGE) * PAGE);
  const text = 0x1000;
  const rdata = Math.max(at(0.5), text + 0x1000);
  const data = Math.max(at(0.6), rdata + 0x1000);
  const page = Math.max(at(0.68), data + 0x1000);
  const init = Math.max(at(0.88), page + 0x1000);
  const rsrc = Math.max(at(0.95), init + 0x1000);
  const end = Math.max(size, rsrc + 0x1000);
  return [
    { name: '.text', rva: text, virtualSize: rdata - text, characteristics: SCN_CODE },
    { name: '.rdata', rva: rdata, virtualSize: data - rdata, characteristics: SCN_RDATA },
    { name: '.data', rva: data, virtualSize: page - data, characteristics: SCN_DATA },
    { name: 'PAGE', rva: page, virtualSize: init - page, characteristics: SCN_CODE },
    { name: 'INIT', rva: init, virtualSize: rsrc - init, characteristics: SCN_DISCARDABLE_CODE },
    { name: '.rsrc', rva: rsrc, virtualSize: end - rsrc, characteristics: SCN_RDATA },
  ];
}
