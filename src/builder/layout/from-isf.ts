// A KernelLayout taken entirely from a Volatility 3 ISF file: every structure layout and every
// symbol RVA the builder uses comes from the file, never from a table here.

import { BuildError } from '../errors';
import { readIsf, type IsfFile } from './isf';
import type { KernelLayout, KernelVersion, OptionalHeader, StructLayout } from './kernel-layout';
import { objectTypeNames } from './object-types';
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

export function layoutFromIsfFile(path: string, buildOverride?: number): KernelLayout {
  return layoutFromIsf(readIsf(path), buildOverride);
}

export function layoutFromIsf(isf: IsfFile, buildOverride?: number): KernelLayout {
  const version = versionOf(isf, buildOverride);
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
  const build = version.build;
  return {
    arch: 'x64',
    paging: 'x64',
    pointerSize: 8,
    version,
    pdb: { name: isf.pdb.name, guid: isf.pdb.guid, age: isf.pdb.age, synthetic: false },
    layoutSource: isf.path,
    structs,
    symbols,
    symbolSpan: Math.ceil((symbolSpan + 0x100) / 0x1000) * 0x1000,
    objectHeader:
      structs['_OBJECT_HEADER']?.fields['TypeIndex'] !== undefined ? 'type-index' : 'type-pointer',
    typeIndexEncoded: symbols.has('ObHeaderCookie'),
    protectedPoolTags: build < 9200,
    optionalHeaders,
    kdbgSize: kdbgSizeFor(build),
    kdbgEncoded: build >= 9200,
    segmentHeap: build >= 18362,
    objectTypes: objectTypeNames(version.family, build),
    randomSelfMap: build >= 14393,
  };
}

function versionOf(isf: IsfFile, buildOverride?: number): KernelVersion {
  const known = knownKernel(isf.pdb.guid, isf.pdb.age);
  if (buildOverride !== undefined) {
    return makeVersion(buildOverride, 0, `Windows build ${buildOverride}`, '--build');
  }
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
  const inferred = inferBuild(isf);
  return makeVersion(inferred, 0, `Windows build ~${inferred} (inferred)`, 'inferred from structure layouts');
}

/**
 * For an ISF whose PDB we do not know, estimate the build from layout features that changed
 * between releases (offsets of EPROCESS.ImageFileName and KPROCESS size, per spec §1.13).
 */
function inferBuild(isf: IsfFile): number {
  const imageFileName = isf.userTypes['_EPROCESS']?.fields['ImageFileName']?.offset;
  const kprocessSize = isf.userTypes['_KPROCESS']?.size ?? 0;
  const hasCookie = Boolean(isf.symbols['ObHeaderCookie']);
  if (!hasCookie) {
    if (imageFileName === 0x2e0) return 7601;
    if (imageFileName === 0x438) return 9600;
    throw new BuildError(`cannot tell which Windows build ${isf.path} describes; pass --build <number>`);
  }
  if (imageFileName === 0x5a8) return isf.userTypes['_EPROCESS']!.size >= 0xb80 ? 22000 : 19041;
  if (kprocessSize === 0x2e0) return 18362;
  if (imageFileName === 0x450) return 17763;
  if (imageFileName === 0x448) return 10240;
  throw new BuildError(`cannot tell which Windows build ${isf.path} describes; pass --build <number>`);
}
