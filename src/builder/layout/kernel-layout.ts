// The builder's description of one Windows kernel: where every field it writes lives, and the
// per-version behaviour it must imitate. x64 layouts come from a real ISF file (layout/from-isf),
// x86 layouts from the fact sheet ../shared/spec/windows-memory.md (layout/x86-profiles).

import { BuildError } from '../errors';

export type Arch = 'x86' | 'x64';
export type PagingMode = 'x86' | 'pae' | 'x64';
export type Family = 'xp' | '2003' | 'win7' | 'win8' | 'win81' | 'win10' | 'win11';

export interface StructLayout {
  size: number;
  fields: Record<string, number>;
}

export interface KernelVersion {
  major: number;
  minor: number;
  build: number;
  revision: number;
  servicePack: number;
  family: Family;
  /** e.g. "Windows 10 2004 / 20H1". */
  name: string;
  productType: 1 | 2 | 3;
  /** Where the version came from (a known PDB GUID, --build, or structure inference). */
  source: string;
}

/** Optional object headers in InfoMask bit order (spec §1.8.3). */
export interface OptionalHeader {
  name: string;
  bit: number;
  size: number;
}

/** How a structure was changed from the layout it was taken from (--future). */
export type StructMove =
  { struct: string; insert: number; at: number; before: string } | { struct: string; swap: [string, string] };

/**
 * How the layouts relate to the build the image claims: as the ISF or fact sheet describes that
 * build; taken from another build (`--build` with an ISF of another build); or changed the way
 * releases change opaque structures, for a build no table describes (`--future`).
 */
export interface LayoutVariant {
  kind: 'as-described' | 'other-build' | 'future';
  /** The build whose layouts these are (the ISF's or the profile's own), when known. */
  layoutBuild: number | null;
  /** What --future changed, in order; empty otherwise. */
  moves: StructMove[];
  /** --future: the structures as they were before the moves (null otherwise). */
  unmoved?: Record<string, StructLayout>;
}

export interface KernelLayout {
  arch: Arch;
  paging: PagingMode;
  pointerSize: 4 | 8;
  version: KernelVersion;
  pdb: { name: string; guid: string; age: number; synthetic: boolean };
  /** Source of the layouts: an ISF path or the fact-sheet profile name. */
  layoutSource: string;
  /**
   * The layouts' name wherever their file lies (an ISF's file name, GUID and age; the profile's
   * name): a boot's randomness is keyed by it, so one ISF gives one system by any path.
   */
  layoutIdentity: string;
  structs: Record<string, StructLayout>;
  /** RVAs of kernel globals and routines inside ntoskrnl. */
  symbols: Map<string, number>;
  /** Highest RVA used by a symbol, rounded up; the image has more sections after it. */
  symbolSpan: number;
  /** 'type-pointer': XP–Vista OBJECT_HEADER.Type; 'type-index': Windows 7+ TypeIndex + InfoMask. */
  objectHeader: 'type-pointer' | 'type-index';
  /** Windows 10+: TypeIndex is XORed with the header address byte and ObHeaderCookie (§1.8.4). */
  typeIndexEncoded: boolean;
  /** Before Windows 8 object allocations carry PROTECTED_POOL in the tag (§1.11). */
  protectedPoolTags: boolean;
  optionalHeaders: OptionalHeader[];
  /** KDDEBUGGER_DATA64 Header.Size (§1.15). */
  kdbgSize: number;
  /** Windows 8+ x64 keeps KDBG encoded with KiWaitNever/KiWaitAlways (§3.5). */
  kdbgEncoded: boolean;
  /** Windows 10 19H1+ kernel pool is the segment heap: VS chunk headers precede pool headers (§4.2). */
  segmentHeap: boolean;
  /** Names of object types in ObTypeIndexTable order, starting at index 2. */
  objectTypes: string[];
  /** Windows 10 1607+ randomises the PML4 self-map index (§2.4). */
  randomSelfMap: boolean;
  variant: LayoutVariant;
}

export function field(layout: KernelLayout, struct: string, name: string): number {
  const offset = layout.structs[struct]?.fields[name];
  if (offset === undefined) throw new BuildError(`layout ${layout.layoutSource} has no ${struct}.${name}`);
  return offset;
}

export function hasField(layout: KernelLayout, struct: string, name: string): boolean {
  return layout.structs[struct]?.fields[name] !== undefined;
}

export function sizeOf(layout: KernelLayout, struct: string): number {
  const size = layout.structs[struct]?.size;
  if (size === undefined) throw new BuildError(`layout ${layout.layoutSource} has no ${struct}`);
  return size;
}

export function symbolRva(layout: KernelLayout, name: string): number {
  const rva = layout.symbols.get(name);
  if (rva === undefined) throw new BuildError(`kernel layout ${layout.layoutSource} has no symbol ${name}`);
  return rva;
}

/** Size of the optional headers selected by `infoMask`, i.e. ObpInfoMaskToOffset[infoMask]. */
export function optionalHeadersSize(layout: KernelLayout, infoMask: number): number {
  return layout.optionalHeaders.filter((h) => (infoMask & h.bit) !== 0).reduce((n, h) => n + h.size, 0);
}

export function optionalHeaderSize(layout: KernelLayout, name: string): number {
  const header = layout.optionalHeaders.find((h) => h.name === name);
  if (!header) throw new BuildError(`layout ${layout.layoutSource} has no optional header ${name}`);
  return header.size;
}
