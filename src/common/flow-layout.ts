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

  const positions = new Map<string, { x: number; y: number }>();
  let rowTop = 0;
  const placeRow = (first: string): void => {
    positions.set(first, { x: 0, y: rowTop });
    let rowBottom = rowTop + NODE_HEIGHT;
    const nextFreeY: number[] = [];
    // Depth-first along the branch; a node already placed (a module shared by several layers)
    // keeps its first place and is only linked to.
    const place = (id: string, column: number, atLeastY: number): void => {
      for (const child of branches.get(id) ?? []) {
        if (positions.has(child)) continue;
        const y = Math.max(nextFreeY[column] ?? rowTop, atLeastY);
        positions.set(child, { x: column * (nodeWidth + columnGap), y });
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
  for (const node of graph.nodes) if (!positions.has(node.id)) placeRow(node.id);
  return { positions, pathEdges };
}
