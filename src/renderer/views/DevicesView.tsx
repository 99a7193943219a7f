// Devices: the tree of every driver's devices on the left; on the right the selected device,
// its whole stack from the top (where an IRP enters) to the bottom with each layer's driver,
// and the \GLOBAL?? names user mode reaches it by.

import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Device, Driver } from '../../common/model';
import { SeverityBadge } from '../components/Badges';
import { AddressLink, DeviceLink, DriverLink, FindingLink } from '../components/Links';
import { countText } from '../components/DataTable';
import { visibleText } from '../util/format';
import { Text } from '../components/Text';
import { AnnotationBadge, AnnotationEditor, annotationOf } from '../components/Annotation';
import { useActiveSession, useApp, useCase } from '../state/app-state';
import { deviceLabel, deviceLabelOf, driverLabel, type ResultIndex } from '../util/result-index';

type TreeRow =
  { kind: 'driver'; driver: Driver; open: boolean } | { kind: 'device'; device: Device; depth: number };

function deviceFindings(index: ResultIndex, device: Device) {
  const driver = index.drivers.get(device.driver);
  return [...index.findingIndex.device(device), ...(driver ? index.findingIndex.driver(driver) : [])];
}

export function DevicesView({ index }: { index: ResultIndex }) {
  const { location, navigate } = useApp();
  const session = useActiveSession();
  const caseView = useCase(session);
  const [filter, setFilter] = useState('');
  const [closed, setClosed] = useState<Set<string>>(new Set());
  const treeRef = useRef<HTMLDivElement>(null);
  const wide = index.wide;

  // The rows of the tree, and how many devices match the filter (folded drivers' included).
  const { rows, matching } = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const out: TreeRow[] = [];
    let count = 0;
    for (const driver of index.result.drivers) {
      if (driver.devices.length === 0) continue;
      const devices = driver.devices.map((id) => index.devices.get(id)).filter((d): d is Device => !!d);
      const matches = needle
        ? devices.filter((d) =>
            `${d.name ?? ''} ${d.typeName} ${d.links.join(' ')}`.toLowerCase().includes(needle),
          )
        : devices;
      const driverMatches = needle !== '' && driverLabel(driver).toLowerCase().includes(needle);
      if (needle && matches.length === 0 && !driverMatches) continue;
      const shown = driverMatches && matches.length === 0 ? devices : matches;
      count += shown.length;
      const open = needle !== '' || !closed.has(driver.id);
      out.push({ kind: 'driver', driver, open });
      if (open) for (const device of shown) out.push({ kind: 'device', device, depth: 1 });
    }
    return { rows: out, matching: count };
  }, [index, filter, closed]);

  const selected = location.device ? index.devices.get(location.device) : undefined;
  const selectedRow = rows.findIndex((r) => r.kind === 'device' && r.device.id === location.device);

  const toggle = (id: string): void =>
    setClosed((set) => {
      const next = new Set(set);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const deviceRows = rows.map((r, i) => (r.kind === 'device' ? i : -1)).filter((i) => i >= 0);
    const at = deviceRows.indexOf(selectedRow);
    const select = (rowIndex: number | undefined): void => {
      const row = rowIndex === undefined ? undefined : rows[rowIndex];
      if (row?.kind === 'device') navigate({ device: row.device.id }, 'replace');
    };
    if (event.key === 'ArrowDown') select(deviceRows[Math.min(deviceRows.length - 1, at + 1)]);
    else if (event.key === 'ArrowUp') select(deviceRows[Math.max(0, at - 1)]);
    else if (event.key === 'Home') select(deviceRows[0]);
    else if (event.key === 'End') select(deviceRows[deviceRows.length - 1]);
    else if (event.key === 'Enter' && selected)
      navigate({
        view: 'flow',
        flow: { device: selected.id, operation: location.flow?.operation ?? 'DeviceIoControl' },
      });
    else return;
    event.preventDefault();
    requestAnimationFrame(() =>
      treeRef.current?.querySelector('.tree-row.selected')?.scrollIntoView({ block: 'nearest' }),
    );
  };

  const stack = selected
    ? [...selected.stack]
        .reverse()
        .map((id) => index.devices.get(id))
        .filter((d): d is Device => !!d)
    : [];
  const findings = selected ? deviceFindings(index, selected) : [];
  const pending = selected
    ? index.result.irps.filter((irp) => irp.stack.some((s) => s.device === selected.id))
    : [];

  return (
    <div className="split-horizontal" data-testid="view-devices">
      <div className="pane left tree-pane">
        <div className="table-toolbar">
          <input
            className="filter"
            type="search"
            placeholder="Filter devices, drivers, links…"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            aria-label="Filter devices"
          />
          <span className="count">
            {countText(matching, index.result.devices.length, ['device', 'devices'])}
          </span>
        </div>
        <div
          className="tree"
          ref={treeRef}
          tabIndex={0}
          onKeyDown={onKeyDown}
          role="tree"
          data-testid="device-tree"
        >
          {rows.map((row) =>
            row.kind === 'driver' ? (
              <div
                key={`d${row.driver.id}`}
                className="tree-row driver"
                role="treeitem"
                aria-expanded={row.open}
                onClick={() => toggle(row.driver.id)}
              >
                <span className="twisty">{row.open ? '▾' : '▸'}</span>
                <Text value={row.driver.name} fallback={driverLabel(row.driver)} />
                <span className="muted"> ({row.driver.devices.length})</span>
                {index.findingIndex.driver(row.driver).length > 0 && (
                  <span className="dot sev-bg-high" title="findings about this driver" />
                )}
              </div>
            ) : (
              <div
                key={`v${row.device.id}`}
                role="treeitem"
                aria-selected={row.device.id === location.device}
                className={`tree-row device${row.device.id === location.device ? ' selected' : ''}${deviceFindings(index, row.device).length ? ' suspicious' : ''}`}
                style={{ paddingLeft: 18 + row.depth * 12 }}
                onClick={() => navigate({ device: row.device.id })}
              >
                <Text value={row.device.name} fallback={deviceLabel(row.device)} />
                <span className="muted type"> {row.device.typeName}</span>
                {row.device.stack.length > 1 && (
                  <span className="chip" title="part of a stack">
                    {row.device.stack.length}⇅
                  </span>
                )}
                {row.device.links.length > 0 && (
                  <span className="chip" title={row.device.links.map(visibleText).join('\n')}>
                    link
                  </span>
                )}
                <AnnotationBadge annotation={annotationOf(caseView, `device:${row.device.objectVa}`)} />
              </div>
            ),
          )}
        </div>
      </div>
      <div className="pane right device-detail" data-testid="device-detail">
        {selected ? (
          <>
            <div className="detail-head">
              <h3>
                <Text value={selected.name} fallback={deviceLabel(selected)} />
              </h3>
              <span className="muted">
                <DriverLink id={selected.driver} name={selected.driverName} /> · FILE_DEVICE_
                {selected.typeName} · object{' '}
                <AddressLink address={selected.objectVa} wide={wide} structure="DEVICE_OBJECT" />
              </span>
              <div className="tabs">
                {(['CreateFile', 'ReadFile', 'WriteFile', 'DeviceIoControl'] as const).map((operation) => (
                  <button
                    key={operation}
                    type="button"
                    onClick={() => navigate({ view: 'flow', flow: { device: selected.id, operation } })}
                  >
                    {operation} flow ›
                  </button>
                ))}
              </div>
            </div>
            {session && (
              <AnnotationEditor
                session={session.id}
                target={`device:${selected.objectVa}`}
                view={caseView}
                label="This device:"
              />
            )}
            <div className="device-body">
              <section>
                <h4>Stack (top → bottom: an IRP enters at the top)</h4>
                <ol className="stack">
                  {stack.map((layer, i) => {
                    const layerFindings = deviceFindings(index, layer);
                    return (
                      <li
                        key={layer.id}
                        className={`layer${layer.id === selected.id ? ' current' : ''}${layerFindings.length ? ' suspicious' : ''}`}
                        data-testid="stack-layer"
                      >
                        <span className="pos">{i === 0 ? 'top' : i === stack.length - 1 ? 'bottom' : i}</span>
                        <span className="name">
                          <DeviceLink id={layer.id} name={layer.name ?? deviceLabel(layer)} />
                        </span>
                        <span className="drv">
                          <DriverLink id={layer.driver} name={layer.driverName} />
                        </span>
                        <span className="type">{layer.typeName}</span>
                        <AddressLink address={layer.objectVa} wide={wide} structure="DEVICE_OBJECT" />
                        {layerFindings.length > 0 && <SeverityBadge severity={layerFindings[0]!.severity} />}
                      </li>
                    );
                  })}
                </ol>
              </section>
              {pending.length > 0 && (
                <section>
                  <h4>IRPs in flight through this device</h4>
                  <ul className="plain-list" data-testid="device-irps">
                    {pending.map((irp) => {
                      const here = irp.stack.find((s) => s.device === selected.id);
                      return (
                        <li key={irp.address}>
                          <button
                            type="button"
                            className="link"
                            onClick={() =>
                              navigate({ view: 'activity', activity: { tab: 'irps', irp: irp.address } })
                            }
                          >
                            {irp.majorName}
                          </button>{' '}
                          from <Text value={irp.processName} fallback="?" /> (PID {irp.pid ?? '?'}, thread{' '}
                          {irp.tid ?? '?'}) · {here?.current ? 'waits here' : 'passed down from here'}
                        </li>
                      );
                    })}
                  </ul>
                </section>
              )}
              <section className="facts-grid">
                <h4>Device object</h4>
                <dl>
                  <dt>Flags</dt>
                  <dd>{selected.flagNames.join(' ') || '0'}</dd>
                  <dt>Characteristics</dt>
                  <dd>{selected.characteristicNames.join(' ') || '0'}</dd>
                  <dt>Attached device (above)</dt>
                  <dd>
                    {selected.attachedDevice ? (
                      <DeviceLink
                        id={selected.attachedDevice}
                        name={deviceLabelOf(index, selected.attachedDevice)}
                      />
                    ) : (
                      '—'
                    )}
                  </dd>
                  <dt>Attached to (below)</dt>
                  <dd>
                    {selected.attachedTo ? (
                      <DeviceLink id={selected.attachedTo} name={deviceLabelOf(index, selected.attachedTo)} />
                    ) : (
                      '—'
                    )}
                  </dd>
                  <dt>Symbolic links</dt>
                  <dd>
                    {selected.links.length ? (
                      selected.links.map((l) => (
                        <div key={l}>
                          <Text value={l} />
                        </div>
                      ))
                    ) : (
                      <span className="muted">none (user mode cannot open it by a \\.\ name)</span>
                    )}
                  </dd>
                  {selected.nameStatus && (
                    <>
                      <dt>Name</dt>
                      <dd className="muted">
                        <Text value={selected.nameStatus} />
                      </dd>
                    </>
                  )}
                </dl>
              </section>
              {findings.length > 0 && (
                <section>
                  <h4>Findings</h4>
                  <ul className="plain-list">
                    {findings.map((f) => (
                      <li key={f.id}>
                        <SeverityBadge severity={f.severity} /> <FindingLink id={f.id}>{f.kind}</FindingLink>{' '}
                        — <Text value={f.explanation} />
                      </li>
                    ))}
                  </ul>
                </section>
              )}
            </div>
          </>
        ) : (
          <div className="placeholder">Select a device to see its stack.</div>
        )}
      </div>
    </div>
  );
}
