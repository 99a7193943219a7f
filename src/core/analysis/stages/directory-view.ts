// View 1 of the drivers: the \Driver and \FileSystem object directories, and the \GLOBAL?? links.

import { hex } from '../../../common/hex';
import type { SymbolicLink } from '../../../common/model';
import type { KernelMemory } from '../../kernel/memory';
import type { ObjectTypes } from '../../kernel/object-header';
import { listDirectory } from '../../kernel/object-directory';
import type { DirectoryIndex } from '../../objects/directory-index';
import { nameProblem } from '../../kernel/object-header';
import { readLinkTarget } from '../../objects/object-paths';
import type { LayoutProfile } from '../../profile';
import type { Completeness } from '../findings';

export interface DirectoryView {
  /** Driver objects the directories list, with the directory that lists them. */
  drivers: Map<bigint, string>;
  /** Entries of a driver directory whose object headers cannot be read: listed all the same. */
  unreadable: Map<bigint, string>;
  /** Whether \Driver and \FileSystem were read to their ends (hidden drivers are judged on it). */
  walk: Completeness;
  /** Why the walk is not complete, one sentence each. */
  gaps: string[];
  links: SymbolicLink[];
  /** Where the links came from: null when no \GLOBAL?? directory was found. */
  linkDirectory: { complete: boolean } | null;
  warnings: string[];
}

export function readDirectoryView(
  memory: KernelMemory,
  profile: LayoutProfile,
  types: ObjectTypes,
  root: bigint | null,
  directories: DirectoryIndex,
): DirectoryView {
  const view: DirectoryView = {
    drivers: new Map(),
    unreadable: new Map(),
    walk: 'none',
    gaps: [],
    links: [],
    linkDirectory: null,
    warnings: [],
  };
  if (root === null) {
    view.gaps.push('the object root directory was not found');
    return view;
  }
  view.warnings.push(...listDirectory(memory, profile, types, root).problems.map((p) => `\\: ${p}`));
  for (const directory of ['\\Driver', '\\FileSystem']) {
    const va = directories.lookup(directory);
    if (va === null) {
      view.warnings.push(`object directory ${directory} not found`);
      view.gaps.push(`object directory ${directory} not found`);
      // Without \Driver (walked first) nothing can be judged hidden; without \FileSystem only suspected.
      if (directory === '\\Driver') break;
      view.walk = 'partial';
      continue;
    }
    const listing = listDirectory(memory, profile, types, va);
    view.warnings.push(...listing.problems.map((p) => `${directory}: ${p}`));
    for (const entry of listing.entries)
      if (entry.header.typeName === 'Driver') view.drivers.set(entry.header.bodyVa, directory);
    for (const body of listing.unreadable) view.unreadable.set(body, directory);
    if (!listing.complete) {
      view.walk = 'partial';
      view.gaps.push(`object directory ${directory} could not be read to its end`);
    } else if (view.walk === 'none') view.walk = 'complete';
  }
  const globalVa = directories.lookup('\\GLOBAL??') ?? directories.lookup('\\??');
  view.warnings.push(...directories.inferences);
  if (globalVa !== null) {
    const listing = directories.listing(globalVa);
    view.linkDirectory = { complete: listing.complete };
    for (const entry of listing.entries) {
      if (entry.header.typeName !== 'SymbolicLink') continue;
      const target = readLinkTarget(memory, profile, entry.header.bodyVa);
      view.links.push({
        name: entry.name === null ? null : `\\GLOBAL??\\${entry.name}`,
        nameStatus: nameProblem(entry.header.name),
        nameHash: { bucket: entry.bucket, value: entry.hash },
        target: 'text' in target ? target.text : null,
        targetStatus: 'problem' in target ? target.problem : null,
        objectVa: hex(entry.header.bodyVa),
        device: null,
      });
    }
  }
  return view;
}
