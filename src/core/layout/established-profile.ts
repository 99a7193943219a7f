// A LayoutProfile whose moving structures carry the offsets established in the image: the table
// (or ISF) it wraps answers for everything else. A field that could not be established is absent,
// so a reader cannot fall back to the table's guess by accident.

import { ProfileError, type FieldLayout, type LayoutProfile, type StructLayout } from '../profile';

export type FieldOverrides = ReadonlyMap<string, ReadonlyMap<string, number | null>>;

class EstablishedProfile implements LayoutProfile {
  readonly id: string;
  readonly source: LayoutProfile['source'];
  readonly arch: LayoutProfile['arch'];
  readonly build: number;
  readonly pointerSize: LayoutProfile['pointerSize'];
  readonly objectHeader: LayoutProfile['objectHeader'];
  readonly pool: LayoutProfile['pool'];
  readonly kdbg: LayoutProfile['kdbg'];
  readonly process: LayoutProfile['process'];
  readonly sharedData: LayoutProfile['sharedData'];

  constructor(
    private readonly base: LayoutProfile,
    private readonly layouts: ReadonlyMap<string, StructLayout>,
  ) {
    this.id = base.id;
    this.source = base.source;
    this.arch = base.arch;
    this.build = base.build;
    this.pointerSize = base.pointerSize;
    this.objectHeader = base.objectHeader;
    this.pool = base.pool;
    this.kdbg = base.kdbg;
    this.process = base.process;
    this.sharedData = base.sharedData;
  }

  struct(name: string): StructLayout {
    return this.layouts.get(name) ?? this.base.struct(name);
  }

  field(struct: string, field: string): FieldLayout {
    const layout = this.layouts.get(struct);
    if (!layout) return this.base.field(struct, field);
    const found = layout.fields[field];
    if (!found) throw new ProfileError(`${struct}.${field} could not be established in this image`);
    return found;
  }

  sizeOf(struct: string): number {
    const layout = this.layouts.get(struct);
    if (layout && layout.size === undefined)
      throw new ProfileError(`sizeof(${struct}) is not known: its fields sit elsewhere than the table says`);
    return this.base.sizeOf(struct);
  }

  hasStruct(name: string): boolean {
    return this.base.hasStruct(name);
  }

  hasField(struct: string, field: string): boolean {
    return this.base.hasStruct(struct) && this.struct(struct).fields[field] !== undefined;
  }

  structNames(): readonly string[] {
    return this.base.structNames();
  }

  symbol(name: string): number | undefined {
    return this.base.symbol(name);
  }
}

export function withEstablishedOffsets(base: LayoutProfile, overrides: FieldOverrides): LayoutProfile {
  const layouts = new Map<string, StructLayout>();
  for (const [struct, fields] of overrides) {
    if (!base.hasStruct(struct)) continue;
    const original = base.struct(struct);
    const merged: Record<string, FieldLayout> = { ...original.fields };
    let changed = false;
    for (const [name, offset] of fields) {
      const field = original.fields[name];
      if (!field) continue;
      if (offset === null) {
        delete merged[name];
        changed = true;
      } else if (offset !== field.offset) {
        merged[name] = { ...field, offset };
        changed = true;
      }
    }
    // A structure whose fields moved no longer has the table's size.
    if (changed) layouts.set(struct, { fields: merged });
  }
  return layouts.size === 0 ? base : new EstablishedProfile(base, layouts);
}
