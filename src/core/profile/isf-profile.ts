// A LayoutProfile from an ISF file: exact layouts of every user type and the RVAs of every kernel
// global. What no ISF holds (the KDDEBUGGER_DATA64 layout and size, §1.15) comes from the built-in
// table of the same build, and the profile's source records that.

import { builtinFallback } from './builtin';
import { deriveFacts } from './facts';
import { IsfError, ownEntry, type IsfFile, type IsfType } from './isf';
import { KDBG_STRUCT, kdbgSizeForBuild } from './kdbg';
import { Profile } from './profile';
import { ProfileError, type FieldLayout, type LayoutProfile, type StructLayout } from './types';

export interface IsfProfileOptions {
  /**
   * The image's Windows build (KUSER_SHARED_DATA.NtBuildNumber, dump header, …). An ISF names its
   * PDB but not the build, and the build picks the KDBG facts and the version rules.
   */
  readonly build: number;
}

function typeSize(isf: IsfFile, type: IsfType, where: string): number {
  const missing = (what: string) => new IsfError(`${isf.path}: ${where}: unknown ${what}`);
  switch (type.kind) {
    case 'base': {
      const size = ownEntry(isf.baseTypes, type.name ?? '')?.size;
      if (size === undefined) throw missing(`base type ${String(type.name)}`);
      return size;
    }
    case 'pointer':
      return isf.pointerSize;
    case 'struct':
    case 'union':
    case 'class': {
      const size = ownEntry(isf.userTypes, type.name ?? '')?.size;
      if (size === undefined) throw missing(`type ${String(type.name)}`);
      return size;
    }
    case 'enum': {
      const size = ownEntry(isf.enums, type.name ?? '')?.size;
      if (size === undefined) throw missing(`enum ${String(type.name)}`);
      return size;
    }
    case 'array':
      if (type.subtype === undefined || type.count === undefined) throw missing('array shape');
      return type.count * typeSize(isf, type.subtype, where);
    case 'bitfield':
      if (type.type === undefined) throw missing('bitfield storage type');
      return typeSize(isf, type.type, where);
    default:
      throw missing(`type kind ${type.kind}`);
  }
}

function toField(isf: IsfFile, offset: number, type: IsfType, where: string): FieldLayout {
  const size = typeSize(isf, type, where);
  if (type.kind === 'bitfield') {
    return { offset, size, bitPosition: type.bit_position ?? 0, bitLength: type.bit_length ?? 0 };
  }
  if (type.kind === 'array') return { offset, size, count: type.count ?? 0 };
  return { offset, size };
}

const converted = new WeakMap<IsfFile, Map<string, StructLayout>>();

/** The ISF user type as a StructLayout (every field), converted once per file. */
export function isfStruct(isf: IsfFile, name: string): StructLayout | undefined {
  let layouts = converted.get(isf);
  if (layouts === undefined) converted.set(isf, (layouts = new Map()));
  const cached = layouts.get(name);
  if (cached !== undefined) return cached;
  const userType = ownEntry(isf.userTypes, name);
  if (userType === undefined) return undefined;
  const fields: Record<string, FieldLayout> = {};
  for (const [fieldName, field] of Object.entries(userType.fields)) {
    fields[fieldName] = toField(isf, field.offset, field.type, `${name}.${fieldName}`);
  }
  const layout: StructLayout = { size: userType.size, fields };
  layouts.set(name, layout);
  return layout;
}

export function profileFromIsf(isf: IsfFile, options: IsfProfileOptions): LayoutProfile {
  const { build } = options;
  if (!Number.isSafeInteger(build) || build <= 0)
    throw new ProfileError(`invalid Windows build number ${build}`);
  const fallback = builtinFallback(isf.arch, build);
  const fallbackFor: string[] = [KDBG_STRUCT, 'kdbg.size'];

  const lookup = (name: string): StructLayout | undefined =>
    isfStruct(isf, name) ?? (name === KDBG_STRUCT ? fallback.layouts.get(name) : undefined);

  // The signature's Size byte follows sizeof(KPROCESS) (§1.13), so the table's value only holds
  // when the ISF agrees on that size.
  const kprocessSize = isfStruct(isf, '_KPROCESS')?.size;
  const signatureHolds =
    kprocessSize !== undefined && kprocessSize === fallback.layouts.get('_KPROCESS')?.size;
  if (signatureHolds) fallbackFor.push('process.dispatcherSignature');

  const symbol = (name: string): number | undefined => {
    const entry = ownEntry(isf.symbols, name);
    return typeof entry?.address === 'number' ? entry.address : undefined;
  };

  return new Profile({
    id: `isf:${isf.pdb.name}/${isf.pdb.guid}-${isf.pdb.age}`,
    source: {
      kind: 'isf',
      path: isf.path,
      pdbName: isf.pdb.name,
      guid: isf.pdb.guid,
      age: isf.pdb.age,
      fallbackTable: fallback.table.id,
      fallbackFor,
    },
    arch: isf.arch,
    build,
    lookup,
    names: () => [...Object.keys(isf.userTypes), KDBG_STRUCT],
    symbols: symbol,
    facts: deriveFacts({
      arch: isf.arch,
      build,
      lookup,
      // §1.8.4: the cookie exists exactly where TypeIndex is encoded.
      typeIndexEncoded: symbol('ObHeaderCookie') !== undefined,
      dispatcherSignature: signatureHolds ? fallback.dispatcherSignature : undefined,
      kdbgSize: kdbgSizeForBuild(build),
    }),
  });
}
