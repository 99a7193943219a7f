// One difference in both images: what changed, why it matters and what paired the two sides;
// then the driver's two IRP tables in one aligned table, the two device stacks aligned member by
// member, and the request path of the same device and operation in each image. Every address and
// name opens in its own image.

import { pairingText, unknownText } from '../../../common/pairing';
import { Suspense, lazy, useEffect, useMemo, useState } from 'react';
import type { DiffResult, FlowGraph, FlowNode, SessionSummary, UserOperation } from '../../../common/api';
import { OPERATIONS } from '../../../common/flow';
import type { Device, Driver, Handler } from '../../../common/model';
import { commonSubsequence } from '../../../common/sequence';
import { api } from '../../api/client';
import { SeverityBadge, VerdictBadge } from '../../components/Badges';
import { AddressLink, CallbackLink, DeviceLink, DriverLink, FindingLink } from '../../components/Links';
import { Text } from '../../components/Text';
import { openFlowNode } from '../../flow/open-node';
import { useApp } from '../../state/app-state';
import { callbacksOfDiffKey } from '../../util/callbacks';
import { deviceLabel, driverLabel, type ResultIndex } from '../../util/result-index';
import type { DiffFocus } from './focus';
import { diffEntryLabel } from '../../../common/diff-label';

const FlowDiagram = lazy(() => import('../../flow/FlowDiagram'));

interface SideData {
  session: SessionSummary;
  index: ResultIndex;
}

export interface DiffDetailProps {
  diff: DiffResult;
  focus: DiffFocus;
  operation: UserOperation;
  onOperation: (operation: UserOperation) => void;
  wide: boolean;
  onWide: (wide: boolean) => void;
  baseline: SideData;
  primary: SideData;
}

export function DiffDetail({
  diff,
  focus,
  operation,
  onOperation,
  wide,
  onWide,
  baseline,
  primary,
}: DiffDetailProps) {
  const { entry } = focus;
  const driverA = focus.drivers?.baseline
    ? (baseline.index.drivers.get(focus.drivers.baseline) ?? null)
    : null;
  const driverB = focus.drivers?.primary ? (primary.index.drivers.get(focus.drivers.primary) ?? null) : null;
  const flowDevices = useMemo(
    () => flowDevicesOf(diff, focus, driverA, driverB, primary.index),
    [diff, focus, driverA, driverB, primary.index],
  );
  const deviceA = flowDevices.baseline ? (baseline.index.devices.get(flowDevices.baseline) ?? null) : null;
  const deviceB = flowDevices.primary ? (primary.index.devices.get(flowDevices.primary) ?? null) : null;
  const title =
    (entry ? diffEntryLabel(entry) : undefined) ??
    ((driverB ?? driverA)
      ? driverLabel((driverB ?? driverA)!)
      : deviceB || deviceA
        ? deviceLabel((deviceB ?? deviceA)!)
        : (focus.modules?.primary ?? focus.modules?.baseline ?? ''));
  return (
    <div className="diff-detail">
      <div className="detail-head">
        <h3>
          <Text value={title} />
        </h3>
        {entry ? (
          <>
            <div className="diff-head-line">
              {entry.variation ? (
                <span className="pill">between boots</span>
              ) : (
                <SeverityBadge severity={entry.severity} />
              )}
              <span className={`change change-${entry.change}`}>
                {entry.kind} {entry.change}
              </span>
              <Text value={entry.summary} />
            </div>
            <p className="why" data-testid="diff-why">
              <Text value={entry.why} />
            </p>
          </>
        ) : (
          <p className="muted">The same in both images.</p>
        )}
      </div>
      <div className="diff-detail-body">
        {entry && <EntryFacts entry={entry} baseline={baseline} primary={primary} />}
        {entry?.kind === 'callback' && (
          <section data-testid="diff-callback">
            <h4>The registration in each image</h4>
            <CallbacksSideBySide diffKey={entry.key} baseline={baseline} primary={primary} />
          </section>
        )}
        {(driverA || driverB) && (
          <section>
            <h4>IRP, callback and FastIo entries in both images</h4>
            <HandlersSideBySide
              a={driverA}
              b={driverB}
              changed={new Set(entry?.changes.map((c) => c.what) ?? [])}
              baseline={baseline}
              primary={primary}
            />
          </section>
        )}
        {(deviceA || deviceB) && (
          <section>
            <h4>Device stacks in both images (top → bottom)</h4>
            <StacksSideBySide diff={diff} a={deviceA} b={deviceB} baseline={baseline} primary={primary} />
          </section>
        )}
        {(deviceA || deviceB) && (
          <FlowsSideBySide
            diff={diff}
            a={deviceA}
            b={deviceB}
            operation={operation}
            onOperation={onOperation}
            wide={wide}
            onWide={onWide}
            baseline={baseline}
            primary={primary}
          />
        )}
      </div>
    </div>
  );
}

function EntryFacts({
  entry,
  baseline,
  primary,
}: {
  entry: NonNullable<DiffFocus['entry']>;
  baseline: SideData;
  primary: SideData;
}) {
  return (
    <section>
      <dl className="diff-facts">
        {entry.variation && (
          <>
            <dt>Between boots</dt>
            <dd>
              <Text value={entry.variation} />
            </dd>
          </>
        )}
        <dt>Paired by</dt>
        <dd data-testid="diff-matched-by">
          {entry.matchedBy.length ? (
            entry.matchedBy.map((m, i) => (
              <div key={i}>
                <Text value={pairingText(m)} />
              </div>
            ))
          ) : (
            <span className="muted">only one image has it</span>
          )}
        </dd>
        {entry.unknown.length > 0 && (
          <>
            <dt>Unknown</dt>
            <dd>
              {entry.unknown.map((u, i) => (
                <div key={i} className="muted">
                  <Text value={unknownText(u)} />
                </div>
              ))}
            </dd>
          </>
        )}
        {entry.findings.added.length > 0 && (
          <>
            <dt>New findings</dt>
            <dd>
              {entry.findings.added.map((id) => {
                const finding = primary.index.findings.get(id);
                return (
                  <div key={id}>
                    {finding && <SeverityBadge severity={finding.severity} />}{' '}
                    <FindingLink id={id} session={primary.session.id}>
                      {finding?.kind ?? id}
                    </FindingLink>{' '}
                    <Text value={finding?.subject ?? ''} />
                  </div>
                );
              })}
            </dd>
          </>
        )}
        {entry.findings.removed.length > 0 && (
          <>
            <dt>Findings gone</dt>
            <dd>
              {entry.findings.removed.map((id) => (
                <div key={id}>
                  <FindingLink id={id} session={baseline.session.id}>
                    {baseline.index.findings.get(id)?.kind ?? id}
                  </FindingLink>{' '}
                  (baseline)
                </div>
              ))}
            </dd>
          </>
        )}
      </dl>
      {entry.changes.length > 0 && (
        <table className="diff-changes" data-testid="diff-changes">
          <thead>
            <tr>
              <th>What</th>
              <th>Baseline</th>
              <th>This image</th>
            </tr>
          </thead>
          <tbody>
            {entry.changes.map((c, i) => (
              <tr key={`${c.what}-${i}`} className={`sev-row-${c.severity}`}>
                <td>
                  <Text value={c.what} />
                </td>
                <td className="mono">
                  <Text value={c.baseline} fallback="—" />
                </td>
                <td className="mono">
                  <Text value={c.primary} fallback="—" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CallbacksSideBySide({
  diffKey,
  baseline,
  primary,
}: {
  diffKey: string;
  baseline: SideData;
  primary: SideData;
}) {
  const sides = [
    ['Baseline', baseline],
    ['This image', primary],
  ] as const;
  return (
    <table className="diff-changes">
      <tbody>
        {sides.map(([label, side]) => {
          const callbacks = callbacksOfDiffKey(side.index.result, diffKey);
          return (
            <tr key={label}>
              <th>{label}</th>
              <td>
                {callbacks.length === 0 ? (
                  <span className="absent">not registered</span>
                ) : (
                  callbacks.map((c) => (
                    <div key={c.entry}>
                      <HandlerCell handler={c.routine} side={side} />{' '}
                      <span className="muted">
                        · entry{' '}
                        <AddressLink address={c.entry} wide={side.index.wide} session={side.session.id} /> ·
                      </span>{' '}
                      <CallbackLink callback={c} session={side.session.id} />
                    </div>
                  ))
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function HandlerCell({ handler, side }: { handler: Handler | undefined; side: SideData }) {
  if (!handler) return <span className="absent">—</span>;
  return (
    <span className="handler-cell">
      <AddressLink address={handler.address} wide={side.index.wide} session={side.session.id} />{' '}
      <span className="mono">
        <Text
          value={handler.module ? `${handler.module}+${handler.offset ?? '?'}` : null}
          fallback="no module"
        />
      </span>{' '}
      <VerdictBadge verdict={handler.verdict} />
    </span>
  );
}

function HandlersSideBySide({
  a,
  b,
  changed,
  baseline,
  primary,
}: {
  a: Driver | null;
  b: Driver | null;
  changed: Set<string>;
  baseline: SideData;
  primary: SideData;
}) {
  const rows = useMemo(() => {
    const lists = (d: Driver | null) => [
      ...(d?.irp.map((h) => ['IRP', h] as const) ?? []),
      ...(d?.callbacks.map((h) => ['callback', h] as const) ?? []),
      ...(d?.fastIo.map((h) => ['FastIo', h] as const) ?? []),
    ];
    const order: string[] = [];
    const byKey = new Map<string, { group: string; name: string; a?: Handler; b?: Handler }>();
    for (const [side, driver] of [
      ['a', a],
      ['b', b],
    ] as const) {
      for (const [group, handler] of lists(driver)) {
        const key = `${group}:${handler.name}`;
        let row = byKey.get(key);
        if (!row) {
          row = { group, name: handler.name };
          byKey.set(key, row);
          order.push(key);
        }
        row[side] = handler;
      }
    }
    return order.map((key) => byKey.get(key)!);
  }, [a, b]);
  return (
    <table className="side-by-side" data-testid="diff-handlers">
      <thead>
        <tr>
          <th>Entry</th>
          <th>
            Baseline <DriverLink id={a?.id} name={a ? driverLabel(a) : null} session={baseline.session.id} />
          </th>
          <th>
            This image <DriverLink id={b?.id} name={b ? driverLabel(b) : null} session={primary.session.id} />
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr
            key={`${row.group}:${row.name}`}
            className={changed.has(row.name) ? 'changed' : undefined}
            data-changed={changed.has(row.name) ? 'true' : 'false'}
          >
            <td className="mono">
              <Text value={row.name} />
              {row.group !== 'IRP' && <span className="muted"> ({row.group})</span>}
            </td>
            <td>
              <HandlerCell handler={row.a} side={baseline} />
            </td>
            <td>
              <HandlerCell handler={row.b} side={primary} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function stackOf(index: ResultIndex, device: Device | null): Device[] {
  if (!device) return [];
  return device.stack.map((id) => index.devices.get(id)).filter((d): d is Device => !!d);
}

function StacksSideBySide({
  diff,
  a,
  b,
  baseline,
  primary,
}: {
  diff: DiffResult;
  a: Device | null;
  b: Device | null;
  baseline: SideData;
  primary: SideData;
}) {
  const rows = useMemo(() => {
    const counterpartOfB = new Map(
      diff.pairs.devices.filter((p) => p.baseline && p.primary).map((p) => [p.primary!, p.baseline!]),
    );
    const stackA = stackOf(baseline.index, a);
    const stackB = stackOf(primary.index, b);
    const tokensA = stackA.map((d) => `P:${d.id}`);
    const tokensB = stackB.map((d) => `P:${counterpartOfB.get(d.id) ?? `new:${d.id}`}`);
    const kept = commonSubsequence(tokensA, tokensB);
    const aligned: Array<{ a: Device | null; b: Device | null }> = [];
    let i = 0;
    let j = 0;
    for (const [ki, kj] of [...kept, [stackA.length, stackB.length] as [number, number]]) {
      while (i < ki) aligned.push({ a: stackA[i++]!, b: null });
      while (j < kj) aligned.push({ a: null, b: stackB[j++]! });
      if (i < stackA.length && j < stackB.length) aligned.push({ a: stackA[i++]!, b: stackB[j++]! });
    }
    return aligned.reverse();
  }, [diff, a, b, baseline.index, primary.index]);
  const cell = (device: Device | null, side: SideData) =>
    device ? (
      <div className="stack-cell">
        <DeviceLink id={device.id} name={deviceLabel(device)} session={side.session.id} />
        <span className="muted">
          {' '}
          <DriverLink
            id={device.driver}
            name={
              side.index.drivers.get(device.driver)
                ? driverLabel(side.index.drivers.get(device.driver)!)
                : device.driverName
            }
            session={side.session.id}
          />{' '}
          · {device.typeName}
        </span>
      </div>
    ) : (
      <span className="absent">—</span>
    );
  return (
    <table className="side-by-side" data-testid="diff-stacks">
      <thead>
        <tr>
          <th>Baseline</th>
          <th>This image</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row, i) => (
          <tr
            key={`${row.a?.id ?? ''}|${row.b?.id ?? ''}|${i}`}
            className={row.a && row.b ? undefined : 'changed'}
            data-changed={row.a && row.b ? 'false' : 'true'}
          >
            <td>{cell(row.a, baseline)}</td>
            <td>{cell(row.b, primary)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The devices whose request paths are shown: the focused ones, or a driver's device with a link. */
function flowDevicesOf(
  diff: DiffResult,
  focus: DiffFocus,
  driverA: Driver | null,
  driverB: Driver | null,
  primary: ResultIndex,
): { baseline: string | null; primary: string | null } {
  if (focus.devices) return focus.devices;
  const driver = driverB ?? driverA;
  if (!driver) return { baseline: null, primary: null };
  const ids = driverB ? driverB.devices : [];
  const linked = ids.find((id) => (primary.devices.get(id)?.links.length ?? 0) > 0) ?? ids[0];
  if (linked) {
    const row = diff.pairs.devices.find((p) => p.primary === linked);
    return { baseline: row?.baseline ?? null, primary: linked };
  }
  const first = driverA?.devices[0] ?? null;
  const row = first ? diff.pairs.devices.find((p) => p.baseline === first) : undefined;
  return { baseline: first, primary: row?.primary ?? null };
}

function useFlow(session: string, device: string | null, operation: UserOperation) {
  const key = `${session}|${device}|${operation}`;
  const [answer, setAnswer] = useState<{ key: string; graph?: FlowGraph; error?: string } | null>(null);
  useEffect(() => {
    if (!device) return;
    let live = true;
    api
      .flow({ session, device, operation })
      .then((graph) => live && setAnswer({ key, graph }))
      .catch((e: Error) => live && setAnswer({ key, error: e.message }));
    return () => {
      live = false;
    };
  }, [session, device, operation, key]);
  return answer?.key === key ? answer : null;
}

/** Nodes of one side's path that differ from the other side's: by the comparison's own pairing. */
function differingNodes(
  diff: DiffResult,
  graph: FlowGraph,
  other: FlowGraph | undefined,
  side: 'baseline' | 'primary',
  operation: UserOperation,
): Set<string> {
  const major = OPERATIONS[operation].majorName;
  const otherIds = new Set(other?.nodes.map((n) => n.id) ?? []);
  const otherLink = other?.nodes.find((n) => n.kind === 'symbolic-link')?.label;
  const rowOf = (rows: DiffResult['pairs']['drivers'], id: string) => rows.find((r) => r[side] === id);
  const differs = new Set<string>();
  for (const node of graph.nodes) {
    const [kind, id] = [node.id.slice(0, node.id.indexOf(':')), node.id.slice(node.id.indexOf(':') + 1)];
    let different = false;
    if (kind === 'device') different = rowOf(diff.pairs.devices, id)?.status !== 'same';
    else if (kind === 'dispatch') {
      const row = rowOf(diff.pairs.drivers, id);
      const entry = row?.entry ? diff.entries.find((e) => e.id === row.entry) : undefined;
      different =
        !row ||
        row.status === 'added' ||
        row.status === 'removed' ||
        (entry?.changes.some((c) => c.what === major) ?? false);
    } else if (kind === 'module') {
      const row = diff.pairs.modules.find((r) => r[side]?.toLowerCase() === id);
      different = !otherIds.has(node.id) || (row !== undefined && row.status !== 'same');
    } else if (kind === 'nomodule') different = ![...otherIds].some((o) => o.startsWith('nomodule:'));
    else if (node.kind === 'symbolic-link') different = node.label !== otherLink;
    if (different && other) differs.add(node.id);
  }
  return differs;
}

function FlowsSideBySide({
  diff,
  a,
  b,
  operation,
  onOperation,
  wide,
  onWide,
  baseline,
  primary,
}: {
  diff: DiffResult;
  a: Device | null;
  b: Device | null;
  operation: UserOperation;
  onOperation: (operation: UserOperation) => void;
  wide: boolean;
  onWide: (wide: boolean) => void;
  baseline: SideData;
  primary: SideData;
}) {
  const { navigate, notify } = useApp();
  const flowA = useFlow(baseline.session.id, a?.id ?? null, operation);
  const flowB = useFlow(primary.session.id, b?.id ?? null, operation);
  const differsA = useMemo(
    () => (flowA?.graph ? differingNodes(diff, flowA.graph, flowB?.graph, 'baseline', operation) : undefined),
    [diff, flowA, flowB, operation],
  );
  const differsB = useMemo(
    () => (flowB?.graph ? differingNodes(diff, flowB.graph, flowA?.graph, 'primary', operation) : undefined),
    [diff, flowA, flowB, operation],
  );
  const pane = (
    side: SideData,
    device: Device | null,
    flow: ReturnType<typeof useFlow>,
    differs: Set<string> | undefined,
    label: string,
  ) => (
    <div className="flow-pane">
      <div className="flow-pane-head">
        {label}:{' '}
        <DeviceLink id={device?.id} name={device ? deviceLabel(device) : null} session={side.session.id} />
      </div>
      {!device ? (
        <div className="placeholder">This image has no such device.</div>
      ) : flow?.error ? (
        <div className="placeholder bad">
          <Text value={flow.error} />
        </div>
      ) : flow?.graph ? (
        <Suspense fallback={<div className="placeholder">Loading the flow diagram…</div>}>
          <FlowDiagram
            key={wide ? 'wide' : 'narrow'}
            compact
            graph={flow.graph}
            index={side.index}
            differs={differs}
            onOpen={(node: FlowNode) => openFlowNode(node, navigate, notify, side.session.id)}
            testId={`diff-flow-${label === 'Baseline' ? 'baseline' : 'image'}`}
          />
        </Suspense>
      ) : (
        <div className="placeholder">Drawing the path…</div>
      )}
    </div>
  );
  return (
    <section className="diff-flows">
      <h4>
        Request path in both images{' '}
        <span className="segmented" role="group" aria-label="Operation">
          {(Object.keys(OPERATIONS) as UserOperation[]).map((op) => (
            <button
              key={op}
              type="button"
              className={op === operation ? 'active' : ''}
              onClick={() => onOperation(op)}
              data-testid={`diff-flow-op-${op}`}
            >
              {op}
            </button>
          ))}
        </span>
        <span className="legend muted">
          <span className="flow-node-swatch differs" /> differs from the other image
        </span>
        <button type="button" className="ghost" onClick={() => onWide(!wide)} data-testid="diff-flow-wide">
          {wide ? 'Show the list' : 'Full width ⤢'}
        </button>
      </h4>
      <div className="flow-pair">
        {pane(baseline, a, flowA, differsA, 'Baseline')}
        {pane(primary, b, flowB, differsB, 'This image')}
      </div>
    </section>
  );
}
