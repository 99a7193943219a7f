// Lays a flow graph out top to bottom with ELK's layered algorithm (the request path reads down
// the page, side branches — dispatch routines and modules — fan out to the right).

import ELK from 'elkjs/lib/elk.bundled.js';
import type { FlowGraph } from '../../common/api';

const elk = new ELK();

export const NODE_WIDTH = 250;
export const NODE_HEIGHT = 58;

export interface Positioned {
  id: string;
  x: number;
  y: number;
}

const SPINE_KINDS = new Set(['api', 'ntdll', 'syscall', 'io-manager', 'symbolic-link', 'device']);

function onSpine(graph: FlowGraph, id: string): boolean {
  return SPINE_KINDS.has(graph.nodes.find((n) => n.id === id)?.kind ?? '');
}

export async function layoutFlow(graph: FlowGraph): Promise<Map<string, Positioned>> {
  const laid = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.layered.spacing.nodeNodeBetweenLayers': '38',
      'elk.spacing.nodeNode': '28',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.mergeEdges': 'true',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.edgeRouting': 'ORTHOGONAL',
    },
    children: graph.nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: graph.edges.map((e) => ({
      id: e.id,
      sources: [e.from],
      targets: [e.to],
      // The request's own path (API → … → each device down the stack) is drawn as a straight spine;
      // dispatch routines and modules branch off it.
      ...(onSpine(graph, e.from) && onSpine(graph, e.to)
        ? { layoutOptions: { 'elk.layered.priority.straightness': '50' } }
        : {}),
    })),
  });
  return new Map((laid.children ?? []).map((c) => [c.id, { id: c.id, x: c.x ?? 0, y: c.y ?? 0 }]));
}
