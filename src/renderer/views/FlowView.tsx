// What a user-mode request on a device really reaches: a React Flow diagram of the path from the
// Win32 call down the device stack to each layer's dispatch routine and its module, laid out in
// rows (src/renderer/flow/layout.ts). Nodes that carry findings are drawn red; a click opens the node in a table or the hex view.

import { useEffect, useMemo, useState } from 'react';
import type { FlowGraph, FlowNode, UserOperation } from '../../common/api';
import { api } from '../api/client';
import { Text } from '../components/Text';
import { FlowDiagram } from '../flow/FlowDiagram';
import { openFlowNode } from '../flow/open-node';
import { useApp } from '../state/app-state';
import { visibleText } from '../util/format';
import { deviceLabel, type ResultIndex } from '../util/result-index';

const OPERATIONS: UserOperation[] = ['CreateFile', 'ReadFile', 'WriteFile', 'DeviceIoControl'];

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
  const irpAddress = location.flow?.irp;
  const irp = irpAddress ? index.result.irps.find((i) => i.address === irpAddress) : undefined;
  const device = asked && index.devices.has(asked) ? asked : defaultFlowDevice(index);
  const operation = location.flow?.operation ?? 'DeviceIoControl';
  const requestKey = `${session}|${device}|${operation}|${irp?.address ?? ''}`;
  const [answer, setAnswer] = useState<{ key: string; graph?: FlowGraph; error?: string } | null>(null);
  const current = answer?.key === requestKey ? answer : null;
  const graph = current?.graph ?? null;
  const error = current?.error ?? null;

  const irpId = irp?.address;
  useEffect(() => {
    if (!device && !irpId) return;
    let live = true;
    const key = `${session}|${device}|${operation}|${irpId ?? ''}`;
    api
      .flow({ session, device: device ?? '', operation, ...(irpId ? { irp: irpId } : {}) })
      .then((g) => live && setAnswer({ key, graph: g }))
      .catch((e: Error) => live && setAnswer({ key, error: e.message }));
    return () => {
      live = false;
    };
  }, [session, device, operation, irpId]);

  const open = (node: FlowNode): void => openFlowNode(node, navigate, notify);

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
      {irp ? (
        <div className="flow-toolbar" data-testid="flow-irp-banner">
          <span>
            The path of a pending request: <strong>{irp.majorName}</strong> IRP{' '}
            <span className="mono">{irp.address}</span> from{' '}
            <Text value={irp.processName} fallback="an unknown process" /> (thread {irp.tid ?? '?'})
          </span>
          <button
            type="button"
            onClick={() => navigate({ view: 'activity', activity: { tab: 'irps', irp: irp.address } })}
          >
            Open the IRP ›
          </button>
          <button
            type="button"
            onClick={() => irp.device && navigate({ flow: { device: irp.device, operation } })}
          >
            Flow by operation ›
          </button>
          <span className={`pill ${suspicious ? 'bad' : 'ok'}`} data-testid="flow-suspicious-count">
            {suspicious ? `${suspicious} suspicious node${suspicious === 1 ? '' : 's'}` : 'clean path'}
          </span>
        </div>
      ) : (
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
                  {/* An <option> can only hold text: hidden characters show as escapes there too. */}
                  {visibleText(c.label)}
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
      )}
      {error ? (
        <div className="placeholder bad">
          <Text value={error} />
        </div>
      ) : !device && !irp ? (
        <div className="placeholder">This image has no device.</div>
      ) : graph ? (
        <FlowDiagram graph={graph} index={index} onOpen={open} />
      ) : (
        <div className="placeholder">Drawing the path…</div>
      )}
    </div>
  );
}
