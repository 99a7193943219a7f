// The baseline comparison, side by side: on the left the differences (or the drivers, devices and
// modules of both images aligned row against row), on the right the selected one in both images —
// what changed and why, the two IRP tables, the two device stacks and the two request paths.

import { useEffect, useMemo, useRef, useState } from 'react';
import type { DiffEntry, DiffPair, DiffResult, SessionSummary } from '../../../common/api';
import { severityRank } from '../../../common/findings';
import { api } from '../../api/client';
import { SeverityBadge } from '../../components/Badges';
import { DataTable } from '../../components/DataTable';
import { columnHelper } from '../../components/table-features';
import { Text } from '../../components/Text';
import { visibleText } from '../../util/format';
import { useApp, useResult } from '../../state/app-state';
import type { DiffLocation, DiffTab } from '../../state/navigation';
import { deviceLabel, driverLabel, type ResultIndex } from '../../util/result-index';
import { DiffDetail } from './DiffDetail';
import { focusOf, pairRowId } from './focus';
import { diffEntryLabel } from '../../../common/diff-label';

const TABS: Array<{ id: DiffTab; label: string }> = [
  { id: 'differences', label: 'Differences' },
  { id: 'drivers', label: 'Drivers' },
  { id: 'devices', label: 'Devices' },
  { id: 'modules', label: 'Modules' },
];

const TAB_NOUNS: Record<DiffTab, readonly [string, string]> = {
  differences: ['difference', 'differences'],
  drivers: ['driver', 'drivers'],
  devices: ['device', 'devices'],
  modules: ['module', 'modules'],
};

const STATUS_LABEL: Record<DiffPair['status'], string> = {
  same: 'same',
  changed: 'changed',
  added: 'only in image',
  removed: 'only in baseline',
  variation: 'boot variation',
};

function useDiff(baseline: SessionSummary | null, primary: SessionSummary) {
  const ready = baseline?.state === 'ready' && primary.state === 'ready';
  const key = baseline ? `${baseline.id}|${primary.id}` : '';
  const [answer, setAnswer] = useState<{ key: string; diff?: DiffResult; error?: string } | null>(null);
  useEffect(() => {
    if (!baseline || !ready) return;
    let live = true;
    api.diff({ baseline: baseline.id, primary: primary.id }).then(
      (diff) => live && setAnswer({ key, diff }),
      (e: Error) => live && setAnswer({ key, error: e.message }),
    );
    return () => {
      live = false;
    };
  }, [baseline, primary.id, ready, key]);
  const current = answer?.key === key ? answer : null;
  return { ready, diff: current?.diff ?? null, error: current?.error ?? null };
}

export function DiffView({
  session,
  onOpenBaseline,
}: {
  session: SessionSummary;
  onOpenBaseline: () => void;
}) {
  const { sessions, location, navigate } = useApp();
  const state: DiffLocation = location.diff ?? { tab: 'differences' };
  const candidates = sessions.filter((s) => s.id !== session.id);
  const baseline =
    candidates.find((s) => s.id === state.baseline) ??
    candidates.find((s) => s.role === 'baseline') ??
    candidates[0] ??
    null;
  const { ready, diff, error } = useDiff(baseline, session);
  const baselineResult = useResult(baseline);
  const primaryResult = useResult(session);
  const set = (patch: Partial<DiffLocation>, mode: 'push' | 'replace' = 'push') =>
    navigate({ diff: { ...state, ...patch } }, mode);

  const baselineIndex = baselineResult?.status === 'ready' ? baselineResult.index : null;
  const primaryIndex = primaryResult?.status === 'ready' ? primaryResult.index : null;
  const all = state.all ?? false;

  let body;
  if (!baseline) {
    body = (
      <div className="placeholder">
        Open a clean image of the same system as the baseline (File › Open Baseline…, or drop it here in the
        desktop app) to see what differs. Another boot of the system is fine: objects are paired by what they
        are, not where they are.
      </div>
    );
  } else if (!ready) {
    body = <div className="placeholder">Waiting for both analyses to finish…</div>;
  } else if (error) {
    body = (
      <div className="placeholder bad">
        <Text value={error} />
      </div>
    );
  } else if (!diff || !baselineIndex || !primaryIndex) {
    body = <div className="placeholder">Comparing…</div>;
  } else if (diff.compatibility.unrelated) {
    body = (
      <div className="placeholder bad" data-testid="diff-unrelated">
        <Text value={diff.compatibility.unrelated} />
      </div>
    );
  } else {
    body = (
      <DiffBody
        diff={diff}
        state={state}
        all={all}
        set={set}
        baseline={{ session: baseline, index: baselineIndex }}
        primary={{ session, index: primaryIndex }}
      />
    );
  }

  return (
    <div className="diff-view full" data-testid="view-diff">
      <div className="flow-toolbar">
        <label>
          Baseline
          <select
            value={baseline?.id ?? ''}
            onChange={(e) => set({ baseline: e.target.value, item: undefined })}
            data-testid="diff-baseline"
          >
            {candidates.map((s) => (
              <option key={s.id} value={s.id}>
                {visibleText(s.label)} ({s.state})
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={onOpenBaseline}>
          Open baseline…
        </button>
        <div className="segmented" role="tablist" aria-label="Compare">
          {TABS.map((tab) => (
            <button
              key={tab.id}
              type="button"
              role="tab"
              aria-selected={state.tab === tab.id}
              className={state.tab === tab.id ? 'active' : ''}
              onClick={() => set({ tab: tab.id, item: undefined })}
              data-testid={`diff-tab-${tab.id}`}
            >
              {tab.label}
              {diff && tab.id === 'differences' ? ` (${diff.counts.differences})` : ''}
            </button>
          ))}
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={!all}
            onChange={(e) => set({ all: !e.target.checked }, 'replace')}
            data-testid="diff-only-differences"
          />
          Only differences
        </label>
        {diff && <DiffCounts diff={diff} />}
      </div>
      {diff?.compatibility.warnings.map((w) => (
        <div key={w} className="banner warn" role="note">
          <Text value={w} />
        </div>
      ))}
      <div className="diff-body">{body}</div>
    </div>
  );
}

function DiffCounts({ diff }: { diff: DiffResult }) {
  const severities = (Object.entries(diff.counts.bySeverity) as Array<[DiffEntry['severity'], number]>)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => severityRank(b) - severityRank(a));
  return (
    <span className="diff-counts" data-testid="diff-counts">
      {severities.map(([severity, n]) => (
        <span key={severity} className={`pill sev-${severity}`}>
          {n} {severity}
        </span>
      ))}
      <span className="muted">
        {diff.counts.differences === 0 ? 'no differences' : `${diff.counts.differences} differences`} ·{' '}
        {diff.counts.variations} between boots · {diff.counts.drivers.matched} of{' '}
        {diff.counts.drivers.primary} drivers paired
      </span>
    </span>
  );
}

interface SideData {
  session: SessionSummary;
  index: ResultIndex;
}

type Row =
  | { kind: 'entry'; id: string; entry: DiffEntry }
  | { kind: 'pair'; id: string; pair: DiffPair; baseline: string; primary: string };

const helper = columnHelper<Row>();

function DiffBody({
  diff,
  state,
  all,
  set,
  baseline,
  primary,
}: {
  diff: DiffResult;
  state: DiffLocation;
  all: boolean;
  set: (patch: Partial<DiffLocation>, mode?: 'push' | 'replace') => void;
  baseline: SideData;
  primary: SideData;
}) {
  const tab = state.tab;
  const rows = useMemo<Row[]>(() => {
    if (tab === 'differences')
      return diff.entries
        .filter((e) => all || e.variation === null)
        .map((entry) => ({ kind: 'entry', id: entry.id, entry }));
    const name = (index: ResultIndex, id: string | null): string => {
      if (id === null) return '';
      if (tab === 'drivers') {
        const driver = index.drivers.get(id);
        return driver ? driverLabel(driver) : id;
      }
      if (tab === 'devices') {
        const device = index.devices.get(id);
        return device ? deviceLabel(device) : id;
      }
      return id;
    };
    // "Only differences" hides what is the same and what any two boots differ in, in every tab.
    return diff.pairs[tab]
      .filter((pair) => all || (pair.status !== 'same' && pair.status !== 'variation'))
      .map((pair) => ({
        kind: 'pair',
        id: pairRowId(pair),
        pair,
        baseline: name(baseline.index, pair.baseline),
        primary: name(primary.index, pair.primary),
      }));
  }, [diff, tab, all, baseline.index, primary.index]);

  const columns = useMemo(
    () =>
      tab === 'differences'
        ? [
            helper.accessor((r) => (r.kind === 'entry' ? severityRank(r.entry.severity) : 0), {
              id: 'severity',
              header: 'Severity',
              size: 92,
              cell: (c) =>
                c.row.original.kind === 'entry' ? (
                  c.row.original.entry.variation ? (
                    <span className="pill" title="What any two boots of one system differ in: not counted">
                      variation
                    </span>
                  ) : (
                    <SeverityBadge severity={c.row.original.entry.severity} />
                  )
                ) : null,
            }),
            helper.accessor((r) => (r.kind === 'entry' ? `${r.entry.kind} ${r.entry.change}` : ''), {
              id: 'change',
              header: 'Change',
              size: 120,
              cell: (c) => (
                <span className={`change change-${c.getValue().split(' ')[1]}`}>{c.getValue()}</span>
              ),
            }),
            helper.accessor((r) => (r.kind === 'entry' ? diffEntryLabel(r.entry) : ''), {
              id: 'key',
              header: 'What',
              size: 300,
              cell: (c) => <Text value={c.getValue()} />,
            }),
          ]
        : [
            helper.accessor((r) => (r.kind === 'pair' ? r.pair.status : ''), {
              id: 'status',
              header: '',
              size: 110,
              cell: (c) => (
                <span className={`pair-status status-${c.getValue()}`}>
                  {STATUS_LABEL[c.getValue() as DiffPair['status']]}
                </span>
              ),
            }),
            helper.accessor((r) => (r.kind === 'pair' ? r.baseline : ''), {
              id: 'baseline',
              header: 'Baseline',
              size: 230,
              cell: (c) => <Text value={c.getValue()} fallback="—" />,
            }),
            helper.accessor((r) => (r.kind === 'pair' ? r.primary : ''), {
              id: 'primary',
              header: 'This image',
              size: 230,
              cell: (c) => <Text value={c.getValue()} fallback="—" />,
            }),
          ],
    [tab],
  );

  const selected = state.item && rows.some((r) => r.id === state.item) ? state.item : (rows[0]?.id ?? null);
  const focus = useMemo(() => focusOf(diff, tab, selected), [diff, tab, selected]);
  const detailPane = useRef<HTMLDivElement>(null);
  // A new selection starts at its top, not where the previous one was scrolled to.
  useEffect(() => {
    if (detailPane.current) detailPane.current.scrollTop = 0;
  }, [selected]);
  return (
    <div className={`split-horizontal diff-split${state.wide ? ' wide' : ''}`}>
      <div className="pane left">
        <DataTable
          key={tab}
          id={`diff-${tab}`}
          data={rows}
          columns={columns}
          getRowId={(r) => r.id}
          selectedId={selected}
          onSelect={(r, mode) => set({ item: r.id }, mode)}
          rowClass={(r) =>
            r.kind === 'entry'
              ? r.entry.variation
                ? 'variation-row'
                : `sev-row-${r.entry.severity}`
              : `pair-row status-${r.pair.status}`
          }
          emptyText={
            tab === 'differences'
              ? 'No difference: this image matches its baseline.'
              : 'Every object is the same in both images.'
          }
          filterPlaceholder="Filter…  ( / )"
          noun={TAB_NOUNS[tab]}
        />
      </div>
      <div className="pane right diff-detail-pane" data-testid="diff-detail" ref={detailPane}>
        {selected ? (
          <DiffDetail
            diff={diff}
            focus={focus}
            operation={state.operation ?? 'DeviceIoControl'}
            onOperation={(operation) => set({ operation }, 'replace')}
            wide={state.wide ?? false}
            onWide={(wide) => set({ wide }, 'replace')}
            baseline={baseline}
            primary={primary}
          />
        ) : (
          <div className="placeholder">Nothing to show.</div>
        )}
      </div>
    </div>
  );
}
