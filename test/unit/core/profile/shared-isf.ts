// The eight shared ISF files and their builds, from the table in ../shared/README.md.

import { SHARED } from '../../../support/shared';

export const SHARED_DIR = `${SHARED}/`;
export const ISF_SYMBOL_DIR = `${SHARED_DIR}isf`;
export const ISF_KERNEL_DIR = `${ISF_SYMBOL_DIR}/windows/ntkrnlmp.pdb`;

export interface SharedIsf {
  readonly file: string;
  readonly guid: string;
  readonly age: number;
  readonly build: number;
  readonly version: string;
  /** The built-in table the build must resolve to. */
  readonly table: string;
}

const entry = (guid: string, build: number, version: string, table: string): SharedIsf => ({
  file: `${ISF_KERNEL_DIR}/${guid}-1.json.xz`,
  guid,
  age: 1,
  build,
  version,
  table,
});

export const SHARED_ISFS: readonly SharedIsf[] = [
  entry('339E74133576439CBCDF7E0229DA3773', 7601, '6.1.7601.24540', 'x64-7-sp1'),
  entry('22597D0B40394E23936F6A24C6C52D5B', 9600, '6.3.9600.19913', 'x64-8.1'),
  entry('517E128F7B7C4EA79491DE6B9B9CE190', 14393, '10.0.14393.4583', 'x64-10-14393'),
  entry('8B11040A5928757B11390AC78F6B6925', 17763, '10.0.17763.379', 'x64-10-17763'),
  entry('11BC9A513F1140CA359ECDF50F0122C1', 18362, '10.0.18362.295', 'x64-10-18362'),
  entry('1C9875F76C8F0FBF3EB9A9D7C1C27406', 19041, '10.0.19041.450', 'x64-10-19041'),
  entry('C2EADB24A615E9472CE47C8ADD31F130', 20348, '10.0.20348.288', 'x64-2022-20348'),
  entry('32C1A669D5FFEFD41091F636CFDB6E99', 22000, '10.0.22000.318', 'x64-11-22000'),
];
