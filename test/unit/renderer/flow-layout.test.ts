import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FlowGraph } from '../../../src/common/api';
import { USER_OPERATIONS, buildFlow } from '../../../src/common/flow';
import type { AnalysisResult } from '../../../src/common/model';
import { NODE_HEIGHT, NODE_WIDTH, layoutFlow } from '../../../src/common/flow-layout';
import { analyse, buildTestImages, type TestImages } from '../backend/images';

let images: TestImages;
let infected: AnalysisResult;

beforeAll(async () => {
  images = buildTestImages();
  infected = await analyse(images.infected);
});
afterAll(() => images.remove());

/** Every graph the workbench can draw for the devices user mode reaches, and the Ntfs stacks. */
function graphs(): FlowGraph[] {
  const devices = infected.devices.filter((d) => d.links.length > 0 || d.driverName === '\\FileSystem\\Ntfs');
  return devices.flatMap((d) => USER_OPERATIONS.map((op) => buildFlow(infected, d.id, op)));
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
});
