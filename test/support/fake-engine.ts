// A stand-in engine for the workbench's tests: it reads the builder's truth.json beside an image
// and turns it into the AnalysisResult the real engine would produce, and serves memory reads
// from the raw image file (virtual reads walk the image's own page tables). It shares no code
// with src/core, so the workbench can be developed and tested while the engine is being written.
//
// A `fake-engine.json` beside the image steers it for tests:
//   { "busyMs": 200, "heartbeat": "/tmp/f" }  spin this long per stage (only terminate stops it), log stages
//   { "failAt": "devices", "failMode": "throw" | "exit" | "oom" }

import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import iced from 'iced-x86';
import type {
  MemoryChunk,
  MemorySpace,
  PageStatus,
  StructureField,
  StructureKind,
  StructureView,
} from '../../src/common/api';
import type { HandlerVerdict } from '../../src/common/findings';
import {
  ANALYSIS_SCHEMA,
  INFO_SCHEMA,
  type AnalysisResult,
  type Device,
  type Disassembly,
  type Driver,
  type Finding,
  type Handler,
  type ImageInfo,
  type Module,
  type Progress,
  type SymbolicLink,
} from '../../src/common/model';
import {
  DO_FLAGS,
  DRVO_FLAGS,
  FILE_CHARACTERISTICS,
  IRP_MJ_NAMES,
  deviceTypeName,
  flagNames,
} from '../../src/common/windows';
import type { EngineHandle, EngineOptions, OpenEngine } from '../../src/backend/engine-contract';
import { resolveLayout } from '../../src/builder/index';
import type { KernelLayout } from '../../src/builder/layout/kernel-layout';
import { layoutFromIsfFile } from '../../src/builder/layout/from-isf';
import type { Truth, TruthDevice, TruthDriver, TruthHandler } from '../../src/builder/truth';
import { rebuildPe, type ExtractedImage } from '../../src/core/extract/pe-rebuild';
import { RawImage } from './raw-reader';
import { SHARED } from './shared';

const { Decoder, DecoderOptions, Formatter, FormatterSyntax, OpKind, Mnemonic } = iced;

const PAGE = 0x1000;
const SUSPICIOUS: ReadonlySet<HandlerVerdict> = new Set(['other-module', 'no-module', 'inline-patched']);

interface Steering {
  busyMs?: number;
  /** A file each stage appends its name to, so a test can see the work stop. */
  heartbeat?: string;
  failAt?: string;
  failMode?: 'throw' | 'exit' | 'oom';
}

const hex = (value: bigint | number): string => `0x${value.toString(16)}`;

export const openEngine: OpenEngine = (path, options, onProgress) => {
  onProgress({ stage: 'open image', fraction: 0 });
  return new FakeEngine(path, options);
};

class FakeEngine implements EngineHandle {
  private readonly truth: Truth;
  private readonly image: RawImage;
  private readonly steering: Steering;
  private readonly layout: KernelLayout | null;
  private readonly imageInfo: ImageInfo;
  private readonly disassemblyCache = new Map<string, Disassembly>();

  constructor(
    private readonly path: string,
    options: EngineOptions,
  ) {
    const truthPath = join(dirname(path), 'truth.json');
    if (!existsSync(truthPath)) {
      throw new Error(`the stand-in engine opens builder images only, and ${truthPath} is missing`);
    }
    this.truth = JSON.parse(readFileSync(truthPath, 'utf8')) as Truth;
    const steeringPath = join(dirname(path), 'fake-engine.json');
    this.steering = existsSync(steeringPath)
      ? (JSON.parse(readFileSync(steeringPath, 'utf8')) as Steering)
      : {};
    if (this.truth.generator.format !== 'raw') {
      throw new Error(
        `the stand-in engine reads raw images only (this one is ${this.truth.generator.format})`,
      );
    }
    this.image = new RawImage(path);
    this.layout = loadLayout(this.truth, options);
    this.imageInfo = this.makeInfo();
  }

  info(): ImageInfo {
    return this.imageInfo;
  }

  async analyze(onProgress: (progress: Progress) => void, signal: AbortSignal): Promise<AnalysisResult> {
    const stages = ['scan pool', 'walk object directory', 'module list', 'devices', 'handlers', 'findings'];
    const timings: Array<{ stage: string; ms: number }> = [];
    for (const [index, stage] of stages.entries()) {
      if (signal.aborted) throw new Error('cancelled');
      onProgress({ stage, fraction: index / stages.length, detail: `${stage}…` });
      const started = Date.now();
      this.steer(stage);
      await new Promise((resolve) => setImmediate(resolve));
      timings.push({ stage, ms: Date.now() - started });
    }
    const result = this.convert(timings);
    onProgress({ stage: 'done', fraction: 1 });
    return result;
  }

  readMemory(space: MemorySpace, address: bigint, length: number): MemoryChunk {
    const size = Math.max(0, Math.min(length, 0x10000));
    const bytes = Buffer.alloc(size);
    const pages: MemoryChunk['pages'] = [];
    const spaceSize = this.spaceSize(space);
    for (let done = 0; done < size;) {
      const at = address + BigInt(done);
      const pageStart = at & ~BigInt(PAGE - 1);
      const chunk = Math.min(PAGE - Number(at - pageStart), size - done);
      const { status, physical } = this.locate(space, pageStart, spaceSize);
      pages.push({ address: hex(pageStart), status, physical: physical === null ? null : hex(physical) });
      if (physical !== null && (status === 'present' || status === 'transition')) {
        this.image.read(physical + Number(at - pageStart), chunk).copy(bytes, done);
      }
      done += chunk;
    }
    return {
      space,
      address: hex(address),
      bytes: bytes.toString('base64'),
      pages,
      spaceSize: hex(spaceSize),
    };
  }

  disassemble(address: bigint, count: number): Disassembly {
    const bytes = this.readVirtual(address, 16 * Math.max(1, Math.min(count, 64)));
    if (!bytes) return { bytes: '', instructions: [] };
    return {
      bytes: bytes.subarray(0, 32).toString('hex'),
      instructions: decode(bytes, address, this.bitness(), count).map((i) => i.text),
    };
  }

  extractImage(base: bigint, fallbackSize: number | null): ExtractedImage {
    return rebuildPe(
      (va) => {
        const page = this.readVirtual(va, 0x1000);
        return page ? { bytes: page } : { status: 'not-present' };
      },
      base,
      fallbackSize,
    );
  }

  structure(kind: StructureKind, address: bigint): StructureView {
    const layout = this.layout;
    const structName = `_${kind}`;
    const struct = layout?.structs[structName];
    if (!layout || !struct) {
      return {
        kind,
        address: hex(address),
        size: 0,
        layoutSource: 'none',
        fields: [],
        problem: `no layout for ${structName}`,
      };
    }
    const bytes = this.readVirtual(address, struct.size);
    const fields = structureFields(kind, address, struct, layout.pointerSize, bytes, (va) =>
      this.unicodeAt(va),
    );
    return {
      kind,
      address: hex(address),
      size: struct.size,
      layoutSource: layout.layoutSource,
      fields,
      problem: bytes ? null : 'the structure is not wholly in resident memory',
    };
  }

  close(): void {
    this.image.close();
  }

  // --- steering for tests ---

  private steer(stage: string): void {
    if (this.steering.heartbeat) appendFileSync(this.steering.heartbeat, `${stage}\n`);
    if (this.steering.busyMs) {
      const until = Date.now() + this.steering.busyMs;
      while (Date.now() < until) {
        // Deliberately synchronous: only terminating the worker stops this.
      }
    }
    if (this.steering.failAt !== stage) return;
    if (this.steering.failMode === 'exit') process.exit(3);
    if (this.steering.failMode === 'oom') {
      const hoard: unknown[] = [];
      while (true) hoard.push(new Array(1_000_000).fill(hoard.length));
    }
    throw new Error(`corrupt ${stage} data (planted by fake-engine.json)`);
  }

  // --- memory ---

  private bitness(): 32 | 64 {
    return this.truth.arch === 'x64' ? 64 : 32;
  }

  private spaceSize(space: MemorySpace): bigint {
    if (space === 'physical') return BigInt(statSync(this.path).size);
    return this.truth.arch === 'x64' ? 1n << 64n : 1n << 32n;
  }

  private locate(
    space: MemorySpace,
    page: bigint,
    spaceSize: bigint,
  ): { status: PageStatus; physical: number | null } {
    if (page >= spaceSize) return { status: 'out-of-range', physical: null };
    if (space === 'physical') {
      const inRun = this.truth.physicalRuns.some(
        (run) => page >= BigInt(run.start) && page < BigInt(run.start) + BigInt(run.length),
      );
      return inRun ? { status: 'present', physical: Number(page) } : { status: 'hole', physical: null };
    }
    return walk(this.image, this.truth.paging, Number(BigInt(this.truth.dtb)), page);
  }

  private readVirtual(va: bigint, length: number): Buffer | null {
    const out = Buffer.alloc(length);
    for (let done = 0; done < length;) {
      const at = va + BigInt(done);
      const page = at & ~BigInt(PAGE - 1);
      const chunk = Math.min(PAGE - Number(at - page), length - done);
      const { status, physical } = walk(this.image, this.truth.paging, Number(BigInt(this.truth.dtb)), page);
      if (physical === null || (status !== 'present' && status !== 'transition')) return null;
      this.image.read(physical + Number(at - page), chunk).copy(out, done);
      done += chunk;
    }
    return out;
  }

  private unicodeAt(va: bigint): string | null {
    const pointerSize = this.truth.arch === 'x64' ? 8 : 4;
    const header = this.readVirtual(va, pointerSize * 2);
    if (!header) return null;
    const length = header.readUInt16LE(0);
    const buffer = pointerSize === 8 ? header.readBigUInt64LE(8) : BigInt(header.readUInt32LE(4));
    if (length === 0) return '';
    return this.readVirtual(buffer, Math.min(length, 0x400))?.toString('utf16le') ?? null;
  }

  private disassembly(address: string): Disassembly {
    let cached = this.disassemblyCache.get(address);
    if (!cached) {
      cached = this.disassemble(BigInt(address), 4);
      this.disassemblyCache.set(address, cached);
    }
    return cached;
  }

  // --- truth → result ---

  private makeInfo(): ImageInfo {
    const t = this.truth;
    const how = 'stand-in engine: truth.json';
    const fileSize = statSync(this.path).size;
    return {
      schema: INFO_SCHEMA,
      path: this.path,
      fileSize,
      format: { id: 'raw', description: 'Raw physical memory image', details: {} },
      physical: {
        runs: t.physicalRuns.length,
        bytes: t.physicalRuns.reduce((n, run) => n + run.length, 0),
        maxAddress: hex(fileSize - 1),
      },
      arch: t.arch,
      paging: t.paging,
      dtb: { value: t.dtb, method: how },
      kernelBase: { value: t.kernelBase, method: how },
      kernelSize: t.kernelSize,
      build: {
        value: { number: t.build, major: t.version.major, minor: t.version.minor, name: t.version.name },
        method: how,
      },
      pdb: { name: t.pdb.name, guid: t.pdb.guid, age: t.pdb.age },
      kdbg: { value: { va: t.kdbg, encoded: t.kdbgEncoded }, method: how },
      psLoadedModuleList: { value: t.psLoadedModuleList, method: how },
      psActiveProcessHead: { value: t.psActiveProcessHead, method: how },
      objectRootDirectory: { value: t.objectRootDirectory, method: how },
      obHeaderCookie: t.obHeaderCookie === null ? null : { value: t.obHeaderCookie, method: how },
      typeIndex: t.typeIndex ? { value: t.typeIndex, method: how } : null,
      profile: { source: 'builtin', name: t.generator.source },
      timings: [],
      bytesRead: 0,
      warnings: ['analysed by the stand-in engine (test/support/fake-engine.ts)'],
    };
  }

  private convert(timings: Array<{ stage: string; ms: number }>): AnalysisResult {
    const t = this.truth;
    const modules = t.modules.map<Module>((m) => ({
      name: m.name,
      path: m.path,
      base: m.base,
      size: m.size,
      timeDateStamp: m.timeDateStamp,
      checksum: m.checksum,
      ldrEntry: m.ldrEntry,
      foundBy: m.unlinked ? ['pool-scan'] : ['module-list', 'pool-scan'],
      unlinked: m.unlinked,
    }));
    const moduleByName = new Map(modules.map((m) => [m.name.toLowerCase(), m]));
    const moduleAt = (address: bigint): Module | null =>
      modules.find((m) => address >= BigInt(m.base) && address < BigInt(m.base) + BigInt(m.size)) ?? null;

    const toHandler = (h: TruthHandler): Handler => {
      const address = BigInt(h.handler);
      const owner = h.owner ? (moduleByName.get(h.owner.toLowerCase()) ?? null) : null;
      const handler: Handler = {
        index: h.index,
        name: h.name,
        address: h.handler,
        module: owner?.name ?? h.owner,
        offset: owner ? hex(address - BigInt(owner.base)) : null,
        symbol: h.handler === t.iopInvalidDeviceRequest ? 'IopInvalidDeviceRequest' : null,
        verdict: h.verdict,
      };
      if (address !== 0n) handler.disassembly = this.disassembly(h.handler);
      if (h.verdict === 'inline-patched') {
        const target = this.patchTarget(address);
        if (target !== null)
          handler.target = { address: hex(target), module: moduleAt(target)?.name ?? null };
      }
      return handler;
    };

    const byDriver = <T extends { driver: string }>(items: T[]): Map<string, T[]> => {
      const map = new Map<string, T[]>();
      for (const item of items) map.set(item.driver, [...(map.get(item.driver) ?? []), item]);
      return map;
    };
    const irpOf = byDriver(t.irp);
    const fastIoOf = byDriver(t.fastIo);
    const callbacksOf = byDriver(t.callbacks);

    const truthDevices = t.drivers.flatMap((d) => d.devices);
    const deviceByVa = new Map(truthDevices.map((d) => [d.objectVa, d]));
    const links: SymbolicLink[] = t.links
      .filter((l) => l.nameResident)
      .map((l) => ({
        name: l.name,
        nameStatus: null,
        nameHash: null,
        target: l.target,
        targetStatus: null,
        objectVa: l.objectVa,
        device: truthDevices.find((d) => d.name !== null && d.name === l.target)?.objectVa ?? null,
      }));

    const drivers: Driver[] = t.drivers.map((d) => this.toDriver(d, irpOf, fastIoOf, callbacksOf, toHandler));
    for (const stale of t.staleDrivers) {
      drivers.push({
        id: stale.objectVa,
        name: stale.name,
        nameStatus: null,
        objectName: null,
        directory: null,
        serviceKey: null,
        objectVa: stale.objectVa,
        objectPa: stale.objectPa,
        start: '0x0',
        size: 0,
        module: null,
        flags: 0,
        flagNames: [],
        foundBy: ['pool-scan'],
        state: 'freed',
        devices: [],
        irp: [],
        fastIo: [],
        callbacks: [],
        fastIoDispatch: null,
      });
    }

    const devices = truthDevices.map((d) => toDevice(d, deviceByVa, links, t));
    const findings = this.toFindings(drivers, devices);
    return {
      schema: ANALYSIS_SCHEMA,
      image: { ...this.imageInfo, timings },
      coverage: fakeCoverage(),
      serviceTable: null,
      drivers,
      devices,
      modules,
      links,
      processes: [],
      threads: [],
      irps: [],
      findings,
      stats: {
        bytesScanned: this.imageInfo.fileSize,
        poolHits: drivers.length + devices.length,
        workers: 1,
        timings,
      },
    };
  }

  private toDriver(
    d: TruthDriver,
    irpOf: Map<string, TruthHandler[]>,
    fastIoOf: Map<string, TruthHandler[]>,
    callbacksOf: Map<string, TruthHandler[]>,
    toHandler: (h: TruthHandler) => Handler,
  ): Driver {
    const foundBy: Driver['foundBy'] = d.hidden ? ['pool-scan'] : ['pool-scan', 'directory'];
    if (d.module && !d.hidden) foundBy.push('module-list');
    if (d.devices.length > 0) foundBy.push('device-walk');
    return {
      id: d.objectVa,
      name: d.nameResident ? d.name : null,
      nameStatus: d.nameResident ? null : 'DriverName buffer is paged out',
      objectName: d.objectNameResident ? d.objectName : null,
      directory: d.hidden ? null : d.directory,
      serviceKey: d.serviceKey,
      objectVa: d.objectVa,
      objectPa: d.objectPa,
      start: d.start,
      size: d.size,
      module: d.module,
      flags: d.flags,
      flagNames: flagNames(d.flags, DRVO_FLAGS),
      foundBy,
      state: 'live',
      devices: d.devices.map((device) => device.objectVa),
      irp: (irpOf.get(d.name) ?? []).map(toHandler).sort((a, b) => a.index - b.index),
      fastIo: (fastIoOf.get(d.name) ?? []).map(toHandler),
      callbacks: (callbacksOf.get(d.name) ?? []).map(toHandler),
      fastIoDispatch: d.fastIoDispatch,
    };
  }

  private patchTarget(address: bigint): bigint | null {
    const bytes = this.readVirtual(address, 16);
    if (!bytes) return null;
    const [first, second] = decode(bytes, address, this.bitness(), 2);
    if (first?.branch !== undefined && first.branch !== null) return first.branch;
    if (first?.pushed !== null && first?.pushed !== undefined && second?.isReturn) return first.pushed;
    return null;
  }

  private toFindings(drivers: Driver[], devices: Device[]): Finding[] {
    const driverByName = new Map(drivers.filter((d) => d.name !== null).map((d) => [d.name!, d]));
    return this.truth.findings.map((f, index) => {
      const finding: Finding = {
        id: `F${String(index + 1).padStart(3, '0')}`,
        severity: f.severity,
        kind: f.kind,
        subject: f.subject,
        explanation: f.detail,
        evidence: {},
      };
      const driver = driverByName.get(f.subject);
      if (driver) finding.evidence.driver = driver.name!;
      const handlers =
        f.kind === 'fastio-hook'
          ? driver?.fastIo
          : f.kind === 'irp-hook' || f.kind === 'irp-no-module' || f.kind === 'inline-hook'
            ? driver?.irp
            : undefined;
      const wanted: HandlerVerdict =
        f.kind === 'irp-no-module'
          ? 'no-module'
          : f.kind === 'inline-hook'
            ? 'inline-patched'
            : 'other-module';
      const hits = (handlers ?? []).filter((h) =>
        f.kind === 'fastio-hook' ? SUSPICIOUS.has(h.verdict) : h.verdict === wanted,
      );
      if (hits.length > 0) {
        finding.evidence.handlers = hits.map((h) => ({
          name: h.name,
          address: h.address,
          module: h.module,
          verdict: h.verdict,
        }));
        finding.evidence.addresses = hits.map((h) => h.address);
        finding.evidence.modules = [
          ...new Set(hits.map((h) => h.target?.module ?? h.module).filter((m): m is string => m !== null)),
        ];
        if (hits[0]!.disassembly) finding.evidence.disassembly = hits[0]!.disassembly;
      }
      if (f.kind === 'foreign-filter') {
        const victim = devices.find((d) => d.name === f.subject);
        const top = victim ? devices.find((d) => d.id === victim.stack[victim.stack.length - 1]) : undefined;
        if (victim) finding.evidence.device = victim.name!;
        if (top && top.id !== victim?.id) {
          finding.evidence.addresses = [top.objectVa];
          finding.evidence.detail = `filter device ${top.objectVa} of ${top.driverName ?? top.driver}`;
        }
      }
      if (f.kind === 'unlinked-module') finding.evidence.modules = [f.subject];
      return finding;
    });
  }
}

function toDevice(d: TruthDevice, byVa: Map<string, TruthDevice>, links: SymbolicLink[], t: Truth): Device {
  const below: string[] = [];
  for (
    let at: TruthDevice | undefined = d;
    at && below.length < 64;
    at = at.attachedTo ? byVa.get(at.attachedTo) : undefined
  ) {
    below.unshift(at.objectVa);
  }
  const above: string[] = [];
  for (
    let at = d.attachedDevice ? byVa.get(d.attachedDevice) : undefined;
    at && above.length < 64;
    at = at.attachedDevice ? byVa.get(at.attachedDevice) : undefined
  ) {
    above.push(at.objectVa);
  }
  const driver = t.drivers.find((candidate) => candidate.name === d.driver);
  return {
    id: d.objectVa,
    name: d.nameResident ? d.name : null,
    nameStatus: d.name === null ? 'unnamed device' : d.nameResident ? null : 'name buffer is paged out',
    inferredName: null,
    nameHash: null,
    objectVa: d.objectVa,
    objectPa: null,
    driver: driver?.objectVa ?? d.driver,
    driverName: d.driver,
    type: d.type,
    typeName: deviceTypeName(d.type),
    flags: d.flags,
    flagNames: flagNames(d.flags, DO_FLAGS),
    characteristics: d.characteristics,
    characteristicNames: flagNames(d.characteristics, FILE_CHARACTERISTICS),
    attachedDevice: d.attachedDevice,
    attachedTo: d.attachedTo,
    stack: [...below, ...above],
    links: links.filter((l) => d.name !== null && l.target === d.name).map((l) => l.name!),
  };
}

function loadLayout(truth: Truth, options: EngineOptions): KernelLayout | null {
  try {
    const source = truth.generator.source;
    if (source.startsWith('profile '))
      return resolveLayout({ profile: source.slice('profile '.length), seed: 1 });
    for (const folder of [options.symbols, join(SHARED, 'isf')]) {
      if (!folder) continue;
      const candidate = join(folder, 'windows', truth.pdb.name, basename(source));
      if (existsSync(candidate)) return layoutFromIsfFile(candidate);
    }
  } catch {
    // Structures are an extra: without a layout the hex view simply shows no overlay.
  }
  return null;
}

/** Page walk that tells apart never-mapped, paged-out and transition pages. */
function walk(
  image: RawImage,
  paging: Truth['paging'],
  dtb: number,
  va: bigint,
): { status: PageStatus; physical: number | null } {
  const notPresent = (entry: bigint, last: boolean): { status: PageStatus; physical: number | null } => {
    if (entry === 0n) return { status: 'unmapped', physical: null };
    if (last && (entry & 0x800n) !== 0n && (entry & 0x400n) === 0n) {
      return { status: 'transition', physical: Number(entry & 0x000ffffffffff000n) };
    }
    if (last && (entry & 0x400n) !== 0n) return { status: 'prototype', physical: null };
    return { status: 'paged-out', physical: null };
  };
  if (paging === 'x86') {
    const pde = BigInt(image.u32(dtb + Number((va >> 22n) & 0x3ffn) * 4));
    if (!(pde & 1n)) return notPresent(pde, false);
    if (pde & 0x80n) return { status: 'present', physical: Number((pde & 0xffc00000n) + (va & 0x3ff000n)) };
    const pte = BigInt(image.u32(Number(pde & 0xfffff000n) + Number((va >> 12n) & 0x3ffn) * 4));
    if (!(pte & 1n)) return notPresent(pte, true);
    return { status: 'present', physical: Number(pte & 0xfffff000n) };
  }
  const frame = 0x000ffffffffff000n;
  const levels = paging === 'x64' ? [39n, 30n, 21n, 12n] : [30n, 21n, 12n];
  let table = BigInt(paging === 'pae' ? dtb & ~0x1f : dtb);
  for (let i = 0; i < levels.length; i++) {
    const shift = levels[i]!;
    const bits = paging === 'pae' && i === 0 ? 3n : 0x1ffn;
    const at = Number(table + ((va >> shift) & bits) * 8n);
    const entry = image.u64(at);
    const last = i === levels.length - 1;
    if (!(entry & 1n)) return notPresent(entry, last);
    const largeLevel = paging === 'x64' ? i === 1 || i === 2 : i === 1;
    if (!last && largeLevel && entry & 0x80n) {
      const size = 1n << shift;
      return {
        status: 'present',
        physical: Number((entry & frame & ~(size - 1n)) + (va & (size - 1n) & ~0xfffn)),
      };
    }
    table = entry & frame;
  }
  return { status: 'present', physical: Number(table) };
}

interface Decoded {
  text: string;
  branch: bigint | null;
  pushed: bigint | null;
  isReturn: boolean;
}

let formatter: InstanceType<typeof Formatter> | null = null;

function decode(bytes: Uint8Array, ip: bigint, bitness: 32 | 64, max: number): Decoded[] {
  formatter ??= new Formatter(FormatterSyntax.Intel);
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  decoder.ip = ip;
  const out: Decoded[] = [];
  try {
    while (decoder.canDecode && out.length < max) {
      const instruction = decoder.decode();
      try {
        if (instruction.isInvalid) break;
        const nearBranch =
          instruction.op0Kind === OpKind.NearBranch32 || instruction.op0Kind === OpKind.NearBranch64;
        const isPushImmediate =
          instruction.mnemonic === Mnemonic.Push &&
          (instruction.op0Kind === OpKind.Immediate32 ||
            instruction.op0Kind === OpKind.Immediate8to32 ||
            instruction.op0Kind === OpKind.Immediate32to64);
        const width = bitness === 64 ? 16 : 8;
        out.push({
          text: `${instruction.ip.toString(16).padStart(width, '0')}  ${formatter.format(instruction)}`,
          branch: nearBranch ? instruction.nearBranchTarget : null,
          pushed: isPushImmediate ? BigInt.asUintN(bitness, instruction.immediate(0)) : null,
          isReturn: instruction.mnemonic === Mnemonic.Ret,
        });
      } finally {
        instruction.free();
      }
    }
  } finally {
    decoder.free();
  }
  return out;
}

/** Named fields of a structure, arrays of handlers expanded, pointers and strings decoded. */
function structureFields(
  kind: StructureKind,
  address: bigint,
  struct: { size: number; fields: Record<string, number> },
  pointerSize: 4 | 8,
  bytes: Buffer | null,
  unicodeAt: (va: bigint) => string | null,
): StructureField[] {
  const entries = Object.entries(struct.fields).sort((a, b) => a[1] - b[1]);
  const fields: StructureField[] = [];
  const read = (offset: number, size: number): bigint | null => {
    if (!bytes || offset + size > bytes.length) return null;
    if (size === 8) return bytes.readBigUInt64LE(offset);
    if (size === 4) return BigInt(bytes.readUInt32LE(offset));
    if (size === 2) return BigInt(bytes.readUInt16LE(offset));
    return BigInt(bytes.readUInt8(offset));
  };
  for (const [index, [name, offset]] of entries.entries()) {
    const next = entries[index + 1]?.[1] ?? struct.size;
    if (name === 'MajorFunction') {
      IRP_MJ_NAMES.forEach((mj, i) => {
        const at = offset + i * pointerSize;
        const value = read(at, pointerSize);
        fields.push({
          name: `MajorFunction[${mj}]`,
          offset: at,
          size: pointerSize,
          value: value === null ? '(unreadable)' : hex(value),
          ...(value ? { link: { kind: 'address' as const, target: hex(value) } } : {}),
        });
      });
      continue;
    }
    if (name === 'DriverName' || name === 'ServiceKeyName') {
      const text = bytes ? unicodeAt(address + BigInt(offset)) : null;
      fields.push({
        name,
        offset,
        size: pointerSize * 2,
        value: text === null ? '(unreadable)' : `"${text}"`,
      });
      continue;
    }
    const size = Math.min(next - offset, pointerSize === 8 ? 8 : 4);
    const value = read(offset, size <= 0 ? 1 : size === 3 ? 2 : size);
    const isPointer =
      size === pointerSize &&
      /Object|Device|Extension|Section|Dispatch|Init|StartIo|Unload|Vpb|Irp|Start$/.test(name);
    let shown = value === null ? '(unreadable)' : hex(value);
    if (value !== null && name === 'DeviceType')
      shown = `FILE_DEVICE_${deviceTypeName(Number(value))} (${hex(value)})`;
    if (value !== null && name === 'Flags' && kind === 'DEVICE_OBJECT')
      shown = `${hex(value)} ${flagNames(Number(value), DO_FLAGS).join(' | ')}`;
    if (value !== null && name === 'Flags' && kind === 'DRIVER_OBJECT')
      shown = `${hex(value)} ${flagNames(Number(value), DRVO_FLAGS).join(' | ')}`;
    fields.push({
      name,
      offset,
      size: size <= 0 ? 1 : size,
      value: shown,
      ...(isPointer && value ? { link: { kind: 'address' as const, target: hex(value) } } : {}),
    });
  }
  return fields;
}

/** The stand-in reads no service table, processes, threads or IRPs: it says so, as the engine would. */
function fakeCoverage(): AnalysisResult['coverage'] {
  const complete = { state: 'complete' as const, missing: [] };
  const unread = { state: 'unavailable' as const, missing: ['not read by the stand-in engine'] };
  return {
    drivers: complete,
    devices: complete,
    modules: complete,
    links: complete,
    services: unread,
    processes: unread,
    threads: unread,
    irps: unread,
    findings: complete,
  };
}
