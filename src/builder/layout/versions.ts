// Windows versions the builder can imitate. The eight PDB identities are those of the real
// kernels whose symbol tables ship in ../shared/isf (versions from ../shared/README.md).

import type { Family, KernelVersion } from './kernel-layout';

interface KnownKernel {
  build: number;
  revision: number;
  name: string;
  productType: 1 | 3;
}

const KNOWN_PDBS: Record<string, KnownKernel> = {
  '339E74133576439CBCDF7E0229DA3773-1': {
    build: 7601,
    revision: 24540,
    name: 'Windows 7 SP1 / 2008 R2',
    productType: 1,
  },
  '22597D0B40394E23936F6A24C6C52D5B-1': {
    build: 9600,
    revision: 19913,
    name: 'Windows 8.1 / 2012 R2',
    productType: 1,
  },
  '517E128F7B7C4EA79491DE6B9B9CE190-1': {
    build: 14393,
    revision: 4583,
    name: 'Windows 10 1607',
    productType: 1,
  },
  '8B11040A5928757B11390AC78F6B6925-1': {
    build: 17763,
    revision: 379,
    name: 'Windows 10 1809',
    productType: 1,
  },
  '11BC9A513F1140CA359ECDF50F0122C1-1': {
    build: 18362,
    revision: 295,
    name: 'Windows 10 1903',
    productType: 1,
  },
  '1C9875F76C8F0FBF3EB9A9D7C1C27406-1': {
    build: 19041,
    revision: 450,
    name: 'Windows 10 2004',
    productType: 1,
  },
  'C2EADB24A615E9472CE47C8ADD31F130-1': {
    build: 20348,
    revision: 288,
    name: 'Windows Server 2022',
    productType: 3,
  },
  '32C1A669D5FFEFD41091F636CFDB6E99-1': {
    build: 22000,
    revision: 318,
    name: 'Windows 11 21H2',
    productType: 1,
  },
};

export function familyOf(build: number): Family {
  if (build >= 22000) return 'win11';
  if (build >= 10240) return 'win10';
  if (build >= 9600) return 'win81';
  if (build >= 9200) return 'win8';
  if (build >= 7600) return 'win7';
  if (build >= 3790) return '2003';
  return 'xp';
}

export function majorMinorOf(build: number): [number, number] {
  // Build → version as MemProcFS maps it (spec §3.3): ≥10240 10.0, ≥9600 6.3, ≥9200 6.2, ≥7600 6.1, ≥6000 6.0, 3790 5.2.
  if (build >= 10240) return [10, 0];
  if (build >= 9600) return [6, 3];
  if (build >= 9200) return [6, 2];
  if (build >= 7600) return [6, 1];
  if (build >= 6000) return [6, 0];
  if (build >= 3790) return [5, 2];
  return [5, 1];
}

export function knownKernel(guid: string, age: number): KnownKernel | undefined {
  return KNOWN_PDBS[`${guid.toUpperCase()}-${age}`];
}

export function makeVersion(
  build: number,
  revision: number,
  name: string,
  source: string,
  servicePack = 0,
  productType: 1 | 2 | 3 = 1,
): KernelVersion {
  const [major, minor] = majorMinorOf(build);
  return { major, minor, build, revision, servicePack, family: familyOf(build), name, productType, source };
}
