// What a container gives the layers above it: a physical address space with explicit holes, the
// facts its header carries, and what it could not use (../shared/spec/windows-memory.md §5).

/** One stretch of physical memory stored contiguously in the file. */
export interface PhysicalRun {
  /** First physical address. */
  readonly start: number;
  readonly length: number;
  /** Where `start` is stored in the data file. */
  readonly fileOffset: number;
}

export type ImageFormatId = 'raw' | 'crashdump' | 'vmware' | 'elf' | 'lime';

export interface ImageFormat {
  readonly id: ImageFormatId;
  /** One line for people, e.g. "Windows crash dump (64-bit), bitmap (DumpType 5, FDMP)". */
  readonly description: string;
  /** False for triage (mini kernel) and header-only dumps: there are no physical pages at all. */
  readonly holdsPhysicalMemory: boolean;
  readonly details: FormatDetails;
}

/** Container specifics; each field is present only for the formats it belongs to. */
export interface FormatDetails {
  /** Crash dump header width: PAGEDUMP (32) or PAGEDU64 (64); ELF class. */
  readonly width?: 32 | 64;
  readonly dumpType?: number;
  readonly dumpTypeName?: string;
  /** Bitmap dumps: the summary header signature. */
  readonly bitmapSignature?: 'SDMP' | 'FDMP';
  /** 32-bit bitmap dumps: which candidate layout validated (spec §5.2 [UNVERIFIED] note). */
  readonly bitmapLayout?: 'summary64' | 'summary32';
  readonly elfProducer?: 'qemu' | 'virtualbox' | 'unknown';
  readonly elfMachine?: number;
  /** VMware metadata format version (magic & 0xF). */
  readonly vmwareVersion?: number;
  /** VMware: memory stored inside the .vmss/.vmsn rather than in a .vmem. */
  readonly memoryEmbedded?: boolean;
  /** Paths of the files the space reads: the data file and any metadata file. */
  readonly dataFile?: string;
  readonly metadataFile?: string;
}

export type Machine = 'x86' | 'x64';

/** Register state of one CPU as a hypervisor core dump records it (spec §5.4). */
export interface CpuState {
  readonly index: number;
  readonly source: 'qemu' | 'virtualbox';
  readonly rip: bigint;
  readonly cr0: bigint;
  readonly cr3: bigint;
  readonly cr4: bigint;
  readonly gsBase: bigint;
  /** Absent when the record is too short to hold it (QEMU: size < 0x1B8). */
  readonly kernelGsBase?: bigint;
  readonly idtBase: bigint;
  /** gs.base has bit 63 set: the CPU was in kernel mode (`E2D:qemu_elf.c`). */
  readonly kernelMode: boolean;
}

export interface BugCheck {
  readonly code: number;
  readonly parameters: readonly bigint[];
}

/**
 * Facts the container states about the system. Virtual addresses are bigint, physical ones
 * numbers. A field is absent when the container does not say (or says "PAGE" filler).
 */
export interface ImageHints {
  /** CR3 / DirectoryTableBase as stored; normalise per paging mode (spec §2.1). */
  readonly dtb?: number;
  readonly pfnDatabase?: bigint;
  readonly psLoadedModuleList?: bigint;
  readonly psActiveProcessHead?: bigint;
  /** VA of KDDEBUGGER_DATA64 (KdDebuggerDataBlock). */
  readonly kdDebuggerDataBlock?: bigint;
  /** NT build number (crash dump MinorVersion). */
  readonly build?: number;
  /** 0xF free build, 0xC checked build. */
  readonly majorVersion?: number;
  readonly machine?: Machine;
  readonly machineImageType?: number;
  readonly paeEnabled?: boolean;
  readonly bugCheck?: BugCheck;
  readonly dumpType?: number;
  readonly processors?: number;
  /** FILETIME of the dump. */
  readonly systemTime?: bigint;
  readonly comment?: string;
  readonly cpus?: readonly CpuState[];
}

/** A module from a triage dump's saved driver list. */
export interface TriageModule {
  /** File name, e.g. "ntoskrnl.exe". */
  readonly name: string;
  /** As saved, e.g. "\SystemRoot\system32\ntoskrnl.exe". */
  readonly path: string;
  readonly base: bigint;
  readonly size: number;
  readonly checksum: number;
  readonly timeDateStamp: number;
}

/** A block of virtual memory a triage dump carries (TRIAGE_DATA_BLOCK). */
export interface TriageDataBlock {
  readonly va: bigint;
  readonly fileOffset: number;
  readonly size: number;
}

/** What a triage (mini kernel, DumpType 4) dump holds instead of physical memory. */
export interface TriageDump {
  readonly servicePackBuild: number;
  readonly sizeOfDump: number;
  /** The "TRGD" mark sits where ValidOffset says. */
  readonly validMark: boolean;
  readonly modules: readonly TriageModule[];
  readonly dataBlocks: readonly TriageDataBlock[];
  /** The saved KDDEBUGGER_DATA64, if any. */
  readonly debuggerData?: { readonly fileOffset: number; readonly size: number };
  /** The faulting thread's stack window. */
  readonly callStack?: { readonly top: bigint; readonly fileOffset: number; readonly size: number };
}

export interface PhysicalReadOptions {
  /** Bypass the file block cache: for large streaming reads. */
  readonly direct?: boolean;
}

/** Physical address → bytes. Holes are explicit: a read touching one returns null, never zeros. */
export interface PhysicalSpace {
  readonly name: string;
  readonly format: ImageFormat;
  /**
   * Sorted, non-overlapping runs. Built on first use from a compact table; for images with
   * millions of runs prefer `runCount`/`runAt`.
   */
  readonly runs: readonly PhysicalRun[];
  readonly runCount: number;
  runAt(index: number): PhysicalRun;
  /** Bytes read from the image's files so far (for the "reads a small part of the image" figures). */
  readonly bytesRead: number;
  /** Bytes of physical memory the image holds. */
  readonly bytesCovered: number;
  /** One past the highest physical address present (0 when nothing is). */
  readonly maxAddress: number;
  readonly hints: ImageHints;
  /** What was clipped, ignored or doubtful while opening. */
  readonly warnings: readonly string[];
  /** Only for triage dumps. */
  readonly triage?: TriageDump;
  read(pa: number, length: number, options?: PhysicalReadOptions): Uint8Array | null;
  isPresent(pa: number): boolean;
  close(): void;
}
