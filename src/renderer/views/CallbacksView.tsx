// Callbacks & notify routines: where the kernel keeps each kind (its array or list head, how it
// was found, what could not be read), every registered routine with its owner and verdict, and
// below the selected one its evidence — the slot, the routine's code, the owner, the device.

import { useMemo, useState } from 'react';
import { CALLBACK_LABELS } from '../../common/callback-labels';
import { CALLBACK_KINDS, type Callback, type CallbackKind, type Finding } from '../../common/model';
import { SeverityBadge, VerdictBadge } from '../components/Badges';
import { DataTable } from '../components/DataTable';
import { FirstInstructions, instructionText } from '../components/FirstInstructions';
import { AddressLink, DeviceLink, DriverLink, FindingLink, ModuleLink } from '../components/Links';
import { columnHelper } from '../components/table-features';
import { Text } from '../components/Text';
import { useApp } from '../state/app-state';
import {
  callbackId,
  filterCallbacks,
  headGap,
  findingsByCallback,
  isSuspiciousCallback,
  type CallbackFilter,
} from '../util/callbacks';
import { visibleText } from '../util/format';
import { deviceLabel, driverLabel, type ResultIndex } from '../util/result-index';

const helper = columnHelper<Callback>();

function HeadsStrip({
  index,
  filter,
  onKind,
}: {
  index: ResultIndex;
  filter: CallbackFilter;
  onKind: (kind: CallbackKind | 'all') => void;
}) {
  const { heads, entries } = index.result.callbacks;
  return (
    <div className="callback-heads" data-testid="callback-heads">
      {heads.map((head) => {
        const count = entries.filter((c) => c.kind === head.kind).length;
        const gap = headGap(head);
        return (
          <div
            key={head.kind}
            className={`callback-head${filter.kind === head.kind ? ' active' : ''}${gap ? ' gap' : ''}`}
            data-testid={`callback-head-${head.kind}`}
          >
            <button
              type="button"
              className="link head-name"
              title={`Show only ${CALLBACK_LABELS[head.kind]}s`}
              onClick={() => onKind(filter.kind === head.kind ? 'all' : head.kind)}
            >
              {CALLBACK_LABELS[head.kind]}
            </button>
            <span className={`head-count${count === 0 ? ' muted' : ''}`}>
              {gap && head.coverage.state === 'unavailable' ? '—' : count}
            </span>
            <div className="head-where">
              {head.address ? <AddressLink address={head.address} wide={index.wide} /> : null}{' '}
              <span className="muted small" title={head.method ? visibleText(head.method) : undefined}>
                <Text value={head.method} fallback="head not found" />
              </span>
            </div>
            {gap ? (
              <div className="head-gap small">
                <Text value={gap} />
              </div>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}

/** What the kernel holds each kind's entry and block in, as the detail names them. */
function entryWords(callback: Callback): { entry: string; block: string } {
  switch (callback.kind) {
    case 'timer':
      return { entry: 'KTIMER', block: 'KDPC' };
    case 'system-thread':
      return { entry: 'ETHREAD', block: 'Block' };
    case 'idt':
      return { entry: 'Interrupt gate', block: 'KINTERRUPT' };
    case 'gdt':
      return { entry: 'Call gate', block: 'Block' };
    case 'process-object':
    case 'thread-object':
    case 'desktop-object':
      return { entry: 'OB_CALLBACK_ENTRY', block: 'Registration' };
    default:
      return callback.block
        ? { entry: 'Array slot', block: 'Routine block' }
        : { entry: 'List record', block: 'Block' };
  }
}

/** "processor 1 · every 1000 ms" for a timer; a gate's or thread's processor or id. */
function timing(callback: Callback): string | null {
  const parts = [
    ...(callback.processor !== undefined ? [`processor ${callback.processor}`] : []),
    ...(callback.tid !== undefined ? [`thread ${callback.tid}`] : []),
    ...(callback.kind === 'timer' ? [callback.period ? `every ${callback.period} ms` : 'once'] : []),
  ];
  return parts.length > 0 ? parts.join(' · ') : null;
}

/** Component, device or driver a record names (bug-check, shutdown, file-system registration); a timer's processor and period. */
function RegisteredFor({ callback, index }: { callback: Callback; index: ResultIndex }) {
  const device = callback.device ? index.devices.get(callback.device) : undefined;
  const driver = callback.driver ? index.drivers.get(callback.driver) : undefined;
  const when = timing(callback);
  return (
    <span className="chips">
      {when ? <span className="muted">{when}</span> : null}
      {callback.component !== null ? (
        <span className="mono" title="the component name the driver gave">
          <Text value={callback.component} />
        </span>
      ) : null}
      {callback.device ? (
        <DeviceLink id={device?.id ?? null} name={device ? deviceLabel(device) : callback.device} />
      ) : null}
      {callback.driver ? (
        <DriverLink id={driver?.id ?? null} name={driver ? driverLabel(driver) : callback.driver} />
      ) : null}
    </span>
  );
}

function OwnerCell({ callback, index }: { callback: Callback; index: ResultIndex }) {
  const module = callback.owner ? index.modules.get(callback.owner.toLowerCase()) : undefined;
  return (
    <span className="owner-cell">
      <ModuleLink name={callback.owner} />
      {module?.unlinked ? <span className="pill bad">unlinked</span> : null}
    </span>
  );
}

export function CallbacksView({ index }: { index: ResultIndex }) {
  const { location, navigate } = useApp();
  const wide = index.wide;
  const [filter, setFilter] = useState<CallbackFilter>({ kind: 'all', suspiciousOnly: false });
  const findings = useMemo(
    () => findingsByCallback(index.result.findings, index.result.callbacks.entries),
    [index],
  );
  const entries = index.result.callbacks.entries;
  const data = useMemo(() => filterCallbacks(entries, filter, findings), [entries, filter, findings]);
  const columns = useMemo(
    () => [
      helper.accessor((c) => CALLBACK_KINDS.indexOf(c.kind), {
        id: 'kind',
        header: 'Kind',
        size: 220,
        cell: (c) => CALLBACK_LABELS[c.row.original.kind],
      }),
      helper.accessor((c) => c.slot, { id: 'slot', header: 'Slot', size: 48 }),
      helper.accessor((c) => c.routine.address, {
        id: 'routine',
        header: 'Routine',
        size: wide ? 170 : 96,
        cell: (c) => <AddressLink address={c.getValue()} wide={wide} />,
      }),
      helper.accessor((c) => `${c.routine.module ?? ''}+${c.routine.offset ?? ''}`, {
        id: 'module',
        header: 'Module+offset',
        size: 200,
        cell: (c) => (
          <ModuleLink name={c.row.original.routine.module} suffix={c.row.original.routine.offset} />
        ),
      }),
      helper.accessor((c) => c.owner ?? '', {
        id: 'owner',
        header: 'Owner',
        size: 180,
        cell: (c) => <OwnerCell callback={c.row.original} index={index} />,
      }),
      helper.accessor((c) => c.routine.verdict, {
        id: 'verdict',
        header: 'Verdict',
        size: 140,
        cell: (c) => <VerdictBadge verdict={c.row.original.routine.verdict} />,
      }),
      helper.accessor((c) => findings.get(c.entry)?.[0]?.kind ?? '', {
        id: 'finding',
        header: 'Finding',
        size: 250,
        cell: (c) =>
          (findings.get(c.row.original.entry) ?? []).map((f) => (
            <span key={f.id} className="chips">
              <SeverityBadge severity={f.severity} /> <FindingLink id={f.id}>{f.kind}</FindingLink>
            </span>
          )),
      }),
      helper.accessor(
        (c) => `${c.component ?? ''} ${c.device ? (index.devices.get(c.device)?.name ?? c.device) : ''}`,
        {
          id: 'for',
          header: 'Registered for / when',
          size: 240,
          cell: (c) => <RegisteredFor callback={c.row.original} index={index} />,
        },
      ),
      helper.accessor((c) => c.entry, {
        id: 'entry',
        header: 'Entry',
        size: wide ? 170 : 96,
        cell: (c) => <AddressLink address={c.getValue()} wide={wide} />,
      }),
      helper.accessor((c) => (c.routine.disassembly ? instructionText(c.routine.disassembly) : ''), {
        id: 'code',
        header: 'First instructions',
        size: 300,
        cell: (c) => (
          <FirstInstructions
            address={c.row.original.routine.address}
            known={c.row.original.routine.disassembly}
          />
        ),
      }),
    ],
    [wide, index, findings],
  );
  const suspicious = entries.filter((c) => isSuspiciousCallback(c, findings));
  const selected = location.callback ? entries.find((c) => callbackId(c) === location.callback) : undefined;
  const unreadable = index.result.callbacks.heads.filter((h) => h.coverage.state === 'unavailable');
  const emptyText =
    entries.length === 0
      ? unreadable.length === index.result.callbacks.heads.length
        ? `No callbacks could be read: ${unreadable.map((h) => `${CALLBACK_LABELS[h.kind]} ${headGap(h)}`).join('; ')}.`
        : 'No callback is registered in the kinds that could be read (see the heads above).'
      : filter.suspiciousOnly
        ? 'No suspicious callback of this kind: every routine lies in the module that registered it.'
        : 'No callback of this kind is registered.';
  const nextSuspicious = (): void => {
    const at = suspicious.findIndex((c) => callbackId(c) === location.callback);
    const next = suspicious[(at + 1) % suspicious.length];
    if (next) navigate({ callback: callbackId(next) });
  };
  return (
    <div className="split-vertical callbacks-view" data-testid="view-callbacks">
      <div className="pane top callbacks-top">
        <HeadsStrip index={index} filter={filter} onKind={(kind) => setFilter((f) => ({ ...f, kind }))} />
        <DataTable
          id="callbacks"
          noun={['callback', 'callbacks']}
          data={data}
          total={entries.length}
          columns={columns}
          getRowId={callbackId}
          selectedId={location.callback ?? null}
          onSelect={(c, mode) => navigate({ callback: callbackId(c) }, mode)}
          onActivate={(c) => navigate({ view: 'hex', hex: { space: 'virtual', address: c.routine.address } })}
          rowClass={(c) =>
            isSuspiciousCallback(c, findings) ? `suspicious verdict-${c.routine.verdict}` : undefined
          }
          filterPlaceholder="Filter callbacks…  ( / )"
          emptyText={emptyText}
          searchText={(c) =>
            `${CALLBACK_LABELS[c.kind]} ${c.kind} ${c.owner ?? 'no module'} ${c.routine.address} ${c.routine.verdict} ${c.component ?? ''} ${c.entry}`
          }
          toolbar={
            <>
              <select
                aria-label="Kind"
                data-testid="callbacks-kind"
                value={filter.kind}
                onChange={(e) => setFilter((f) => ({ ...f, kind: e.target.value as CallbackFilter['kind'] }))}
              >
                <option value="all">every kind</option>
                {CALLBACK_KINDS.map((kind) => (
                  <option key={kind} value={kind}>
                    {CALLBACK_LABELS[kind]}
                  </option>
                ))}
              </select>
              <label className="check">
                <input
                  type="checkbox"
                  data-testid="callbacks-suspicious-only"
                  checked={filter.suspiciousOnly}
                  onChange={(e) => setFilter((f) => ({ ...f, suspiciousOnly: e.target.checked }))}
                />
                suspicious only
              </label>
              {suspicious.length ? (
                <button
                  type="button"
                  className="pill bad"
                  data-testid="callbacks-suspicious-count"
                  title="Select the next suspicious callback"
                  onClick={nextSuspicious}
                >
                  {`${suspicious.length} suspicious ›`}
                </button>
              ) : (
                <span className="pill ok" data-testid="callbacks-suspicious-count">
                  every routine lies in its own module
                </span>
              )}
            </>
          }
        />
      </div>
      <div className="pane bottom detail" data-testid="callback-detail">
        {selected ? (
          <CallbackDetail callback={selected} index={index} findings={findings.get(selected.entry) ?? []} />
        ) : (
          <div className="placeholder">
            Select a callback to see its slot, its routine's code and its owner.
          </div>
        )}
      </div>
    </div>
  );
}

function CallbackDetail({
  callback,
  index,
  findings,
}: {
  callback: Callback;
  index: ResultIndex;
  findings: Finding[];
}) {
  const wide = index.wide;
  const routine = callback.routine;
  const head = index.result.callbacks.heads.find((h) => h.kind === callback.kind);
  const words = entryWords(callback);
  return (
    <div className="finding-detail callback-detail">
      <div className="detail-head">
        <h3>
          {CALLBACK_LABELS[callback.kind]}, slot {callback.slot}:{' '}
          <ModuleLink name={routine.module} suffix={routine.offset} />{' '}
          <VerdictBadge verdict={routine.verdict} />
        </h3>
      </div>
      <dl className="evidence">
        <dt>{words.entry}</dt>
        <dd>
          <AddressLink address={callback.entry} wide={wide} />
          {head?.address ? (
            <span className="muted">
              {' '}
              in <AddressLink address={head.address} wide={wide} /> (<Text value={head.method} fallback="?" />
              )
            </span>
          ) : null}
        </dd>
        {callback.block ? (
          <>
            <dt>{words.block}</dt>
            <dd>
              <AddressLink address={callback.block} wide={wide} />
            </dd>
          </>
        ) : null}
        {callback.dispatch ? (
          <>
            <dt>Dispatches to</dt>
            <dd>
              <AddressLink address={callback.dispatch.address} wide={wide} />{' '}
              <ModuleLink name={callback.dispatch.module} />
            </dd>
          </>
        ) : null}
        <dt>Routine</dt>
        <dd>
          <AddressLink address={routine.address} wide={wide} />{' '}
          <ModuleLink name={routine.module} suffix={routine.offset} />
          {routine.target ? (
            <span className="patch-target">
              {' '}
              → <AddressLink address={routine.target.address} wide={wide} />{' '}
              <Text value={routine.target.module} fallback="no module" />
            </span>
          ) : null}
        </dd>
        <dt>Owner</dt>
        <dd>
          <OwnerCell callback={callback} index={index} />
        </dd>
        {callback.context ? (
          <>
            <dt>Context</dt>
            <dd className="mono">{callback.context}</dd>
          </>
        ) : null}
        {callback.component !== null || callback.device || callback.driver || timing(callback) ? (
          <>
            <dt>{callback.kind === 'timer' ? 'Fires' : 'Registered for'}</dt>
            <dd>
              <RegisteredFor callback={callback} index={index} />
            </dd>
          </>
        ) : null}
        {findings.length ? (
          <>
            <dt>Findings</dt>
            <dd>
              {findings.map((f) => (
                <div key={f.id}>
                  <SeverityBadge severity={f.severity} /> <FindingLink id={f.id}>{f.kind}</FindingLink> —{' '}
                  <Text value={f.explanation} />
                </div>
              ))}
            </dd>
          </>
        ) : null}
        <dt>Code</dt>
        <dd data-testid="callback-code">
          {routine.disassembly && routine.disassembly.instructions.length ? (
            <>
              <pre className="code-block">{routine.disassembly.instructions.map(visibleText).join('\n')}</pre>
              <span className="muted mono small">{routine.disassembly.bytes}</span>
            </>
          ) : (
            <FirstInstructions address={routine.address} known={routine.disassembly} />
          )}
        </dd>
      </dl>
    </div>
  );
}
