import { useMemo } from 'react';
import type { Module } from '../../common/model';
import { DataTable } from '../components/DataTable';
import { AddressLink, DriverLink } from '../components/Links';
import { columnHelper } from '../components/table-features';
import { Text } from '../components/Text';
import { SaveImageButton } from '../components/SaveImageButton';
import { useActiveSession, useApp } from '../state/app-state';
import { compareHex, formatHexSize } from '../util/format';
import type { ResultIndex } from '../util/result-index';

interface ModuleRow {
  module: Module;
  drivers: Array<{ id: string; name: string | null }>;
  findings: number;
}

const helper = columnHelper<ModuleRow>();

export function ModulesView({ index }: { index: ResultIndex }) {
  const { location, navigate } = useApp();
  const session = useActiveSession();
  const sessionId = session?.id ?? null;
  const wide = index.wide;
  const data = useMemo<ModuleRow[]>(
    () =>
      index.result.modules.map((module) => ({
        module,
        drivers: index.result.drivers
          .filter((d) => d.module?.toLowerCase() === module.name.toLowerCase())
          .map((d) => ({ id: d.id, name: d.name })),
        findings: index.findingsAbout(module.name).length,
      })),
    [index],
  );
  const columns = useMemo(
    () => [
      helper.accessor((r) => r.module.name, {
        id: 'name',
        header: 'Name',
        size: 190,
        cell: (c) => <Text value={c.getValue()} />,
      }),
      helper.accessor((r) => r.module.base, {
        id: 'base',
        header: 'Base',
        size: wide ? 170 : 96,
        sortFn: (a, b) => compareHex(a.original.module.base, b.original.module.base),
        cell: (c) => <AddressLink address={c.getValue()} wide={wide} />,
      }),
      helper.accessor((r) => r.module.size, {
        id: 'size',
        header: 'Size',
        size: 90,
        cell: (c) => <span className="mono">{formatHexSize(c.getValue())}</span>,
      }),
      helper.display({
        id: 'image',
        header: 'Image',
        size: 100,
        cell: (c) =>
          sessionId ? (
            <SaveImageButton
              session={sessionId}
              target={{ address: c.row.original.module.base }}
              label="Save…"
            />
          ) : null,
      }),
      helper.accessor((r) => r.drivers.map((d) => d.name ?? '').join(' '), {
        id: 'drivers',
        header: 'Drivers',
        size: 200,
        cell: (c) => (
          <span className="chips">
            {c.row.original.drivers.map((d) => (
              <DriverLink key={d.id} id={d.id} name={d.name} />
            ))}
          </span>
        ),
      }),
      helper.accessor((r) => r.module.foundBy.join(' '), { id: 'foundBy', header: 'Found by', size: 150 }),
      helper.accessor((r) => (r.module.unlinked ? 'unlinked' : ''), {
        id: 'unlinked',
        header: 'List',
        size: 80,
        cell: (c) =>
          c.getValue() ? <span className="pill bad">unlinked</span> : <span className="muted">linked</span>,
      }),
      helper.accessor((r) => r.module.path ?? '', {
        id: 'path',
        header: 'Path',
        size: 360,
        cell: (c) => <Text value={c.getValue()} />,
      }),
      helper.accessor((r) => r.module.ldrEntry ?? '', {
        id: 'ldr',
        header: 'Loader entry',
        size: wide ? 170 : 96,
        cell: (c) => <AddressLink address={c.getValue() || null} wide={wide} />,
      }),
    ],
    [wide, sessionId],
  );
  return (
    <div className="full" data-testid="view-modules">
      <DataTable
        id="modules"
        noun={['module', 'modules']}
        data={data}
        columns={columns}
        getRowId={(r) => r.module.name.toLowerCase()}
        selectedId={location.module ?? null}
        onSelect={(r, mode) => navigate({ module: r.module.name.toLowerCase() }, mode)}
        onActivate={(r) => navigate({ view: 'hex', hex: { space: 'virtual', address: r.module.base } })}
        rowClass={(r) => (r.module.unlinked || r.findings ? 'suspicious' : undefined)}
        filterPlaceholder="Filter modules…  ( / )"
        searchText={(r) => `${r.module.name} ${r.module.path ?? ''} ${r.module.base}`}
      />
    </div>
  );
}
