// Finding the kernel's page-table root (DTB) and the paging mode, cheapest route first (spec
// §3.1): the container's own record, the x64 low stub, self-referencing tables (x64, PAE, x86),
// and last an EPROCESS scan. Every candidate is validated by translating KUSER_SHARED_DATA.

import type { PhysicalSpace } from '../image';
import { VirtualSpace, looksLikePaePdpt, looksLikeX64Pml4, looksLikeX86Pd, type PagingMode } from '../paging';
import { u32, u64 } from '../util/bytes';

const PAGE = 0x1000;
const KUSER = { x64: 0xfffff78000000000n, x86: 0xffdf0000n };
const KUSER_USER_VA = 0x7ffe0000n;

export interface DtbCandidate {
  dtb: number;
  mode: PagingMode;
  method: string;
  /** The x64 low stub also names the kernel's entry point: a hint for the kernel base. */
  kernelEntry?: bigint;
}

export interface FoundDtb extends DtbCandidate {
  virtual: VirtualSpace;
  /** NtMajorVersion / NtMinorVersion from KUSER_SHARED_DATA, read while validating (0 when unverified). */
  ntMajor: number;
  ntMinor: number;
  /** Why the usual validation could not be made (the DTB then rests on its table's shape alone). */
  unverified?: string;
}

/** KUSER_SHARED_DATA's page (or a table on the way to it) lies outside what the image holds. */
const KUSER_MISSING = 'missing';

/**
 * A candidate is accepted when KUSER_SHARED_DATA translates and holds a sane NT version (spec §3.1
 * end); KUSER_MISSING when the image lacks the pages to tell.
 */
export function checkDtb(
  space: PhysicalSpace,
  candidate: DtbCandidate,
): FoundDtb | typeof KUSER_MISSING | null {
  if (candidate.dtb <= 0 || candidate.dtb >= space.maxAddress) return null;
  const virtual = new VirtualSpace(space, { mode: candidate.mode, dtb: candidate.dtb });
  const kuser = candidate.mode === 'x64' ? KUSER.x64 : KUSER.x86;
  const kernel = virtual.translate(kuser);
  if (!kernel.ok) return kernel.reason === 'no-physical-page' ? KUSER_MISSING : null;
  const shared = space.read(kernel.pa - (kernel.pa % PAGE), PAGE);
  if (!shared) return KUSER_MISSING;
  const major = u32(shared, 0x26c);
  const minor = u32(shared, 0x270);
  if (![5, 6, 10].includes(major) || minor > 4) return null;
  // Same physical page at the user VA, or (Vista+) Reserved1 == 0x7FFEFFFF (V2 VolatilityIA32ValidAS).
  const user = virtual.translate(KUSER_USER_VA);
  const samePage = user.ok && user.pa - (user.pa % PAGE) === kernel.pa - (kernel.pa % PAGE);
  if (!samePage && u32(shared, 0x2b4) !== 0x7ffeffff) return null;
  if (candidate.mode === 'x86') {
    const selfMap = virtual.translate(0xc0300000n);
    if (!selfMap.ok || selfMap.pa !== candidate.dtb - (candidate.dtb % PAGE)) return null;
  }
  return { ...candidate, virtual, ntMajor: major, ntMinor: minor };
}

/** Candidates from what the container recorded: a crash dump header, hypervisor CPU state. */
function containerCandidates(space: PhysicalSpace): DtbCandidate[] {
  const hints = space.hints;
  const out: DtbCandidate[] = [];
  const modes: PagingMode[] =
    hints.machine === 'x64'
      ? ['x64']
      : hints.machine === 'x86'
        ? hints.paeEnabled === false
          ? ['x86', 'pae']
          : hints.paeEnabled
            ? ['pae', 'x86']
            : ['pae', 'x86']
        : ['x64', 'pae', 'x86'];
  if (hints.dtb !== undefined) {
    for (const mode of modes)
      out.push({ dtb: hints.dtb, mode, method: `${space.format.description} header` });
  }
  for (const cpu of hints.cpus ?? []) {
    if (cpu.cr3 === 0n) continue;
    const lma = (cpu.cr4 & 0x20n) !== 0n && cpu.kernelMode;
    const cpuModes: PagingMode[] =
      lma || hints.machine === 'x64' ? ['x64'] : (cpu.cr4 & 0x20n) !== 0n ? ['pae', 'x64'] : ['x86', 'x64'];
    for (const mode of cpuModes) {
      out.push({
        dtb: Number(cpu.cr3 & 0xfffffffffffffn),
        mode,
        method: `CR3 of CPU ${cpu.index} (${cpu.source} core notes)`,
      });
    }
  }
  return out;
}

/** MemProcFS' x64 low-stub test: PROCESSOR_START_BLOCK in 0x1000–0x9F000 (spec §3.1 item 2). */
function lowStubCandidates(space: PhysicalSpace): DtbCandidate[] {
  const out: DtbCandidate[] = [];
  for (let pa = 0x1000; pa < 0x9f000; pa += PAGE) {
    const page = space.read(pa, PAGE);
    if (!page) continue;
    if ((u64(page, 0) & 0xffffffffffff00ffn) !== 0x00000001000600e9n) continue;
    if ((u64(page, 0x70) & 0xfffff80000000003n) !== 0xfffff80000000000n) continue;
    const cr3 = u64(page, 0xa0);
    if ((cr3 & 0xffffff0000000fffn) !== 0n) continue;
    out.push({
      dtb: Number(cr3),
      mode: 'x64',
      method: `x64 low stub (PROCESSOR_START_BLOCK at ${hexNumber(pa)})`,
      kernelEntry: u64(page, 0x70),
    });
  }
  return out;
}

/** Pages in [start, end) whose layout is a top-level table with a self-map (spec §3.1 items 3–5). */
function selfMapCandidates(
  space: PhysicalSpace,
  mode: PagingMode,
  ranges: Array<[number, number]>,
): DtbCandidate[] {
  const out: DtbCandidate[] = [];
  const seen = new Set<number>();
  const maxAddress = space.maxAddress;
  for (const [start, end] of ranges) {
    for (const { pa, page } of pagesOf(space, start, Math.min(end, maxAddress))) {
      if (seen.has(pa)) continue;
      seen.add(pa);
      if (mode === 'x64') {
        const index = looksLikeX64Pml4(page, pa, { maxAddress });
        if (index !== null)
          out.push({
            dtb: pa,
            mode,
            method: `x64 self-map scan (PML4 entry 0x${index.toString(16)} at ${hexNumber(pa)})`,
          });
      } else if (mode === 'pae') {
        // The fourth page directory is read only for a page that already looks like a PDPT.
        if (looksLikePaePdpt(page, pa, undefined, { maxAddress }) === null) continue;
        const pd3 = space.read(pa + 4 * PAGE, PAGE);
        if (pd3 && looksLikePaePdpt(page, pa, pd3, { maxAddress }) !== null) {
          out.push({ dtb: pa, mode, method: `PAE self-map scan (PDPT at ${hexNumber(pa)})` });
        }
      } else if (looksLikeX86Pd(page, pa, { maxAddress }) !== null) {
        out.push({ dtb: pa, mode, method: `x86 self-map scan (PDE 0x300 at ${hexNumber(pa)})` });
      }
    }
  }
  return out;
}

const SCAN_BLOCK = 64 * PAGE;

/**
 * The present pages of [start, end), read a block at a time (one read per page made these scans
 * cost a system call each: 12 000 of them on a small x86 image). A block that touches a hole is
 * read page by page.
 */
function* pagesOf(
  space: PhysicalSpace,
  start: number,
  end: number,
): Generator<{ pa: number; page: Uint8Array }> {
  for (let block = start; block < end; block += SCAN_BLOCK) {
    const length = Math.min(SCAN_BLOCK, end - block);
    const bytes = space.read(block, length, { direct: true });
    for (let at = 0; at < length; at += PAGE) {
      const page = bytes ? bytes.subarray(at, at + PAGE) : space.read(block + at, PAGE);
      if (page && page.length === PAGE) yield { pa: block + at, page };
    }
  }
}

/** Last resort (spec §3.1 item 6): an EPROCESS named "System" whose DirectoryTableBase validates. */
function eprocessCandidates(space: PhysicalSpace, limitBytes: number): DtbCandidate[] {
  const out: DtbCandidate[] = [];
  const needle = Buffer.from('System\0\0', 'latin1');
  // ImageFileName offsets of every generation in spec §1.13.
  const nameOffsets = [
    0x174, 0x154, 0x164, 0x268, 0x14c, 0x238, 0x16c, 0x2e0, 0x170, 0x438, 0x448, 0x450, 0x17c, 0x1ac, 0x5a8,
  ];
  const chunk = 1 << 22;
  for (const run of space.runs) {
    for (let pa = run.start; pa < run.start + run.length && pa < limitBytes; pa += chunk) {
      const length = Math.min(chunk, run.start + run.length - pa);
      const bytes = space.read(pa, length, { direct: true });
      if (!bytes) continue;
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      for (let at = buffer.indexOf(needle); at >= 0 && out.length < 64; at = buffer.indexOf(needle, at + 1)) {
        for (const offset of nameOffsets) {
          const eprocess = at - offset;
          if (eprocess < 0 || bytes[eprocess] !== 3) continue;
          for (const [mode, dtbOffset, width] of [
            ['x64', 0x28, 8],
            ['pae', 0x18, 4],
            ['x86', 0x18, 4],
          ] as const) {
            if (eprocess + dtbOffset + width > bytes.length) continue;
            const dtb =
              width === 8
                ? Number(u64(bytes, eprocess + dtbOffset) & 0xffffffffff000n)
                : u32(bytes, eprocess + dtbOffset);
            if (dtb === 0 || (mode !== 'pae' && dtb % PAGE !== 0)) continue;
            out.push({ dtb, mode, method: `EPROCESS scan ("System" at ${hexNumber(pa + eprocess)})` });
          }
        }
      }
    }
  }
  return out;
}

export interface DtbSearch {
  found: FoundDtb | null;
  /** Routes tried, in order, with how many candidates each gave. */
  tried: string[];
  /** How long the search took (it may run before kernel discovery, which reports it). */
  ms: number;
}

/** Tries each route in the order of spec §3.1 and returns the first candidate that validates. */
export function findDtb(space: PhysicalSpace): DtbSearch {
  const started = performance.now();
  const search = searchDtb(space);
  return { ...search, ms: Math.round((performance.now() - started) * 10) / 10 };
}

function searchDtb(space: PhysicalSpace): Omit<DtbSearch, 'ms'> {
  const tried: string[] = [];
  const machine = space.hints.machine;
  const routes: Array<[string, () => DtbCandidate[]]> = [
    ['container', () => containerCandidates(space)],
    ['x64 low stub', () => (machine === 'x86' ? [] : lowStubCandidates(space))],
    // Volatility 3's windows first (recent Windows puts the DTB near 0x1A0000–0x1B0000), then MemProcFS' 0–16 MiB.
    [
      'x64 self-map',
      () =>
        machine === 'x86'
          ? []
          : selfMapCandidates(space, 'x64', [
              [0x150000, 0x2a0000],
              [0x650000, 0x6f0000],
              [0x30000, 0x1000000],
            ]),
    ],
    [
      'PAE self-map',
      () => (machine === 'x64' ? [] : selfMapCandidates(space, 'pae', [[0x30000, 0x1000000]])),
    ],
    [
      'x86 self-map',
      () => (machine === 'x64' ? [] : selfMapCandidates(space, 'x86', [[0x30000, 0x1000000]])),
    ],
    ['EPROCESS scan', () => eprocessCandidates(space, 1 << 30)],
  ];
  // A damaged or truncated image may have lost KUSER_SHARED_DATA's page while the page tables
  // survive: the first such candidate whose own page has the shape of its top-level table is
  // taken when nothing validates, and said to be unverified.
  let unverifiable: DtbCandidate | null = null;
  for (const [route, candidates] of routes) {
    const list = candidates();
    tried.push(`${route}: ${list.length} candidate${list.length === 1 ? '' : 's'}`);
    for (const candidate of list) {
      const found = checkDtb(space, candidate);
      if (found === KUSER_MISSING) unverifiable ??= hasTopLevelShape(space, candidate) ? candidate : null;
      else if (found) return { found, tried };
    }
  }
  if (unverifiable) {
    const virtual = new VirtualSpace(space, { mode: unverifiable.mode, dtb: unverifiable.dtb });
    const unverified = "KUSER_SHARED_DATA's page is not in the image; the DTB rests on its self-map alone";
    return { found: { ...unverifiable, virtual, ntMajor: 0, ntMinor: 0, unverified }, tried };
  }
  return { found: null, tried };
}

/** The candidate's page is a top-level table with a self-map in its mode (frames past the image allowed). */
function hasTopLevelShape(space: PhysicalSpace, candidate: DtbCandidate): boolean {
  // Arithmetic, not bitwise: a DTB may lie above 2 GiB.
  const base = candidate.dtb - (candidate.dtb % (candidate.mode === 'pae' ? 0x20 : PAGE));
  const page = space.read(base - (base % PAGE), PAGE);
  if (!page) return false;
  if (candidate.mode === 'x64') return looksLikeX64Pml4(page, base) !== null;
  if (candidate.mode === 'x86') return looksLikeX86Pd(page, base) !== null;
  const pd3 = space.read(base + 4 * PAGE, PAGE);
  return base % PAGE === 0 && pd3 !== null && looksLikePaePdpt(page, base, pd3) !== null;
}

function hexNumber(value: number): string {
  return `0x${value.toString(16)}`;
}
