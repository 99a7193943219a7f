// ntoskrnl.exe as mapped in memory: PE headers with the CodeView RSDS record of the PDB the
// layouts came from, sections (including POOLCODE), an export directory named ntoskrnl.exe,
// code and data at the RVAs of the symbol table. The image is mapped with large pages, as the
// boot loader maps the kernel (spec §3.2).

import { alignUp } from '../bytes';
import { BuildError } from '../errors';
import { hasField, type KernelLayout } from '../layout/kernel-layout';
import { PAGE } from '../memory/physical';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import { CALLBACK_EXPORTS, CALLBACK_HEADS } from './kernel-names';
import { fillCodePage, type CodeArch } from './code';
import {
  SCN_CODE,
  SCN_DATA,
  SCN_DISCARDABLE_CODE,
  SCN_RDATA,
  codeViewDebugInfo,
  exportDirectory,
  guidBytes,
  peHeaders,
  versionResource,
  type ExportEntry,
  type PeSection,
} from './pe';

/**
 * Writable globals whose RVAs bound the kernel's .data section. (NtBuildNumber is read-only data
 * that Microsoft's linker merges into a code section on some builds, e.g. RVA 0x1b638 on 9600.)
 */
const DATA_GLOBALS = [
  'PsLoadedModuleList',
  'PsActiveProcessHead',
  'ObpRootDirectoryObject',
  'ObTypeIndexTable',
  'ObHeaderCookie',
  'KdDebuggerDataBlock',
  'IoDriverObjectType',
  'IoDeviceObjectType',
  'KiWaitNever',
  'KiWaitAlways',
  'KdpDataBlockEncoded',
  'MmPfnDatabase',
  'PsInitialSystemProcess',
  'PsProcessType',
  'KdVersionBlock',
];

/** Exported names (spec §3.3 lists the ones symbol-free readers rely on; the rest are common imports). */
const EXPORTS = [
  'PsInitialSystemProcess',
  'IoDriverObjectType',
  'IoDeviceObjectType',
  'IoFileObjectType',
  'PsProcessType',
  'PsThreadType',
  'NtBuildNumber',
  'ObGetObjectType',
  'PsLoadedModuleList',
  'KdDebuggerEnabled',
  'KdDebuggerNotPresent',
  // Fills a dump header; calls KdCopyDataBlock (spec §3.5).
  'KeCapturePersistentThreadState',
  'ExAllocatePoolWithTag',
  'ExFreePoolWithTag',
  'IoCreateDevice',
  'IoDeleteDevice',
  'IoCreateSymbolicLink',
  'IoDeleteSymbolicLink',
  'IoAttachDeviceToDeviceStack',
  'IoDetachDevice',
  'IofCallDriver',
  'IofCompleteRequest',
  'IoGetDeviceObjectPointer',
  'IoRegisterDriverReinitialization',
  'KeBugCheckEx',
  'KeInitializeSpinLock',
  'KeWaitForSingleObject',
  'KeSetEvent',
  // Their code encodes a timer's DPC with KiWaitNever and KiWaitAlways (x64, Windows 7 on).
  'KeSetTimer',
  'KeSetTimerEx',
  'KeInitializeEvent',
  'KeDelayExecutionThread',
  'MmGetSystemRoutineAddress',
  'MmIsAddressValid',
  'MmMapIoSpace',
  'ObReferenceObjectByName',
  'ObReferenceObjectByHandle',
  'ObfDereferenceObject',
  'PsCreateSystemThread',
  'PsGetCurrentProcessId',
  'PsLookupProcessByProcessId',
  // The one-field accessors (windows/accessors.ts): a reader learns offsets from their code.
  'PsGetProcessId',
  'PsGetProcessImageFileName',
  'PsGetProcessInheritedFromUniqueProcessId',
  'PsGetProcessPeb',
  'PsGetThreadId',
  'PsGetThreadProcessId',
  'PsGetThreadProcess',
  'IoThreadToProcess',
  'NtClose',
  'NtCreateFile',
  'NtReadFile',
  'NtWriteFile',
  'NtDeviceIoControlFile',
  'NtQuerySystemInformation',
  'RtlInitUnicodeString',
  'RtlCopyUnicodeString',
  'RtlCompareUnicodeString',
  'ZwClose',
  'ZwCreateFile',
  'ZwReadFile',
  'ZwWriteFile',
  'ZwOpenKey',
  'ZwQueryValueKey',
  'FsRtlCopyRead',
  'FsRtlCopyWrite',
  'FsRtlMdlReadDev',
  'FsRtlMdlReadCompleteDev',
  'FsRtlPrepareMdlWriteDev',
  'FsRtlMdlWriteCompleteDev',
  'DbgPrint',
  'DbgPrintEx',
  'KeServiceDescriptorTable',
  // Registration routines whose code loads the callback arrays and lists (windows/callbacks.ts).
  ...CALLBACK_EXPORTS,
];

/** Names that are data, not code, when the builder has to place them itself. */
const DATA_NAMES = new Set([
  ...DATA_GLOBALS,
  'IoFileObjectType',
  'PsThreadType',
  'KdDebuggerEnabled',
  'KdDebuggerNotPresent',
  'KeServiceDescriptorTable',
  'KeServiceDescriptorTableShadow',
  'KiInitialProcess',
  'KdpDebuggerDataListHead',
  'NtBuildLab',
  'CmRegistryMachineHardwareDescriptionSystemName',
  'MmSystemRangeStart',
  'MmHighestUserAddress',
  'ObpTypeObjectType',
  'ObpDirectoryObjectType',
  'ObpSymbolicLinkObjectType',
  'ObpInfoMaskToOffset',
  'PspCidTable',
  'KiProcessorBlock',
  'KiInitialPCR',
  'KiTimerTableListHead',
  'PspDefaultQuotaBlock',
  'MmUnloadedDrivers',
  'KeNumberProcessors',
  'HalDispatchTable',
  'PsLoadedModuleResource',
  ...CALLBACK_HEADS,
]);

/** x86 kernel image sizes (ntoskrnl SizeOfImage of the named builds, rounded). */
const X86_IMAGE_SIZE: Record<string, number> = { xp: 0x1f8000, '2003': 0x2d6000, win7: 0x412000 };

export interface KernelPlacement {
  /** VA of the image (MZ). */
  base: bigint;
  /** VA where the large-page window that holds the image starts, and its PA. */
  windowVa: bigint;
  windowPa: number;
  windowSize: number;
}

export class KernelImage {
  readonly base: bigint;
  readonly size: number;
  readonly sections: PeSection[];
  readonly timeDateStamp: number;
  readonly checksum: number;
  private readonly symbols: Map<string, number>;
  private codeCursor: number;
  private readonly codeEnd: number;
  private dataCursor: number;
  private readonly dataEnd: number;
  private readonly exportRva: number;
  private readonly exportSpace: number;
  private readonly resourceRva: number;
  private readonly resourceSpace: number;
  private readonly arch: CodeArch;

  constructor(
    private readonly layout: KernelLayout,
    private readonly vm: VirtualMemory,
    private readonly rng: Rng,
    readonly placement: KernelPlacement,
  ) {
    this.base = placement.base;
    this.arch = layout.arch;
    this.symbols = new Map(layout.symbols);
    this.timeDateStamp = 0x5f000000 + (rng.next() & 0xffffff);
    this.checksum = (rng.next() & 0x7fffff) | 0x800000;
    const plan = layout.symbols.size > 0 ? this.planFromSymbols() : this.planSynthetic();
    this.sections = plan.sections;
    this.size = plan.size;
    this.codeCursor = plan.code[0];
    this.codeEnd = plan.code[1];
    this.dataCursor = plan.data[0];
    this.dataEnd = plan.data[1];
    this.exportRva = plan.exports[0];
    this.exportSpace = plan.exports[1] - plan.exports[0];
    this.resourceRva = plan.resources[0];
    this.resourceSpace = plan.resources[1] - plan.resources[0];
  }

  /** Total image size for a layout, so the caller can reserve its physical window first. */
  static imageSize(layout: KernelLayout): number {
    if (layout.symbols.size > 0) return layout.symbolSpan + 0x10000 + 0x8000 + 0x4000 + 0x2000;
    return X86_IMAGE_SIZE[layout.version.family] ?? 0x400000;
  }

  /** Section plan for a kernel whose RVAs come from a symbol table. */
  private planFromSymbols() {
    const layout = this.layout;
    const dataRvas = DATA_GLOBALS.map((n) => layout.symbols.get(n)).filter(
      (r): r is number => r !== undefined,
    );
    const dataStart = Math.floor(Math.min(...dataRvas) / PAGE) * PAGE;
    const dataEnd = alignUp(Math.max(...dataRvas) + 0x100, PAGE);
    const span = layout.symbolSpan;
    const codeTop = dataStart;
    const poolcode = alignUp(Math.floor(codeTop * 0.55), PAGE);
    const page = poolcode + 0x2000;
    const sections: PeSection[] = [
      { name: '.text', rva: 0x1000, virtualSize: poolcode - 0x1000, characteristics: SCN_CODE },
      { name: 'POOLCODE', rva: poolcode, virtualSize: 0x2000, characteristics: SCN_CODE },
      { name: 'PAGE', rva: page, virtualSize: codeTop - page, characteristics: SCN_CODE },
      { name: '.data', rva: dataStart, virtualSize: dataEnd - dataStart, characteristics: SCN_DATA },
    ];
    if (span > dataEnd)
      sections.push({
        name: 'INIT',
        rva: dataEnd,
        virtualSize: span - dataEnd,
        characteristics: SCN_DISCARDABLE_CODE,
      });
    const kvas = span;
    const almostro = kvas + 0x10000;
    const edata = almostro + 0x8000;
    const rsrc = edata + 0x4000;
    sections.push(
      { name: 'KVASCODE', rva: kvas, virtualSize: 0x10000, characteristics: SCN_CODE },
      { name: 'ALMOSTRO', rva: almostro, virtualSize: 0x8000, characteristics: SCN_DATA },
      { name: '.edata', rva: edata, virtualSize: 0x4000, characteristics: SCN_RDATA },
      { name: '.rsrc', rva: rsrc, virtualSize: 0x2000, characteristics: SCN_RDATA },
    );
    return {
      sections,
      size: rsrc + 0x2000,
      code: [kvas, kvas + 0x10000] as const,
      data: [almostro, almostro + 0x8000] as const,
      exports: [edata, edata + 0x4000] as const,
      resources: [rsrc, rsrc + 0x2000] as const,
    };
  }

  /** Section plan for a kernel described only by the fact sheets (x86): every symbol placed here. */
  private planSynthetic() {
    const size = KernelImage.imageSize(this.layout);
    const text = alignUp(Math.floor(size * 0.45), PAGE);
    const poolcode = text + 0x1000;
    const data = poolcode + 0x2000;
    const page = data + 0x20000;
    const init = alignUp(Math.floor(size * 0.85), PAGE);
    const edata = size - 0x8000;
    const rsrc = size - 0x3000;
    const sections: PeSection[] = [
      { name: '.text', rva: 0x1000, virtualSize: text - 0x1000, characteristics: SCN_CODE },
      { name: 'POOLCODE', rva: text, virtualSize: poolcode + 0x1000 - text, characteristics: SCN_CODE },
      { name: '.data', rva: data, virtualSize: page - data, characteristics: SCN_DATA },
      { name: 'PAGE', rva: page, virtualSize: init - page, characteristics: SCN_CODE },
      { name: 'INIT', rva: init, virtualSize: edata - init, characteristics: SCN_DISCARDABLE_CODE },
      { name: '.edata', rva: edata, virtualSize: rsrc - edata, characteristics: SCN_RDATA },
      { name: '.rsrc', rva: rsrc, virtualSize: size - rsrc, characteristics: SCN_RDATA },
    ];
    return {
      sections,
      size,
      code: [0x2000, text - 0x1000] as const,
      data: [data + 0x100, page] as const,
      exports: [edata, rsrc] as const,
      resources: [rsrc, size] as const,
    };
  }

  /** The kernel's file: ntoskrnl.exe on x64; on x86 the PAE/MP flavour its PDB names (spec §3.3). */
  get fileName(): string {
    return this.layout.arch === 'x64' ? 'ntoskrnl.exe' : this.layout.pdb.name.replace(/\.pdb$/i, '.exe');
  }

  isCodeRva(rva: number): boolean {
    return this.sections.some(
      (s) => (s.characteristics & 0x20) !== 0 && rva >= s.rva && rva < s.rva + s.virtualSize,
    );
  }

  /** Fills the whole image: procedural code in code sections, zeroed data, then the headers. */
  writeImage(): void {
    const pages = this.size / PAGE;
    const basePa = this.vm.pa(this.base);
    const seed = this.rng.next();
    for (let i = 1; i < pages; i++) {
      const rva = i * PAGE;
      const pfn = basePa / PAGE + i;
      if (this.isCodeRva(rva))
        this.vm.phys.setGenerator(pfn, (out) =>
          fillCodePage(out, this.arch, seed ^ Math.imul(i, 0x9e3779b1)),
        );
      else this.vm.phys.zeroPage(pfn);
    }
    this.vm.phys.zeroPage(basePa / PAGE);
  }

  /** PE headers, debug record and export directory (call after every exported symbol is placed). */
  writeHeadersAndExports(): void {
    const layout = this.layout;
    const exports: ExportEntry[] = [];
    for (const name of EXPORTS) {
      if (name === 'KeServiceDescriptorTable' && layout.arch === 'x64') continue;
      if (name === 'PsLoadedModuleList' && layout.version.build < 6000) continue;
      if (name === 'ObGetObjectType' && layout.version.build < 6000) continue;
      if (name === 'PsGetProcessPeb' && !hasField(layout, '_EPROCESS', 'Peb')) continue;
      exports.push({ name, rva: Number(this.symbol(name) - this.base) });
    }
    const exportBytes = exportDirectory('ntoskrnl.exe', exports, this.exportRva, this.timeDateStamp);
    if (exportBytes.length > this.exportSpace)
      throw new BuildError('internal: export directory does not fit');
    this.vm.write(this.base + BigInt(this.exportRva), exportBytes);
    // The file version names the build the kernel claims, as every other build source in it does.
    const resources = versionResource(this.resourceRva, layout.version, this.fileName);
    if (resources.length > this.resourceSpace)
      throw new BuildError('internal: version resource does not fit');
    this.vm.write(this.base + BigInt(this.resourceRva), resources);
    const debugRva = 0x600;
    const debug = codeViewDebugInfo(
      guidBytes(layout.pdb.guid),
      layout.pdb.age,
      layout.pdb.name,
      debugRva,
      this.timeDateStamp,
    );
    const headers = peHeaders({
      machine: layout.arch,
      imageBase: this.base,
      sizeOfImage: this.size,
      entryRva: Number(this.symbol('KiSystemStartup') - this.base),
      timeDateStamp: this.timeDateStamp,
      checksum: this.checksum,
      sections: this.sections,
      exportDirectory: { rva: this.exportRva, size: exportBytes.length },
      resourceDirectory: { rva: this.resourceRva, size: resources.length },
      debugDirectory: { rva: debugRva, size: 0x1c },
    });
    headers.set(debug, debugRva);
    this.vm.write(this.base, headers);
  }

  /** VA of a kernel symbol: its RVA in the symbol table, or a place the builder assigns. */
  symbol(name: string, size = 0x40): bigint {
    let rva = this.symbols.get(name);
    if (rva === undefined) {
      if (DATA_NAMES.has(name)) {
        rva = alignUp(this.dataCursor, 16);
        this.dataCursor = rva + size;
        if (this.dataCursor > this.dataEnd) throw new BuildError('internal: kernel data area exhausted');
      } else {
        rva = alignUp(this.codeCursor, 16);
        this.codeCursor = rva + Math.max(size, 0x80);
        if (this.codeCursor > this.codeEnd) throw new BuildError('internal: kernel code area exhausted');
      }
      this.symbols.set(name, rva);
    }
    return this.base + BigInt(rva);
  }

  hasSymbol(name: string): boolean {
    return this.symbols.has(name);
  }

  /** RVA of every symbol placed so far. */
  symbolRvas(): ReadonlyMap<string, number> {
    return this.symbols;
  }
}
