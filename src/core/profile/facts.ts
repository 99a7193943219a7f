// Per-version facts that are not plain field offsets, derived from a profile's layouts and build.
// Built-in and ISF profiles share these rules, so each fact has one source of truth.

import { kpcrFacts, type KdbgSize } from './kdbg';
import {
  ProfileError,
  type Arch,
  type KdbgFacts,
  type ObjectHeaderFacts,
  type OptionalHeaderInfo,
  type OptionalHeaderKind,
  type PoolFacts,
  type ProcessFacts,
  type SharedDataFacts,
  type StructLayout,
} from './types';

/** §1.8.3: InfoMask bits (Win7+) and the header that each one announces. */
const OPTIONAL_HEADERS: readonly { kind: OptionalHeaderKind; struct: string; bit: number }[] = [
  { kind: 'creator', struct: '_OBJECT_HEADER_CREATOR_INFO', bit: 0x01 },
  { kind: 'name', struct: '_OBJECT_HEADER_NAME_INFO', bit: 0x02 },
  { kind: 'handle', struct: '_OBJECT_HEADER_HANDLE_INFO', bit: 0x04 },
  { kind: 'quota', struct: '_OBJECT_HEADER_QUOTA_INFO', bit: 0x08 },
  { kind: 'process', struct: '_OBJECT_HEADER_PROCESS_INFO', bit: 0x10 },
  { kind: 'audit', struct: '_OBJECT_HEADER_AUDIT_INFO', bit: 0x20 },
  { kind: 'handleRevocation', struct: '_OBJECT_HEADER_HANDLE_REVOCATION_INFO', bit: 0x40 },
  { kind: 'extended', struct: '_OBJECT_HEADER_EXTENDED_INFO', bit: 0x40 },
  { kind: 'padding', struct: '_OBJECT_HEADER_PADDING_INFO', bit: 0x80 },
];

/** §1.8.3: bit 0x40 means HANDLE_REVOCATION_INFO up to 10586 and EXTENDED_INFO from 14393. */
const FIRST_EXTENDED_INFO_BUILD = 14393;
/** §1.8.4: TypeIndex is cookie-encoded on every Windows 10 build (V2: version 6.4+). */
export const FIRST_WINDOWS_10_BUILD = 9841;
/** §1.11: object pool tags carry PROTECTED_POOL before Windows 8. */
const FIRST_WINDOWS_8_BUILD = 9200;
/** §1.11: the paged/nonpaged parity of PoolType flips with Vista. */
const FIRST_VISTA_BUILD = 6000;

export const PROTECTED_POOL_BIT = 0x80000000;

export interface FactInputs {
  readonly arch: Arch;
  readonly build: number;
  readonly lookup: (struct: string) => StructLayout | undefined;
  readonly typeIndexEncoded: boolean;
  readonly dispatcherSignature: readonly number[] | undefined;
  readonly kdbgSize: KdbgSize;
}

export interface VersionFacts {
  readonly objectHeader: ObjectHeaderFacts;
  readonly pool: PoolFacts;
  readonly kdbg: KdbgFacts;
  readonly process: ProcessFacts;
  readonly sharedData: SharedDataFacts;
}

export function deriveFacts(inputs: FactInputs): VersionFacts {
  const { arch, build, lookup } = inputs;
  const need = (struct: string): StructLayout => {
    const layout = lookup(struct);
    if (layout === undefined) throw new ProfileError(`build ${build} ${arch}: no ${struct} layout`);
    return layout;
  };
  const needField = (struct: string, field: string) => {
    const layout = need(struct).fields[field];
    if (layout === undefined) throw new ProfileError(`build ${build} ${arch}: no ${struct}.${field}`);
    return layout;
  };
  const sizeOf = (struct: string): number => {
    const size = need(struct).size;
    if (size === undefined) throw new ProfileError(`build ${build} ${arch}: sizeof(${struct}) unknown`);
    return size;
  };

  const generation = need('_OBJECT_HEADER').fields['TypeIndex'] !== undefined ? 'win7+' : 'pre-win7';
  const optionalHeaders: OptionalHeaderInfo[] = [];
  for (const header of OPTIONAL_HEADERS) {
    const layout = lookup(header.struct);
    if (layout?.size === undefined) continue;
    if (header.kind === 'handleRevocation' && build >= FIRST_EXTENDED_INFO_BUILD) continue;
    if (header.kind === 'extended' && build < FIRST_EXTENDED_INFO_BUILD) continue;
    optionalHeaders.push(
      generation === 'win7+'
        ? { kind: header.kind, struct: header.struct, size: layout.size, infoMaskBit: header.bit }
        : { kind: header.kind, struct: header.struct, size: layout.size },
    );
  }

  const imageFileName = needField('_EPROCESS', 'ImageFileName');
  const kpcr = kpcrFacts(arch);
  return {
    objectHeader: {
      generation,
      typeIndexEncoded: inputs.typeIndexEncoded,
      bodyOffset: needField('_OBJECT_HEADER', 'Body').offset,
      optionalHeaders,
    },
    pool: {
      headerSize: sizeOf('_POOL_HEADER'),
      alignment: arch === 'x64' ? 16 : 8,
      objectTagsProtected: build < FIRST_WINDOWS_8_BUILD,
      pagedPoolTypeIsOdd: build >= FIRST_VISTA_BUILD,
    },
    kdbg: {
      size: inputs.kdbgSize.size,
      sizeSource: inputs.kdbgSize.source,
      kpcrKdVersionBlockOffset: kpcr.kdVersionBlockOffset,
      ...(kpcr.cpu0Va === undefined ? {} : { kpcrCpu0Va: kpcr.cpu0Va }),
    },
    process: {
      kprocessSize: sizeOf('_KPROCESS'),
      // KPROCESS is the first member (Pcb) of EPROCESS (§1.13).
      directoryTableBase: needField('_KPROCESS', 'DirectoryTableBase').offset,
      uniqueProcessId: needField('_EPROCESS', 'UniqueProcessId').offset,
      activeProcessLinks: needField('_EPROCESS', 'ActiveProcessLinks').offset,
      imageFileName: imageFileName.offset,
      imageFileNameLength: imageFileName.size,
      dispatcherSignature: inputs.dispatcherSignature,
    },
    sharedData: {
      kernelVa: arch === 'x64' ? 0xfffff78000000000n : 0xffdf0000n,
      userVa: 0x7ffe0000n,
    },
  };
}

/**
 * Win7+: how far below the OBJECT_HEADER the optional header `kind` starts, given the header's
 * InfoMask; undefined when InfoMask does not announce it. Headers are stacked downwards in bit
 * order, so the distance is the sum of the sizes of the present headers up to and including it
 * (§1.8.3; e.g. NameInfo = hdr − sizeof(NAME) − (InfoMask & 1 ? sizeof(CREATOR) : 0)).
 */
export function optionalHeaderDistance(
  facts: ObjectHeaderFacts,
  infoMask: number,
  kind: OptionalHeaderKind,
): number | undefined {
  const target = facts.optionalHeaders.find((header) => header.kind === kind);
  if (target?.infoMaskBit === undefined || (infoMask & target.infoMaskBit) === 0) return undefined;
  let distance = 0;
  for (const header of facts.optionalHeaders) {
    if (header.infoMaskBit === undefined || header.infoMaskBit > target.infoMaskBit) continue;
    if ((infoMask & header.infoMaskBit) !== 0) distance += header.size;
  }
  return distance;
}
