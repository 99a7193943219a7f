// Structure-layout profiles for the engine: built-in tables per Windows build and architecture,
// Volatility 3 ISF symbol tables (read from files by node/profile/), and a small reader for
// structure instances. See docs/profiles.md.

export type {
  Arch,
  BuiltinSource,
  FieldLayout,
  IsfSource,
  KdbgFacts,
  LayoutProfile,
  ObjectHeaderFacts,
  ObjectHeaderGeneration,
  OptionalHeaderInfo,
  OptionalHeaderKind,
  PointerSize,
  PoolFacts,
  ProcessFacts,
  ProfileSource,
  SharedDataFacts,
  StructLayout,
} from './types';
export { ProfileError } from './types';
export {
  builtinCandidates,
  builtinProfile,
  listBuiltinTables,
  resolveBuiltinTable,
  type BuiltinOptions,
  type BuiltinTableInfo,
} from './builtin';
export { optionalHeaderDistance, PROTECTED_POOL_BIT } from './facts';
export { KDBG_OWNER_TAG, KDBG_STRUCT, kdbgLayout, kdbgSizeForBuild } from './kdbg';
export { ENGINE_FIELDS, OBJECT_HEADER_GENERATION_FIELDS, missingEngineFields } from './engine-fields';
export { IsfError, parseIsf, type IsfFile, type IsfPdb, type SymbolTables } from './isf';
export { isfStruct, profileFromIsf, type IsfProfileOptions } from './isf-profile';
export { readStruct, StructReader, type UnicodeStringValue } from './reader';
