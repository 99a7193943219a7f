// The workbench's table: sortable (click a header), filterable (one box searching every text
// column), column chooser, virtualised rows (thousands stay fast), and full keyboard use —
// arrows, Page Up/Down, Home/End move the selection, Enter opens the row, "/" goes to the filter.

import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import {
  useTable,
  type ColumnDef,
  type ColumnVisibilityState,
  type RowData,
  type SortingState,
} from '@tanstack/react-table';
import { features, type Features } from './table-features';
import { visibleText } from '../util/format';

const ROW_HEIGHT = 24;

export interface DataTableProps<T extends RowData> {
  id: string;
  data: T[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- columns of mixed value types
  columns: Array<ColumnDef<Features, T, any>>;
  getRowId: (row: T) => string;
  selectedId?: string | null;
  /** 'replace' for keyboard moves (no history entry per arrow press), 'push' for clicks. */
  onSelect?: (row: T, mode: 'push' | 'replace') => void;
  onActivate?: (row: T) => void;
  rowClass?: (row: T) => string | undefined;
  initialSorting?: SortingState;
  initialHidden?: string[];
  filterPlaceholder?: string;
  /** What a row is, singular and plural, for the count ("12 of 305 devices"). */
  noun?: readonly [string, string];
  /** The rows before the view's own filters (kind, "suspicious only"), for the count; default: data. */
  total?: number;
  toolbar?: ReactNode;
  emptyText?: string;
  /** Text the global filter searches, per row (default: every string column). */
  searchText?: (row: T) => string;
}

/** "305 devices", or under a filter "12 of 305 devices". */
export function countText(shown: number, total: number, [one, many]: readonly [string, string]): string {
  const noun = total === 1 ? one : many;
  return shown === total ? `${total} ${noun}` : `${shown} of ${total} ${noun}`;
}

export function DataTable<T extends RowData>(props: DataTableProps<T>) {
  const { data, columns, getRowId, selectedId, onSelect, onActivate } = props;
  const [sorting, setSorting] = useState<SortingState>(props.initialSorting ?? []);
  const [globalFilter, setGlobalFilter] = useState('');
  const [columnVisibility, setColumnVisibility] = useState<ColumnVisibilityState>(() =>
    Object.fromEntries((props.initialHidden ?? []).map((id) => [id, false])),
  );
  const [chooserOpen, setChooserOpen] = useState(false);
  const searchText = props.searchText;
  const table = useTable({
    features,
    columns,
    data,
    getRowId: (row: T) => getRowId(row),
    state: { sorting, globalFilter, columnVisibility },
    onSortingChange: setSorting,
    onGlobalFilterChange: setGlobalFilter,
    onColumnVisibilityChange: setColumnVisibility,
    globalFilterFn: searchText
      ? (row, _columnId, filter: string) =>
          searchText(row.original).toLowerCase().includes(String(filter).toLowerCase())
      : 'includesString',
    getColumnCanGlobalFilter: () => true,
  });
  const rows = table.getRowModel().rows;
  const scrollRef = useRef<HTMLDivElement>(null);
  const filterRef = useRef<HTMLInputElement>(null);
  // TanStack Virtual returns functions the React Compiler cannot memoise; this component opts out.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const selectedIndex = useMemo(() => rows.findIndex((r) => r.id === selectedId), [rows, selectedId]);

  // Keep the selected row in view when it changes from elsewhere (a link, back/forward).
  useEffect(() => {
    if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' });
  }, [selectedIndex, virtualizer]);

  const visibleColumns = table.getVisibleLeafColumns();
  const template = visibleColumns
    .map((c, i) => (i === visibleColumns.length - 1 ? `minmax(${c.getSize()}px, 1fr)` : `${c.getSize()}px`))
    .join(' ');

  const move = (to: number): void => {
    if (rows.length === 0 || !onSelect) return;
    const index = Math.max(0, Math.min(rows.length - 1, to));
    onSelect(rows[index]!.original, 'replace');
  };
  const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const at = selectedIndex;
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(at < 0 ? 0 : at + 1),
      ArrowUp: () => move(at < 0 ? 0 : at - 1),
      PageDown: () => move(at + page),
      PageUp: () => move(at - page),
      Home: () => move(0),
      End: () => move(rows.length - 1),
      Enter: () => {
        if (at >= 0) onActivate?.(rows[at]!.original);
      },
      '/': () => filterRef.current?.focus(),
    };
    const action = keys[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  };

  return (
    <div className="data-table" data-testid={`table-${props.id}`}>
      <div className="table-toolbar">
        <input
          ref={filterRef}
          className="filter"
          type="search"
          placeholder={props.filterPlaceholder ?? 'Filter…  ( / )'}
          value={globalFilter}
          onChange={(e) => setGlobalFilter(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown' || e.key === 'Enter') {
              e.preventDefault();
              scrollRef.current?.focus();
              if (selectedIndex < 0) move(0);
            }
            if (e.key === 'Escape') setGlobalFilter('');
          }}
          aria-label="Filter rows"
        />
        <span className="count">
          {countText(rows.length, props.total ?? data.length, props.noun ?? ['row', 'rows'])}
        </span>
        {props.toolbar}
        <div className="chooser">
          <button
            type="button"
            className="ghost"
            onClick={() => setChooserOpen((o) => !o)}
            aria-expanded={chooserOpen}
          >
            Columns ▾
          </button>
          {chooserOpen && (
            <div className="chooser-menu" onMouseLeave={() => setChooserOpen(false)}>
              {table.getAllLeafColumns().map((column) => (
                <label key={column.id}>
                  <input
                    type="checkbox"
                    checked={column.getIsVisible()}
                    onChange={() => column.toggleVisibility()}
                    disabled={!column.getCanHide()}
                  />
                  {typeof column.columnDef.header === 'string' ? column.columnDef.header : column.id}
                </label>
              ))}
            </div>
          )}
        </div>
      </div>
      <div className="table-head" style={{ gridTemplateColumns: template }} role="row">
        {table.getHeaderGroups()[0]!.headers.map((header) => {
          const sorted = header.column.getIsSorted();
          return (
            <div
              key={header.id}
              role="columnheader"
              className={`th${header.column.getCanSort() ? ' sortable' : ''}`}
              onClick={header.column.getToggleSortingHandler()}
              title={header.column.getCanSort() ? 'Sort' : undefined}
            >
              <table.FlexRender header={header} />
              {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}
            </div>
          );
        })}
      </div>
      <div
        ref={scrollRef}
        className="table-body"
        tabIndex={0}
        onKeyDown={onKeyDown}
        role="grid"
        aria-rowcount={rows.length}
        data-testid={`table-body-${props.id}`}
      >
        {rows.length === 0 ? (
          <div className="empty">{props.emptyText ?? 'Nothing to show.'}</div>
        ) : (
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((item) => {
              const row = rows[item.index]!;
              const selected = row.id === selectedId;
              return (
                <div
                  key={row.id}
                  role="row"
                  aria-selected={selected}
                  data-row-id={visibleText(row.id)}
                  className={`tr${selected ? ' selected' : ''}${item.index % 2 ? ' odd' : ''} ${props.rowClass?.(row.original) ?? ''}`}
                  style={{
                    transform: `translateY(${item.start}px)`,
                    height: ROW_HEIGHT,
                    gridTemplateColumns: template,
                  }}
                  onMouseDown={() => onSelect?.(row.original, 'push')}
                  onDoubleClick={() => onActivate?.(row.original)}
                >
                  {row.getVisibleCells().map((cell) => (
                    <div key={cell.id} className="td" role="gridcell">
                      <table.FlexRender cell={cell} />
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}
