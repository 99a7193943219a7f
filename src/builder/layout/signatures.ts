// Which Windows build an x64 symbol table (ISF) describes, when its PDB identity is not one the
// builder knows: told from the layout of the process and thread structures, and only when that
// layout belongs to one build without doubt.
//
// The layout signature is the offsets of the EPROCESS, ETHREAD and KTHREAD fields a process and
// thread reader needs, KPROCESS's size and whether ObHeaderCookie exists. Revisions of one build
// keep these but change structure sizes (1607's EPROCESS is 0x7c8 in 14393.4583 and 0x7b0 in the
// revision V2vt:win10_x64_DD08DD42 describes), so sizes only separate builds whose signatures are
// equal: 1709, 1803 and 1809 share one, and so do Server 2022 and Windows 11 21H2 (their KTHREADs
// differ inside: SystemAffinityTokenListHead 0x430 vs 0x450).

import type { IsfFile } from './isf';

interface Feature {
  key: string;
  of: (isf: IsfFile) => number | null;
}

const fieldOffset =
  (struct: string, name: string) =>
  (isf: IsfFile): number | null =>
    isf.userTypes[struct]?.fields[name]?.offset ?? null;
const structSize =
  (struct: string) =>
  (isf: IsfFile): number | null =>
    isf.userTypes[struct]?.size ?? null;

const LAYOUT_FEATURES: Feature[] = [
  ...[
    'UniqueProcessId',
    'ActiveProcessLinks',
    'InheritedFromUniqueProcessId',
    'ImageFileName',
    'ThreadListHead',
    'Peb',
  ].map((name) => ({ key: `_EPROCESS.${name}`, of: fieldOffset('_EPROCESS', name) })),
  { key: 'sizeof(_KPROCESS)', of: structSize('_KPROCESS') },
  ...['Cid', 'IrpList', 'ThreadListEntry', 'StartAddress', 'Win32StartAddress'].map((name) => ({
    key: `_ETHREAD.${name}`,
    of: fieldOffset('_ETHREAD', name),
  })),
  ...['Process', 'ApcState'].map((name) => ({ key: `_KTHREAD.${name}`, of: fieldOffset('_KTHREAD', name) })),
  { key: 'ObHeaderCookie', of: (isf) => (isf.symbols['ObHeaderCookie'] ? 1 : 0) },
];

const SIZE_FEATURES: Feature[] = [
  { key: 'sizeof(_EPROCESS)', of: structSize('_EPROCESS') },
  { key: 'sizeof(_ETHREAD)', of: structSize('_ETHREAD') },
  { key: 'sizeof(_KTHREAD)', of: structSize('_KTHREAD') },
  { key: '_KTHREAD.SystemAffinityTokenListHead', of: fieldOffset('_KTHREAD', 'SystemAffinityTokenListHead') },
];

export interface KnownLayout {
  build: number;
  name: string;
  /** Where the figures come from. */
  source: string;
  /** Values of LAYOUT_FEATURES, in order. */
  layout: ReadonlyArray<number | null>;
  /** Values of SIZE_FEATURES, in order. */
  sizes: ReadonlyArray<number | null>;
}

/**
 * The eight shared ISF files (../shared/isf; the unit test checks these rows against them) and the
 * other x64 builds Volatility 2's PDB-generated vtypes describe (V2vt, volatility @328a178e), so
 * that a layout shared with a build the builder has no ISF for is not taken for the one it has.
 * Windows 10 has ObHeaderCookie from its first build (spec §1.8.4).
 */
export const KNOWN_LAYOUTS: readonly KnownLayout[] = [
  {
    build: 7601,
    name: 'Windows 7 SP1',
    source: 'ISF 339E74133576439CBCDF7E0229DA3773-1 (7601.24540)',
    layout: [
      0x180, 0x188, 0x290, 0x2e0, 0x308, 0x338, 0x160, 0x3b8, 0x3f0, 0x428, 0x390, 0x418, 0x210, 0x50, 0,
    ],
    sizes: [0x4f8, 0x4a8, 0x368, null],
  },
  {
    build: 7601,
    name: 'Windows 7 SP1',
    source: 'V2vt:win7_sp1_x64 (an earlier 7601 revision: ETHREAD fields 8 bytes lower)',
    layout: [
      0x180, 0x188, 0x290, 0x2e0, 0x308, 0x338, 0x160, 0x3b0, 0x3e8, 0x420, 0x388, 0x410, 0x210, 0x50, 0,
    ],
    sizes: [0x4d0, 0x498, 0x360, null],
  },
  {
    build: 9600,
    name: 'Windows 8.1',
    source: 'ISF 22597D0B40394E23936F6A24C6C52D5B-1 (9600.19913)',
    layout: [
      0x2e0, 0x2e8, 0x3d0, 0x438, 0x470, 0x3e8, 0x2c8, 0x620, 0x658, 0x688, 0x5f8, 0x678, 0x220, 0x98, 0,
    ],
    sizes: [0x700, 0x778, 0x5d0, null],
  },
  {
    build: 10240,
    name: 'Windows 10 1507',
    source: 'V2vt:win10_x64_10240_17770',
    layout: [
      0x2e8, 0x2f0, 0x3e0, 0x448, 0x480, 0x3f8, 0x2d8, 0x628, 0x660, 0x690, 0x600, 0x680, 0x220, 0x98, 1,
    ],
    sizes: [0x7a8, 0x7c0, 0x5d8, null],
  },
  {
    build: 10586,
    name: 'Windows 10 1511',
    source: 'V2vt:win10_x64_1AC738FB',
    layout: [
      0x2e8, 0x2f0, 0x3e0, 0x450, 0x488, 0x3f8, 0x2d8, 0x628, 0x660, 0x690, 0x600, 0x680, 0x220, 0x98, 1,
    ],
    sizes: [0x788, 0x7c0, 0x5d8, null],
  },
  {
    build: 14393,
    name: 'Windows 10 1607',
    source: 'ISF 517E128F7B7C4EA79491DE6B9B9CE190-1 (14393.4583)',
    layout: [
      0x2e8, 0x2f0, 0x3e0, 0x450, 0x488, 0x3f8, 0x2d8, 0x630, 0x668, 0x698, 0x608, 0x688, 0x220, 0x98, 1,
    ],
    sizes: [0x7c8, 0x7e0, 0x5e0, null],
  },
  {
    build: 15063,
    name: 'Windows 10 1703',
    source: 'V2vt:win10_x64_15063',
    layout: [
      0x2e0, 0x2e8, 0x3e0, 0x450, 0x488, 0x3f8, 0x2d8, 0x638, 0x670, 0x6a0, 0x610, 0x690, 0x220, 0x98, 1,
    ],
    sizes: [0x818, 0x810, 0x5e8, null],
  },
  {
    build: 16299,
    name: 'Windows 10 1709',
    source: 'V2vt:win10_x64_16299',
    layout: [
      0x2e0, 0x2e8, 0x3e0, 0x450, 0x488, 0x3f8, 0x2d8, 0x638, 0x670, 0x6a8, 0x610, 0x690, 0x220, 0x98, 1,
    ],
    sizes: [0x838, 0x818, 0x5f0, null],
  },
  {
    build: 17134,
    name: 'Windows 10 1803',
    source: 'V2vt:win10_x64_17134',
    layout: [
      0x2e0, 0x2e8, 0x3e0, 0x450, 0x488, 0x3f8, 0x2d8, 0x638, 0x670, 0x6a8, 0x610, 0x690, 0x220, 0x98, 1,
    ],
    sizes: [0x848, 0x818, 0x5f0, null],
  },
  {
    build: 17763,
    name: 'Windows 10 1809',
    source: 'ISF 8B11040A5928757B11390AC78F6B6925-1 (17763.379)',
    layout: [
      0x2e0, 0x2e8, 0x3e0, 0x450, 0x488, 0x3f8, 0x2d8, 0x638, 0x670, 0x6a8, 0x610, 0x690, 0x220, 0x98, 1,
    ],
    sizes: [0x850, 0x810, 0x5f0, null],
  },
  {
    build: 18362,
    name: 'Windows 10 1903',
    source: 'ISF 11BC9A513F1140CA359ECDF50F0122C1-1 (18362.295)',
    layout: [
      0x2e8, 0x2f0, 0x3e8, 0x450, 0x488, 0x3f8, 0x2e0, 0x648, 0x680, 0x6b8, 0x620, 0x6a0, 0x220, 0x98, 1,
    ],
    sizes: [0x880, 0x820, 0x600, null],
  },
  {
    build: 19041,
    name: 'Windows 10 2004',
    source: 'ISF 1C9875F76C8F0FBF3EB9A9D7C1C27406-1 (19041.450)',
    layout: [
      0x440, 0x448, 0x540, 0x5a8, 0x5e0, 0x550, 0x438, 0x478, 0x4b0, 0x4e8, 0x450, 0x4d0, 0x220, 0x98, 1,
    ],
    sizes: [0xa40, 0x898, 0x430, null],
  },
  {
    build: 20348,
    name: 'Windows Server 2022',
    source: 'ISF C2EADB24A615E9472CE47C8ADD31F130-1 (20348.288)',
    layout: [
      0x440, 0x448, 0x540, 0x5a8, 0x5e0, 0x550, 0x438, 0x4c8, 0x500, 0x538, 0x4a0, 0x520, 0x220, 0x98, 1,
    ],
    sizes: [0xb80, 0x8f0, 0x480, 0x430],
  },
  {
    build: 22000,
    name: 'Windows 11 21H2',
    source: 'ISF 32C1A669D5FFEFD41091F636CFDB6E99-1 (22000.318)',
    layout: [
      0x440, 0x448, 0x540, 0x5a8, 0x5e0, 0x550, 0x438, 0x4c8, 0x500, 0x538, 0x4a0, 0x520, 0x220, 0x98, 1,
    ],
    sizes: [0xb80, 0x8f0, 0x480, 0x450],
  },
];

export interface LayoutVerdict {
  /** The build, when exactly one is possible. */
  build: KnownLayout | null;
  /** Builds whose layout the ISF's matches (several when sizes do not settle it). */
  candidates: KnownLayout[];
  /** When nothing matches: the known layouts that match the most features. */
  nearest: KnownLayout[];
}

export function layoutFeatures(isf: IsfFile): { layout: Array<number | null>; sizes: Array<number | null> } {
  return { layout: LAYOUT_FEATURES.map((f) => f.of(isf)), sizes: SIZE_FEATURES.map((f) => f.of(isf)) };
}

export const LAYOUT_FEATURE_KEYS = LAYOUT_FEATURES.map((f) => f.key);
export const SIZE_FEATURE_KEYS = SIZE_FEATURES.map((f) => f.key);

const sameValues = (a: ReadonlyArray<number | null>, b: ReadonlyArray<number | null>) =>
  a.length === b.length && a.every((value, i) => value !== null && value === b[i]);

function distinctBuilds(layouts: readonly KnownLayout[]): KnownLayout[] {
  const seen = new Map<number, KnownLayout>();
  for (const layout of layouts) if (!seen.has(layout.build)) seen.set(layout.build, layout);
  return [...seen.values()];
}

export function judgeLayout(isf: IsfFile): LayoutVerdict {
  const features = layoutFeatures(isf);
  const matching = KNOWN_LAYOUTS.filter((known) => sameValues(features.layout, known.layout));
  const candidates = distinctBuilds(matching);
  if (candidates.length === 1) return { build: candidates[0]!, candidates, nearest: [] };
  if (candidates.length > 1) {
    const exact = distinctBuilds(
      matching.filter((known) => known.sizes.every((value, i) => value === features.sizes[i])),
    );
    return { build: exact.length === 1 ? exact[0]! : null, candidates, nearest: [] };
  }
  const score = (known: KnownLayout) =>
    known.layout.filter((value, i) => value !== null && value === features.layout[i]).length;
  const best = Math.max(...KNOWN_LAYOUTS.map(score));
  return {
    build: null,
    candidates: [],
    nearest: best > 0 ? distinctBuilds(KNOWN_LAYOUTS.filter((known) => score(known) === best)) : [],
  };
}

export function describeBuilds(layouts: readonly KnownLayout[]): string {
  const names = layouts.map((l) => `${l.build} (${l.name})`);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)!}`;
}
