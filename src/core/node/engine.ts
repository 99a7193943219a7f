// The engine as the workbench's session workers use it (src/backend/engine-contract.ts): one
// opened image, its kernel found, analysed on request, and read for the hex view, disassembly
// and structure overlays.

import { hex } from '../../common/hex';
import type {
  MemoryChunk,
  MemorySpace,
  PageStatus,
  StructureField,
  StructureKind,
  StructureView,
} from '../../common/api';
import type { AnalysisResult, Disassembly } from '../../common/model';
import { IRP_MJ_NAMES, deviceTypeName } from '../../common/windows';
import type { EngineHandle, OpenEngine } from '../engine-handle';
import { analyzeKernel } from '../analysis/analyze';
import { openForAnalysis, poolScanOf } from './analyze';
import { openKernel } from './info';
import { requireKernel } from '../kernel/presence';
import { pageReaderOf, rebuildPe, type ExtractedImage } from '../extract';
import { withSha256 } from './extract-from-image';
import { decode } from '../kernel/disasm';
import type { KernelContext } from '../kernel/discover';
import type { KernelMemory } from '../kernel/memory';
import type { TranslationFailureReason } from '../paging';
import type { ScanResult } from '../scan/tags';
import type { FieldLayout, LayoutProfile } from '../profile';
import { compareText } from '../../common/text-order';

const PAGE = 0x1000;
const MAX_READ = 64 * 1024;

const STATUS: Record<TranslationFailureReason, PageStatus> = {
  'not-present': 'unmapped',
  'paged-out': 'paged-out',
  prototype: 'prototype',
  'transition-out-of-range': 'out-of-range',
  'no-physical-page': 'hole',
  'non-canonical': 'unmapped',
};

export const openEngine: OpenEngine = async (path, options, onProgress) => {
  if (!options.analyzeAfterOpen) {
    const context = await openKernel(path, { symbols: options.symbols });
    try {
      requireKernel(context.info);
    } catch (error) {
      context.space.close();
      throw error;
    }
    return new Engine(context, path);
  }
  // The pool scan starts as soon as the DTB is known, while the kernel is still being found.
  const stopScan = new AbortController();
  const { context, scan } = await openForAnalysis(path, {
    symbols: options.symbols,
    onProgress,
    signal: stopScan.signal,
  });
  return new Engine(context, path, scan && { result: scan, stop: stopScan });
};

interface EarlyScan {
  result: Promise<ScanResult>;
  stop: AbortController;
}

class Engine implements EngineHandle {
  private result: AnalysisResult | null = null;

  constructor(
    private readonly context: KernelContext,
    private readonly path: string,
    /** A pool scan started at open time; the first analysis takes it over. */
    private earlyScan?: EarlyScan,
  ) {}

  info() {
    return { ...this.context.info, bytesRead: this.context.space.bytesRead };
  }

  async analyze(
    onProgress: Parameters<EngineHandle['analyze']>[0],
    signal: AbortSignal,
  ): Promise<AnalysisResult> {
    const early = this.earlyScan;
    this.earlyScan = undefined;
    if (early) {
      if (signal.aborted) early.stop.abort();
      else signal.addEventListener('abort', () => early.stop.abort(), { once: true });
    }
    this.result ??= await analyzeKernel(this.context, {
      poolScan: poolScanOf(this.context, this.path, { onProgress, signal }, early?.result),
      onProgress,
      signal,
    });
    return this.result;
  }

  readMemory(space: MemorySpace, address: bigint, length: number): MemoryChunk {
    const size = Math.max(0, Math.min(length, MAX_READ));
    const bytes = new Uint8Array(size);
    const pages: MemoryChunk['pages'] = [];
    const memory = this.context.memory;
    const physical = this.context.space;
    const spaceSize =
      space === 'physical'
        ? BigInt(physical.maxAddress)
        : this.context.paging === 'x64'
          ? 1n << 64n
          : 1n << 32n;
    for (let done = 0; done < size;) {
      const at = address + BigInt(done);
      const inPage = PAGE - Number(at % BigInt(PAGE));
      const take = Math.min(inPage, size - done);
      const pageAddress = at - (at % BigInt(PAGE));
      let status: PageStatus;
      let pa: number | null = null;
      if (at >= spaceSize) {
        status = 'out-of-range';
      } else if (space === 'physical') {
        pa = Number(at);
        status = physical.isPresent(pa) ? 'present' : 'hole';
      } else if (!memory) {
        status = 'unmapped';
      } else {
        const translation = memory.virtual.translate(at);
        if (translation.ok) {
          pa = translation.pa;
          status = translation.viaTransition ? 'transition' : 'present';
        } else {
          status = STATUS[translation.reason];
        }
      }
      if (pa !== null && (status === 'present' || status === 'transition')) {
        const read = physical.read(pa, take);
        if (read) bytes.set(read, done);
        else status = 'hole';
      }
      if (pages.length === 0 || pages[pages.length - 1]!.address !== hex(pageAddress)) {
        pages.push({
          address: hex(pageAddress),
          status,
          physical: pa === null ? null : hex(pa - (pa % PAGE)),
        });
      }
      done += take;
    }
    return {
      space,
      address: hex(address),
      bytes: Buffer.from(bytes).toString('base64'),
      pages,
      spaceSize: hex(spaceSize),
    };
  }

  disassemble(address: bigint, count: number): Disassembly {
    const memory = this.context.memory;
    if (!memory) return { bytes: '', instructions: [] };
    const read = memory.virtual.readPartial(address, Math.min(Math.max(count, 1) * 15, 4096));
    const bitness = memory.pointerSize === 8 ? 64 : 32;
    const instructions = decode(read.bytes, address, bitness, count);
    const used = instructions.reduce((n, i) => n + i.length, 0);
    const lines = instructions.map(
      (i) => `${i.ip.toString(16).padStart(bitness === 64 ? 16 : 8, '0')}  ${i.text}`,
    );
    if (read.failure && instructions.length < count)
      lines.push(`; ${hex(read.failure.va)}: ${read.failure.failure.reason}`);
    return { bytes: Buffer.from(read.bytes.subarray(0, used)).toString('hex'), instructions: lines };
  }

  structure(kind: StructureKind, address: bigint): StructureView {
    const profile = this.context.profile;
    const memory = this.context.memory;
    const structName = `_${kind}`;
    if (!profile || !memory || !profile.hasStruct(structName)) {
      return {
        kind,
        address: hex(address),
        size: 0,
        layoutSource: profile?.id ?? 'none',
        fields: [],
        problem: 'no layout for this structure',
      };
    }
    return renderStructure(memory, profile, kind, address);
  }

  extractImage(base: bigint, fallbackSize: number | null): ExtractedImage {
    return withSha256(rebuildPe(pageReaderOf(this.context), base, fallbackSize));
  }

  close(): void {
    this.earlyScan?.stop.abort();
    this.context.space.close();
  }
}

const LINKS: Record<string, 'device' | 'driver'> = {
  DeviceObject: 'device',
  NextDevice: 'device',
  AttachedDevice: 'device',
  AttachedTo: 'device',
  DriverObject: 'driver',
};

function renderStructure(
  memory: KernelMemory,
  profile: LayoutProfile,
  kind: StructureKind,
  address: bigint,
): StructureView {
  const structName = `_${kind}`;
  const layout = profile.struct(structName);
  const size = layout.size ?? Math.max(...Object.values(layout.fields).map((f) => f.offset + f.size));
  const read = memory.virtual.readPartial(address, size);
  const bytes = read.bytes;
  const ptr = profile.pointerSize;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const fields: StructureField[] = [];
  const pointerAt = (offset: number) =>
    ptr === 8 ? view.getBigUint64(offset, true) : BigInt(view.getUint32(offset, true));
  const entries = Object.entries(layout.fields).sort(
    (a, b) => a[1].offset - b[1].offset || compareText(a[0], b[0]),
  );
  for (const [name, field] of entries) {
    if (field.offset + Math.min(field.size, ptr) > bytes.length) {
      fields.push({ name, offset: field.offset, size: field.size, value: 'unreadable' });
      continue;
    }
    if (name === 'MajorFunction' || (kind === 'FAST_IO_DISPATCH' && name !== 'SizeOfFastIoDispatch')) {
      const count = name === 'MajorFunction' ? IRP_MJ_NAMES.length : 1;
      for (let i = 0; i < count; i++) {
        const at = field.offset + i * ptr;
        if (at + ptr > bytes.length) break;
        const value = pointerAt(at);
        const label = name === 'MajorFunction' ? `MajorFunction[${IRP_MJ_NAMES[i]}]` : name;
        fields.push({
          name: label,
          offset: at,
          size: ptr,
          value: hex(value),
          ...(value ? { link: { kind: 'address' as const, target: hex(value) } } : {}),
        });
      }
      continue;
    }
    fields.push(renderField(memory, profile, name, field, bytes, pointerAt));
  }
  return {
    kind,
    address: hex(address),
    size,
    layoutSource:
      profile.source.kind === 'isf' ? `ISF ${profile.source.path}` : `built-in ${profile.source.tableName}`,
    fields,
    problem: read.failure
      ? `bytes from ${hex(read.failure.va)} on are unreadable (${read.failure.failure.reason})`
      : null,
  };
}

function renderField(
  memory: KernelMemory,
  profile: LayoutProfile,
  name: string,
  field: FieldLayout,
  bytes: Uint8Array,
  pointerAt: (offset: number) => bigint,
): StructureField {
  const ptr = profile.pointerSize;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const base = { name, offset: field.offset, size: field.size };
  const unicodeSize = ptr === 8 ? 16 : 8;
  if (
    field.size === unicodeSize &&
    ['DriverName', 'ServiceKeyName', 'Name', 'LinkTarget', 'FullDllName', 'BaseDllName'].includes(name)
  ) {
    const length = view.getUint16(field.offset, true);
    const maximumLength = view.getUint16(field.offset + 2, true);
    const buffer = pointerAt(field.offset + (ptr === 8 ? 8 : 4));
    const text = memory.unicodeString({ length, maximumLength, buffer });
    return {
      ...base,
      value: 'text' in text ? JSON.stringify(text.text) : `(${text.status}) at ${hex(buffer)}`,
      link: { kind: 'address', target: hex(buffer) },
    };
  }
  if (
    field.size === ptr &&
    field.bitLength === undefined &&
    ![
      'Type',
      'Size',
      'Flags',
      'DriverSize',
      'Characteristics',
      'DeviceType',
      'ReferenceCount',
      'PointerCount',
      'HandleCount',
      'Count',
    ].includes(name)
  ) {
    const value = pointerAt(field.offset);
    const link = LINKS[name];
    return {
      ...base,
      value: hex(value),
      ...(value ? { link: { kind: link ?? 'address', target: hex(value) } } : {}),
    };
  }
  let number: bigint;
  if (field.size === 1) number = BigInt(view.getUint8(field.offset));
  else if (field.size === 2) number = BigInt(view.getUint16(field.offset, true));
  else if (field.size === 4) number = BigInt(view.getUint32(field.offset, true));
  else if (field.size === 8) number = view.getBigUint64(field.offset, true);
  else return { ...base, value: `${field.size} bytes` };
  if (field.bitLength !== undefined)
    number = (number >> BigInt(field.bitPosition ?? 0)) & ((1n << BigInt(field.bitLength)) - 1n);
  const value = name === 'DeviceType' ? `${deviceTypeName(Number(number))} (${hex(number)})` : hex(number);
  return { ...base, value };
}
