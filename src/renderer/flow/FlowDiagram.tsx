// One request-path diagram (React Flow, laid out in rows by layout.ts): nodes that carry findings
// are red, nodes marked as differing from the other image of a comparison get a dashed outline;
// a click (or Enter on a focused node) opens the node. Edges off the path follow the routes the
// layout chose so that no label lies on another or under an edge. The zoom buttons sit in a bar
// above the canvas, never over a node. Two diagrams side by side (compact) open at a readable
// zoom, as tall as they need, and pan sideways when wider than their pane.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  Background,
  BaseEdge,
  MarkerType,
  PanOnScrollMode,
  ReactFlow,
  ReactFlowProvider,
  getSmoothStepPath,
  useReactFlow,
  useUpdateNodeInternals,
  type Edge,
  type EdgeProps,
  type NodeChange,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import type { FlowGraph, FlowNode } from '../../common/api';
import { severityRank } from '../../common/findings';
import type { ResultIndex } from '../util/result-index';
import { visibleText } from '../util/format';
import { FLOW_KIND_LABELS } from '../../common/flow';
import { FlowNodeView, type FlowRfNode } from './FlowNodeView';
import {
  COMPACT_NODE_WIDTH,
  NODE_HEIGHT,
  NODE_WIDTH,
  layoutFlow,
  type EdgeRoute,
} from '../../common/flow-layout';

const nodeTypes = { irp: FlowNodeView };

/** Two diagrams side by side are never drawn smaller than this: below it their text is unreadable. */
export const READABLE_ZOOM = 0.85;
const PADDING = 16;

interface NodeSize {
  width: number;
  height: number;
}
/** The sizes React Flow reported for the nodes of one graph, drawn compact or not. */
interface Measure {
  graph: FlowGraph;
  compact: boolean | undefined;
  sizes: ReadonlyMap<string, NodeSize>;
}
const NO_SIZES: ReadonlyMap<string, NodeSize> = new Map();

type RoutedEdge = Edge<{ route: EdgeRoute | null }, 'routed'>;

/** An edge off the path, drawn where the layout routed it. */
function RoutedEdgeView(props: EdgeProps<RoutedEdge>) {
  const { sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, label } = props;
  const route = data?.route ?? null;
  const [path, centreX, centreY] = getSmoothStepPath({
    sourceX,
    sourceY,
    sourcePosition,
    targetX,
    targetY,
    targetPosition,
    borderRadius: 5,
    ...(route?.stepX != null ? { centerX: route.stepX } : {}),
  });
  const labelX = route?.label?.x ?? centreX;
  const labelY = route?.label ? (route.label.row === 'source' ? sourceY : targetY) : centreY;
  return (
    <BaseEdge
      id={props.id}
      path={path}
      {...(props.markerEnd ? { markerEnd: props.markerEnd } : {})}
      {...(props.style ? { style: props.style } : {})}
      {...(label !== undefined && label !== null
        ? {
            label,
            labelX,
            labelY,
            labelShowBg: true,
            labelBgPadding: [4, 2] as [number, number],
            labelBgBorderRadius: 2,
            ...(props.labelStyle ? { labelStyle: props.labelStyle } : {}),
            ...(props.labelBgStyle ? { labelBgStyle: props.labelBgStyle } : {}),
          }
        : {})}
    />
  );
}

const edgeTypes = { routed: RoutedEdgeView };

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

export function FlowDiagram(props: FlowDiagramProps) {
  return (
    <ReactFlowProvider>
      <FlowCanvas {...props} />
    </ReactFlowProvider>
  );
}

function ZoomBar({ onFit }: { onFit: () => void }) {
  const flow = useReactFlow();
  return (
    <div className="flow-zoom" role="group" aria-label="Zoom" data-testid="flow-zoom">
      <button type="button" className="ghost" onClick={() => void flow.zoomOut()} aria-label="Zoom out">
        −
      </button>
      <button type="button" className="ghost" onClick={() => void flow.zoomIn()} aria-label="Zoom in">
        +
      </button>
      <button type="button" className="ghost" onClick={onFit} title="Show the whole path">
        Fit
      </button>
    </div>
  );
}

function FlowCanvas({ graph, index, onOpen, differs, compact, testId }: FlowDiagramProps) {
  const flow = useReactFlow();
  const layout = useMemo(() => layoutFlow(graph, { compact }), [graph, compact]);
  const bounds = useMemo(() => {
    let width = 0;
    let height = 0;
    for (const { x, y } of layout.positions.values()) {
      width = Math.max(width, x + (compact ? COMPACT_NODE_WIDTH : NODE_WIDTH));
      height = Math.max(height, y + NODE_HEIGHT);
    }
    return { width, height };
  }, [layout, compact]);
  // The width of the pane, for the compact diagram's zoom.
  const host = useRef<HTMLDivElement>(null);
  const [paneWidth, setPaneWidth] = useState(0);
  useEffect(() => {
    const element = host.current;
    if (!element || !compact) return;
    const observer = new ResizeObserver(() => setPaneWidth(element.clientWidth));
    observer.observe(element);
    setPaneWidth(element.clientWidth);
    return () => observer.disconnect();
  }, [compact]);
  const compactZoom = Math.min(
    1,
    Math.max(READABLE_ZOOM, (paneWidth - 2 * PADDING) / Math.max(1, bounds.width)),
  );
  const compactHeight = Math.ceil(bounds.height * compactZoom + 2 * PADDING + 8);

  const fit = (): void => {
    if (compact) void flow.setViewport({ x: PADDING, y: PADDING, zoom: compactZoom });
    else void flow.fitView({ padding: 0.15 });
  };
  useEffect(() => {
    if (compact && paneWidth > 0) void flow.setViewport({ x: PADDING, y: PADDING, zoom: compactZoom });
  }, [compact, paneWidth, compactZoom, flow, graph]);

  const severityOf = useMemo(() => {
    return (node: FlowNode): string | null => {
      const found = node.findings.map((id) => index.findings.get(id)).filter((f) => !!f);
      found.sort((a, b) => severityRank(b!.severity) - severityRank(a!.severity));
      return found[0]?.severity ?? null;
    };
  }, [index]);
  // React Flow writes node and edge ids into the page (ids, data-ids, aria-labels): it gets
  // opaque ones, since the graph's ids carry names from the image.
  const ids = useMemo(() => new Map(graph.nodes.map((node, i) => [node.id, `n${i}`])), [graph]);
  const byRfId = useMemo(() => new Map(graph.nodes.map((node, i) => [`n${i}`, node])), [graph]);
  const labelOf = useMemo(
    () => new Map(graph.nodes.map((node) => [node.id, visibleText(node.label)])),
    [graph],
  );
  // React Flow hides a node until it has measured it, and keeps the measure only on the node
  // objects it is given (xyflow's adoptUserNodes). Nodes made afresh, as they are when the other
  // image's path arrives and marks the differing ones, are hidden until measured again; made
  // between a measurement and the next render they were never measured again and stayed hidden.
  // So each node is given back the size React Flow last reported for it; and since a node adopted
  // afresh in that moment also lost where its handles are (no edge could be drawn to it), every
  // new set of nodes is measured again once React Flow has adopted it (its store's effect runs
  // before this component's).
  const [measure, setMeasure] = useState<Measure | null>(null);
  const sizes = measure?.graph === graph && measure.compact === compact ? measure.sizes : NO_SIZES;
  const keepMeasure = useCallback(
    (changes: NodeChange<FlowRfNode>[]) => {
      const reported = changes.flatMap((c) => (c.type === 'dimensions' && c.dimensions ? [c] : []));
      if (reported.length === 0) return;
      setMeasure((last) => {
        const next = new Map(last?.graph === graph && last.compact === compact ? last.sizes : NO_SIZES);
        for (const change of reported) next.set(change.id, change.dimensions!);
        return { graph, compact, sizes: next };
      });
    },
    [graph, compact],
  );
  const nodes = useMemo<FlowRfNode[]>(
    () =>
      graph.nodes.map((node) => {
        const id = ids.get(node.id)!;
        const size = sizes.get(id);
        return {
          id,
          ...(size ? { measured: size } : {}),
          ariaLabel: `${FLOW_KIND_LABELS[node.kind]}: ${labelOf.get(node.id)}`,
          type: 'irp' as const,
          position: layout.positions.get(node.id) ?? { x: 0, y: 0 },
          data: { node, severity: severityOf(node), differs: differs?.has(node.id) ?? false, compact },
          draggable: false,
          connectable: false,
        };
      }),
    [graph, layout, severityOf, differs, compact, ids, labelOf, sizes],
  );
  const updateNodeInternals = useUpdateNodeInternals();
  useEffect(() => updateNodeInternals(nodes.map((node) => node.id)), [nodes, updateNodeInternals]);
  const edges = useMemo<Edge[]>(
    () =>
      graph.edges.map((e, i) => {
        const onPath = layout.pathEdges.has(e.id);
        const ends = {
          id: `e${i}`,
          source: ids.get(e.from)!,
          target: ids.get(e.to)!,
          ariaLabel: `${labelOf.get(e.from)} → ${labelOf.get(e.to)}`,
        };
        const label = compact && !onPath ? undefined : e.label ? visibleText(e.label) : undefined;
        const look = {
          animated: e.suspicious,
          className: e.suspicious ? 'suspicious' : undefined,
          markerEnd: { type: MarkerType.ArrowClosed, color: e.suspicious ? '#ff5c7a' : '#6b7a90' },
          style: { stroke: e.suspicious ? '#ff5c7a' : '#4b5668', strokeWidth: e.suspicious ? 2 : 1.3 },
          labelStyle: { fill: e.suspicious ? '#ff9aae' : '#9aa6b8', fontSize: 10 },
          labelBgStyle: { fill: '#11151c' },
          label,
        };
        return onPath
          ? {
              ...ends,
              sourceHandle: 'bottom',
              targetHandle: 'top',
              type: 'smoothstep',
              ...look,
            }
          : {
              ...ends,
              sourceHandle: 'right',
              targetHandle: 'left',
              type: 'routed',
              data: { route: layout.routes.get(e.id) ?? null },
              ...look,
            };
      }),
    [graph, layout, compact, ids, labelOf],
  );
  return (
    <div className={`flow-diagram${compact ? ' compact' : ''}`} ref={host}>
      <ZoomBar onFit={fit} />
      <div
        className="flow-canvas"
        data-testid={testId}
        style={compact ? { height: compactHeight } : undefined}
        // Nodes take the focus with Tab (React Flow makes them focusable); Enter opens the focused one.
        onKeyDown={(e) => {
          if (e.key !== 'Enter') return;
          const id = (e.target as HTMLElement).closest('.react-flow__node')?.getAttribute('data-id');
          const node = id ? byRfId.get(id) : undefined;
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
          edgeTypes={edgeTypes}
          onNodesChange={keepMeasure}
          onNodeClick={(_, node) => onOpen(node.data.node)}
          {...(compact
            ? { defaultViewport: { x: PADDING, y: PADDING, zoom: compactZoom } }
            : { fitView: true, fitViewOptions: { padding: 0.15 } })}
          minZoom={0.15}
          maxZoom={2}
          nodesDraggable={false}
          nodesConnectable={false}
          // Wider than its pane, a compact diagram pans sideways with the wheel; the page scrolls.
          panOnScroll={compact}
          panOnScrollMode={PanOnScrollMode.Horizontal}
          zoomOnScroll={!compact}
          preventScrolling={!compact}
          proOptions={{ hideAttribution: true }}
          colorMode="dark"
          key={`${graph.device}|${graph.operation}|${layout.positions.size}`}
        >
          <Background gap={24} color="#1c2430" />
        </ReactFlow>
      </div>
    </div>
  );
}

export default FlowDiagram;
