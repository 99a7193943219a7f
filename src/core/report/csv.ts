// CSV tables of an analysis: one table per object kind, each with a header row.

import type { AnalysisResult, Handler } from '../../common/model';
import { csvField } from './escape';

type Cell = string | number | boolean | null | undefined;

export interface CsvTable {
  name: string;
  header: string[];
  rows: Cell[][];
}

/** A handler's name, address, module, offset, verdict and patch target, as the irp and ssdt tables show them. */
function handlerCells(h: Handler): Array<string | null> {
  return [
    h.name,
    h.address,
    h.module,
    h.offset,
    h.verdict,
    h.target ? `${h.target.address} ${h.target.module ?? ''}`.trim() : '',
  ];
}

export function csvTables(result: AnalysisResult): CsvTable[] {
  const driverNames = new Map(result.drivers.map((d) => [d.id, d.name ?? d.objectName ?? d.id]));
  const deviceNames = new Map(result.devices.map((d) => [d.id, d.name ?? '']));
  return [
    {
      name: 'drivers',
      header: [
        'name',
        'object_name',
        'service_key',
        'object_va',
        'object_pa',
        'start',
        'size',
        'module',
        'state',
        'found_by',
        'devices',
        'flags',
      ],
      rows: result.drivers.map((d) => [
        d.name ?? '',
        d.objectName,
        d.serviceKey,
        d.objectVa,
        d.objectPa,
        d.start,
        d.size,
        d.module,
        d.state,
        d.foundBy.join(' '),
        d.devices.length,
        d.flagNames.join(' '),
      ]),
    },
    {
      name: 'irp',
      header: ['driver', 'index', 'name', 'handler', 'module', 'offset', 'verdict', 'target'],
      rows: result.drivers.flatMap((d) =>
        [...d.irp, ...d.fastIo, ...d.callbacks].map((h) => [
          d.name ?? driverNames.get(d.id),
          h.index,
          ...handlerCells(h),
        ]),
      ),
    },
    {
      name: 'ssdt',
      header: ['index', 'service', 'routine', 'module', 'offset', 'verdict', 'target'],
      rows: (result.serviceTable?.entries ?? []).map((h) => [
        `0x${h.index.toString(16)}`,
        ...handlerCells(h),
      ]),
    },
    {
      name: 'devices',
      header: [
        'name',
        'object_va',
        'driver',
        'type',
        'flags',
        'characteristics',
        'stack_top_to_bottom',
        'links',
      ],
      rows: result.devices.map((d) => [
        d.name ?? '',
        d.objectVa,
        d.driverName ?? driverNames.get(d.driver),
        d.typeName,
        d.flagNames.join(' '),
        d.characteristicNames.join(' '),
        [...d.stack]
          .reverse()
          .map((id) => deviceNames.get(id) || id)
          .join(' > '),
        d.links.join(' '),
      ]),
    },
    {
      name: 'modules',
      header: ['name', 'path', 'base', 'size', 'ldr_entry', 'found_by', 'unlinked'],
      rows: result.modules.map((m) => [
        m.name,
        m.path,
        m.base,
        m.size,
        m.ldrEntry,
        m.foundBy.join(' '),
        m.unlinked,
      ]),
    },
    {
      name: 'links',
      header: ['name', 'target', 'object_va'],
      rows: result.links.map((l) => [l.name, l.target, l.objectVa]),
    },
    {
      name: 'processes',
      header: ['pid', 'ppid', 'name', 'eprocess', 'dtb', 'threads', 'found_by', 'hidden'],
      rows: result.processes.map((p) => [
        p.pid,
        p.parentPid,
        p.name,
        p.objectVa,
        p.dtb,
        p.threads.length,
        p.foundBy.join(' '),
        p.hidden,
      ]),
    },
    {
      name: 'threads',
      header: ['pid', 'tid', 'ethread', 'start_address', 'start_module', 'win32_start_address', 'irps'],
      rows: result.threads.map((t) => [
        t.pid,
        t.tid,
        t.objectVa,
        t.startAddress,
        t.startModule,
        t.win32StartAddress,
        t.irps.join(' '),
      ]),
    },
    {
      name: 'pending-irps',
      header: [
        'irp',
        'process',
        'pid',
        'tid',
        'function',
        'waits_in',
        'file',
        'stack_top_to_bottom',
        'completion_routines',
        'flags',
        'found_by',
      ],
      rows: result.irps.map((irp) => {
        const current = irp.stack.find((s) => s.current);
        return [
          irp.address,
          irp.processName,
          irp.pid,
          irp.tid,
          irp.majorName,
          current
            ? `${current.deviceName ?? current.device ?? ''} (${current.driverName ?? current.driver ?? '?'})`
            : '',
          irp.fileDevice === null
            ? irp.fileName
            : `${deviceNames.get(irp.fileDevice) || irp.fileDevice}${irp.fileName ?? ''}`,
          irp.stack.map((s) => `${s.index}:${s.deviceName || s.device || '?'}`).join(' > '),
          irp.stack
            .filter((s) => s.completion)
            .map(
              (s) =>
                `${s.index}:${s.completion!.module ? `${s.completion!.module}+${s.completion!.offset}` : s.completion!.address} [${s.completion!.verdict}]`,
            )
            .join(' '),
          irp.flagNames.join(' '),
          irp.foundBy.join(' '),
        ];
      }),
    },
    {
      name: 'findings',
      header: ['id', 'severity', 'kind', 'subject', 'explanation', 'addresses', 'modules'],
      rows: result.findings.map((f) => [
        f.id,
        f.severity,
        f.kind,
        f.subject,
        f.explanation,
        (f.evidence.addresses ?? []).join(' '),
        (f.evidence.modules ?? []).join(' '),
      ]),
    },
  ];
}

export function csvText(table: CsvTable): string {
  return [table.header, ...table.rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** All tables in one text: "name.csv" on a line, the table, tables separated by form feeds. */
export function csvBundle(result: AnalysisResult): string {
  return csvTables(result)
    .map((table) => `${table.name}.csv\n${csvText(table)}`)
    .join('\f');
}
