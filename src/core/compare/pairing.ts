// Pairs the objects of two images in stages, strongest identity first. Each stage keys the objects
// still unpaired; within one key they pair in order, and only where no known fact contradicts.

export interface Stage<T> {
  name: string;
  /** The identity this stage uses, or null when the object does not have it (unknown, unreadable). */
  key: (item: T, side: 'a' | 'b') => string | null;
  /** Pair only keys that are unique on both sides (a weak identity shared by two is no identity). */
  unique?: boolean;
  /** False when a fact both sides know contradicts the pairing. */
  compatible?: (a: T, b: T) => boolean;
}

export interface Paired<T> {
  a: T;
  b: T;
  stage: string;
}

export interface Pairing<T> {
  pairs: Array<Paired<T>>;
  onlyA: T[];
  onlyB: T[];
}

function groups<T>(items: T[], key: (item: T) => string | null): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === null) continue;
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

export function pairInStages<T>(a: readonly T[], b: readonly T[], stages: Array<Stage<T>>): Pairing<T> {
  const pairs: Array<Paired<T>> = [];
  let restA = [...a];
  let restB = [...b];
  for (const stage of stages) {
    const byKeyA = groups(restA, (item) => stage.key(item, 'a'));
    const byKeyB = groups(restB, (item) => stage.key(item, 'b'));
    const takenA = new Set<T>();
    const takenB = new Set<T>();
    for (const [key, listA] of byKeyA) {
      const listB = byKeyB.get(key);
      if (!listB) continue;
      if (stage.unique && (listA.length !== 1 || listB.length !== 1)) continue;
      for (const itemA of listA) {
        const itemB = listB.find(
          (candidate) => !takenB.has(candidate) && (stage.compatible?.(itemA, candidate) ?? true),
        );
        if (itemB === undefined) continue;
        takenA.add(itemA);
        takenB.add(itemB);
        pairs.push({ a: itemA, b: itemB, stage: stage.name });
      }
    }
    restA = restA.filter((item) => !takenA.has(item));
    restB = restB.filter((item) => !takenB.has(item));
  }
  return { pairs, onlyA: restA, onlyB: restB };
}
