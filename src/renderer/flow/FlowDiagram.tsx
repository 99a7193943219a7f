// One request-path diagram (React Flow, laid out in rows by layout.ts): nodes that carry findings
// are red, nodes marked as differing from the other image of a comparison get a dashed outline;
// a click (or Enter on a focused node) opens the node.

import { useMemo } from 'react';
import { Background, Controls, MarkerType, ReactFlow, type Edge } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import type { FlowGraph, FlowNode } from '../../common/api';
import { severityRank } from '../../common/findings';
import type { ResultIndex } from '../util/result-index';
import { FlowNodeView, type FlowRfNode } from './FlowNodeView';
import { layoutFlow } from '../../common/flow-layout';

const nodeTypes = { irp: FlowNodeView };

export interface FlowDiagramProps {
  graph: FlowGraph;
  index: ResultIndex;
  onOpen: (node: FlowNode) => void;
  /** Node ids that differ from the other image's diagram. */
  differs?: ReadonlySet<string>;
  /** Narrow nodes and columns, for two diagrams side by side. */
  compact?: boolean;
  testId?: string;
}

export function FlowDiagram({ graph, index, onOpen, differs, compact, testId }: FlowDiagramProps) {
  const layout = useMemo(() => layoutFlow(graph, { compact }), [graph, compact]);
  const severityOf = useMemo(() => {
    return (node: FlowNode): string | null => {
      const found = node.findings.map((id) => index.findings.get(id)).filter((f) => !!f);
      found.sort((a, b) => severityRank(b!.severity) - severityRank(a!.severity));
      return found[0]?.severity ?? null;
    };
  }, [index]);
  const nodes = useMemo<FlowRfNode[]>(
    () =>
      graph.nodes.map((node) => ({
        id: node.id,
        type: 'irp' as const,
        position: layout.positions.get(node.id) ?? { x: 0, y: 0 },
        data: { node, severity: severityOf(node), differs: differs?.has(node.id) ?? false, compact },
        draggable: false,
        connectable: false,
      })),
    [graph, layout, severityOf, differs, compact],
  );
  const edges = useMemo<Edge[]>(
    () =>
      graph.edges.map((e) => ({
        id: e.id,
        source: e.from,
        target: e.to,
        ...(layout.pathEdges.has(e.id)
          ? { sourceHandle: 'bottom', targetHandle: 'top' }
          : { sourceHandle: 'right', targetHandle: 'left' }),
        label: compact && !layout.pathEdges.has(e.id) ? undefined : (e.label ?? undefined),
        type: 'smoothstep',
        animated: e.suspicious,
        className: e.suspicious ? 'suspicious' : undefined,
        markerEnd: { type: MarkerType.ArrowClosed, color: e.suspicious ? '#ff5c7a' : '#6b7a90' },
        style: { stroke: e.suspicious ? '#ff5c7a' : '#4b5668', strokeWidth: e.suspicious ? 2 : 1.3 },
        labelStyle: { fill: e.suspicious ? '#ff9aae' : '#9aa6b8', fontSize: 10 },
        labelBgStyle: { fill: '#11151c' },
      })),
    [graph, layout, compact],
  );
  return (
    <div
      className="flow-canvas"
      data-testid={testId}
      // Nodes take the focus with Tab (React Flow makes them focusable); Enter opens the focused one.
      onKeyDown={(e) => {
        if (e.key !== 'Enter') return;
        const id = (e.target as HTMLElement).closest('.react-flow__node')?.getAttribute('data-id');
        const node = graph.nodes.find((n) => n.id === id);
        if (node) {
          e.preventDefault();
          onOpen(node);
        }
      }}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodeClick={(_, node) => onOpen(node.data.node)}
        fitView
        fitViewOptions={{ padding: 0.15 }}
        minZoom={0.15}
        maxZoom={2}
        nodesDraggable={false}
        nodesConnectable={false}
        proOptions={{ hideAttribution: true }}
        colorMode="dark"
        key={`${graph.device}|${graph.operation}|${layout.positions.size}`}
      >
        <Background gap={24} color="#1c2430" />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

export default FlowDiagram;
