// Object directories listed once each and looked up by object: where an object's directory entry
// is (its hash bucket and stored name hash), and whether the name hash of this kernel can be
// trusted to stand for a name the image lost (objects/name-hash.ts).

import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import { listDirectory, lookupDirectory, type DirectoryEntry, type DirectoryListing } from './directory';
import { validateNameHash } from './name-hash';
import type { ObjectTypes } from './object-header';

export class DirectoryIndex {
  private readonly listings = new Map<bigint, DirectoryListing>();
  private readonly byBody = new Map<bigint, Map<bigint, DirectoryEntry>>();
  private trusted: boolean | null = null;
  private trustedOver = 0;
  private readonly paths = new Map<string, bigint | null>();

  constructor(
    private readonly memory: KernelMemory,
    private readonly profile: LayoutProfile,
    private readonly types: ObjectTypes,
    private readonly root: bigint | null,
  ) {}

  listing(directoryVa: bigint): DirectoryListing {
    let listing = this.listings.get(directoryVa);
    if (!listing) {
      listing = listDirectory(this.memory, this.profile, this.types, directoryVa);
      this.listings.set(directoryVa, listing);
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
    if (this.trusted === null || this.trustedOver !== this.listings.size) {
      this.trusted = validateNameHash([...this.listings.values()].flatMap((l) => l.entries));
      this.trustedOver = this.listings.size;
    }
    return this.trusted;
  }

  /** A directory by its path from the root ("\\Device"), or null. */
  lookup(path: string): bigint | null {
    if (this.root === null) return null;
    const key = path.toLowerCase();
    if (!this.paths.has(key))
      this.paths.set(key, lookupDirectory(this.memory, this.profile, this.types, this.root, path));
    return this.paths.get(key)!;
  }
}
