// The Windows build, from the most robust source available (spec §3.3): the crash dump header,
// the NtBuildNumber export, KUSER_SHARED_DATA (NtBuildNumber on 10+, major/minor always), the
// KdVersionBlock reached through the x86 KPCR.

import type { PhysicalSpace } from '../image';
import type { KernelMemory } from './memory';

export interface WindowsVersion {
  number: number;
  major: number;
  minor: number;
  name: string;
}

const KUSER = { x64: 0xfffff78000000000n, x86: 0xffdf0000n };

/** The lowest build of a NT version, for when only major/minor are known (MemProcFS' mapping reversed). */
function lowestBuild(major: number, minor: number): number {
  if (major >= 10) return 10240;
  if (major === 6) return [6000, 7600, 9200, 9600][minor] ?? 9600;
  return minor >= 2 ? 3790 : 2600;
}

export function versionName(build: number, productType: number | null): string {
  const server = productType === 2 || productType === 3;
  if (build >= 22000)
    return build >= 26100
      ? 'Windows 11 24H2'
      : build >= 22631
        ? 'Windows 11 23H2'
        : build >= 22621
          ? 'Windows 11 22H2'
          : 'Windows 11 21H2';
  if (build >= 20348 && build < 22000) return server ? 'Windows Server 2022' : 'Windows 10 (20348)';
  if (build >= 10240) {
    const releases: Array<[number, string]> = [
      [19045, '22H2'],
      [19044, '21H2'],
      [19043, '21H1'],
      [19042, '20H2'],
      [19041, '2004'],
      [18363, '1909'],
      [18362, '1903'],
      [17763, '1809'],
      [17134, '1803'],
      [16299, '1709'],
      [15063, '1703'],
      [14393, '1607'],
      [10586, '1511'],
      [10240, '1507'],
    ];
    const release = releases.find(([b]) => build >= b)?.[1] ?? '';
    if (server && build === 17763) return 'Windows Server 2019';
    if (server && build === 14393) return 'Windows Server 2016';
    return `Windows 10 ${release}`.trim();
  }
  if (build >= 9600) return server ? 'Windows Server 2012 R2' : 'Windows 8.1';
  if (build >= 9200) return server ? 'Windows Server 2012' : 'Windows 8';
  if (build >= 7600)
    return `${server ? 'Windows Server 2008 R2' : 'Windows 7'}${build >= 7601 ? ' SP1' : ''}`;
  if (build >= 6000) return server ? 'Windows Server 2008' : 'Windows Vista';
  if (build >= 3790) return 'Windows Server 2003';
  return 'Windows XP';
}

export function findVersion(
  memory: KernelMemory,
  space: PhysicalSpace,
  exports: Map<string, number>,
  kernelBase: bigint,
): { version: WindowsVersion; method: string; productType: number | null } | null {
  const kuser = memory.pointerSize === 8 ? KUSER.x64 : KUSER.x86;
  const shared = memory.bytes(kuser, 0x300);
  const view = shared ? new DataView(shared.buffer, shared.byteOffset) : null;
  const major = view?.getUint32(0x26c, true) ?? null;
  const minor = view?.getUint32(0x270, true) ?? null;
  const productType = view?.getUint32(0x264, true) ?? null;
  const plausible = (build: number) => build >= 2195 && build < 60000;
  const candidates: Array<[string, () => number | null]> = [
    ['crash dump header (MinorVersion)', () => space.hints.build ?? null],
    [
      'exported NtBuildNumber',
      () => {
        const rva = exports.get('NtBuildNumber');
        const value = rva === undefined ? null : memory.u32(kernelBase + BigInt(rva));
        return value === null ? null : value & 0xffff;
      },
    ],
    [
      'KUSER_SHARED_DATA.NtBuildNumber',
      () => (major !== null && major >= 10 && view ? view.getUint32(0x260, true) & 0xffff : null),
    ],
    [
      'KdVersionBlock through the x86 KPCR',
      () => {
        if (memory.pointerSize !== 4) return null;
        const block = memory.ptr(0xffdff000n + 0x34n);
        return block && memory.isKernelAddress(block) ? memory.u16(block + 2n) : null;
      },
    ],
  ];
  for (const [method, get] of candidates) {
    const build = get();
    if (build !== null && plausible(build)) {
      const [maj, min] =
        major !== null && [5, 6, 10].includes(major) ? [major, minor ?? 0] : majorMinor(build);
      return {
        version: { number: build, major: maj, minor: min, name: versionName(build, productType) },
        method,
        productType,
      };
    }
  }
  if (major !== null && [5, 6, 10].includes(major) && minor !== null) {
    const build = lowestBuild(major, minor);
    return {
      version: { number: build, major, minor, name: versionName(build, productType) },
      method: `KUSER_SHARED_DATA NtMajorVersion/NtMinorVersion ${major}.${minor} only (build assumed ${build})`,
      productType,
    };
  }
  return null;
}

function majorMinor(build: number): [number, number] {
  if (build >= 10240) return [10, 0];
  if (build >= 9600) return [6, 3];
  if (build >= 9200) return [6, 2];
  if (build >= 7600) return [6, 1];
  if (build >= 6000) return [6, 0];
  if (build >= 3790) return [5, 2];
  return [5, 1];
}
