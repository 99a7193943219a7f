// Which device each \GLOBAL?? link names. By the device's full name where the image holds it;
// where the name of the directory above it is lost, by the name's last part; where the name
// itself is paged out, by its hash: the target's last component hashes to the value the device's
// directory entry keeps (OBJECT_DIRECTORY_ENTRY.HashValue, or its bucket), which the image still
// holds, and so do the directories above it. One unreadable name that the whole path matches is
// the device; the hash function is first checked against the kernel's readable names.

import type { Device, SymbolicLink } from '../../common/model';
import type { DirectoryIndex } from '../objects/directory-index';

export function resolveLinkTargets(
  links: SymbolicLink[],
  devices: Device[],
  directories: DirectoryIndex,
): void {
  const byName = new Map(
    devices.filter((d) => d.name !== null && d.nameStatus === null).map((d) => [d.name!.toLowerCase(), d]),
  );
  for (const link of links) {
    if (link.target === null) continue;
    const named = byName.get(link.target.toLowerCase());
    if (named) {
      link.device = named.id;
      continue;
    }
    const device = byHash(link.target, directories, devices);
    if (!device) continue;
    link.device = device.id;
    device.inferredName ??= link.target;
    if (link.name && !device.links.includes(link.name)) device.links.push(link.name);
  }
}

function byHash(target: string, directories: DirectoryIndex, devices: Device[]): Device | null {
  const at = target.lastIndexOf('\\');
  if (at <= 0 || at === target.length - 1) return null;
  const leaf = target.slice(at + 1);
  // The object's own name read, the directory's name above it lost: the leaf decides.
  const byLeaf = devices.filter(
    (d) => d.name !== null && d.nameStatus !== null && d.name.toLowerCase() === leaf.toLowerCase(),
  );
  if (byLeaf.length === 1) return byLeaf[0]!;
  // Each component of the path by its name, or the hash its directory entry keeps.
  const found = directories.resolve(target, 'Device');
  if (found.length !== 1) return null;
  const id = `0x${found[0]!.toString(16)}`;
  return devices.find((d) => d.id === id && d.name === null) ?? null;
}
