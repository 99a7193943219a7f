// From a physical space to a kernel address space with a known build and layout profile, with no
// symbol download. Each stage records how it found its answer and how
// long it took; a stage that fails leaves a warning and the later stages do what they can.

import { hex } from '../../common/hex';
import type { ImageInfo } from '../../common/model';
import { INFO_SCHEMA } from '../../common/model';
import type { PhysicalSpace } from '../image';
import type { PagingMode } from '../paging';
import { builtinProfile, profileFromIsf, type LayoutProfile, type SymbolTables } from '../profile';
import { fileNameOf } from '../util/file-name';
import { walkModuleList } from './module-list';
import { findDtb, type DtbSearch, type FoundDtb } from './dtb';
import { findKdbg, type FoundKdbg } from './kdbg';
import { findKernelBase } from './kernel-base';
import { KernelMemory } from './memory';
import { findObjectManager, type Discovered, type ObjectManagerFacts } from './object-manager';
import { readCodeView, readExports, type CodeView, type PeImage } from './pe';
import { systemProcessDtb } from './system-process';
import { findVersion, versionName, type WindowsVersion } from './version';

export interface DiscoverOptions {
  path: string;
  fileSize: number;
  /** Where the kernel's ISF symbol table is looked for (a Volatility 3 style folder, on Node). */
  symbols?: SymbolTables;
  /** The DTB search, when the caller already ran it (to start the pool scan early). */
  dtbSearch?: DtbSearch;
}

export interface KernelImageFacts {
  base: bigint;
  size: number;
  pe: PeImage;
  exports: Map<string, number>;
  codeView: CodeView | null;
  method: string;
}

export interface KernelContext {
  space: PhysicalSpace;
  paging: PagingMode | null;
  dtb: FoundDtb | null;
  memory: KernelMemory | null;
  kernel: KernelImageFacts | null;
  version: Discovered<WindowsVersion> | null;
  productType: number | null;
  profile: LayoutProfile | null;
  kdbg: FoundKdbg | null;
  psLoadedModuleList: Discovered<bigint> | null;
  psActiveProcessHead: Discovered<bigint> | null;
  objects: ObjectManagerFacts | null;
  info: ImageInfo;
}

class Stages {
  readonly timings: Array<{ stage: string; ms: number }> = [];

  run<T>(stage: string, work: () => T): T {
    const started = performance.now();
    try {
      return work();
    } finally {
      this.timings.push({ stage, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  }

  async runAsync<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.timings.push({ stage, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  }
}

export async function discoverKernel(space: PhysicalSpace, options: DiscoverOptions): Promise<KernelContext> {
  const stages = new Stages();
  const warnings: string[] = [...space.warnings];
  const nothingFound = emptyContext(space);
  const context: KernelContext = {
    ...nothingFound,
    info: buildInfo(nothingFound, options, new Stages(), []),
  };
  let noKernel: string | undefined;
  const finish = () => {
    context.info = buildInfo(context, options, stages, warnings);
    if (noKernel !== undefined) context.info.noKernel = noKernel;
    return context;
  };
  if (!space.format.holdsPhysicalMemory) {
    if (!space.triage || space.hints.build === undefined)
      noKernel = 'the container holds no physical memory and its header names no kernel';
    return finish();
  }

  const dtbSearch = options.dtbSearch ?? findDtb(space);
  stages.timings.push({ stage: 'dtb', ms: dtbSearch.ms });
  if (!dtbSearch.found) {
    noKernel = `no valid DTB found (${dtbSearch.tried.join('; ')})`;
    warnings.push(noKernel);
    return finish();
  }
  const dtb = dtbSearch.found;
  if (dtb.unverified) warnings.push(`${dtb.unverified} (${dtbSearch.tried.join('; ')})`);
  context.dtb = dtb;
  context.paging = dtb.mode;
  const memory = new KernelMemory(dtb.virtual, dtb.mode === 'x64' ? 8 : 4);
  context.memory = memory;

  const kernelSearch = stages.run('kernel base', () =>
    findKernelBase(memory, space, dtb.kernelEntry ?? null),
  );
  if (!kernelSearch.found) {
    noKernel = `no kernel image found (${kernelSearch.tried.join('; ')})`;
    warnings.push(noKernel);
    return finish();
  }
  const { base, pe, method } = kernelSearch.found;
  context.kernel = stages.run('kernel image', () => ({
    base,
    size: pe.sizeOfImage,
    pe,
    exports: readExports(memory, pe),
    codeView: readCodeView(memory, pe),
    method,
  }));
  const kernel = context.kernel;

  const version = stages.run('version', () => findVersion(memory, space, kernel.exports, base));
  if (version) {
    context.version = { value: version.version, method: version.method };
    context.productType = version.productType;
  } else {
    warnings.push('the Windows build could not be determined');
  }

  context.profile = await stages.runAsync('profile', () => chooseProfile(context, options, warnings));
  const profile = context.profile;
  if (!profile) return finish();

  const kdbgSearch = stages.run('kdbg', () =>
    findKdbg(memory, kernel.pe, kernel.exports, profile, space.hints.kdDebuggerDataBlock),
  );
  context.kdbg = kdbgSearch.found;
  if (!kdbgSearch.found) warnings.push(`KDBG not found (${kdbgSearch.tried.join('; ')})`);

  context.psLoadedModuleList = stages.run('module list', () => findModuleList(context, memory, profile));
  if (!context.psLoadedModuleList)
    warnings.push('PsLoadedModuleList not found: modules come from the pool scan only');
  context.psActiveProcessHead = findProcessHead(context, memory, profile);

  const systemDtb = stages.run('system process', () =>
    systemProcessDtb(
      space,
      memory,
      profile,
      dtb,
      base,
      kernel.exports,
      context.psActiveProcessHead?.value ?? null,
    ),
  );
  if (systemDtb) {
    // Every later read goes through the kernel's own page tables (the DTB's method says why).
    context.dtb = systemDtb;
    context.memory = new KernelMemory(systemDtb.virtual, memory.pointerSize);
  }
  const kernelMemory = context.memory!;

  context.objects = stages.run('object types', () =>
    findObjectManager(kernelMemory, profile, base, kernel.exports, context.kdbg?.block ?? null),
  );
  warnings.push(...context.objects.warnings);
  return finish();
}

async function chooseProfile(
  context: KernelContext,
  options: DiscoverOptions,
  warnings: string[],
): Promise<LayoutProfile | null> {
  const arch = context.paging === 'x64' ? 'x64' : 'x86';
  const build = context.version?.value.number;
  if (build === undefined) return null;
  const codeView = context.kernel?.codeView;
  if (options.symbols && codeView) {
    try {
      const isf = await options.symbols.find(codeView.pdbName, codeView.guid, codeView.age);
      if (isf) return profileFromIsf(isf, { build });
      warnings.push(
        `no symbol file for ${codeView.pdbName} ${codeView.guid}-${codeView.age} in ${options.symbols.location}; using the built-in layouts`,
      );
    } catch (error) {
      warnings.push(`symbol file unusable (${(error as Error).message}); using the built-in layouts`);
    }
  }
  try {
    return builtinProfile(arch, build);
  } catch (error) {
    warnings.push(`no built-in layouts for ${arch} build ${build}: ${(error as Error).message}`);
    return null;
  }
}

function kdbgPointer(context: KernelContext, offset: number): bigint | null {
  const block = context.kdbg?.block;
  if (!block || block.length < offset + 8) return null;
  const value = new DataView(block.buffer, block.byteOffset).getBigUint64(offset, true);
  return context.paging === 'x64' ? value : value & 0xffffffffn;
}

function findModuleList(
  context: KernelContext,
  memory: KernelMemory,
  profile: LayoutProfile,
): Discovered<bigint> | null {
  const kernel = context.kernel!;
  const atRva = (rva: number | undefined) => (rva === undefined ? null : kernel.base + BigInt(rva));
  const candidates: Array<[string, () => bigint | null]> = [
    ['crash dump header', () => context.space.hints.psLoadedModuleList ?? null],
    ['ISF symbol PsLoadedModuleList', () => atRva(profile.symbol('PsLoadedModuleList'))],
    ['ntoskrnl export PsLoadedModuleList', () => atRva(kernel.exports.get('PsLoadedModuleList'))],
    ['KDBG PsLoadedModuleList', () => kdbgPointer(context, 0x48)],
    [
      'KdVersionBlock (x86 KPCR)',
      () => {
        if (memory.pointerSize !== 4) return null;
        const block = memory.ptr(0xffdff000n + 0x34n);
        const value = block ? memory.u32(block + 0x18n) : null;
        return value === null ? null : BigInt(value);
      },
    ],
  ];
  for (const [method, get] of candidates) {
    const head = get();
    if (head === null || !memory.isKernelAddress(head)) continue;
    const inKernel = head >= kernel.base && head < kernel.base + BigInt(kernel.size);
    const walk = walkModuleList(memory, profile, head);
    if (inKernel && walk.entries.slice(0, 3).some((e) => e.base === kernel.base))
      return { value: head, method };
  }
  return null;
}

function findProcessHead(
  context: KernelContext,
  memory: KernelMemory,
  profile: LayoutProfile,
): Discovered<bigint> | null {
  const hint = context.space.hints.psActiveProcessHead;
  if (hint !== undefined && memory.isKernelAddress(hint)) return { value: hint, method: 'crash dump header' };
  const rva = profile.symbol('PsActiveProcessHead');
  if (rva !== undefined)
    return { value: context.kernel!.base + BigInt(rva), method: 'ISF symbol PsActiveProcessHead' };
  const fromKdbg = kdbgPointer(context, 0x50);
  return fromKdbg !== null ? { value: fromKdbg, method: 'KDBG PsActiveProcessHead' } : null;
}

/** The context before anything is found: only the physical space. */
function emptyContext(space: PhysicalSpace): Omit<KernelContext, 'info'> {
  return {
    space,
    paging: null,
    dtb: null,
    memory: null,
    kernel: null,
    version: null,
    productType: null,
    profile: null,
    kdbg: null,
    psLoadedModuleList: null,
    psActiveProcessHead: null,
    objects: null,
  };
}

function buildInfo(
  context: Omit<KernelContext, 'info'>,
  options: DiscoverOptions,
  stages: Stages,
  warnings: string[],
): ImageInfo {
  const { space } = context;
  const details: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(space.format.details)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      details[key] = key === 'dataFile' || key === 'metadataFile' ? fileNameOf(String(value)) : value;
  }
  const hints = space.hints;
  const kernel = context.kernel;
  const profile = context.profile;
  const objects = context.objects;
  const info: ImageInfo = {
    schema: INFO_SCHEMA,
    path: options.path,
    fileSize: options.fileSize,
    format: { id: space.format.id, description: space.format.description, details },
    physical: { runs: space.runCount, bytes: space.bytesCovered, maxAddress: hex(space.maxAddress) },
    arch: context.paging ? (context.paging === 'x64' ? 'x64' : 'x86') : (hints.machine ?? null),
    paging: context.paging,
    dtb: context.dtb
      ? {
          value: hex(context.dtb.dtb),
          method: context.dtb.unverified ? `${context.dtb.method}, unverified` : context.dtb.method,
        }
      : null,
    kernelBase: kernel ? { value: hex(kernel.base), method: kernel.method } : null,
    kernelSize: kernel?.size ?? null,
    build: context.version
      ? {
          value: {
            number: context.version.value.number,
            major: context.version.value.major,
            minor: context.version.value.minor,
            name: context.version.value.name,
          },
          method: context.version.method,
        }
      : null,
    pdb: kernel?.codeView
      ? { name: kernel.codeView.pdbName, guid: kernel.codeView.guid, age: kernel.codeView.age }
      : null,
    kdbg: context.kdbg
      ? { value: { va: hex(context.kdbg.va), encoded: context.kdbg.encoded }, method: context.kdbg.method }
      : null,
    psLoadedModuleList: context.psLoadedModuleList
      ? { value: hex(context.psLoadedModuleList.value), method: context.psLoadedModuleList.method }
      : null,
    psActiveProcessHead: context.psActiveProcessHead
      ? { value: hex(context.psActiveProcessHead.value), method: context.psActiveProcessHead.method }
      : null,
    objectRootDirectory: objects?.rootDirectory
      ? { value: hex(objects.rootDirectory.value), method: objects.rootDirectory.method }
      : null,
    obHeaderCookie: objects?.cookie ?? null,
    typeIndex: objects?.typeIndex ?? null,
    profile: profile
      ? profile.source.kind === 'isf'
        ? {
            source: 'isf',
            name: `${profile.source.pdbName} ${profile.source.guid}-${profile.source.age}`,
            path: profile.source.path,
          }
        : { source: 'builtin', name: profile.source.tableName }
      : null,
    timings: stages.timings,
    bytesRead: 0,
    warnings: [...new Set(warnings)],
  };
  if (hints.dumpType !== undefined) {
    info.crashDump = {
      dumpType: hints.dumpType,
      dumpTypeName: space.format.details.dumpTypeName ?? String(hints.dumpType),
      ...(hints.bugCheck
        ? {
            bugCheck: {
              code: hex(hints.bugCheck.code),
              parameters: hints.bugCheck.parameters.map((p) => hex(p)),
            },
          }
        : {}),
    };
  }
  if (space.triage) {
    info.triage = {
      note: 'A triage (mini kernel) dump holds the module list and a few pages, but no pool memory: drivers and devices cannot be recovered from it.',
      modules: space.triage.modules.map((m) => ({
        name: m.name,
        path: m.path,
        base: hex(m.base),
        size: m.size,
      })),
    };
    if (info.arch === null && hints.machine) info.arch = hints.machine;
    if (!info.dtb && hints.dtb !== undefined)
      info.dtb = { value: hex(hints.dtb), method: 'crash dump header' };
    if (!info.psLoadedModuleList && hints.psLoadedModuleList !== undefined)
      info.psLoadedModuleList = { value: hex(hints.psLoadedModuleList), method: 'crash dump header' };
    if (!info.build && hints.build !== undefined) {
      const major = hints.build >= 10240 ? 10 : hints.build >= 6000 ? 6 : 5;
      info.build = {
        value: { number: hints.build, major, minor: 0, name: versionName(hints.build, null) },
        method: 'crash dump header (MinorVersion)',
      };
    }
    if (!info.kdbg && hints.kdDebuggerDataBlock !== undefined)
      info.kdbg = {
        value: { va: hex(hints.kdDebuggerDataBlock), encoded: false },
        method: 'crash dump header',
      };
  }
  return info;
}
