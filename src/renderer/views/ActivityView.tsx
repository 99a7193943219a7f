// Processes & IRPs (Alt+0): who was doing what when the image was taken. On the left the processes
// (a hidden one first in line and marked) or the IRPs in flight; on the right the selected
// process with its threads and their requests, or the selected IRP with its issuing thread and
// every stack location in use — device, driver, parameters, completion routine — and the way
// into the flow diagram that starts from it.

import { useMemo } from 'react';
import { irpWaitsIn, operationOfMajor } from '../../common/flow';
import type { Coverage, Irp, IrpStackLocation, Process, Thread } from '../../common/model';
import { visibleText } from '../../common/visible-text';
import { SeverityBadge, VerdictBadge } from '../components/Badges';
import { DataTable } from '../components/DataTable';
import { AddressLink, DeviceLink, DriverLink, FindingLink, ModuleLink } from '../components/Links';
import { columnHelper } from '../components/table-features';
import { Text } from '../components/Text';
import { useApp } from '../state/app-state';
import type { Navigate } from '../state/navigation';
import { isSuspiciousVerdict } from '../../common/findings';
import { deviceLabel, deviceLabelOf, type ResultIndex } from '../util/result-index';

const processHelper = columnHelper<Process>();
const irpHelper = columnHelper<Irp>();

/** An IRP carries a finding when a completion routine is suspicious or a layer's driver has findings. */
function irpSuspicious(index: ResultIndex, irp: Irp): boolean {
  return irp.stack.some(
    (s) =>
      (s.completion && isSuspiciousVerdict(s.completion.verdict)) ||
      (s.device !== null && index.devices.has(s.device) && layerFindings(index, s).length > 0),
  );
}

function layerFindings(index: ResultIndex, location: IrpStackLocation) {
  const device = location.device ? index.devices.get(location.device) : undefined;
  const driver = location.driver ? index.drivers.get(location.driver) : undefined;
  return [
    ...(device ? index.findingIndex.device(device) : []),
    ...(driver ? index.findingIndex.driver(driver) : []),
  ];
}

export function openIrpFlow(navigate: Navigate, irp: Irp): void {
  navigate({
    view: 'flow',
    flow: {
      device: irp.device ?? '',
      operation: operationOfMajor(irp.major) ?? 'DeviceIoControl',
      irp: irp.address,
    },
  });
}

export function ActivityView({ index }: { index: ResultIndex }) {
  const { location, navigate } = useApp();
  const { processes, irps, threads } = index.result;
  const tab = location.activity?.tab ?? (irps.length ? 'irps' : 'processes');
  const threadByVa = useMemo(() => new Map(threads.map((t) => [t.objectVa, t])), [threads]);
  const processColumns = useMemo(
    () => [
      processHelper.accessor((p) => p.pid, { id: 'pid', header: 'PID', size: 70 }),
      processHelper.accessor((p) => p.name, {
        id: 'name',
        header: 'Process',
        size: 170,
        cell: (c) => (
          <>
            <Text value={c.getValue()} />
            {c.row.original.hidden && <span className="chip bad">hidden</span>}
          </>
        ),
      }),
      processHelper.accessor((p) => p.parentPid, { id: 'ppid', header: 'Parent', size: 70 }),
      processHelper.accessor((p) => p.threads.length, { id: 'threads', header: 'Threads', size: 70 }),
      processHelper.accessor((p) => p.foundBy.join(', '), { id: 'found', header: 'Found by', size: 170 }),
    ],
    [],
  );
  const irpColumns = useMemo(
    () => [
      irpHelper.accessor((i) => i.processName ?? '', {
        id: 'process',
        header: 'Process',
        size: 140,
        cell: (c) => (
          <>
            <Text value={c.row.original.processName} fallback="?" />
            <span className="muted"> {c.row.original.pid ?? ''}</span>
          </>
        ),
      }),
      irpHelper.accessor((i) => i.majorName.replace('IRP_MJ_', ''), {
        id: 'major',
        header: 'Function',
        size: 150,
      }),
      irpHelper.accessor((i) => waitsIn(index, i), {
        id: 'device',
        header: 'Waits in',
        size: 200,
        cell: (c) => <Text value={c.getValue()} />,
      }),
      irpHelper.accessor((i) => i.stack.length, { id: 'layers', header: 'Layers', size: 64 }),
    ],
    [index],
  );

  const selectedProcess =
    tab === 'processes' ? processes.find((p) => p.objectVa === location.activity?.process) : undefined;
  const selectedIrp = tab === 'irps' ? irps.find((i) => i.address === location.activity?.irp) : undefined;
  const hidden = processes.filter((p) => p.hidden);
  const setTab = (next: 'processes' | 'irps') => navigate({ activity: { tab: next } }, 'replace');

  return (
    <div className="split-horizontal" data-testid="view-activity">
      <div className="pane left">
        <div className="tabs activity-tabs" role="tablist">
          <button
            type="button"
            className={tab === 'processes' ? 'active' : ''}
            onClick={() => setTab('processes')}
            data-testid="activity-tab-processes"
          >
            Processes ({processes.length})
          </button>
          <button
            type="button"
            className={tab === 'irps' ? 'active' : ''}
            onClick={() => setTab('irps')}
            data-testid="activity-tab-irps"
          >
            IRPs in flight ({irps.length})
          </button>
        </div>
        {tab === 'processes' ? (
          <DataTable
            id="processes"
            noun={['process', 'processes']}
            data={processes}
            columns={processColumns}
            getRowId={(p) => p.objectVa}
            selectedId={selectedProcess?.objectVa ?? null}
            onSelect={(p, mode) => navigate({ activity: { tab: 'processes', process: p.objectVa } }, mode)}
            onActivate={(p) => navigate({ view: 'hex', hex: { space: 'virtual', address: p.objectVa } })}
            rowClass={(p) => (p.hidden ? 'suspicious' : undefined)}
            filterPlaceholder="Filter processes…  ( / )"
            emptyText={emptyText(
              index.result.coverage.processes,
              'No process could be read from this image.',
            )}
            searchText={(p) => `${p.pid} ${p.name}`}
            toolbar={
              hidden.length ? (
                <button
                  type="button"
                  className="pill bad"
                  data-testid="activity-hidden-count"
                  onClick={() => navigate({ activity: { tab: 'processes', process: hidden[0]!.objectVa } })}
                >
                  {`${hidden.length} hidden ›`}
                </button>
              ) : (
                <span className="pill ok" data-testid="activity-hidden-count">
                  every process is on the process list
                </span>
              )
            }
          />
        ) : (
          <DataTable
            id="irps"
            noun={['IRP', 'IRPs']}
            data={irps}
            columns={irpColumns}
            getRowId={(i) => i.address}
            selectedId={selectedIrp?.address ?? null}
            onSelect={(i, mode) => navigate({ activity: { tab: 'irps', irp: i.address } }, mode)}
            onActivate={(i) => openIrpFlow(navigate, i)}
            rowClass={(i) => (irpSuspicious(index, i) ? 'suspicious' : undefined)}
            filterPlaceholder="Filter IRPs…  ( / )"
            emptyText={emptyText(index.result.coverage.irps, 'No IRP is in flight in this image.')}
            searchText={(i) =>
              `${i.processName ?? ''} ${i.pid ?? ''} ${i.majorName} ${waitsIn(index, i)} ${i.fileName ?? ''}`
            }
          />
        )}
      </div>
      <div className="pane right activity-detail" data-testid="activity-detail">
        {selectedIrp ? (
          <IrpDetail
            index={index}
            irp={selectedIrp}
            thread={selectedIrp.thread ? threadByVa.get(selectedIrp.thread) : undefined}
          />
        ) : selectedProcess ? (
          <ProcessDetail index={index} process={selectedProcess} threadByVa={threadByVa} />
        ) : (
          <div className="placeholder">
            {tab === 'irps'
              ? 'Select a request to see who issued it and every device it went through.'
              : 'Select a process to see its threads and the requests they have in flight.'}
          </div>
        )}
      </div>
    </div>
  );
}

function ProcessDetail({
  index,
  process,
  threadByVa,
}: {
  index: ResultIndex;
  process: Process;
  threadByVa: Map<string, Thread>;
}) {
  const { navigate } = useApp();
  const wide = index.wide;
  const irps = index.result.irps;
  const findings = index.findingIndex.at(process.objectVa);
  const own = process.threads.map((va) => threadByVa.get(va)).filter((t): t is Thread => !!t);
  return (
    <>
      <div className="detail-head">
        <h3>
          <Text value={process.name} /> <span className="muted">PID {process.pid}</span>
        </h3>
        <span className="muted">
          EPROCESS <AddressLink address={process.objectVa} wide={wide} /> · parent PID {process.parentPid} ·
          DirectoryTableBase {process.dtb} · found by {process.foundBy.join(', ')}
        </span>
      </div>
      {findings.length > 0 && (
        <ul className="plain-list">
          {findings.map((f) => (
            <li key={f.id}>
              <SeverityBadge severity={f.severity} /> <FindingLink id={f.id}>{f.kind}</FindingLink> —{' '}
              <Text value={f.explanation} />
            </li>
          ))}
        </ul>
      )}
      <section className="activity-section">
        <h4>Threads ({own.length})</h4>
        <table className="plain-table" data-testid="process-threads">
          <thead>
            <tr>
              <th>TID</th>
              <th>ETHREAD</th>
              <th>Start address</th>
              <th>Win32 start</th>
              <th>IRPs in flight</th>
            </tr>
          </thead>
          <tbody>
            {own.map((t) => (
              <tr key={t.objectVa}>
                <td>{t.tid}</td>
                <td>
                  <AddressLink address={t.objectVa} wide={wide} />
                </td>
                <td>
                  <AddressLink address={t.startAddress} wide={wide} />{' '}
                  {t.startModule && (
                    <span className="muted">
                      <Text value={t.startModule} />
                    </span>
                  )}
                </td>
                <td>
                  <AddressLink address={t.win32StartAddress} wide={wide} />
                </td>
                <td>
                  {t.irps.map((address) => {
                    const irp = irps.find((i) => i.address === address);
                    return (
                      <button
                        key={address}
                        type="button"
                        className="link"
                        onClick={() => navigate({ activity: { tab: 'irps', irp: address } })}
                      >
                        {irp ? (
                          <Text value={`${irp.majorName.replace('IRP_MJ_', '')} → ${waitsIn(index, irp)}`} />
                        ) : (
                          address
                        )}
                      </button>
                    );
                  })}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function IrpDetail({ index, irp, thread }: { index: ResultIndex; irp: Irp; thread: Thread | undefined }) {
  const { navigate } = useApp();
  const wide = index.wide;
  const processes = index.result.processes;
  const process = processes.find((p) => p.pid === irp.pid && irp.pid !== null);
  const file = irp.fileDevice ? index.devices.get(irp.fileDevice) : undefined;
  return (
    <>
      <div className="detail-head">
        <h3>
          {irp.majorName} <span className="muted">IRP</span> <AddressLink address={irp.address} wide={wide} />
        </h3>
        <span className="muted">
          {irp.stackCount} stack location{irp.stackCount === 1 ? '' : 's'}, {irpWaitsIn(irp)} · from{' '}
          {irp.requestorMode} mode · {irp.flagNames.join(' ') || 'no flags'} · found by{' '}
          {irp.foundBy.join(', ')}
        </span>
        <div className="tabs">
          <button type="button" onClick={() => openIrpFlow(navigate, irp)} data-testid="irp-flow">
            Flow from this request ›
          </button>
        </div>
      </div>
      <section className="activity-section facts-grid">
        <h4>Issued by</h4>
        <dl>
          <dt>Process</dt>
          <dd>
            {process ? (
              <button
                type="button"
                className="link"
                onClick={() => navigate({ activity: { tab: 'processes', process: process.objectVa } })}
              >
                <Text value={process.name} /> (PID {process.pid})
              </button>
            ) : (
              <span className="muted">not among the processes read</span>
            )}
            {process?.hidden && <span className="chip bad">hidden</span>}
          </dd>
          <dt>Thread</dt>
          <dd>
            {irp.tid !== null ? `${irp.tid} · ` : ''}
            <AddressLink address={irp.thread} wide={wide} />
            {thread?.startModule && (
              <span className="muted">
                {' '}
                · starts at <Text value={thread.startModule} />
              </span>
            )}
          </dd>
          <dt>File</dt>
          <dd>
            {file ? <DeviceLink id={file.id} name={deviceLabel(file)} /> : null}
            <Text value={irp.fileName} fallback={file ? '' : '—'} />{' '}
            {irp.fileObject && (
              <span className="muted">
                FILE_OBJECT <AddressLink address={irp.fileObject} wide={wide} />
              </span>
            )}
          </dd>
          <dt>Buffers</dt>
          <dd>
            system <AddressLink address={irp.systemBuffer} wide={wide} /> · user{' '}
            <AddressLink address={irp.userBuffer} wide={wide} />
          </dd>
        </dl>
      </section>
      <section className="activity-section">
        <h4>Stack locations in use (top → the one it waits in)</h4>
        <ol className="stack irp-stack" data-testid="irp-stack">
          {irp.stack.map((s) => {
            const findings = layerFindings(index, s);
            const suspicious =
              findings.length > 0 || (s.completion !== null && isSuspiciousVerdict(s.completion.verdict));
            return (
              <li
                key={s.index}
                className={`layer${s.current ? ' current' : ''}${suspicious ? ' suspicious' : ''}`}
                data-testid="irp-layer"
              >
                <span className="pos">#{s.index}</span>
                <span className="name">
                  <DeviceLink
                    id={s.device && index.devices.has(s.device) ? s.device : null}
                    name={s.deviceName ?? (s.device ? deviceLabelOf(index, s.device) : null)}
                  />
                  {s.current && <span className="chip">waits here</span>}
                </span>
                <span className="drv">
                  <DriverLink
                    id={s.driver && index.drivers.has(s.driver) ? s.driver : null}
                    name={s.driverName}
                  />
                </span>
                <span className="type">
                  {s.majorName.replace('IRP_MJ_', '')}
                  {s.parameters ? <span className="muted"> · {s.parameters}</span> : null}
                </span>
                {findings.length > 0 && <SeverityBadge severity={findings[0]!.severity} />}
                {s.completion && (
                  <span className="completion" data-testid="irp-completion">
                    completion <AddressLink address={s.completion.address} wide={wide} />{' '}
                    <ModuleLink name={s.completion.module} suffix={s.completion.offset} />{' '}
                    <VerdictBadge verdict={s.completion.verdict} />
                    {s.completionSetBy && (
                      <span className="muted">
                        {' '}
                        set by{' '}
                        <DriverLink
                          id={s.completionSetBy}
                          name={index.drivers.get(s.completionSetBy)?.name ?? null}
                        />
                      </span>
                    )}
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      </section>
    </>
  );
}

function waitsIn(index: ResultIndex, irp: Irp): string {
  const current = irp.stack.find((s) => s.current);
  const device = current?.device ? index.devices.get(current.device) : undefined;
  return device ? deviceLabel(device) : (current?.deviceName ?? current?.device ?? '—');
}

/** What an empty table says: why its part could not be read, or that there is none. */
function emptyText(coverage: Coverage, none: string): string {
  if (coverage.state === 'unavailable') return visibleText(`Not available: ${coverage.missing.join('; ')}`);
  if (coverage.state === 'partial') return visibleText(`${none} (partial: ${coverage.missing.join('; ')})`);
  return none;
}
