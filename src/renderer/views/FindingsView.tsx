import { useMemo } from 'react';
import { findingsHeadline } from '../../common/counts';
import { severityRank, type Severity } from '../../common/findings';
import type { Finding } from '../../common/model';
import { SeverityBadge, VerdictBadge } from '../components/Badges';
import { DataTable } from '../components/DataTable';
import { AddressLink, CallbackLink, DeviceLink, DriverLink, ModuleLink } from '../components/Links';
import { columnHelper } from '../components/table-features';
import { Text } from '../components/Text';
import { AnnotationBadge, AnnotationEditor, annotationOf } from '../components/Annotation';
import { useActiveSession, useApp, useCase } from '../state/app-state';
import { callbackId, callbackOfFinding } from '../util/callbacks';
import type { ResultIndex } from '../util/result-index';
import { visibleText } from '../util/format';

const helper = columnHelper<Finding>();

export function FindingsView({ index }: { index: ResultIndex }) {
  const { location, navigate } = useApp();
  const session = useActiveSession();
  const caseView = useCase(session);
  const wide = index.wide;
  const data = index.result.findings;
  const columns = useMemo(
    () => [
      helper.accessor((f) => severityRank(f.severity), {
        id: 'severity',
        header: 'Severity',
        size: 100,
        cell: (c) => <SeverityBadge severity={c.row.original.severity} />,
      }),
      helper.accessor((f) => f.kind, { id: 'kind', header: 'Kind', size: 130 }),
      helper.accessor((f) => f.subject, {
        id: 'subject',
        header: 'Subject',
        size: 300,
        cell: (c) => <Text value={c.getValue()} />,
      }),
      helper.accessor((f) => f.explanation, {
        id: 'explanation',
        header: 'Explanation',
        size: 520,
        cell: (c) => <Text value={c.getValue()} />,
      }),
      helper.accessor((f) => f.id, { id: 'id', header: 'Id', size: 60 }),
      helper.accessor((f) => annotationOf(caseView, `finding:${f.id}`)?.status ?? '', {
        id: 'analyst',
        header: 'Analyst',
        size: 110,
        cell: (c) => <AnnotationBadge annotation={annotationOf(caseView, `finding:${c.row.original.id}`)} />,
      }),
    ],
    [caseView],
  );
  const selected = location.finding ? index.findings.get(location.finding) : undefined;
  return (
    <div className="split-vertical" data-testid="view-findings">
      <div className="pane top">
        <DataTable
          id="findings"
          noun={['finding', 'findings']}
          data={data}
          columns={columns}
          getRowId={(f) => f.id}
          selectedId={location.finding ?? null}
          onSelect={(f, mode) => navigate({ finding: f.id }, mode)}
          onActivate={(f) => openSubject(f)}
          initialSorting={[{ id: 'severity', desc: true }]}
          rowClass={(f) => `sev-row-${f.severity}`}
          filterPlaceholder="Filter findings…  ( / )"
          emptyText={
            index.result.coverage.findings.state === 'complete'
              ? 'No findings: nothing in this image bends the I/O path.'
              : findingsHeadline(index.result)
          }
          searchText={(f) => `${f.severity} ${f.kind} ${f.subject} ${f.explanation}`}
        />
      </div>
      <div className="pane bottom detail" data-testid="finding-detail">
        {selected ? (
          <>
            <FindingDetail finding={selected} index={index} wide={wide} />
            {session && (
              <AnnotationEditor
                session={session.id}
                target={`finding:${selected.id}`}
                view={caseView}
                label="Your verdict:"
              />
            )}
          </>
        ) : (
          <div className="placeholder">Select a finding to see its evidence.</div>
        )}
      </div>
    </div>
  );

  function openSubject(f: Finding): void {
    const callback = callbackOfFinding(index.result, f);
    if (callback) return navigate({ view: 'callbacks', callback: callbackId(callback) });
    const driver = index.driverByName.get(f.evidence.driver ?? f.subject);
    if (driver) return navigate({ view: 'drivers', driver: driver.id });
    const device = index.deviceByName.get(f.evidence.device ?? f.subject);
    if (device) return navigate({ view: 'devices', device: device.id });
    if (index.modules.has(f.subject.toLowerCase()))
      navigate({ view: 'modules', module: f.subject.toLowerCase() });
  }
}

function FindingDetail({ finding, index, wide }: { finding: Finding; index: ResultIndex; wide: boolean }) {
  const e = finding.evidence;
  const driver = index.driverByName.get(e.driver ?? finding.subject);
  const device = index.deviceByName.get(e.device ?? finding.subject);
  const module = index.modules.get(finding.subject.toLowerCase());
  const callback = callbackOfFinding(index.result, finding);
  return (
    <div className="finding-detail">
      <div className="detail-head">
        <h3>
          <SeverityBadge severity={finding.severity as Severity} /> {finding.kind}:{' '}
          <Text value={finding.subject} />
        </h3>
        <p>
          <Text value={finding.explanation} />
        </p>
      </div>
      <dl className="evidence">
        {callback && (
          <>
            <dt>Callback</dt>
            <dd>
              <CallbackLink callback={callback} />
            </dd>
          </>
        )}
        {driver && (
          <>
            <dt>Driver</dt>
            <dd>
              <DriverLink id={driver.id} name={driver.name} />
            </dd>
          </>
        )}
        {device && (
          <>
            <dt>Device</dt>
            <dd>
              <DeviceLink id={device.id} name={device.name} />
            </dd>
          </>
        )}
        {module && (
          <>
            <dt>Module</dt>
            <dd>
              <ModuleLink name={module.name} />
            </dd>
          </>
        )}
        {e.handlers && e.handlers.length > 0 && (
          <>
            <dt>Handlers</dt>
            <dd>
              <table className="mini">
                <tbody>
                  {e.handlers.map((h) => (
                    <tr key={`${h.name}${h.address}`}>
                      <td className="mono">
                        <Text value={h.name} />
                      </td>
                      <td>
                        <AddressLink address={h.address} wide={wide} />
                      </td>
                      <td>
                        <ModuleLink
                          name={h.module}
                          suffix={index.symbolize(h.address)?.split('+')[1] ?? null}
                        />
                      </td>
                      <td>
                        <VerdictBadge verdict={h.verdict} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </dd>
          </>
        )}
        {e.addresses && e.addresses.length > 0 && (
          <>
            <dt>Addresses</dt>
            <dd>
              {e.addresses.map((a) => (
                <span key={a} className="addr-item">
                  <AddressLink address={a} wide={wide} />{' '}
                  <span className="muted">
                    <Text value={index.symbolize(a)} fallback="no module" />
                  </span>
                </span>
              ))}
            </dd>
          </>
        )}
        {e.modules && e.modules.length > 0 && (
          <>
            <dt>Modules</dt>
            <dd>
              {e.modules.map((m) => (
                <span key={m} className="addr-item">
                  <ModuleLink name={m} />
                </span>
              ))}
            </dd>
          </>
        )}
        {e.disassembly && (
          <>
            <dt>Code</dt>
            <dd>
              <pre className="code-block">{e.disassembly.instructions.map(visibleText).join('\n')}</pre>
              <span className="muted mono small">{e.disassembly.bytes}</span>
            </dd>
          </>
        )}
        {e.detail && (
          <>
            <dt>Detail</dt>
            <dd>
              <Text value={e.detail} />
            </dd>
          </>
        )}
      </dl>
    </div>
  );
}
