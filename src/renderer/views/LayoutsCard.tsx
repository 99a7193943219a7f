// Where the layout of each structure the engine reads came from in this image: the moving ones
// (EPROCESS, KPROCESS, ETHREAD) field by field with the method and its evidence, the others grouped
// by how they are checked. A structure that could not be established says why, and what depends
// on it shows "not available" in its view.

import type { ImageInfo, LayoutMethod, StructureLayoutProvenance } from '../../common/model';
import { Text } from '../components/Text';

const METHOD_LABELS: Record<LayoutMethod, string> = {
  'symbol-file': 'symbol file',
  'kernel-code': 'kernel code',
  structure: 'structure',
  'table-checked': 'table, checked',
  table: 'table',
  'not-established': 'not established',
};

function isWhole(layout: StructureLayoutProvenance): boolean {
  return layout.fields.length === 1 && layout.fields[0]!.field === '*';
}

export function LayoutsCard({ info }: { info: ImageInfo }) {
  const layouts = info.layouts ?? [];
  if (layouts.length === 0) return null;
  const moving = layouts.filter((l) => !isWhole(l));
  const groups = new Map<string, string[]>();
  for (const layout of layouts.filter(isWhole)) {
    const field = layout.fields[0]!;
    const key = `${METHOD_LABELS[field.method]}|${field.detail}`;
    groups.set(key, [...(groups.get(key) ?? []), layout.structure]);
  }
  return (
    <section className="card layouts" data-testid="layouts">
      <h2>
        Structure layouts{' '}
        <span className="sub">
          {info.profile?.source === 'isf'
            ? 'from the symbol file'
            : 'the built-in table is a hint: each field below was established in this image'}
        </span>
      </h2>
      <table className="layouts-table">
        <tbody>
          {moving.map((layout) => (
            <LayoutRows key={layout.structure} layout={layout} />
          ))}
        </tbody>
      </table>
      <ul className="layout-groups">
        {[...groups].map(([key, structures]) => {
          const [method, detail] = key.split('|') as [string, string];
          return (
            <li key={key} title={detail}>
              <span className={`method method-${method.replace(/\W+/g, '-')}`}>{method}</span>{' '}
              {structures.join(', ')}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function LayoutRows({ layout }: { layout: StructureLayoutProvenance }) {
  if (layout.state === 'not-established')
    return (
      <tr className="not-established">
        <th>{layout.structure}</th>
        <td colSpan={3}>
          <span className="method method-not-established">not established</span>{' '}
          <Text value={layout.reason ?? ''} />
        </td>
      </tr>
    );
  return (
    <>
      {layout.fields.map((field, i) => (
        <tr key={field.field} className={field.method === 'not-established' ? 'not-established' : ''}>
          <th>{i === 0 ? layout.structure : ''}</th>
          <td className="mono">{field.field}</td>
          <td className="mono">{field.offset ?? '—'}</td>
          <td title={field.detail}>
            <span className={`method method-${field.method}`}>{METHOD_LABELS[field.method]}</span>{' '}
            <span className="muted">
              <Text value={field.detail.replace(/^0x[0-9a-f]+: (the table; )?/, '')} />
            </span>
          </td>
        </tr>
      ))}
    </>
  );
}
