// A KernelLayout taken entirely from a Volatility 3 ISF file: every structure layout and every
// symbol RVA the builder uses comes from the file, never from a table here.

import { basename } from 'node:path';
import { BuildError } from '../errors';
import { Rng } from '../rng';
import { guidText } from '../windows/pe';
import { FUTURE_X64_BUILD, NEWEST_X64_LAYOUT_BUILD, futureLayout } from './future';
import { readIsf, type IsfFile } from './isf';
import type { KernelLayout, KernelVersion, OptionalHeader, StructLayout } from './kernel-layout';
import { objectTypeNames } from './object-types';
import { describeBuilds, judgeLayout } from './signatures';
import { knownKernel, makeVersion } from './versions';

/** InfoMask bit of each optional header type (spec §1.8.3; 0x40 is HANDLE_REVOCATION on 10240/10586). */
const OPTIONAL_HEADER_BITS: Array<[string, number]> = [
  ['CREATOR_INFO', 0x01],
  ['NAME_INFO', 0x02],
  ['HANDLE_INFO', 0x04],
  ['QUOTA_INFO', 0x08],
  ['PROCESS_INFO', 0x10],
  ['AUDIT_INFO', 0x20],
  ['EXTENDED_INFO', 0x40],
  ['HANDLE_REVOCATION_INFO', 0x40],
  ['PADDING_INFO', 0x80],
];

/** KDDEBUGGER_DATA64 Header.Size per build (spec §1.15); Windows 11 is unverified there, 0x380 assumed. */
function kdbgSizeFor(build: number): number {
  if (build >= 17763) return 0x380;
  if (build >= 14393) return 0x368;
  if (build >= 9200) return 0x360;
  if (build >= 7600) return 0x340;
  if (build >= 6001) return 0x330;
  return 0x328;
}

export interface IsfLayoutOptions {
  /** --build: the build the image claims (the ISF's own when its PDB is unknown and its layout ambiguous). */
  build?: number;
  /** --future: the ISF's layout moved the way releases move it, for a build newer than 22000. */
  future?: boolean;
}

export function layoutFromIsfFile(path: string, options: IsfLayoutOptions = {}): KernelLayout {
  return layoutFromIsf(readIsf(path), options);
}

export function layoutFromIsf(isf: IsfFile, options: IsfLayoutOptions = {}): KernelLayout {
  const described = describedVersion(isf, options);
  const claimed = claimedVersion(isf, described, options);
  const structs: Record<string, StructLayout> = {};
  for (const [name, type] of Object.entries(isf.userTypes)) {
    const fields: Record<string, number> = {};
    for (const [fieldName, fieldInfo] of Object.entries(type.fields ?? {}))
      fields[fieldName] = fieldInfo.offset;
    structs[name] = { size: type.size, fields };
  }
  if (!structs['_KLDR_DATA_TABLE_ENTRY'] && structs['_LDR_DATA_TABLE_ENTRY']) {
    // Windows 7 and 8.1 PDBs carry only _LDR_DATA_TABLE_ENTRY; its leading fields are the loader's (spec §1.12).
    structs['_KLDR_DATA_TABLE_ENTRY'] = structs['_LDR_DATA_TABLE_ENTRY'];
  }
  const optionalHeaders: OptionalHeader[] = [];
  for (const [name, bit] of OPTIONAL_HEADER_BITS) {
    const size = isf.userTypes[`_OBJECT_HEADER_${name}`]?.size;
    if (size !== undefined && !optionalHeaders.some((h) => h.bit === bit))
      optionalHeaders.push({ name, bit, size });
  }
  const symbols = new Map<string, number>();
  let symbolSpan = 0;
  for (const [name, symbol] of Object.entries(isf.symbols)) {
    symbols.set(name, symbol.address);
    symbolSpan = Math.max(symbolSpan, symbol.address);
  }
  const build = claimed.build;
  const ownLayout = described === null || claimed.build === described.build;
  const layout: KernelLayout = {
    arch: 'x64',
    paging: 'x64',
    pointerSize: 8,
    version: claimed,
    // A kernel that claims another build than its layout's must not let a tool look the real layout up by GUID.
    pdb: {
      name: isf.pdb.name,
      guid: ownLayout ? isf.pdb.guid : syntheticGuid(isf, `build ${claimed.build}`),
      age: isf.pdb.age,
      synthetic: !ownLayout,
    },
    layoutSource: isf.path,
    layoutIdentity: basename(isf.path),
    structs,
    symbols,
    symbolSpan: Math.ceil((symbolSpan + 0x100) / 0x1000) * 0x1000,
    objectHeader:
      structs['_OBJECT_HEADER']?.fields['TypeIndex'] !== undefined ? 'type-index' : 'type-pointer',
    typeIndexEncoded: symbols.has('ObHeaderCookie'),
    protectedPoolTags: build < 9200,
    optionalHeaders,
    // The claimed build's, as readers expect it (spec §1.15, §3.5); beyond the ISF's own block
    // size it covers only the ISF symbols after it, which the builder does not write.
    kdbgSize: kdbgSizeFor(build),
    kdbgEncoded: build >= 9200,
    segmentHeap: build >= 18362,
    objectTypes: objectTypeNames(claimed.family, build),
    randomSelfMap: build >= 14393,
    variant: {
      kind: ownLayout ? 'as-described' : 'other-build',
      layoutBuild: described?.build ?? build,
      moves: [],
    },
  };
  if (!options.future) return layout;
  return futureLayout(layout, described!.build, syntheticGuid(isf, `future ${claimed.build}`));
}

function syntheticGuid(isf: IsfFile, purpose: string): string {
  return guidText(new Rng(`pdb/${isf.pdb.guid}-${isf.pdb.age}/${purpose}`).guid());
}

/**
 * The build the ISF itself describes: its PDB's when the builder knows the PDB, else the one its
 * layout belongs to. Null when that is not certain and --build names it (without --future).
 */
function describedVersion(isf: IsfFile, options: IsfLayoutOptions): KernelVersion | null {
  const known = knownKernel(isf.pdb.guid, isf.pdb.age);
  if (known) {
    return makeVersion(
      known.build,
      known.revision,
      known.name,
      `PDB ${isf.pdb.guid}-${isf.pdb.age}`,
      known.build === 7601 ? 1 : 0,
      known.productType,
    );
  }
  const verdict = judgeLayout(isf);
  if (verdict.build) {
    const { build, name } = verdict.build;
    return makeVersion(
      build,
      0,
      `${name} (build inferred from structure layouts)`,
      'inferred from structure layouts',
      build === 7601 ? 1 : 0,
      build === 20348 ? 3 : 1,
    );
  }
  if (options.build !== undefined && !options.future) return null;
  const could = verdict.candidates.length
    ? `its structure layouts match ${describeBuilds(verdict.candidates)}`
    : `its structure layouts match no build the builder knows` +
      (verdict.nearest.length ? ` (nearest: ${describeBuilds(verdict.nearest)})` : '');
  throw new BuildError(
    `cannot tell which Windows build ${isf.path} describes: ${could}; pass --build <number>`,
  );
}

/** The build the image claims: --build, --future's, or the ISF's own. */
function claimedVersion(
  isf: IsfFile,
  described: KernelVersion | null,
  options: IsfLayoutOptions,
): KernelVersion {
  if (options.future) {
    if (described!.build !== NEWEST_X64_LAYOUT_BUILD)
      throw new BuildError(
        `--future starts from the newest layout the builder has (build ${NEWEST_X64_LAYOUT_BUILD}); ${isf.path} describes build ${described!.build}`,
      );
    const build = options.build ?? FUTURE_X64_BUILD;
    if (build <= NEWEST_X64_LAYOUT_BUILD)
      throw new BuildError(
        `--future claims a build newer than ${NEWEST_X64_LAYOUT_BUILD} (got --build ${build})`,
      );
    const name =
      build === FUTURE_X64_BUILD
        ? 'Windows 11 24H2 (future layout)'
        : `Windows build ${build} (future layout)`;
    return makeVersion(build, 0, name, `--future (layout of ${described!.build}, moved)`);
  }
  if (options.build === undefined) return described!;
  if (described === null) return makeVersion(options.build, 0, `Windows build ${options.build}`, '--build');
  if (options.build === described.build) return described;
  return makeVersion(
    options.build,
    0,
    `Windows build ${options.build} (layout of build ${described.build})`,
    `--build (layout of ${described.build})`,
    0,
    options.build === 20348 ? 3 : 1,
  );
}
