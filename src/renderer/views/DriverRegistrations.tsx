// What a driver registered beyond its IRP table: its notify routines and callbacks, and the
// shutdown notifications naming its devices; each opens its evidence in the Callbacks view.

import { CALLBACK_LABELS } from '../../common/callback-labels';
import type { Callback } from '../../common/model';
import { SeverityBadge, VerdictBadge } from '../components/Badges';
import { AddressLink, CallbackLink, DeviceLink, FindingLink, ModuleLink } from '../components/Links';
import { Text } from '../components/Text';
import { findingsByCallback } from '../util/callbacks';
import { deviceLabel, type ResultIndex } from '../util/result-index';

export function DriverRegistrations({ callbacks, index }: { callbacks: Callback[]; index: ResultIndex }) {
  const findings = findingsByCallback(index.result.findings, index.result.callbacks.entries);
  if (callbacks.length === 0) {
    const unread = index.result.callbacks.heads.filter((h) => h.coverage.state !== 'complete');
    return (
      <div className="plain-list muted" data-testid="driver-registrations">
        No notify routine, callback or shutdown notification of this driver
        {unread.length
          ? ` in the kinds that could be read (not read whole: ${unread.map((h) => CALLBACK_LABELS[h.kind]).join(', ')}).`
          : '.'}
      </div>
    );
  }
  return (
    <div className="registrations" data-testid="driver-registrations">
      <table className="mini">
        <thead>
          <tr>
            <th>Kind</th>
            <th>Routine</th>
            <th>Module+offset</th>
            <th>Verdict</th>
            <th>Device</th>
            <th>Finding</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {callbacks.map((c) => {
            const device = c.device ? index.devices.get(c.device) : undefined;
            return (
              <tr key={c.entry} data-kind={c.kind}>
                <td>{CALLBACK_LABELS[c.kind]}</td>
                <td>
                  <AddressLink address={c.routine.address} wide={index.wide} />
                </td>
                <td>
                  <ModuleLink name={c.routine.module} suffix={c.routine.offset} />
                </td>
                <td>
                  <VerdictBadge verdict={c.routine.verdict} />
                </td>
                <td>
                  {c.device ? (
                    <DeviceLink id={device?.id ?? null} name={device ? deviceLabel(device) : c.device} />
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td>
                  {(findings.get(c.entry) ?? []).map((f) => (
                    <span key={f.id}>
                      <SeverityBadge severity={f.severity} /> <FindingLink id={f.id}>{f.kind}</FindingLink>
                    </span>
                  ))}
                </td>
                <td>
                  <CallbackLink callback={c} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {callbacks.some((c) => c.component !== null) ? (
        <p className="muted small">
          Components named:{' '}
          {callbacks
            .filter((c) => c.component !== null)
            .map((c) => (
              <span key={c.entry} className="addr-item">
                <Text value={c.component} />
              </span>
            ))}
        </p>
      ) : null}
    </div>
  );
}
