// The dispatch table of one driver: the 28 MajorFunction entries, DriverInit / StartIo / Unload,
// and every FastIo entry, each with its handler, module+offset, verdict and first instructions.

import { useMemo } from 'react';
import type { Driver, Handler } from '../../common/model';
import { VerdictBadge } from '../components/Badges';
import { DataTable } from '../components/DataTable';
import { FirstInstructions, instructionText } from '../components/FirstInstructions';
import { AddressLink, ModuleLink } from '../components/Links';
import { columnHelper } from '../components/table-features';
import { Text } from '../components/Text';
import { AnnotationBadge, annotationOf } from '../components/Annotation';
import { useActiveSession, useApp, useCase } from '../state/app-state';
import { isSuspiciousVerdict } from '../../common/findings';
import type { ResultIndex } from '../util/result-index';

export interface IrpRow {
  id: string;
  group: 'IRP' | 'Callback' | 'FastIo';
  handler: Handler;
  findings: number;
}

const helper = columnHelper<IrpRow>();

export function irpRows(driver: Driver, index: ResultIndex): IrpRow[] {
  const rows = (group: IrpRow['group'], handlers: Handler[]): IrpRow[] =>
    handlers.map((h) => ({
      id: `${group}:${h.name}`,
      group,
      handler: h,
      findings: index.findingIndex.handler(driver, h).length,
    }));
  return [
    ...rows('IRP', driver.irp),
    ...rows('Callback', driver.callbacks),
    ...rows('FastIo', driver.fastIo),
  ];
}

/** The annotation key of a handler row (see AnnotationTarget). */
export function handlerTarget(driver: Driver, row: Pick<IrpRow, 'group' | 'handler'>): string {
  const table = row.group === 'IRP' ? 'irp' : row.group === 'FastIo' ? 'fastIo' : 'callbacks';
  return `handler:${driver.objectVa}:${table}:${row.handler.name}`;
}

export function IrpTable({ driver, index }: { driver: Driver; index: ResultIndex }) {
  const { location, navigate } = useApp();
  const caseView = useCase(useActiveSession());
  const wide = index.wide;
  const data = useMemo(() => irpRows(driver, index), [driver, index]);
  const columns = useMemo(
    () => [
      helper.accessor(
        (r) =>
          r.group === 'IRP'
            ? r.handler.index
            : r.group === 'Callback'
              ? 100 + r.handler.index
              : 200 + r.handler.index,
        {
          id: 'index',
          header: '#',
          size: 44,
          cell: (c) =>
            c.row.original.group === 'IRP'
              ? `0x${c.row.original.handler.index.toString(16).padStart(2, '0')}`
              : c.row.original.group === 'FastIo'
                ? 'fio'
                : 'cb',
        },
      ),
      helper.accessor((r) => r.handler.name, {
        id: 'name',
        header: 'Entry',
        size: 270,
        cell: (c) => <span className="mono">{c.getValue()}</span>,
      }),
      helper.accessor((r) => r.handler.address, {
        id: 'handler',
        header: 'Handler',
        size: wide ? 170 : 96,
        cell: (c) => <AddressLink address={c.getValue()} wide={wide} />,
      }),
      helper.accessor((r) => `${r.handler.module ?? ''}+${r.handler.offset ?? ''}`, {
        id: 'module',
        header: 'Module+offset',
        size: 210,
        cell: (c) => (
          <ModuleLink name={c.row.original.handler.module} suffix={c.row.original.handler.offset} />
        ),
      }),
      helper.accessor((r) => r.handler.verdict, {
        id: 'verdict',
        header: 'Verdict',
        size: 140,
        cell: (c) => (
          <>
            <VerdictBadge verdict={c.row.original.handler.verdict} />
            {c.row.original.handler.target ? (
              <span className="patch-target">
                → <AddressLink address={c.row.original.handler.target.address} wide={wide} />{' '}
                <Text value={c.row.original.handler.target.module} fallback="no module" />
              </span>
            ) : null}
          </>
        ),
      }),
      helper.accessor((r) => (r.handler.disassembly ? instructionText(r.handler.disassembly) : ''), {
        id: 'code',
        header: 'First instructions',
        size: 320,
        cell: (c) => (
          <FirstInstructions
            address={c.row.original.handler.address}
            known={c.row.original.handler.disassembly}
          />
        ),
      }),
      helper.accessor((r) => annotationOf(caseView, handlerTarget(driver, r))?.status ?? '', {
        id: 'analyst',
        header: 'Analyst',
        size: 100,
        cell: (c) => (
          <AnnotationBadge annotation={annotationOf(caseView, handlerTarget(driver, c.row.original))} />
        ),
      }),
    ],
    [wide, caseView, driver],
  );
  const suspicious = data.filter((r) => isSuspiciousVerdict(r.handler.verdict));
  const hooked = suspicious.length;
  /** Selects (and so scrolls to) the suspicious entry after the selected one, wrapping round. */
  const nextSuspicious = (): void => {
    const at = suspicious.findIndex((r) => r.id === location.handler);
    const next = suspicious[(at + 1) % suspicious.length];
    if (next) navigate({ handler: next.id });
  };
  return (
    <DataTable
      id="irp"
      noun={['entry', 'entries']}
      data={data}
      columns={columns}
      getRowId={(r) => r.id}
      selectedId={location.handler ? location.handler : null}
      onSelect={(r, mode) => navigate({ handler: r.id }, mode)}
      onActivate={(r) => navigate({ view: 'hex', hex: { space: 'virtual', address: r.handler.address } })}
      rowClass={(r) =>
        isSuspiciousVerdict(r.handler.verdict)
          ? `suspicious verdict-${r.handler.verdict}`
          : r.handler.verdict === 'kernel-default'
            ? 'dim'
            : undefined
      }
      filterPlaceholder="Filter entries…  ( / )"
      emptyText="This driver object has no dispatch table (a freed object)."
      toolbar={
        hooked ? (
          <button
            type="button"
            className="pill bad"
            data-testid="irp-hooked-count"
            title="Select the next suspicious entry"
            onClick={nextSuspicious}
          >
            {`${hooked} suspicious ${hooked === 1 ? 'entry' : 'entries'} ›`}
          </button>
        ) : (
          <span className="pill ok" data-testid="irp-hooked-count">
            no suspicious entry
          </span>
        )
      }
    />
  );
}
