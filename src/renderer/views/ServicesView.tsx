// System Services (Alt+9): KeServiceDescriptorTable's table, one row per service: its number,
// the Nt routine, where the entry sends the call, module+offset and the verdict, the first
// instructions; hooked and patched entries first in line for the "next suspicious" button.

import { useMemo } from 'react';
import type { Handler } from '../../common/model';
import { VerdictBadge } from '../components/Badges';
import { DataTable } from '../components/DataTable';
import { FirstInstructions, instructionText } from '../components/FirstInstructions';
import { AddressLink, ModuleLink } from '../components/Links';
import { columnHelper } from '../components/table-features';
import { Text } from '../components/Text';
import { useApp } from '../state/app-state';
import { isSuspiciousVerdict } from '../../common/findings';
import type { ResultIndex } from '../util/result-index';

const helper = columnHelper<Handler>();
const rowId = (h: Handler) => h.index.toString(16);

export function ServicesView({ index }: { index: ResultIndex }) {
  const { location, navigate } = useApp();
  const wide = index.wide;
  const table = index.result.serviceTable;
  const data = useMemo(() => table?.entries ?? [], [table]);
  const columns = useMemo(
    () => [
      helper.accessor((h) => h.index, {
        id: 'index',
        header: '#',
        size: 64,
        cell: (c) => <span className="mono">{`0x${c.getValue().toString(16).padStart(3, '0')}`}</span>,
      }),
      helper.accessor((h) => h.name, {
        id: 'name',
        header: 'Service',
        size: 250,
        cell: (c) => (
          <span className="mono">
            <Text value={c.getValue()} />
          </span>
        ),
      }),
      helper.accessor((h) => h.address, {
        id: 'routine',
        header: 'Routine',
        size: wide ? 170 : 96,
        cell: (c) => <AddressLink address={c.getValue()} wide={wide} />,
      }),
      helper.accessor((h) => `${h.module ?? ''}+${h.offset ?? ''}`, {
        id: 'module',
        header: 'Module+offset',
        size: 210,
        cell: (c) => <ModuleLink name={c.row.original.module} suffix={c.row.original.offset} />,
      }),
      helper.accessor((h) => h.verdict, {
        id: 'verdict',
        header: 'Verdict',
        size: 150,
        cell: (c) => (
          <>
            <VerdictBadge verdict={c.row.original.verdict} />
            {c.row.original.target ? (
              <span className="patch-target">
                → <AddressLink address={c.row.original.target.address} wide={wide} />{' '}
                <Text value={c.row.original.target.module} fallback="no module" />
              </span>
            ) : null}
          </>
        ),
      }),
      helper.accessor((h) => (h.disassembly ? instructionText(h.disassembly) : ''), {
        id: 'code',
        header: 'First instructions',
        size: 320,
        cell: (c) => (
          <FirstInstructions address={c.row.original.address} known={c.row.original.disassembly} />
        ),
      }),
    ],
    [wide],
  );
  if (!table) {
    const why = index.result.image.warnings.find((w) => w.startsWith('system-service table'));
    return (
      <div className="placeholder" data-testid="view-services">
        <Text value={why ?? 'The system-service table was not read for this image.'} />
      </div>
    );
  }
  const suspicious = data.filter((h) => isSuspiciousVerdict(h.verdict));
  const nextSuspicious = (): void => {
    const at = suspicious.findIndex((h) => rowId(h) === location.service);
    const next = suspicious[(at + 1) % suspicious.length];
    if (next) navigate({ service: rowId(next) });
  };
  return (
    <div className="full" data-testid="view-services">
      <p className="table-caption muted">
        KeServiceDescriptorTable <AddressLink address={table.descriptor} wide={wide} /> · KiServiceTable{' '}
        <AddressLink address={table.base} wide={wide} /> · {table.limit} services · found by{' '}
        <Text value={table.method} />
      </p>
      <DataTable
        id="services"
        noun={['service', 'services']}
        data={data}
        columns={columns}
        getRowId={rowId}
        selectedId={location.service ?? null}
        onSelect={(h, mode) => navigate({ service: rowId(h) }, mode)}
        onActivate={(h) => navigate({ view: 'hex', hex: { space: 'virtual', address: h.address } })}
        rowClass={(h) => (isSuspiciousVerdict(h.verdict) ? `suspicious verdict-${h.verdict}` : undefined)}
        filterPlaceholder="Filter services…  ( / )"
        emptyText="The table has no entries."
        searchText={(h) => `${h.name} ${h.module ?? ''} ${h.verdict} ${h.address}`}
        toolbar={
          suspicious.length ? (
            <button
              type="button"
              className="pill bad"
              data-testid="services-hooked-count"
              title="Select the next hooked or patched service"
              onClick={nextSuspicious}
            >
              {`${suspicious.length} hooked or patched ›`}
            </button>
          ) : (
            <span className="pill ok" data-testid="services-hooked-count">
              every service runs the kernel's own code
            </span>
          )
        }
      />
    </div>
  );
}
