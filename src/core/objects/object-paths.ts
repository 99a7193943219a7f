// Full object names (\\Device\\Harddisk0\\DR0) from OBJECT_HEADER_NAME_INFO and the chain of
// directory objects above it (spec §1.10), cached per directory; and symbolic-link targets.

import type { KernelMemory } from '../kernel/memory';
import { describeStringFailure } from '../kernel/memory';
import { readStruct, type LayoutProfile } from '../profile';
import { nameText, readObjectHeader, type ObjectHeader, type ObjectTypes } from '../kernel/object-header';

export /** Full object names (\Device\Harddisk0\DR0) from NAME_INFO and the directory chain, cached per directory. */
class ObjectPaths {
  private readonly directories = new Map<bigint, string | null>();

  constructor(
    private readonly memory: KernelMemory,
    private readonly profile: LayoutProfile,
    private readonly types: ObjectTypes,
    private readonly root: bigint | null,
    /** A directory's name when its own is lost but its contents tell (\Device...). */
    private readonly inferredName: (va: bigint) => string | null = () => null,
  ) {}

  private directoryPath(va: bigint, depth = 0): string | null {
    if (va === this.root) return '';
    if (depth > 16 || va === 0n) return null;
    if (this.directories.has(va)) return this.directories.get(va)!;
    const header = readObjectHeader(this.memory, this.profile, this.types, va);
    const name = (header ? nameText(header.name) : null) ?? this.inferredName(va);
    let path: string | null = null;
    if (header && name !== null) {
      const parent =
        header.directory === null || header.directory === 0n
          ? null
          : this.directoryPath(header.directory, depth + 1);
      path = parent === null ? null : `${parent}\\${name}`;
    }
    this.directories.set(va, path);
    return path;
  }

  of(header: ObjectHeader): { name: string | null; status: string | null } {
    if (header.name === null) return { name: null, status: null };
    if (!('text' in header.name)) return { name: null, status: `name ${describeStringFailure(header.name)}` };
    if (header.directory === null || header.directory === 0n) return { name: header.name.text, status: null };
    const parent = this.directoryPath(header.directory);
    if (parent === null)
      return { name: header.name.text, status: 'directory name unreadable: full path unknown' };
    return { name: `${parent}\\${header.name.text}`, status: null };
  }

  directoryOf(header: ObjectHeader | null): string | null {
    if (!header || header.directory === null || header.directory === 0n) return null;
    const path = this.directoryPath(header.directory);
    return path === null || path === '' ? null : path;
  }
}

/** OBJECT_SYMBOLIC_LINK.LinkTarget of the link object at `va`, or why it cannot be read. */
export function readLinkTarget(
  memory: KernelMemory,
  profile: LayoutProfile,
  va: bigint,
): { text: string } | { problem: string } {
  const field = profile.field('_OBJECT_SYMBOLIC_LINK', 'LinkTarget');
  const bytes = memory.bytes(va, field.offset + field.size);
  if (!bytes) return { problem: 'link object unreadable' };
  const text = memory.unicodeString(
    readStruct(profile, '_OBJECT_SYMBOLIC_LINK', bytes).unicodeString('LinkTarget'),
  );
  return 'text' in text ? { text: text.text } : { problem: `target ${describeStringFailure(text)}` };
}
