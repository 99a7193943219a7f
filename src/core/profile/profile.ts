// The one LayoutProfile implementation: a map of layouts, optional symbols, and derived facts.

import type { VersionFacts } from './facts';
import {
  ProfileError,
  type Arch,
  type FieldLayout,
  type KdbgFacts,
  type LayoutProfile,
  type ObjectHeaderFacts,
  type PointerSize,
  type PoolFacts,
  type ProcessFacts,
  type ProfileSource,
  type SharedDataFacts,
  type StructLayout,
} from './types';

export interface ProfileParts {
  readonly id: string;
  readonly source: ProfileSource;
  readonly arch: Arch;
  readonly build: number;
  /** Looks a layout up by name; may build it lazily (ISF) and must return the same object each time. */
  readonly lookup: (name: string) => StructLayout | undefined;
  readonly names: () => readonly string[];
  readonly symbols?: (name: string) => number | undefined;
  readonly facts: VersionFacts;
}

export class Profile implements LayoutProfile {
  readonly id: string;
  readonly source: ProfileSource;
  readonly arch: Arch;
  readonly build: number;
  readonly pointerSize: PointerSize;
  readonly objectHeader: ObjectHeaderFacts;
  readonly pool: PoolFacts;
  readonly kdbg: KdbgFacts;
  readonly process: ProcessFacts;
  readonly sharedData: SharedDataFacts;
  readonly #parts: ProfileParts;

  constructor(parts: ProfileParts) {
    this.#parts = parts;
    this.id = parts.id;
    this.source = parts.source;
    this.arch = parts.arch;
    this.build = parts.build;
    this.pointerSize = parts.arch === 'x64' ? 8 : 4;
    this.objectHeader = parts.facts.objectHeader;
    this.pool = parts.facts.pool;
    this.kdbg = parts.facts.kdbg;
    this.process = parts.facts.process;
    this.sharedData = parts.facts.sharedData;
  }

  hasStruct(name: string): boolean {
    return this.#parts.lookup(name) !== undefined;
  }

  hasField(struct: string, field: string): boolean {
    return this.#parts.lookup(struct)?.fields[field] !== undefined;
  }

  struct(name: string): StructLayout {
    const layout = this.#parts.lookup(name);
    if (layout === undefined) throw new ProfileError(`profile ${this.id}: unknown structure ${name}`);
    return layout;
  }

  field(struct: string, field: string): FieldLayout {
    const layout = this.struct(struct).fields[field];
    if (layout === undefined) throw new ProfileError(`profile ${this.id}: ${struct} has no field ${field}`);
    return layout;
  }

  sizeOf(struct: string): number {
    const size = this.struct(struct).size;
    if (size === undefined) {
      throw new ProfileError(`profile ${this.id}: sizeof(${struct}) is not known for this build`);
    }
    return size;
  }

  structNames(): readonly string[] {
    return this.#parts.names();
  }

  symbol(name: string): number | undefined {
    return this.#parts.symbols?.(name);
  }
}
