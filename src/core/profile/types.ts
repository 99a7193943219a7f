// The vocabulary of structure-layout profiles: where each field the engine reads sits, for one
// Windows build and architecture, plus the per-version facts that are not plain offsets.
// Facts: ../shared/spec/windows-memory.md §1 (tags such as §1.8.3 below refer to it).

export type Arch = 'x86' | 'x64';
export type PointerSize = 4 | 8;

export interface FieldLayout {
  readonly offset: number;
  /** Bytes; for a bitfield the size of its storage unit, for an array the whole array. */
  readonly size: number;
  readonly bitPosition?: number;
  readonly bitLength?: number;
  /** Element count of an array field (MajorFunction, HashBuckets, ImageFileName, ...). */
  readonly count?: number;
}

export interface StructLayout {
  /**
   * sizeof. Absent when it differs between updates of one build, so no per-build table can state
   * it: `_EPROCESS` (V2vt:win7_sp1_x64 0x4D0, …_632B36E0 0x4E8, …_24000 0x4F8), `_ETHREAD` and
   * `_FILE_OBJECT` in built-in tables.
   */
  readonly size?: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
}

export type ProfileSource = BuiltinSource | IsfSource;

export interface BuiltinSource {
  readonly kind: 'builtin';
  /** Table id, e.g. `x64-10-19041`. */
  readonly table: string;
  /** Human name of the table, e.g. `Windows 10 2004 (19041) x64`. */
  readonly tableName: string;
  /** The build the table was written for (may be lower than the requested one). */
  readonly tableBuild: number;
  readonly requestedBuild: number;
  readonly servicePack?: number;
  /** Where the table's facts come from (spec sections, V2vt profiles, ISF files). */
  readonly citations: readonly string[];
}

export interface IsfSource {
  readonly kind: 'isf';
  readonly path: string;
  readonly pdbName: string;
  readonly guid: string;
  readonly age: number;
  /** The built-in table used for what the ISF does not define (KDBG). */
  readonly fallbackTable: string;
  readonly fallbackFor: readonly string[];
}

/** §1.8.1 (Type pointer, NameInfoOffset…) vs §1.8.2 (TypeIndex, InfoMask). */
export type ObjectHeaderGeneration = 'pre-win7' | 'win7+';

export type OptionalHeaderKind =
  'creator' | 'name' | 'handle' | 'quota' | 'process' | 'audit' | 'handleRevocation' | 'extended' | 'padding';

export interface OptionalHeaderInfo {
  readonly kind: OptionalHeaderKind;
  readonly struct: string;
  readonly size: number;
  /** InfoMask bit (Win7+ only; §1.8.3). Pre-Win7 headers are found through the *InfoOffset bytes. */
  readonly infoMaskBit?: number;
}

export interface ObjectHeaderFacts {
  readonly generation: ObjectHeaderGeneration;
  /** Windows 10+: TypeIndex is XORed with the header address byte and ObHeaderCookie (§1.8.4). */
  readonly typeIndexEncoded: boolean;
  /** Offset of the object body from the OBJECT_HEADER (0x18 / 0x30, §1.8.1–2). */
  readonly bodyOffset: number;
  /** Optional headers this build has, in InfoMask bit order (stacked downwards from the header). */
  readonly optionalHeaders: readonly OptionalHeaderInfo[];
}

export interface PoolFacts {
  /** sizeof(POOL_HEADER): 8 (x86) / 16 (x64) (§1.11). */
  readonly headerSize: number;
  /** Allocation granularity and BlockSize unit: 8 (x86) / 16 (x64) (§1.11). */
  readonly alignment: 8 | 16;
  /** Before Windows 8 object allocations carry tag | 0x80000000 (§1.11). */
  readonly objectTagsProtected: boolean;
  /** Vista+: odd PoolType = paged; XP/2003: odd = nonpaged (§1.11). */
  readonly pagedPoolTypeIsOdd: boolean;
}

export interface KdbgFacts {
  /** KDDEBUGGER_DATA64 Header.Size for this build (§1.15). */
  readonly size: number;
  /** Where `size` comes from. */
  readonly sizeSource: string;
  /** Offset of KdVersionBlock (→ DBGKD_GET_VERSION64) in the KPCR (§1.15). */
  readonly kpcrKdVersionBlockOffset: number;
  /** Virtual address of CPU 0's KPCR where it is fixed (x86 only, §1.15). */
  readonly kpcrCpu0Va?: bigint;
}

export interface ProcessFacts {
  /** sizeof(KPROCESS); KPROCESS starts at EPROCESS+0 (§1.13). */
  readonly kprocessSize: number;
  /** Offsets within EPROCESS (DirectoryTableBase is KPROCESS+0x18 / +0x28 in every version). */
  readonly directoryTableBase: number;
  readonly uniqueProcessId: number;
  readonly activeProcessLinks: number;
  readonly imageFileName: number;
  readonly imageFileNameLength: number;
  /** First four bytes of an EPROCESS (DISPATCHER_HEADER Type, -, Size, -); undefined when unknown. */
  readonly dispatcherSignature: readonly number[] | undefined;
}

export interface SharedDataFacts {
  /** KUSER_SHARED_DATA kernel VA (§1.14). */
  readonly kernelVa: bigint;
  /** The same page's user-mode VA (§1.14). */
  readonly userVa: bigint;
}

export interface LayoutProfile {
  readonly id: string;
  readonly source: ProfileSource;
  readonly arch: Arch;
  readonly build: number;
  readonly pointerSize: PointerSize;

  /** Throws `ProfileError` naming the profile when the structure is unknown. */
  struct(name: string): StructLayout;
  /** Throws `ProfileError` when the structure or the field is unknown. */
  field(struct: string, field: string): FieldLayout;
  /** sizeof; throws when unknown (see `StructLayout.size`). */
  sizeOf(struct: string): number;
  hasStruct(name: string): boolean;
  hasField(struct: string, field: string): boolean;
  structNames(): readonly string[];
  /** RVA of a kernel global from the ISF; always undefined for built-in profiles. */
  symbol(name: string): number | undefined;

  readonly objectHeader: ObjectHeaderFacts;
  readonly pool: PoolFacts;
  readonly kdbg: KdbgFacts;
  readonly process: ProcessFacts;
  readonly sharedData: SharedDataFacts;
}

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}
