// \GLOBAL?? symbolic links of two images. A link is its name; its target is the device it names,
// compared through the device pairing (auto-numbered targets change with every boot). A link
// whose name carries a per-boot GUID (a removable volume's Volume{…}) is the same link when its
// target is the same device, and so is a link whose name one image cannot read.

import type { UnknownFact } from '../../common/pairing';
import type { SymbolicLink } from '../../common/model';
import { isEnumeratedName, withoutGuids, type Side } from './identity';
import { pairInStages, type Pairing } from './pairing';

export interface LinkComparison {
  pairing: Pairing<SymbolicLink>;
  /** Paired links whose targets differ, or cannot be compared. */
  changed: Array<{ a: SymbolicLink; b: SymbolicLink; unknown: string | null }>;
  unknownOf: Map<SymbolicLink, UnknownFact[]>;
}

export function linkText(link: SymbolicLink): string {
  return `${link.name ?? `(${link.nameStatus ?? 'name unreadable'})`} → ${link.target ?? `(${link.targetStatus ?? 'unreadable'})`}`;
}

export function compareLinks(
  baseline: Side,
  image: Side,
  counterpartOfA: Map<string, string>,
): LinkComparison {
  // What a link points at: its target's name where that is a stable name, else the paired device.
  const target = (link: SymbolicLink, s: 'a' | 'b'): string | null => {
    if (link.target === null) return null;
    if (!isEnumeratedName(link.target)) return `text:${link.target.toLowerCase()}`;
    if (!link.device) return null;
    return s === 'a'
      ? `device:${counterpartOfA.get(link.device) ?? `a:${link.device}`}`
      : `device:${link.device}`;
  };
  const pairing = pairInStages(baseline.result.links, image.result.links, [
    { name: 'name', key: (l) => l.name?.toLowerCase() ?? null },
    {
      name: 'name hash in its directory entry (name unreadable in one image)',
      key: (l) => (l.nameHash?.value != null ? String(l.nameHash.value) : null),
      unique: true,
      compatible: (a, b) => a.name === null || b.name === null,
    },
    {
      name: 'name without its GUID, and its target',
      key: (l, s) => {
        const masked = l.name ? withoutGuids(l.name) : null;
        const to = target(l, s);
        return masked === null || to === null ? null : `${masked}|${to}`;
      },
    },
    {
      name: 'target (name unreadable in one image)',
      key: (l, s) => target(l, s),
      compatible: (a, b) => a.name === null || b.name === null,
    },
  ]);
  const changed: LinkComparison['changed'] = [];
  const unknownOf = new Map<SymbolicLink, UnknownFact[]>();
  for (const { a, b, stage } of pairing.pairs) {
    if (stage !== 'name' && (a.name === null || b.name === null))
      unknownOf.set(b, [{ fact: 'link-name', side: a.name === null ? 'baseline' : 'image' }]);
    if (a.device && b.device) {
      if (counterpartOfA.get(a.device) !== b.device) changed.push({ a, b, unknown: null });
      continue;
    }
    if (a.target === null || b.target === null) {
      unknownOf.set(b, [
        ...(unknownOf.get(b) ?? []),
        { fact: 'link-target', side: a.target === null ? 'baseline' : 'image' },
      ]);
      continue;
    }
    if (a.target.toLowerCase() === b.target.toLowerCase()) continue;
    // A numbered target whose device one side cannot identify (its name unreadable there).
    if (isEnumeratedName(a.target) || isEnumeratedName(b.target)) {
      unknownOf.set(b, [
        ...(unknownOf.get(b) ?? []),
        { fact: 'link-device', side: a.device ? 'image' : 'baseline' },
      ]);
      continue;
    }
    changed.push({ a, b, unknown: null });
  }
  // A link only one image lists may be one the other image holds without a readable name.
  for (const [list, other] of [
    [pairing.onlyB, baseline],
    [pairing.onlyA, image],
  ] as const) {
    const blind = other.result.links.filter((l) => l.name === null && l.target === null).length;
    if (blind === 0) continue;
    for (const link of list) unknownOf.set(link, [{ fact: 'blind-links', side: other.label, count: blind }]);
  }
  return { pairing, changed, unknownOf };
}
