// `irpscope info` as text: one fact per line, with how it was found. Strings from the image (the
// PDB name, a triage dump's module names, warnings quoting either) are shown through visibleText.

import type { Discovered, ImageInfo, LayoutMethod, StructureLayoutProvenance } from '../common/model';
import { terminalText } from './terminal-text';

function line(label: string, value: string): string {
  return `${label.padEnd(22)}${value}`;
}

function found<T>(fact: Discovered<T> | null, show: (value: T) => string): string {
  return fact ? `${show(fact.value)}  (${fact.method})` : '—';
}

export function renderInfo(info: ImageInfo): string {
  const lines = [
    line('Image', info.path),
    line('Format', info.format.description),
    line(
      'Physical memory',
      `${info.physical.runs} run${info.physical.runs === 1 ? '' : 's'}, ${formatBytes(info.physical.bytes)} (up to ${info.physical.maxAddress})`,
    ),
  ];
  if (info.crashDump) {
    lines.push(line('Dump type', `${info.crashDump.dumpType} (${info.crashDump.dumpTypeName})`));
    if (info.crashDump.bugCheck)
      lines.push(
        line(
          'Bug check',
          `${info.crashDump.bugCheck.code} (${info.crashDump.bugCheck.parameters.join(', ')})`,
        ),
      );
  }
  lines.push(
    line(
      'Architecture',
      info.arch
        ? `${info.arch}${info.paging ? `, ${info.paging === 'pae' ? 'PAE' : info.paging} paging` : ''}`
        : '—',
    ),
    line(
      'DTB',
      found(info.dtb, (v) => v),
    ),
    line(
      'Kernel base',
      found(info.kernelBase, (v) => `${v}${info.kernelSize ? ` (${formatBytes(info.kernelSize)})` : ''}`),
    ),
    line(
      'Build',
      found(info.build, (v) => `${v.number} — ${v.name} (NT ${v.major}.${v.minor})`),
    ),
    line('Kernel PDB', info.pdb ? `${info.pdb.name} ${info.pdb.guid}-${info.pdb.age}` : '—'),
    line(
      'KDBG',
      found(info.kdbg, (v) => `${v.va}${v.encoded ? ' (encoded)' : ''}`),
    ),
    line(
      'PsLoadedModuleList',
      found(info.psLoadedModuleList, (v) => v),
    ),
    line(
      'PsActiveProcessHead',
      found(info.psActiveProcessHead, (v) => v),
    ),
    line(
      'Object root',
      found(info.objectRootDirectory, (v) => v),
    ),
    line(
      'ObHeaderCookie',
      found(info.obHeaderCookie, (v) => `0x${v.toString(16)}`),
    ),
    line(
      'Type indices',
      found(info.typeIndex, (v) => `Driver ${v.Driver}, Device ${v.Device}`),
    ),
    line(
      'Layouts',
      info.profile
        ? `${info.profile.source === 'isf' ? 'ISF symbols' : 'built-in table'}: ${info.profile.name}${info.profile.path ? ` (${info.profile.path})` : ''}${info.profile.source === 'builtin' ? ', a hint checked in this image:' : ''}`
        : '—',
    ),
  );
  lines.push(...renderLayouts(info.layouts ?? []));
  if (info.triage) {
    lines.push('', info.triage.note, `Modules in the dump (${info.triage.modules.length}):`);
    for (const module of info.triage.modules)
      lines.push(`  ${module.base}  ${formatBytes(module.size).padStart(9)}  ${module.name}`);
  }
  lines.push(
    '',
    `Timings: ${info.timings.map((t) => `${t.stage} ${t.ms} ms`).join(', ')}; ${formatBytes(info.bytesRead)} read`,
  );
  for (const warning of info.warnings) lines.push(`warning: ${warning}`);
  return terminalText(`${lines.join('\n')}\n`);
}

const METHOD_LABELS: Record<LayoutMethod, string> = {
  'symbol-file': 'symbol file',
  'kernel-code': 'kernel code',
  structure: 'structure',
  'table-checked': 'table, checked',
  table: 'table',
  'not-established': 'NOT ESTABLISHED',
};

/**
 * Where each structure's layout came from: the moving structures field by field, the others
 * grouped by how they were established.
 */
function renderLayouts(layouts: readonly StructureLayoutProvenance[]): string[] {
  const lines: string[] = [];
  const groups = new Map<string, string[]>();
  for (const layout of layouts) {
    const whole = layout.fields.length === 1 && layout.fields[0]!.field === '*' ? layout.fields[0]! : null;
    if (whole) {
      const key = `${METHOD_LABELS[whole.method]}: ${whole.detail.replace(/^the table(, checked)?: ?/, '')}`;
      groups.set(key, [...(groups.get(key) ?? []), layout.structure]);
      continue;
    }
    const state =
      layout.state === 'not-established'
        ? `NOT ESTABLISHED: ${layout.reason ?? ''}`
        : layout.state === 'partial'
          ? 'partly established'
          : 'established';
    lines.push(`  ${layout.structure.padEnd(20)}${state}`);
    for (const field of layout.fields)
      lines.push(
        `    ${field.field.padEnd(30)}${(field.offset ?? '—').padEnd(8)}${METHOD_LABELS[field.method]}: ${field.detail.replace(/^0x[0-9a-f]+: (the table; )?/, '')}`,
      );
  }
  for (const [how, structures] of groups) lines.push(`  ${structures.join(', ')}`, `    ${how}`);
  return lines;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
