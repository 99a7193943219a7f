// What a user-mode request on a device really reaches: a React Flow diagram of the path from the
// Win32 call down the device stack to each layer's dispatch routine and its module, laid out in
// rows (src/renderer/flow/layout.ts). Nodes that carry findings are drawn red; a click opens the node in a table or the hex view.

import { useEffect, useMemo, useState } from 'react';
import { Background, Controls, MarkerType, ReactFlow, type Edge } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import type { FlowGraph, FlowNode, UserOperation } from '../../common/api';
import { severityRank } from '../../common/findings';
import { api } from '../api/client';
import { Text } from '../components/Text';
import { FlowNodeView, type FlowRfNode } from '../flow/FlowNodeView';
import { layoutFlow } from '../flow/layout';
import { useApp } from '../state/app-state';
import { deviceLabel, type ResultIndex } from '../util/result-index';

const OPERATIONS: UserOperation[] = ['CreateFile', 'ReadFile', 'WriteFile', 'DeviceIoControl'];
const nodeTypes = { irp: FlowNodeView };

/** The device to show first: a hooked one reachable from user mode, else any with a link. */
export function defaultFlowDevice(index: ResultIndex): string | null {
  const devices = index.result.devices;
  const hookedDrivers = new Set(index.hooked.keys());
  const reachable = devices.filter((d) => d.links.length > 0);
  const pick =
    reachable.find((d) => d.stack.some((id) => hookedDrivers.has(index.devices.get(id)?.driver ?? ''))) ??
    devices.find(
      (d) => d.stack.some((id) => hookedDrivers.has(index.devices.get(id)?.driver ?? '')) && d.name,
    ) ??
    reachable[0] ??
    devices[0];
  return pick?.id ?? null;
}

export default function FlowView({ session, index }: { session: string; index: ResultIndex }) {
  const { location, navigate, notify } = useApp();
  const asked = location.flow?.device;
  const device = asked && index.devices.has(asked) ? asked : defaultFlowDevice(index);
  const operation = location.flow?.operation ?? 'DeviceIoControl';
  const requestKey = `${session}|${device}|${operation}`;
  const [answer, setAnswer] = useState<{ key: string; graph?: FlowGraph; error?: string } | null>(null);
  const current = answer?.key === requestKey ? answer : null;
  const graph = current?.graph ?? null;
  const layout = useMemo(() => (graph ? layoutFlow(graph) : null), [graph]);
  const error = current?.error ?? null;

  useEffect(() => {
    if (!device) return;
    let live = true;
    const key = `${session}|${device}|${operation}`;
    api
      .flow({ session, device, operation })
      .then((g) => live && setAnswer({ key, graph: g }))
      .catch((e: Error) => live && setAnswer({ key, error: e.message }));
    return () => {
      live = false;
    };
  }, [session, device, operation]);

  const severityOf = useMemo(() => {
    return (node: FlowNode): string | null => {
      const found = node.findings.map((id) => index.findings.get(id)).filter((f) => !!f);
      found.sort((a, b) => severityRank(b!.severity) - severityRank(a!.severity));
      return found[0]?.severity ?? null;
    };
  }, [index]);

  const nodes = useMemo<FlowRfNode[]>(
    () =>
      graph && layout
        ? graph.nodes.map((node) => ({
            id: node.id,
            type: 'irp' as const,
            position: layout.positions.get(node.id) ?? { x: 0, y: 0 },
            data: { node, severity: severityOf(node) },
            draggable: false,
            connectable: false,
          }))
        : [],
    [graph, layout, severityOf],
  );
  const edges = useMemo<Edge[]>(
    () =>
      graph && layout
        ? graph.edges.map((e) => ({
            id: e.id,
            source: e.from,
            target: e.to,
            ...(layout.pathEdges.has(e.id)
              ? { sourceHandle: 'bottom', targetHandle: 'top' }
              : { sourceHandle: 'right', targetHandle: 'left' }),
            label: e.label ?? undefined,
            type: 'smoothstep',
            animated: e.suspicious,
            className: e.suspicious ? 'suspicious' : undefined,
            markerEnd: { type: MarkerType.ArrowClosed, color: e.suspicious ? '#ff5c7a' : '#6b7a90' },
            style: { stroke: e.suspicious ? '#ff5c7a' : '#4b5668', strokeWidth: e.suspicious ? 2 : 1.3 },
            labelStyle: { fill: e.suspicious ? '#ff9aae' : '#9aa6b8', fontSize: 10 },
            labelBgStyle: { fill: '#11151c' },
          }))
        : [],
    [graph, layout],
  );

  const open = (node: FlowNode): void => {
    const target = node.target;
    if (!target) return;
    if (target.view === 'hex' && target.address)
      navigate({ view: 'hex', hex: { space: 'virtual', address: target.address } });
    else if (target.view === 'devices')
      navigate({ view: 'devices', ...(target.id ? { device: target.id } : {}) });
    else if (target.view === 'drivers')
      navigate({ view: 'drivers', ...(target.id ? { driver: target.id } : {}) });
    else if (target.view === 'modules')
      navigate({ view: 'modules', ...(target.id ? { module: target.id.toLowerCase() } : {}) });
    else if (target.view === 'findings')
      navigate({ view: 'findings', ...(target.id ? { finding: target.id } : {}) });
    else notify('info', 'Nothing to open for this node.');
  };

  const choices = useMemo(
    () =>
      index.result.devices
        .filter((d) => d.name || d.id === device)
        .map((d) => ({
          id: d.id,
          label: `${deviceLabel(d)}${d.links.length ? `  (${d.links[0]})` : ''}`,
          linked: d.links.length > 0,
        }))
        .sort((a, b) => Number(b.linked) - Number(a.linked) || a.label.localeCompare(b.label)),
    [index, device],
  );
  const suspicious = graph?.nodes.filter((n) => n.findings.length > 0).length ?? 0;

  return (
    <div className="flow-view" data-testid="view-flow">
      <div className="flow-toolbar">
        <label>
          Device
          <select
            value={device ?? ''}
            onChange={(e) => navigate({ flow: { device: e.target.value, operation } })}
            data-testid="flow-device"
          >
            {choices.map((c) => (
              <option key={c.id} value={c.id}>
                {/* An <option> can only hold text: control characters become a replacement mark. */}
                {/* eslint-disable-next-line no-control-regex */}
                {c.label.replace(/[\u0000-\u001f\u007f]/g, '�')}
              </option>
            ))}
          </select>
        </label>
        <div className="segmented" role="group" aria-label="Operation">
          {OPERATIONS.map((op) => (
            <button
              key={op}
              type="button"
              className={op === operation ? 'active' : ''}
              onClick={() => device && navigate({ flow: { device, operation: op } })}
              data-testid={`flow-op-${op}`}
            >
              {op}
            </button>
          ))}
        </div>
        <span className={`pill ${suspicious ? 'bad' : 'ok'}`} data-testid="flow-suspicious-count">
          {suspicious ? `${suspicious} suspicious node${suspicious === 1 ? '' : 's'}` : 'clean path'}
        </span>
        <span className="legend">
          <span className="flow-node-swatch" /> normal <span className="flow-node-swatch bad" /> carries a
          finding · click a node to open it
        </span>
      </div>
      <div
        className="flow-canvas"
        // Nodes take the focus with Tab (React Flow makes them focusable); Enter opens the focused one.
        onKeyDown={(e) => {
          if (e.key !== 'Enter') return;
          const id = (e.target as HTMLElement).closest('.react-flow__node')?.getAttribute('data-id');
          const node = graph?.nodes.find((n) => n.id === id);
          if (node) {
            e.preventDefault();
            open(node);
          }
        }}
      >
        {error ? (
          <div className="placeholder bad">
            <Text value={error} />
          </div>
        ) : !device ? (
          <div className="placeholder">This image has no device.</div>
        ) : (
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodeClick={(_, node) => open(node.data.node)}
            fitView
            fitViewOptions={{ padding: 0.15 }}
            minZoom={0.2}
            maxZoom={2}
            nodesDraggable={false}
            nodesConnectable={false}
            proOptions={{ hideAttribution: true }}
            colorMode="dark"
            key={`${device}|${operation}|${layout ? layout.positions.size : 0}`}
          >
            <Background gap={24} color="#1c2430" />
            <Controls showInteractive={false} />
          </ReactFlow>
        )}
      </div>
    </div>
  );
}
