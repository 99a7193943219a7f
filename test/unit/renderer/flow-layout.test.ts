import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FlowGraph } from '../../../src/common/api';
import { USER_OPERATIONS, buildFlow, buildIrpFlow } from '../../../src/common/flow';
import type { AnalysisResult } from '../../../src/common/model';
import { analyzeImage } from '../../../src/core/node/analyze';
import { NODE_HEIGHT, NODE_WIDTH, layoutFlow, type FlowLayout } from '../../../src/common/flow-layout';
import { analyse, buildTestImages, type TestImages } from '../backend/images';

let images: TestImages;
let infected: AnalysisResult;
/** The real engine's result: the stand-in reads no processes, threads or IRPs. */
let real: AnalysisResult;

beforeAll(async () => {
  images = buildTestImages();
  infected = await analyse(images.infected);
  real = await analyzeImage(images.infected);
});
afterAll(() => images.remove());

/** Every graph the workbench can draw for the devices user mode reaches, and the Ntfs stacks. */
function graphs(): FlowGraph[] {
  const devices = infected.devices.filter((d) => d.links.length > 0 || d.driverName === '\\FileSystem\\Ntfs');
  return devices.flatMap((d) => USER_OPERATIONS.map((op) => buildFlow(infected, d.id, op)));
}

/** The path of every request in flight (process → … → each layer, its dispatch and completion routines). */
function irpGraphs(): FlowGraph[] {
  return real.irps.map((irp) => buildIrpFlow(real, irp.address));
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
const apart = (a: Box, b: Box) =>
  a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;

/**
 * Every edge as the workbench draws it: its straight pieces and its label's box (10 px text, about
 * 6 px a character). An edge the layout gives no route is drawn as React Flow draws a step edge:
 * turning half-way, its label at the centre between its ends.
 */
function drawn(graph: FlowGraph, layout: FlowLayout) {
  const at = (id: string) => layout.positions.get(id)!;
  return graph.edges.map((edge) => {
    const [from, to] = [at(edge.from), at(edge.to)];
    const box = (x: number, y: number): Box | null =>
      edge.label
        ? { x: x - (edge.label.length * 6 + 8) / 2, y: y - 7, width: edge.label.length * 6 + 8, height: 14 }
        : null;
    if (layout.pathEdges.has(edge.id)) {
      const x = from.x + NODE_WIDTH / 2;
      const [y1, y2] = [from.y + NODE_HEIGHT, to.y];
      return { edge, pieces: [{ x, y: y1, width: 0, height: y2 - y1 }], label: box(x, (y1 + y2) / 2) };
    }
    const [sx, sy, tx, ty] = [from.x + NODE_WIDTH, from.y + NODE_HEIGHT / 2, to.x, to.y + NODE_HEIGHT / 2];
    const route = layout.routes?.get(edge.id);
    const step = route?.stepX ?? (sx + tx) / 2;
    const pieces =
      sy === ty
        ? [{ x: sx, y: sy, width: tx - sx, height: 0 }]
        : [
            { x: sx, y: sy, width: step - sx, height: 0 },
            { x: step, y: Math.min(sy, ty), width: 0, height: Math.abs(ty - sy) },
            { x: step, y: ty, width: tx - step, height: 0 },
          ];
    const label = route?.label
      ? box(route.label.x, route.label.row === 'source' ? sy : ty)
      : box((sx + tx) / 2, (sy + ty) / 2);
    return { edge, pieces, label };
  });
}

describe('flow layout', () => {
  test('places every node, none on top of another', () => {
    for (const graph of graphs()) {
      const { positions } = layoutFlow(graph);
      expect(positions.size).toBe(graph.nodes.length);
      const boxes = [...positions.values()];
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i]!, boxes[j]!];
          const apart =
            a.x + NODE_WIDTH <= b.x ||
            b.x + NODE_WIDTH <= a.x ||
            a.y + NODE_HEIGHT <= b.y ||
            b.y + NODE_HEIGHT <= a.y;
          expect(apart, `${graph.device} ${graph.operation}: nodes ${i} and ${j} overlap`).toBe(true);
        }
    }
  });

  test('the path runs down the first column; each dispatch routine sits on its device row, to the right', () => {
    for (const graph of graphs()) {
      const { positions, pathEdges } = layoutFlow(graph);
      const kind = new Map(graph.nodes.map((n) => [n.id, n.kind]));
      for (const edge of graph.edges) {
        const [from, to] = [positions.get(edge.from)!, positions.get(edge.to)!];
        if (pathEdges.has(edge.id)) {
          expect(from.x).toBe(0);
          expect(to.x).toBe(0);
          expect(to.y).toBeGreaterThan(from.y);
        } else if (kind.get(edge.from) === 'device') {
          expect(kind.get(edge.to)).toBe('dispatch');
          expect(to.y).toBe(from.y);
          expect(to.x).toBeGreaterThan(from.x);
        } else {
          expect(to.x).toBeGreaterThan(from.x);
        }
      }
      const pathKinds = graph.edges.filter((e) => pathEdges.has(e.id)).map((e) => kind.get(e.to));
      expect(pathKinds.every((k) => k !== 'dispatch' && k !== 'module')).toBe(true);
    }
  });

  test('edge labels lie on no node, on no other label and under no other edge', () => {
    const all = [...graphs(), ...irpGraphs()];
    expect(all.some((g) => g.nodes.some((n) => n.kind === 'completion'))).toBe(true);
    for (const graph of all) {
      const layout = layoutFlow(graph);
      const edges = drawn(graph, layout);
      const nodes = [...layout.positions.values()].map((p) => ({
        ...p,
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
      }));
      const where = `${graph.device} ${graph.operation}${graph.irp ? ` IRP ${graph.irp}` : ''}`;
      for (const [i, a] of edges.entries()) {
        if (!a.label) continue;
        // A piece touching the label's box by less than a pixel does not hide it.
        const inner = {
          x: a.label.x + 1,
          y: a.label.y + 1,
          width: a.label.width - 2,
          height: a.label.height - 2,
        };
        for (const node of nodes)
          expect(apart(inner, node), `${where}: "${a.edge.label}" on a node`).toBe(true);
        for (const [j, b] of edges.entries()) {
          if (i === j) continue;
          if (b.label)
            expect(apart(inner, b.label), `${where}: "${a.edge.label}" on "${b.edge.label}"`).toBe(true);
          for (const piece of b.pieces)
            expect(
              apart(inner, { ...piece, width: Math.max(piece.width, 1), height: Math.max(piece.height, 1) }),
              `${where}: the edge ${b.edge.id} runs through "${a.edge.label}"`,
            ).toBe(true);
        }
      }
    }
  });
});
