// Lays out a request-path graph (src/common/flow.ts) as rows: the path itself (API, ntdll stub,
// system service, I/O manager, symbolic link — or, from a pending request, its process, thread,
// system service and IRP — then each device of the stack from the top down)
// runs down the first column, and each device's branch (its driver's dispatch routine, the module
// that routine lives in, the module a patched routine jumps to) runs to the right on the device's
// own row. The graph always has this shape, and a general layered layout (ELK, dagre) cannot keep
// a branch on its device's row: it puts every successor on a later layer, so branches drift down
// the page and their edges cross the path.

import type { FlowGraph, FlowNode } from './api';

export const NODE_WIDTH = 250;
export const NODE_HEIGHT = 58;
const COLUMN_GAP = 150;
const ROW_GAP = 44;
const STACKED_GAP = 18;
/** Two diagrams side by side: narrower nodes and columns, the branch edges without labels. */
export const COMPACT_NODE_WIDTH = 200;
const COMPACT_COLUMN_GAP = 56;

const PATH_KINDS = new Set<FlowNode['kind']>([
  'api',
  'process',
  'thread',
  'irp',
  'ntdll',
  'syscall',
  'io-manager',
  'symbolic-link',
  'device',
]);

export interface FlowLayout {
  positions: Map<string, { x: number; y: number }>;
  /** Edges between two nodes of the path: drawn bottom to top. The others run left to right. */
  pathEdges: Set<string>;
  /** How each edge off the path is drawn: where it turns and where its label sits. */
  routes: Map<string, EdgeRoute>;
}

/**
 * An edge from a node's right side to another's left side. Between two rows it runs right, down
 * or up at `stepX`, then right again; on one row it runs straight. Its label is centred at
 * `label.x` on the level of the edge's source or target (the segment it sits on).
 */
export interface EdgeRoute {
  stepX: number | null;
  label: { x: number; row: 'source' | 'target' } | null;
}

/** A label's box as drawn (10 px text, with its background's padding), generously measured. */
export function labelSize(text: string): { width: number; height: number } {
  return { width: Math.ceil(text.length * 6.4) + 12, height: 16 };
}

export function layoutFlow(graph: FlowGraph, options: { compact?: boolean } = {}): FlowLayout {
  const nodeWidth = options.compact ? COMPACT_NODE_WIDTH : NODE_WIDTH;
  const columnGap = options.compact ? COMPACT_COLUMN_GAP : COLUMN_GAP;
  const onPath = new Set(graph.nodes.filter((n) => PATH_KINDS.has(n.kind)).map((n) => n.id));
  const pathEdges = new Set<string>();
  const branches = new Map<string, string[]>();
  for (const edge of graph.edges) {
    if (onPath.has(edge.from) && onPath.has(edge.to)) pathEdges.add(edge.id);
    else if (!onPath.has(edge.to)) branches.set(edge.from, [...(branches.get(edge.from) ?? []), edge.to]);
  }

  const placed = new Map<string, { column: number; y: number }>();
  let rowTop = 0;
  const placeRow = (first: string): void => {
    placed.set(first, { column: 0, y: rowTop });
    let rowBottom = rowTop + NODE_HEIGHT;
    const nextFreeY: number[] = [];
    // Depth-first along the branch; a node already placed (a module shared by several layers)
    // keeps its first place and is only linked to.
    const place = (id: string, column: number, atLeastY: number): void => {
      for (const child of branches.get(id) ?? []) {
        if (placed.has(child)) continue;
        const y = Math.max(nextFreeY[column] ?? rowTop, atLeastY);
        placed.set(child, { column, y });
        nextFreeY[column] = y + NODE_HEIGHT + STACKED_GAP;
        rowBottom = Math.max(rowBottom, y + NODE_HEIGHT);
        place(child, column + 1, y);
      }
    };
    place(first, 1, rowTop);
    rowTop = rowBottom + ROW_GAP;
  };

  for (const node of graph.nodes) if (onPath.has(node.id)) placeRow(node.id);
  // Whatever hangs off no path node (not produced today) still gets a row of its own.
  for (const node of graph.nodes) if (!placed.has(node.id)) placeRow(node.id);

  // Each gap between two columns is wide enough for the labels of the edges that cross it (a
  // patch's "jumps to 0x…" is wider than "runs in"), with room for an edge to turn beside it.
  const gaps: number[] = [];
  if (!options.compact)
    for (const edge of graph.edges) {
      const from = placed.get(edge.from);
      if (!edge.label || !from || pathEdges.has(edge.id)) continue;
      gaps[from.column] = Math.max(gaps[from.column] ?? columnGap, labelSize(edge.label).width + 44);
    }
  const columnX: number[] = [0];
  const xOf = (column: number): number => {
    for (let c = columnX.length; c <= column; c++)
      columnX[c] = columnX[c - 1]! + nodeWidth + (gaps[c - 1] ?? columnGap);
    return columnX[column]!;
  };
  const positions = new Map<string, { x: number; y: number }>();
  for (const [id, { column, y }] of placed) positions.set(id, { x: xOf(column), y });
  const routes = routeEdges(graph, positions, pathEdges, nodeWidth, options.compact ?? false);
  return { positions, pathEdges, routes };
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
/** An axis-parallel piece of an edge. */
interface Segment {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

function crosses(segment: Segment, box: Box): boolean {
  const x = Math.min(segment.x1, segment.x2);
  const y = Math.min(segment.y1, segment.y2);
  return overlaps(
    { x, y, width: Math.abs(segment.x2 - segment.x1) || 1, height: Math.abs(segment.y2 - segment.y1) || 1 },
    box,
  );
}

/** Two vertical pieces drawn on top of each other would read as one edge. */
function sharesVertical(a: Segment, b: Segment): boolean {
  if (a.x1 !== a.x2 || b.x1 !== b.x2 || Math.abs(a.x1 - b.x1) > 6) return false;
  const [a1, a2] = [Math.min(a.y1, a.y2), Math.max(a.y1, a.y2)];
  const [b1, b2] = [Math.min(b.y1, b.y2), Math.max(b.y1, b.y2)];
  return a1 < b2 && b1 < a2;
}

const centred = (x: number, y: number, size: { width: number; height: number }): Box => ({
  x: x - size.width / 2,
  y: y - size.height / 2,
  ...size,
});

/**
 * Routes the edges off the path so that no label lies on a node, on another label or under
 * another edge: straight edges first (their place is fixed), then those between rows, each taking
 * the first turn and label place that is free — near its source, near its target, in the middle.
 * The path's own edges and labels (drawn down the first column) are obstacles too.
 */
function routeEdges(
  graph: FlowGraph,
  positions: Map<string, { x: number; y: number }>,
  pathEdges: Set<string>,
  nodeWidth: number,
  compact: boolean,
): Map<string, EdgeRoute> {
  const nodes: Box[] = [...positions.values()].map((p) => ({ ...p, width: nodeWidth, height: NODE_HEIGHT }));
  const labels: Box[] = [];
  const segments: Segment[] = [];
  const free = (box: Box) =>
    !nodes.some((n) => overlaps(n, box)) &&
    !labels.some((l) => overlaps(l, box)) &&
    !segments.some((s) => crosses(s, box));
  const clear = (pieces: Segment[]) =>
    pieces.every(
      (piece) =>
        !labels.some((l) => crosses(piece, l)) &&
        !segments.some((s) => sharesVertical(piece, s)) &&
        (piece.x1 !== piece.x2 || !nodes.some((n) => crosses(piece, n))),
    );

  for (const edge of graph.edges) {
    if (!pathEdges.has(edge.id)) continue;
    const from = positions.get(edge.from);
    const to = positions.get(edge.to);
    if (!from || !to) continue;
    const x = from.x + nodeWidth / 2;
    segments.push({ x1: x, y1: from.y + NODE_HEIGHT, x2: x, y2: to.y });
    if (edge.label) labels.push(centred(x, (from.y + NODE_HEIGHT + to.y) / 2, labelSize(edge.label)));
  }

  const routes = new Map<string, EdgeRoute>();
  const branch = graph.edges.filter(
    (e) => !pathEdges.has(e.id) && positions.has(e.from) && positions.has(e.to),
  );
  const ends = (edge: FlowGraph['edges'][number]) => {
    const from = positions.get(edge.from)!;
    const to = positions.get(edge.to)!;
    return { sx: from.x + nodeWidth, sy: from.y + NODE_HEIGHT / 2, tx: to.x, ty: to.y + NODE_HEIGHT / 2 };
  };
  const straight = branch.filter((e) => ends(e).sy === ends(e).ty);
  const turning = branch.filter((e) => ends(e).sy !== ends(e).ty);
  for (const edge of [...straight, ...turning]) {
    const { sx, sy, tx, ty } = ends(edge);
    // In two diagrams side by side the branch edges carry no label (see FlowDiagram).
    const size = edge.label && !compact ? labelSize(edge.label) : null;
    const options: Array<{ route: EdgeRoute; pieces: Segment[]; box: Box | null }> = [];
    if (sy === ty) {
      const pieces = [{ x1: sx, y1: sy, x2: tx, y2: ty }];
      for (const at of [0.5, 0.35, 0.65]) {
        const x = sx + (tx - sx) * at;
        options.push({
          route: { stepX: null, label: size ? { x, row: 'source' } : null },
          pieces,
          box: size ? centred(x, sy, size) : null,
        });
      }
    } else {
      const steps = [sx + 18, tx - 18, (sx + tx) / 2, sx + (tx - sx) * 0.3, sx + (tx - sx) * 0.7].filter(
        (x) => x > sx + 8 && x < tx - 8,
      );
      for (const stepX of steps.length ? steps : [(sx + tx) / 2]) {
        const pieces = [
          { x1: sx, y1: sy, x2: stepX, y2: sy },
          { x1: stepX, y1: sy, x2: stepX, y2: ty },
          { x1: stepX, y1: ty, x2: tx, y2: ty },
        ];
        if (!size) {
          options.push({ route: { stepX, label: null }, pieces, box: null });
          continue;
        }
        for (const [row, from, to, y] of [
          ['target', stepX, tx, ty],
          ['source', sx, stepX, sy],
        ] as const) {
          if (to - from < size.width + 8) continue;
          const x = (from + to) / 2;
          options.push({ route: { stepX, label: { x, row } }, pieces, box: centred(x, y, size) });
        }
      }
    }
    if (options.length === 0) {
      // No segment is long enough for the label (not expected: the gaps are made for them).
      const stepX = (sx + tx) / 2;
      options.push({
        route: { stepX: sy === ty ? null : stepX, label: size ? { x: stepX, row: 'source' } : null },
        pieces: [],
        box: null,
      });
    }
    const chosen =
      options.find((o) => clear(o.pieces) && (!o.box || free(o.box))) ??
      options.find((o) => !o.box || free(o.box)) ??
      options[0];
    if (!chosen) continue;
    routes.set(edge.id, chosen.route);
    segments.push(...chosen.pieces);
    if (chosen.box) labels.push(chosen.box);
  }
  return routes;
}
