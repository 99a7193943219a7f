// Every driver object the three views found, and below it the selected driver's IRP table,
// its devices and what the findings say about it.

import { SaveImageButton } from '../components/SaveImageButton';
import { useMemo, useState } from 'react';
import type { Driver } from '../../common/model';
import { SeverityBadge } from '../components/Badges';
import { DataTable } from '../components/DataTable';
import { AddressLink, DeviceLink, FindingLink, ModuleLink } from '../components/Links';
import { columnHelper } from '../components/table-features';
import { Text } from '../components/Text';
import { AnnotationBadge, AnnotationEditor, annotationOf } from '../components/Annotation';
import { useActiveSession, useApp, useCase } from '../state/app-state';
import { compareHex, formatHexSize } from '../util/format';
import { deviceLabel, driverLabel, type ResultIndex } from '../util/result-index';
import { IrpTable, handlerTarget, irpRows } from './IrpTable';
import { DriverRegistrations } from './DriverRegistrations';
import { driverRegistrations } from '../util/callbacks';

interface DriverRow {
  driver: Driver;
  hooked: number;
  findings: number;
  worst: string | null;
}

const helper = columnHelper<DriverRow>();
const VIEW_SHORT: Record<string, string> = {
  'pool-scan': 'pool',
  directory: 'dir',
  'module-list': 'mod',
  'device-walk': 'dev',
};

export function DriversView({ index }: { index: ResultIndex }) {
  const { location, navigate } = useApp();
  const session = useActiveSession();
  const caseView = useCase(session);
  const wide = index.wide;
  const [tab, setTab] = useState<'irp' | 'registrations' | 'devices' | 'findings'>('irp');
  const data = useMemo<DriverRow[]>(
    () =>
      index.result.drivers.map((driver) => {
        const findings = index.findingsAbout(driver.name);
        return {
          driver,
          hooked: index.hooked.get(driver.id)?.length ?? 0,
          findings: findings.length,
          worst: findings[0]?.severity ?? null,
        };
      }),
    [index],
  );
  const columns = useMemo(
    () => [
      helper.accessor(
        (r) => (r.worst ? ['info', 'low', 'medium', 'high', 'critical'].indexOf(r.worst) + 1 : 0),
        {
          id: 'status',
          header: '',
          size: 30,
          cell: (c) =>
            c.row.original.worst ? (
              <span
                className={`dot sev-bg-${c.row.original.worst}`}
                title={`${c.row.original.findings} findings`}
              />
            ) : null,
        },
      ),
      helper.accessor((r) => driverLabel(r.driver), {
        id: 'name',
        header: 'Name',
        size: 260,
        cell: (c) => (
          <span className={c.row.original.driver.state === 'freed' ? 'freed' : undefined}>
            <Text
              value={c.row.original.driver.name}
              fallback={c.row.original.driver.nameStatus ?? '(unreadable name)'}
            />
          </span>
        ),
      }),
      helper.accessor((r) => r.driver.serviceKey ?? '', {
        id: 'service',
        header: 'Service key',
        size: 130,
        cell: (c) => <Text value={c.getValue()} />,
      }),
      helper.accessor((r) => r.driver.start, {
        id: 'start',
        header: 'Start',
        size: wide ? 170 : 96,
        sortFn: (a, b) => compareHex(a.original.driver.start, b.original.driver.start),
        cell: (c) => <AddressLink address={c.getValue()} wide={wide} />,
      }),
      helper.accessor((r) => r.driver.size, {
        id: 'size',
        header: 'Size',
        size: 80,
        cell: (c) => <span className="mono">{formatHexSize(c.getValue())}</span>,
      }),
      helper.accessor((r) => r.driver.module ?? '', {
        id: 'module',
        header: 'Module',
        size: 130,
        cell: (c) => <ModuleLink name={c.row.original.driver.module} />,
      }),
      helper.accessor((r) => r.driver.devices.length, { id: 'devices', header: 'Devs', size: 50 }),
      helper.accessor((r) => r.hooked, {
        id: 'hooked',
        header: 'Hooked',
        size: 64,
        cell: (c) =>
          c.getValue() ? <span className="pill bad">{c.getValue()}</span> : <span className="muted">0</span>,
      }),
      helper.accessor((r) => r.driver.foundBy.join(' '), {
        id: 'foundBy',
        header: 'Found by',
        size: 130,
        cell: (c) => (
          <span className="chips">
            {c.row.original.driver.foundBy.map((v) => (
              <span key={v} className="chip" title={v}>
                {VIEW_SHORT[v] ?? v}
              </span>
            ))}
          </span>
        ),
      }),
      helper.accessor((r) => r.driver.flagNames.join(' '), {
        id: 'flags',
        header: 'Flags',
        size: 170,
        cell: (c) => <span className="small">{c.getValue().replace(/DRVO_/g, '')}</span>,
      }),
      helper.accessor((r) => r.driver.state, { id: 'state', header: 'State', size: 60 }),
      helper.accessor((r) => r.driver.objectVa, {
        id: 'object',
        header: 'Object',
        size: wide ? 170 : 96,
        cell: (c) => <AddressLink address={c.getValue()} wide={wide} structure="DRIVER_OBJECT" />,
      }),
      helper.accessor((r) => annotationOf(caseView, `driver:${r.driver.objectVa}`)?.status ?? '', {
        id: 'analyst',
        header: 'Analyst',
        size: 100,
        cell: (c) => (
          <AnnotationBadge annotation={annotationOf(caseView, `driver:${c.row.original.driver.objectVa}`)} />
        ),
      }),
    ],
    [wide, caseView],
  );

  const selected = location.driver ? index.drivers.get(location.driver) : undefined;
  const registrations = selected ? driverRegistrations(index.result, selected) : [];
  return (
    <div className="split-vertical" data-testid="view-drivers">
      <div className="pane top">
        <DataTable
          id="drivers"
          noun={['driver', 'drivers']}
          data={data}
          columns={columns}
          getRowId={(r) => r.driver.id}
          selectedId={location.driver ?? null}
          onSelect={(r, mode) => navigate({ driver: r.driver.id, handler: undefined }, mode)}
          onActivate={() => document.querySelector<HTMLElement>('[data-testid="table-body-irp"]')?.focus()}
          rowClass={(r) =>
            r.hooked || r.worst === 'critical' || r.worst === 'high'
              ? 'suspicious'
              : r.driver.state === 'freed'
                ? 'dim'
                : undefined
          }
          initialHidden={['flags', 'state']}
          // Drivers with findings first, most severe first; the rest by name.
          initialSorting={[{ id: 'status', desc: true }]}
          filterPlaceholder="Filter drivers…  ( / )"
          searchText={(r) =>
            `${r.driver.name ?? ''} ${r.driver.serviceKey ?? ''} ${r.driver.module ?? ''} ${r.driver.objectVa}`
          }
        />
      </div>
      <div className="pane bottom detail" data-testid="driver-detail">
        {selected ? (
          <>
            <div className="detail-head">
              <h3>
                <Text value={selected.name} fallback={driverLabel(selected)} />
              </h3>
              <span className="muted">
                object <AddressLink address={selected.objectVa} wide={wide} structure="DRIVER_OBJECT" /> ·
                image <AddressLink address={selected.start} wide={wide} /> ({formatHexSize(selected.size)}) ·{' '}
                <ModuleLink name={selected.module} />
              </span>
              {session && (
                <SaveImageButton
                  session={session.id}
                  target={{ driver: selected.objectVa }}
                  className="inline-action"
                />
              )}
              <div className="tabs">
                {(['irp', 'registrations', 'devices', 'findings'] as const).map((t) => (
                  <button
                    key={t}
                    type="button"
                    className={tab === t ? 'active' : ''}
                    onClick={() => setTab(t)}
                    data-testid={`driver-tab-${t}`}
                  >
                    {t === 'irp'
                      ? 'IRP table'
                      : t === 'registrations'
                        ? `Callbacks (${registrations.length})`
                        : t === 'devices'
                          ? `Devices (${selected.devices.length})`
                          : `Findings (${index.findingsAbout(selected.name).length})`}
                  </button>
                ))}
                <button
                  type="button"
                  onClick={() =>
                    selected.devices[0] &&
                    navigate({
                      view: 'flow',
                      flow: {
                        device: selected.devices[0],
                        operation: location.flow?.operation ?? 'DeviceIoControl',
                      },
                    })
                  }
                  disabled={selected.devices.length === 0}
                >
                  Flow diagram ›
                </button>
              </div>
            </div>
            {session && (
              <AnnotationEditor
                session={session.id}
                target={`driver:${selected.objectVa}`}
                view={caseView}
                label="This driver:"
              />
            )}
            {tab === 'irp' && <IrpTable driver={selected} index={index} />}
            {tab === 'irp' &&
              session &&
              (() => {
                const row = irpRows(selected, index).find((r) => r.id === location.handler);
                return row ? (
                  <AnnotationEditor
                    session={session.id}
                    target={handlerTarget(selected, row)}
                    view={caseView}
                    label={`${row.handler.name}:`}
                  />
                ) : null;
              })()}
            {tab === 'registrations' && <DriverRegistrations callbacks={registrations} index={index} />}
            {tab === 'devices' && (
              <ul className="plain-list">
                {selected.devices.map((id) => {
                  const device = index.devices.get(id);
                  return (
                    <li key={id}>
                      <DeviceLink id={id} name={device ? deviceLabel(device) : id} />{' '}
                      <span className="muted">{device ? `FILE_DEVICE_${device.typeName}` : ''}</span>
                    </li>
                  );
                })}
                {selected.devices.length === 0 && <li className="muted">No devices.</li>}
              </ul>
            )}
            {tab === 'findings' && (
              <ul className="plain-list">
                {index.findingsAbout(selected.name).map((f) => (
                  <li key={f.id}>
                    <SeverityBadge severity={f.severity} /> <FindingLink id={f.id}>{f.kind}</FindingLink> —{' '}
                    <Text value={f.explanation} />
                  </li>
                ))}
                {index.findingsAbout(selected.name).length === 0 && (
                  <li className="muted">No findings about this driver.</li>
                )}
              </ul>
            )}
          </>
        ) : (
          <div className="placeholder">
            Select a driver to see its IRP table (↑/↓ in the table, Enter to go to its entries).
          </div>
        )}
      </div>
    </div>
  );
}
