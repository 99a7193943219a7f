// JSON as the mutations of case files and QMP lines see it: a tree of nodes parsed once per seed
// (each with an id and its depth), and edits laid over it — a node replaced by other JSON text,
// an object's entry dropped, renamed or added (a key twice, a "__proto__" key), an array's items
// dropped or repeated — that are written out without changing the tree. A document of a few
// megabytes is parsed once and mutated by many inputs.

export interface JsonNode {
  id: number;
  depth: number;
  kind: 'object' | 'array' | 'string' | 'number' | 'literal';
  /** Object entries, in order (a key may appear once: JSON.parse keeps the last). */
  entries?: Array<{ key: string; value: JsonNode }>;
  items?: JsonNode[];
  /** A primitive's JSON text. */
  text?: string;
}

export interface JsonTree {
  root: JsonNode;
  nodes: JsonNode[];
  objects: JsonNode[];
  arrays: JsonNode[];
}

/** Deeper than this, a value is kept whole as text (the tree is built by recursion). */
const MAX_TREE_DEPTH = 200;

/** The tree of a JSON text, or null when it is not JSON (or nests past the bound). */
export function parseTree(text: string): JsonTree | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const tree: JsonTree = { root: null as unknown as JsonNode, nodes: [], objects: [], arrays: [] };
  const build = (v: unknown, depth: number): JsonNode => {
    const node: JsonNode = { id: tree.nodes.length, depth, kind: 'literal' };
    tree.nodes.push(node);
    if (depth > MAX_TREE_DEPTH) throw new RangeError('too deep');
    if (Array.isArray(v)) {
      node.kind = 'array';
      tree.arrays.push(node);
      node.items = v.map((item) => build(item, depth + 1));
    } else if (v !== null && typeof v === 'object') {
      node.kind = 'object';
      tree.objects.push(node);
      // Own keys as JSON.parse defined them, "__proto__" included.
      node.entries = Object.keys(v).map((key) => ({
        key,
        value: build((v as Record<string, unknown>)[key], depth + 1),
      }));
    } else {
      node.kind = typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'literal';
      node.text = JSON.stringify(v);
    }
    return node;
  };
  try {
    tree.root = build(value, 0);
  } catch {
    return null;
  }
  return tree;
}

/** The most text the copies of one repeated item may add: more makes a string too long for V8. */
export const MAX_REPEATED = 16 << 20;

export class JsonEdits {
  readonly replaced = new Map<number, string>();
  /** Object or array node → indices of entries or items left out. */
  readonly dropped = new Map<number, Set<number>>();
  /** Object node → entry index → the key's new JSON text. */
  readonly renamed = new Map<number, Map<number, string>>();
  /** Object node → JSON texts of entries ("key": value) added at the end; array node → items. */
  readonly added = new Map<number, string[]>();
  /** Array node → item index → extra copies (as many as fit in MAX_REPEATED). */
  readonly repeated = new Map<number, Map<number, number>>();

  replace(node: JsonNode, text: string): void {
    this.replaced.set(node.id, text);
  }

  drop(node: JsonNode, index: number): void {
    const set = this.dropped.get(node.id) ?? new Set<number>();
    set.add(index);
    this.dropped.set(node.id, set);
  }

  rename(node: JsonNode, index: number, keyText: string): void {
    const map = this.renamed.get(node.id) ?? new Map<number, string>();
    map.set(index, keyText);
    this.renamed.set(node.id, map);
  }

  add(node: JsonNode, text: string): void {
    const list = this.added.get(node.id) ?? [];
    list.push(text);
    this.added.set(node.id, list);
  }

  repeat(node: JsonNode, index: number, copies: number): void {
    const map = this.repeated.get(node.id) ?? new Map<number, number>();
    map.set(index, copies);
    this.repeated.set(node.id, map);
  }
}

/** The JSON text of `node` with `edits` applied (compact). */
export function writeTree(node: JsonNode, edits: JsonEdits): string {
  const out: string[] = [];
  const write = (n: JsonNode): void => {
    const replacement = edits.replaced.get(n.id);
    if (replacement !== undefined) {
      out.push(replacement);
      return;
    }
    const dropped = edits.dropped.get(n.id);
    const added = edits.added.get(n.id) ?? [];
    if (n.kind === 'object') {
      const renamed = edits.renamed.get(n.id);
      out.push('{');
      let first = true;
      n.entries!.forEach((entry, i) => {
        if (dropped?.has(i)) return;
        if (!first) out.push(',');
        first = false;
        out.push(renamed?.get(i) ?? JSON.stringify(entry.key), ':');
        write(entry.value);
      });
      for (const text of added) {
        if (!first) out.push(',');
        first = false;
        out.push(text);
      }
      out.push('}');
    } else if (n.kind === 'array') {
      const repeated = edits.repeated.get(n.id);
      out.push('[');
      let first = true;
      n.items!.forEach((item, i) => {
        if (dropped?.has(i)) return;
        if (!first) out.push(',');
        first = false;
        const extra = repeated?.get(i) ?? 0;
        if (extra === 0) return write(item);
        // Copies of the item as written (other edits may have grown it), at most MAX_REPEATED.
        const text = writeTree(item, edits);
        const copies = Math.min(extra, Math.floor(MAX_REPEATED / Math.max(1, text.length)));
        out.push(text, `,${text}`.repeat(copies));
      });
      for (const text of added) {
        if (!first) out.push(',');
        first = false;
        out.push(text);
      }
      out.push(']');
    } else out.push(n.text!);
  };
  write(node);
  return out.join('');
}

/** A node's own JSON text (no edits), or null when it is too large to copy around. */
export function nodeText(node: JsonNode, limit = 1 << 20): string | null {
  const text = writeTree(node, new JsonEdits());
  return text.length <= limit ? text : null;
}
