// Object directories listed once each, and paths resolved through them even where the image lost
// names. An object's directory entry keeps the hash of its name (its bucket, and from 2003 SP1 on
// the full OBJECT_DIRECTORY_ENTRY.HashValue), which survives the name being paged out; a path's
// components can be matched against those hashes one directory at a time (objects/name-hash.ts,
// trusted only once it agrees with every readable name). And the well-known directories under
// the root whose own names are lost are recognised by what they hold: \Driver and \FileSystem
// hold driver objects (their DriverName says which), \Device devices, \GLOBAL?? symbolic links.

import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import { listDirectory, type DirectoryEntry, type DirectoryListing } from '../kernel/object-directory';
import { readDriverObject } from './driver';
import { nameHashTrusted, objectNameHash, tallyNameHash, type NameHashAgreement } from '../kernel/name-hash';
import type { ObjectTypes } from '../kernel/object-header';

/** The root's well-known directories and how to recognise each from its contents. */
const WELL_KNOWN: ReadonlyArray<{ name: string; holds: string }> = [
  { name: 'Driver', holds: 'Driver' },
  { name: 'FileSystem', holds: 'Driver' },
  { name: 'Device', holds: 'Device' },
  { name: 'GLOBAL??', holds: 'SymbolicLink' },
  { name: '??', holds: 'SymbolicLink' },
];

/**
 * Whether an entry can be of `type`: its type, or any where the type is not known (before
 * Windows 7 a type is known only when its OBJECT_TYPE was found, and Directory often is not).
 */
function isType(entry: DirectoryEntry, type: string): boolean {
  return entry.header.typeName === type || entry.header.typeName === null;
}

export class DirectoryIndex {
  private readonly listings = new Map<bigint, DirectoryListing>();
  private readonly byBody = new Map<bigint, Map<bigint, DirectoryEntry>>();
  /** The name hash checked against the entries of every directory listed so far. */
  private readonly hashTally: NameHashAgreement = { agreeing: 0, disagreeing: 0 };
  private inferred: Map<string, bigint> | null = null;
  /** What was recognised by its contents, for the warnings. */
  readonly inferences: string[] = [];

  constructor(
    private readonly memory: KernelMemory,
    private readonly profile: LayoutProfile,
    private readonly types: ObjectTypes,
    readonly root: bigint | null,
  ) {}

  listing(directoryVa: bigint): DirectoryListing {
    let listing = this.listings.get(directoryVa);
    if (!listing) {
      listing = listDirectory(this.memory, this.profile, this.types, directoryVa);
      this.listings.set(directoryVa, listing);
      tallyNameHash(listing.entries, this.hashTally);
      this.byBody.set(directoryVa, new Map(listing.entries.map((e) => [e.header.bodyVa, e])));
    }
    return listing;
  }

  /** The entry of the object at `bodyVa` in the directory at `directoryVa`, if it is there. */
  entryOf(bodyVa: bigint, directoryVa: bigint): DirectoryEntry | null {
    if (directoryVa === 0n || !this.memory.isKernelAddress(directoryVa)) return null;
    this.listing(directoryVa);
    return this.byBody.get(directoryVa)?.get(bodyVa) ?? null;
  }

  /**
   * Whether this kernel hashes names as objectNameHash computes, judged on every directory
   * listed so far (the hash is the kernel's, not a directory's).
   */
  hashTrusted(): boolean {
    return nameHashTrusted(this.hashTally);
  }

  /** A directory by its path from the root ("\\Device"), by its names or, lost, by its contents. */
  lookup(path: string): bigint | null {
    const found = this.resolve(path, 'Directory');
    return found.length === 1 ? found[0]! : null;
  }

  /**
   * The objects `path` can name: each component matched by its readable name, else (the name
   * lost) by the name's hash in the directory entry, else for a well-known directory under the
   * root by its contents. More than one means the path is ambiguous in this image.
   */
  resolve(path: string, finalType?: string): bigint[] {
    if (this.root === null) return [];
    const components = path.split('\\').filter(Boolean);
    let current = [this.root];
    components.forEach((component, i) => {
      const last = i === components.length - 1;
      const next: bigint[] = [];
      for (const directory of current) {
        const entries = this.listing(directory).entries.filter((e) =>
          last ? finalType === undefined || isType(e, finalType) : isType(e, 'Directory'),
        );
        const named = entries.filter(
          (e) => e.name !== null && e.name.toLowerCase() === component.toLowerCase(),
        );
        if (named.length > 0) {
          next.push(...named.map((e) => e.header.bodyVa));
          continue;
        }
        const known = directory === this.root ? this.inferredRoot().get(component.toLowerCase()) : undefined;
        if (known !== undefined && (!last || finalType === undefined || finalType === 'Directory')) {
          next.push(known);
          continue;
        }
        if (!this.hashTrusted()) continue;
        const hash = objectNameHash(component);
        next.push(
          ...entries
            .filter((e) => e.name === null && (e.hash !== null ? e.hash === hash : e.bucket === hash % 37))
            .map((e) => e.header.bodyVa),
        );
      }
      current = [...new Set(next)];
    });
    return current;
  }

  /** The name a directory has when its own is lost but its contents tell (see above). */
  inferredName(directoryVa: bigint): string | null {
    for (const [name, va] of this.inferredRoot()) if (va === directoryVa) return name;
    return null;
  }

  private inferredRoot(): Map<string, bigint> {
    if (this.inferred) return this.inferred;
    this.inferred = new Map();
    if (this.root === null) return this.inferred;
    const entries = this.listing(this.root).entries.filter((e) => isType(e, 'Directory'));
    const readable = new Set(entries.filter((e) => e.name !== null).map((e) => e.name!.toLowerCase()));
    const lost = entries.filter((e) => e.name === null).map((e) => e.header.bodyVa);
    const holding = (va: bigint, type: string) => {
      const inside = this.listing(va).entries;
      const count = inside.filter((e) => e.header.typeName === type).length;
      return count >= 3 && count * 2 > inside.length ? count : 0;
    };
    const claim = (name: string, va: bigint) => {
      if (readable.has(name.toLowerCase()) || this.inferred!.has(name.toLowerCase())) return;
      this.inferred!.set(name.toLowerCase(), va);
      this.inferences.push(
        `object directory \\${name} recognised by what it holds (its own name is not in the image)`,
      );
    };
    // Devices and links: the one directory of lost name that mostly holds them.
    for (const { name, holds } of WELL_KNOWN.filter((w) => w.holds !== 'Driver' && w.name !== '??')) {
      const candidates = lost.filter((va) => holding(va, holds) > 0);
      if (candidates.length === 1) claim(name, candidates[0]!);
    }
    // Drivers: their own DriverName says \Driver\ or \FileSystem\; else the larger is \Driver.
    const driverDirectories = lost
      .map((va) => ({ va, count: holding(va, 'Driver'), kind: this.driverDirectoryKind(va) }))
      .filter((d) => d.count > 0)
      .sort((a, b) => b.count - a.count);
    for (const d of driverDirectories) if (d.kind) claim(d.kind, d.va);
    const unnamed = driverDirectories.filter((d) => !d.kind);
    if (unnamed.length > 0)
      claim(readable.has('driver') || this.inferred.has('driver') ? 'FileSystem' : 'Driver', unnamed[0]!.va);
    if (unnamed.length > 1) claim('FileSystem', unnamed[1]!.va);
    return this.inferred;
  }

  /** 'Driver' or 'FileSystem' by the DriverName prefix most of a directory's drivers carry. */
  private driverDirectoryKind(directoryVa: bigint): 'Driver' | 'FileSystem' | null {
    let driver = 0;
    let fileSystem = 0;
    for (const entry of this.listing(directoryVa).entries.slice(0, 64)) {
      if (entry.header.typeName !== 'Driver') continue;
      const object = readDriverObject(this.memory, this.profile, entry.header.bodyVa);
      const name = object && 'text' in object.driverName ? object.driverName.text.toLowerCase() : '';
      if (name.startsWith('\\driver\\')) driver++;
      else if (name.startsWith('\\filesystem\\')) fileSystem++;
    }
    if (driver === 0 && fileSystem === 0) return null;
    return driver >= fileSystem ? 'Driver' : 'FileSystem';
  }
}
