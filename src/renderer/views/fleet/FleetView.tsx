// File › Open Fleet…: a fleet read from Redis (live: progress, throughput, ETA) or from a results
// folder — the hosts (status, build, differences by severity, top finding), the hosts ×
// finding-kind matrix, the clusters of hosts that share evidence. A host opens as an image with
// its baseline in the side-by-side comparison. Every string from the images goes through <Text>.

import { useCallback, useEffect, useMemo, useState } from 'react';
import type { FleetSnapshot, FleetSource } from '../../../common/api';
import {
  hostStatus,
  severityPhrase,
  systemText,
  type ClusterRow,
  type FleetReport,
  type HostRow,
} from '../../../common/fleet';
import { FINDING_KINDS, SEVERITIES, severityRank, type Severity } from '../../../common/findings';
import { api, desktop } from '../../api/client';
import { SeverityBadge } from '../../components/Badges';
import { Text } from '../../components/Text';
import './fleet.css';

type Tab = 'hosts' | 'matrix' | 'clusters';

/** How often a fleet still running is read again. */
const LIVE_MS = 2500;

function finished(snapshot: FleetSnapshot): boolean {
  if (snapshot.status) return snapshot.status.counts.queued + snapshot.status.counts.active === 0;
  const c = snapshot.report?.counts;
  return !c || c.queued + c.active === 0;
}

function ProgressLine({ snapshot }: { snapshot: FleetSnapshot }) {
  const status = snapshot.status;
  const report = snapshot.report!;
  const total = status?.counts.total ?? report.counts.hosts;
  const done = status ? status.counts.done + status.counts.failed : report.counts.done + report.counts.failed;
  const eta = status?.etaSeconds ?? null;
  return (
    <div className="fleet-progress" data-testid="fleet-progress">
      <div className="fleet-bar" aria-label={`${done} of ${total} finished`}>
        <span style={{ width: `${total ? (100 * done) / total : 100}%` }} />
      </div>
      <span>
        {done}/{total} finished
        {status ? ` · ${status.counts.active} active · ${status.counts.queued} queued` : ''}
        {eta !== null ? ` · about ${eta < 60 ? `${eta} s` : `${Math.round(eta / 60)} min`} to go` : ''}
        {status
          ? ` · ${status.connectedWorkers} worker${status.connectedWorkers === 1 ? '' : 's'} connected`
          : ''}
      </span>
      {status && status.throughput.length > 0 && (
        <span className="muted">
          {status.throughput.map((t) => (
            <span key={t.worker} className="fleet-worker">
              <Text value={t.worker} />: {t.jobs} jobs, {t.imagesPerMinute.toFixed(1)}/min
            </span>
          ))}
        </span>
      )}
    </div>
  );
}

function SeverityCounts({ host }: { host: HostRow }) {
  if (host.state !== 'done') return <span className="absent">—</span>;
  if (host.baseline === null) return <span className="muted">not compared</span>;
  if (host.unrelated !== null) return <span className="sev-critical">another system</span>;
  if (host.differences === 0) return <span className="fleet-ok">none</span>;
  return (
    <span className="fleet-counts" title={severityPhrase(host.bySeverity)}>
      {[...SEVERITIES].reverse().map((s) =>
        host.bySeverity[s] > 0 ? (
          <span key={s} className={`fleet-count sev-bg-${s}`}>
            {host.bySeverity[s]} {s}
          </span>
        ) : null,
      )}
    </span>
  );
}

function HostsTable({ report, onOpen }: { report: FleetReport; onOpen: (host: HostRow) => void }) {
  return (
    <table className="fleet-table" data-testid="fleet-hosts">
      <thead>
        <tr>
          <th>Host</th>
          <th>Status</th>
          <th>Build</th>
          <th>Baseline</th>
          <th>Differences</th>
          <th>Top finding</th>
          <th>Clusters</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {report.hosts.map((host) => {
          const status = hostStatus(host);
          const top = host.findings.top;
          return (
            <tr key={host.label} className={`fleet-row st-${status}`} data-host={host.label}>
              <td className="mono">
                <Text value={host.label} />
              </td>
              <td>
                <span className={`fleet-status st-${status}`}>{status}</span>
              </td>
              <td>{host.system ? systemText(host.system) : <span className="absent">—</span>}</td>
              <td className="mono">
                {host.baseline !== null ? (
                  <Text value={host.baseline} />
                ) : (
                  <span className="muted" title={host.alone ?? ''}>
                    {host.state === 'done' ? 'none' : '—'}
                  </span>
                )}
              </td>
              <td>
                <SeverityCounts host={host} />
              </td>
              <td className="fleet-top">
                {host.error !== null ? (
                  <span className="bad">
                    <Text value={host.error} />
                  </span>
                ) : top ? (
                  <>
                    <SeverityBadge severity={top.severity} /> {top.kind} <Text value={top.subject} />
                  </>
                ) : (
                  <span className="absent">—</span>
                )}
              </td>
              <td>
                {host.clusters.map((c) => (
                  <span key={c} className="chip">
                    {c}
                  </span>
                ))}
              </td>
              <td>
                <button
                  type="button"
                  className="ghost"
                  disabled={host.state !== 'done'}
                  onClick={() => onOpen(host)}
                  title={host.baseline ? 'Open with its baseline, side by side' : 'Open the image'}
                >
                  {host.baseline ? 'Compare' : 'Open'}
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Per host and finding kind: how many, and the gravest severity of the new ones (vs the baseline). */
function matrixCells(host: HostRow): Map<string, { count: number; fresh: Severity | null }> {
  const cells = new Map<string, { count: number; fresh: Severity | null }>();
  for (const [kind, count] of Object.entries(host.findings.byKind)) cells.set(kind, { count, fresh: null });
  for (const difference of host.differenceList)
    for (const finding of difference.findings) {
      const cell = cells.get(finding.kind) ?? { count: 0, fresh: null };
      if (cell.fresh === null || severityRank(finding.severity) > severityRank(cell.fresh))
        cell.fresh = finding.severity;
      cells.set(finding.kind, cell);
    }
  return cells;
}

function Matrix({ report }: { report: FleetReport }) {
  const hosts = report.hosts.filter((h) => h.state === 'done');
  const cells = useMemo(() => new Map(hosts.map((h) => [h.label, matrixCells(h)])), [hosts]);
  const kinds = FINDING_KINDS.filter((k) => hosts.some((h) => cells.get(h.label)!.has(k)));
  if (kinds.length === 0) return <div className="placeholder">No host has a finding.</div>;
  return (
    <div className="fleet-matrix-wrap">
      <table className="fleet-matrix" data-testid="fleet-matrix">
        <thead>
          <tr>
            <th>Host</th>
            {kinds.map((k) => (
              <th key={k} title={k}>
                <span>{k}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {hosts.map((host) => (
            <tr key={host.label}>
              <td className="mono">
                <Text value={host.label} />
              </td>
              {kinds.map((kind) => {
                const cell = cells.get(host.label)!.get(kind);
                return (
                  <td
                    key={kind}
                    className={cell ? (cell.fresh ? `sev-bg-${cell.fresh} fresh` : 'also-baseline') : ''}
                    title={
                      cell
                        ? `${cell.count} ${kind}${cell.fresh ? ', not in the baseline' : ', as in the baseline'}`
                        : ''
                    }
                  >
                    {cell ? cell.count : ''}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">
        Coloured: findings the baseline does not have (by severity); grey: the baseline has them too.
      </p>
    </div>
  );
}

function Clusters({ report, onOpenHost }: { report: FleetReport; onOpenHost: (label: string) => void }) {
  if (report.clusters.length === 0)
    return <div className="placeholder">No two hosts share a difference from their baselines.</div>;
  return (
    <div className="fleet-clusters" data-testid="fleet-clusters">
      {report.clusters.map((cluster: ClusterRow) => (
        <div key={cluster.id} className={`card fleet-cluster sev-border-${cluster.severity}`}>
          <h3>
            {cluster.id} <SeverityBadge severity={cluster.severity} /> {cluster.hosts.length} hosts
          </h3>
          <div className="chips">
            {cluster.hosts.map((h) => (
              <button key={h} type="button" className="chip link" onClick={() => onOpenHost(h)}>
                <Text value={h} />
              </button>
            ))}
          </div>
          <ul className="plain-list">
            {cluster.evidence.map((e) => (
              <li key={e.key}>
                <SeverityBadge severity={e.severity} /> <span className="muted">{e.kind}</span>{' '}
                <Text value={e.label} />
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

export function FleetView({
  onClose,
  onOpened,
}: {
  onClose: () => void;
  onOpened: (primary: string, baseline: string | null) => void;
}) {
  const [kind, setKind] = useState<FleetSource['kind']>('results');
  const [text, setText] = useState('');
  const [source, setSource] = useState<FleetSource | null>(null);
  const [fleet, setFleet] = useState<string | undefined>(undefined);
  const [snapshot, setSnapshot] = useState<FleetSnapshot | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('hosts');
  const [busy, setBusy] = useState(false);

  const read = useCallback((from: FleetSource, name: string | undefined) => {
    setBusy(true);
    api.fleet({ source: from, ...(name ? { fleet: name } : {}) }).then(
      (s) => {
        setSnapshot(s);
        setError(null);
        setBusy(false);
      },
      (e: Error) => {
        setError(e.message);
        setBusy(false);
      },
    );
  }, []);

  useEffect(() => {
    if (!source || !snapshot || finished(snapshot)) return;
    const timer = setTimeout(() => read(source, fleet), LIVE_MS);
    return () => clearTimeout(timer);
  }, [source, fleet, snapshot, read]);

  const open = (): void => {
    const value = text.trim();
    if (!value) return;
    const from: FleetSource = kind === 'redis' ? { kind, url: value } : { kind, path: value };
    setSource(from);
    setFleet(undefined);
    setSnapshot(null);
    read(from, undefined);
  };

  const openHost = (label: string): void => {
    if (!source || !snapshot?.fleet) return;
    api.openFleetHost({ source, fleet: snapshot.fleet, host: label }).then(
      ({ primary, baseline }) => onOpened(primary.id, baseline?.id ?? null),
      (e: Error) => setError(e.message),
    );
  };

  const pickFolder = async (): Promise<void> => {
    const folder = await desktop?.pickDirectory({ title: 'Open a fleet results folder' });
    if (folder) setText(folder);
  };

  const report = snapshot?.report ?? null;
  return (
    <div className="fleet-view" data-testid="fleet-view">
      <div className="fleet-head">
        <h2>Fleet</h2>
        <div className="segmented">
          <button
            type="button"
            className={kind === 'results' ? 'active' : ''}
            onClick={() => setKind('results')}
          >
            Results folder
          </button>
          <button type="button" className={kind === 'redis' ? 'active' : ''} onClick={() => setKind('redis')}>
            Redis
          </button>
        </div>
        <input
          className="fleet-source"
          data-testid="fleet-source"
          value={text}
          placeholder={kind === 'redis' ? 'redis://[:password@]host:6379 or rediss://…' : '/path/to/results'}
          type={kind === 'redis' ? 'password' : 'text'}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && open()}
          spellCheck={false}
        />
        {kind === 'results' && desktop && (
          <button type="button" onClick={() => void pickFolder()}>
            Browse…
          </button>
        )}
        <button type="button" className="primary" onClick={open} disabled={busy || !text.trim()}>
          Open
        </button>
        <span className="spacer" />
        <button type="button" className="ghost" onClick={onClose} aria-label="Close the fleet">
          ×
        </button>
      </div>
      {error && (
        <div className="placeholder bad" role="alert">
          <Text value={error} />
        </div>
      )}
      {snapshot && !report && (
        <div className="placeholder">
          No fleet in <Text value={snapshot.source} /> yet.
        </div>
      )}
      {snapshot && report && (
        <>
          <div className="fleet-summary">
            {snapshot.fleets.length > 1 ? (
              <select
                value={snapshot.fleet ?? ''}
                onChange={(e) => {
                  setFleet(e.target.value);
                  read(source!, e.target.value);
                }}
              >
                {snapshot.fleets.map((f) => (
                  <option key={f}>{f}</option>
                ))}
              </select>
            ) : (
              <strong>{report.fleet}</strong>
            )}
            <span className="muted">
              <Text value={snapshot.source} />
            </span>
            <span data-testid="fleet-counts">
              {report.counts.hosts} hosts: {report.counts.matching} match, {report.counts.differing} differ,{' '}
              {report.counts.alone} alone, {report.counts.failed} failed
            </span>
            {report.baselines.map((b) => (
              <span key={b.label} className="muted">
                baseline <Text value={b.label} /> ({b.state === 'done' ? systemText(b.system) : b.state})
              </span>
            ))}
          </div>
          <ProgressLine snapshot={snapshot} />
          {report.warnings.length > 0 && (
            <div className="warnings" data-testid="fleet-warnings">
              {report.warnings.map((w) => (
                <div key={w}>
                  <Text value={w} />
                </div>
              ))}
            </div>
          )}
          {snapshot.skipped.length > 0 && (
            <div className="warnings">
              {snapshot.skipped.map((s) => (
                <div key={s}>
                  skipped <Text value={s} />
                </div>
              ))}
            </div>
          )}
          <div className="tabs">
            {(['hosts', 'matrix', 'clusters'] as const).map((t) => (
              <button
                key={t}
                type="button"
                className={tab === t ? 'active' : ''}
                onClick={() => setTab(t)}
                data-testid={`fleet-tab-${t}`}
              >
                {t === 'hosts'
                  ? 'Hosts'
                  : t === 'matrix'
                    ? 'Hosts × findings'
                    : `Clusters (${report.clusters.length})`}
              </button>
            ))}
          </div>
          <div className="fleet-body">
            {tab === 'hosts' && <HostsTable report={report} onOpen={(h) => openHost(h.label)} />}
            {tab === 'matrix' && <Matrix report={report} />}
            {tab === 'clusters' && <Clusters report={report} onOpenHost={openHost} />}
          </div>
        </>
      )}
    </div>
  );
}
