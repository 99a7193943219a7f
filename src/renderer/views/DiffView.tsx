// Baseline comparison: a clean image against the suspect one, matched by stable identity
// (names, module+offset), most severe differences first.

import { useEffect, useMemo, useState } from 'react';
import type { DiffEntry, DiffResult, SessionSummary } from '../../common/api';
import { severityRank } from '../../common/findings';
import { api } from '../api/client';
import { SeverityBadge } from '../components/Badges';
import { DataTable } from '../components/DataTable';
import { columnHelper } from '../components/table-features';
import { Text } from '../components/Text';
import { useApp } from '../state/app-state';

const helper = columnHelper<DiffEntry & { id: string }>();
const KINDS: Array<DiffEntry['kind'] | 'all'> = [
  'all',
  'finding',
  'handler',
  'driver',
  'device',
  'module',
  'link',
];

export function DiffView({
  session,
  onOpenBaseline,
}: {
  session: SessionSummary;
  onOpenBaseline: () => void;
}) {
  const { sessions, navigate } = useApp();
  const candidates = sessions.filter((s) => s.id !== session.id);
  const [baselineId, setBaselineId] = useState<string | null>(null);
  const baseline =
    candidates.find((s) => s.id === baselineId) ??
    candidates.find((s) => s.role === 'baseline') ??
    candidates[0] ??
    null;
  const requestKey = baseline ? `${baseline.id}|${session.id}` : '';
  const [answer, setAnswer] = useState<{ key: string; diff?: DiffResult; error?: string } | null>(null);
  const diff = answer?.key === requestKey ? (answer.diff ?? null) : null;
  const error = answer?.key === requestKey ? (answer.error ?? null) : null;
  const [kind, setKind] = useState<(typeof KINDS)[number]>('all');

  const ready = baseline?.state === 'ready' && session.state === 'ready';
  useEffect(() => {
    if (!baseline || !ready) return;
    let live = true;
    const key = `${baseline.id}|${session.id}`;
    api.diff({ baseline: baseline.id, primary: session.id }).then(
      (d) => live && setAnswer({ key, diff: d }),
      (e: Error) => live && setAnswer({ key, error: e.message }),
    );
    return () => {
      live = false;
    };
  }, [baseline, session.id, ready]);

  const rows = useMemo(
    () =>
      diff
        ? diff.entries.filter((e) => kind === 'all' || e.kind === kind).map((e, i) => ({ ...e, id: `${i}` }))
        : [],
    [diff, kind],
  );
  const columns = useMemo(
    () => [
      helper.accessor((e) => severityRank(e.severity), {
        id: 'severity',
        header: 'Severity',
        size: 100,
        cell: (c) => <SeverityBadge severity={c.row.original.severity} />,
      }),
      helper.accessor((e) => e.kind, { id: 'kind', header: 'Kind', size: 80 }),
      helper.accessor((e) => e.change, {
        id: 'change',
        header: 'Change',
        size: 80,
        cell: (c) => <span className={`change change-${c.getValue()}`}>{c.getValue()}</span>,
      }),
      helper.accessor((e) => e.key, {
        id: 'key',
        header: 'What',
        size: 380,
        cell: (c) => <Text value={c.getValue()} />,
      }),
      helper.accessor((e) => e.baseline ?? '', {
        id: 'baseline',
        header: 'Baseline',
        size: 330,
        cell: (c) => <Text value={c.getValue()} fallback="—" />,
      }),
      helper.accessor((e) => e.primary ?? '', {
        id: 'primary',
        header: 'This image',
        size: 330,
        cell: (c) => <Text value={c.getValue()} fallback="—" />,
      }),
    ],
    [],
  );

  return (
    <div className="diff-view full" data-testid="view-diff">
      <div className="flow-toolbar">
        <label>
          Baseline
          <select value={baseline?.id ?? ''} onChange={(e) => setBaselineId(e.target.value)}>
            {candidates.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label} ({s.state})
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={onOpenBaseline}>
          Open baseline…
        </button>
        <div className="segmented">
          {KINDS.map((k) => (
            <button key={k} type="button" className={kind === k ? 'active' : ''} onClick={() => setKind(k)}>
              {k}{' '}
              {diff
                ? `(${k === 'all' ? diff.entries.length : diff.entries.filter((e) => e.kind === k).length})`
                : ''}
            </button>
          ))}
        </div>
      </div>
      {!baseline ? (
        <div className="placeholder">
          Open a clean image of the same system as the baseline (File › Open Baseline…) to see what differs.
        </div>
      ) : !ready ? (
        <div className="placeholder">Waiting for both analyses to finish…</div>
      ) : error ? (
        <div className="placeholder bad">
          <Text value={error} />
        </div>
      ) : (
        <DataTable
          id="diff"
          data={rows}
          columns={columns}
          getRowId={(r) => r.id}
          onActivate={(r) =>
            navigate({
              view:
                r.kind === 'device'
                  ? 'devices'
                  : r.kind === 'module'
                    ? 'modules'
                    : r.kind === 'finding'
                      ? 'findings'
                      : 'drivers',
            })
          }
          rowClass={(r) => `sev-row-${r.severity}`}
          emptyText="No difference: this image matches its baseline."
          filterPlaceholder="Filter differences…  ( / )"
        />
      )}
    </div>
  );
}
