// Layouts found, not assumed: every structure the engine reads is established in the image itself
// (the symbol file, the kernel's own accessors, invariants over real objects), and the built-in
// table keyed by the build number is only a hint, checked like any other candidate. A structure
// that cannot be established is marked so, with why, and what depends on it is not available.
// Runs after discovery (kernel/) has found the kernel, its exports and its list heads.

import { hex } from '../../common/hex';
import type { FieldLayoutProvenance, LayoutMethod, StructureLayoutProvenance } from '../../common/model';
import type { KernelContext } from '../kernel/discover';
import type { KernelMemory } from '../kernel/memory';
import { walkModuleList } from '../kernel/module-list';
import type { LayoutProfile } from '../profile';
import { offsetFromAccessor, type AccessorRead } from './accessors';
import { withEstablishedOffsets } from './established-profile';
import type { Established } from './offsets';
import { establishProcessLayout } from './process-layout';
import { establishThreadLayout } from './thread-layout';

const ACCESSORS = [
  'PsGetProcessId',
  'PsGetProcessImageFileName',
  'PsGetProcessInheritedFromUniqueProcessId',
  'PsGetThreadId',
  'PsGetThreadProcessId',
];

/** Structures of the driver ABI (wdm.h): drivers read them directly, so no build can move them. */
const DRIVER_ABI = [
  '_DRIVER_OBJECT',
  '_DRIVER_EXTENSION',
  '_FAST_IO_DISPATCH',
  '_DEVICE_OBJECT',
  '_DEVOBJ_EXTENSION',
  '_IRP',
  '_IO_STACK_LOCATION',
  '_FILE_OBJECT',
  '_UNICODE_STRING',
  '_LIST_ENTRY',
  '_CLIENT_ID',
];

/** The context with the established layouts in its profile and their provenance in its info. */
export function establishLayouts(context: KernelContext): KernelContext {
  const started = performance.now();
  const established = establish(context);
  const ms = Math.round((performance.now() - started) * 10) / 10;
  return {
    ...established,
    info: { ...established.info, timings: [...established.info.timings, { stage: 'layouts', ms }] },
  };
}

function establish(context: KernelContext): KernelContext {
  const { memory, profile, kernel } = context;
  if (!memory || !profile || !kernel) return context;
  if (profile.source.kind === 'isf')
    return { ...context, info: { ...context.info, layouts: fromSymbolFile(profile) } };
  const code = accessorReads(memory, kernel);
  const systemExport = kernel.exports.get('PsInitialSystemProcess');
  const systemProcess = systemExport === undefined ? null : memory.ptr(kernel.base + BigInt(systemExport));
  const processes = establishProcessLayout({
    memory,
    hint: profile,
    code,
    systemProcess: systemProcess !== null && memory.isKernelAddress(systemProcess) ? systemProcess : null,
    processHead: context.psActiveProcessHead?.value ?? null,
    dtb: BigInt(context.dtb?.dtb ?? 0),
  });
  const modules = moduleRanges(context, profile);
  const threads = processes.ok
    ? establishThreadLayout({
        memory,
        hint: profile,
        code,
        processes: processes.layout.sample,
        system: processes.layout.systemProcess,
        inModule: (address) => modules.some((m) => address >= m.base && address < m.base + BigInt(m.size)),
      })
    : ({ ok: false, reason: 'the layout of _EPROCESS could not be established' } as const);

  const process = processOffsets(processes, threads);
  const thread = threadOffsets(threads, profile);
  const provenance = [
    ...process.provenance,
    thread.provenance,
    ...DRIVER_ABI.filter((name) => profile.hasStruct(name)).map((name) =>
      whole(
        name,
        'table',
        'the table: part of the driver ABI (wdm.h), the same in every build of the architecture; objects are accepted only when their Type field agrees',
      ),
    ),
    ...objectManagerStructs(profile)
      .filter((name) => profile.hasStruct(name))
      .map((name) => objectManagerProvenance(context, name)),
  ];
  const established = withEstablishedOffsets(
    profile,
    new Map([
      ['_EPROCESS', new Map([...process.eprocess, ['ThreadListHead', thread.threadListHead]])],
      ['_KPROCESS', process.kprocess],
      ['_ETHREAD', thread.ethread],
    ]),
  );
  return { ...context, profile: established, info: { ...context.info, layouts: provenance } };
}

/** With a symbol file, every structure is as the file says. */
function fromSymbolFile(profile: LayoutProfile): StructureLayoutProvenance[] {
  const path = profile.source.kind === 'isf' ? profile.source.path : '';
  return [...moving(profile), ...DRIVER_ABI, ...objectManagerStructs(profile)]
    .filter((s) => profile.hasStruct(s))
    .map((structure) => whole(structure, 'symbol-file', `the symbol file ${path}`));
}

/** The offsets the kernel's exported accessors read. */
function accessorReads(memory: KernelMemory, kernel: { base: bigint; exports: Map<string, number> }) {
  const code = new Map<string, AccessorRead>();
  for (const name of ACCESSORS) {
    const rva = kernel.exports.get(name);
    const read = rva === undefined ? null : offsetFromAccessor(memory, kernel.base + BigInt(rva));
    if (read) code.set(name, read);
  }
  return code;
}

function provenanceOf(name: string, found: Established | null, missing: string): FieldLayoutProvenance {
  return found
    ? { field: name, offset: hex(found.offset), method: found.method, detail: found.detail }
    : { field: name, offset: null, method: 'not-established', detail: missing };
}

type ProcessResult = ReturnType<typeof establishProcessLayout>;
type ThreadResult = ReturnType<typeof establishThreadLayout>;

/** EPROCESS and KPROCESS offsets (null: not established) and their provenance. */
function processOffsets(processes: ProcessResult, threads: ThreadResult) {
  const eprocess = new Map<string, number | null>();
  const kprocess = new Map<string, number | null>();
  if (!processes.ok) {
    for (const name of [
      'UniqueProcessId',
      'ActiveProcessLinks',
      'ImageFileName',
      'InheritedFromUniqueProcessId',
    ])
      eprocess.set(name, null);
    const provenance: StructureLayoutProvenance[] = [
      { structure: '_EPROCESS', state: 'not-established', reason: processes.reason, fields: [] },
    ];
    return { eprocess, kprocess, provenance };
  }
  const p = processes.layout;
  eprocess.set('UniqueProcessId', p.uniqueProcessId.offset);
  eprocess.set('ActiveProcessLinks', p.activeProcessLinks.offset);
  eprocess.set('ImageFileName', p.imageFileName.offset);
  eprocess.set('InheritedFromUniqueProcessId', p.inheritedFromUniqueProcessId?.offset ?? null);
  kprocess.set('DirectoryTableBase', p.directoryTableBase.offset);
  const provenance = [
    structure('_EPROCESS', [
      provenanceOf('UniqueProcessId', p.uniqueProcessId, ''),
      provenanceOf('ActiveProcessLinks', p.activeProcessLinks, ''),
      provenanceOf('ImageFileName', p.imageFileName, ''),
      provenanceOf(
        'InheritedFromUniqueProcessId',
        p.inheritedFromUniqueProcessId,
        'no offset holds parent PIDs: parents are not shown',
      ),
      provenanceOf(
        'ThreadListHead',
        threads.ok ? threads.layout.threadListHead : null,
        threads.ok ? '' : threads.reason,
      ),
    ]),
    structure('_KPROCESS', [provenanceOf('DirectoryTableBase', p.directoryTableBase, '')]),
  ];
  return { eprocess, kprocess, provenance };
}

/** ETHREAD offsets and EPROCESS.ThreadListHead (null: not established), and their provenance. */
function threadOffsets(threads: ThreadResult, profile: LayoutProfile) {
  const ethread = new Map<string, number | null>();
  if (!threads.ok) {
    for (const name of ['Cid', 'ThreadListEntry', 'StartAddress', 'Win32StartAddress', 'IrpList'])
      ethread.set(name, null);
    const provenance: StructureLayoutProvenance = {
      structure: '_ETHREAD',
      state: 'not-established',
      reason: threads.reason,
      fields: [],
    };
    return { ethread, threadListHead: null, provenance };
  }
  const t = threads.layout;
  ethread.set('Cid', t.cid.offset - profile.field('_CLIENT_ID', 'UniqueProcess').offset);
  ethread.set('ThreadListEntry', t.threadListEntry.offset);
  ethread.set('StartAddress', t.startAddress?.offset ?? null);
  ethread.set('Win32StartAddress', t.win32StartAddress?.offset ?? null);
  ethread.set('IrpList', t.irpList?.offset ?? null);
  const provenance = structure('_ETHREAD', [
    provenanceOf('Cid', t.cid, ''),
    provenanceOf('ThreadListEntry', t.threadListEntry, ''),
    provenanceOf('StartAddress', t.startAddress, 'no offset where System threads start in kernel code'),
    provenanceOf(
      'Win32StartAddress',
      t.win32StartAddress,
      'no second start-address offset after StartAddress',
    ),
    provenanceOf('IrpList', t.irpList, 'no offset where every thread holds an empty list or its own IRPs'),
  ]);
  return { ethread, threadListHead: t.threadListHead.offset, provenance };
}

function moving(profile: LayoutProfile): string[] {
  return ['_EPROCESS', '_KPROCESS', '_ETHREAD'].filter((s) => profile.hasStruct(s));
}

function objectManagerStructs(profile: LayoutProfile): string[] {
  return [
    '_OBJECT_HEADER',
    '_OBJECT_HEADER_NAME_INFO',
    '_OBJECT_TYPE',
    '_OBJECT_DIRECTORY',
    '_OBJECT_DIRECTORY_ENTRY',
    '_OBJECT_SYMBOLIC_LINK',
    '_POOL_HEADER',
    profile.hasStruct('_KLDR_DATA_TABLE_ENTRY') ? '_KLDR_DATA_TABLE_ENTRY' : '_LDR_DATA_TABLE_ENTRY',
  ];
}

/** The object manager's and loader's structures: checked by what discovery could read through them. */
function objectManagerProvenance(context: KernelContext, name: string): StructureLayoutProvenance {
  const checks: Record<string, string | null> = {
    _OBJECT_HEADER: context.objects?.typeIndex
      ? 'the Driver and Device type objects were read by name through it'
      : null,
    _OBJECT_TYPE: context.objects?.typeIndex
      ? 'the Driver and Device type objects were read by name through it'
      : null,
    _OBJECT_HEADER_NAME_INFO: context.objects?.typeIndex ? 'type objects were read by name through it' : null,
    _OBJECT_DIRECTORY: context.objects?.rootDirectory ? 'the root directory was read through it' : null,
    _OBJECT_DIRECTORY_ENTRY: context.objects?.rootDirectory ? 'the root directory was read through it' : null,
    _KLDR_DATA_TABLE_ENTRY: context.psLoadedModuleList
      ? 'PsLoadedModuleList was walked through it, the kernel first'
      : null,
    _LDR_DATA_TABLE_ENTRY: context.psLoadedModuleList
      ? 'PsLoadedModuleList was walked through it, the kernel first'
      : null,
  };
  const check = checks[name] ?? null;
  return check
    ? whole(name, 'table-checked', `the table, checked: ${check}`)
    : whole(
        name,
        'table',
        'the table (stable since Windows 7; objects are read only when their headers agree)',
      );
}

function whole(name: string, method: LayoutMethod, detail: string): StructureLayoutProvenance {
  return {
    structure: name,
    state: 'established',
    reason: null,
    fields: [{ field: '*', offset: null, method, detail }],
  };
}

function structure(name: string, fields: FieldLayoutProvenance[]): StructureLayoutProvenance {
  const missing = fields.filter((f) => f.method === 'not-established');
  return {
    structure: name,
    state: missing.length ? 'partial' : 'established',
    reason: missing.length ? missing.map((f) => `${f.field}: ${f.detail}`).join('; ') : null,
    fields,
  };
}

function moduleRanges(context: KernelContext, profile: LayoutProfile): Array<{ base: bigint; size: number }> {
  const ranges = context.kernel ? [{ base: context.kernel.base, size: context.kernel.size }] : [];
  if (context.memory && context.psLoadedModuleList)
    for (const entry of walkModuleList(context.memory, profile, context.psLoadedModuleList.value).entries)
      ranges.push({ base: entry.base, size: entry.size });
  return ranges;
}
