// A virtualised hex grid over a whole address space (up to 2^64 bytes: no browser can scroll an
// element that tall, so the grid keeps its own position as a bigint row and draws only what is
// visible). Wheel and drag scroll smoothly with a sub-row pixel offset; the keyboard moves a
// cursor; Shift extends a selection; absent pages are drawn as such, with their status.

import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
  type WheelEvent,
} from 'react';
import type { StructureField } from '../../common/api';
import { Text } from '../components/Text';
import { formatAddress, visibleText } from '../util/format';
import { PAGE, type MemoryCache } from './memory-cache';

export const ROW_HEIGHT = 18;
const BYTES = 16n;
const STATUS_LABEL: Record<string, string> = {
  unmapped: 'unmapped',
  'paged-out': 'paged out',
  prototype: 'prototype PTE',
  hole: 'not in image',
  'out-of-range': 'out of range',
  transition: 'transition',
};

export interface Overlay {
  base: bigint;
  fields: StructureField[];
}

export interface Selection {
  from: bigint;
  to: bigint; // inclusive
}

interface Props {
  cache: MemoryCache;
  spaceSize: bigint;
  wide: boolean;
  target: bigint;
  /** Changes whenever a navigation asks to show `target` again. */
  targetKey: string;
  overlay: Overlay | null;
  onCursor: (address: bigint) => void;
  onSelection: (selection: Selection) => void;
  copy: (kind: 'hex' | 'ascii') => void;
}

function clamp(value: bigint, min: bigint, max: bigint): bigint {
  return value < min ? min : value > max ? max : value;
}

export function HexGrid({
  cache,
  spaceSize,
  wide,
  target,
  targetKey,
  overlay,
  onCursor,
  onSelection,
  copy,
}: Props) {
  const totalRows = (spaceSize + BYTES - 1n) / BYTES;
  const [height, setHeight] = useState(600);
  const visibleRows = Math.max(1, Math.floor(height / ROW_HEIGHT));
  const maxTop = totalRows > BigInt(visibleRows) ? totalRows - BigInt(visibleRows) : 0n;
  const [topRow, setTopRow] = useState(() => clamp(target / BYTES - 4n, 0n, maxTop));
  const [pixel, setPixel] = useState(0);
  const [cursor, setCursor] = useState(target);
  const [anchor, setAnchor] = useState<bigint | null>(null);
  const gridRef = useRef<HTMLDivElement>(null);
  const trackRef = useRef<HTMLDivElement>(null);

  useLayoutEffect(() => {
    const element = gridRef.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  // A navigation (link, Ctrl+G, back/forward) shows its address a few rows from the top.
  const [shownKey, setShownKey] = useState(targetKey);
  if (shownKey !== targetKey) {
    setShownKey(targetKey);
    setTopRow(clamp(target / BYTES - 4n, 0n, maxTop));
    setPixel(0);
    setCursor(target);
    setAnchor(null);
  }

  useEffect(() => onCursor(cursor), [cursor, onCursor]);
  useEffect(() => {
    const from = anchor === null ? cursor : anchor < cursor ? anchor : cursor;
    const to = anchor === null ? cursor : anchor < cursor ? cursor : anchor;
    onSelection({ from, to });
  }, [anchor, cursor, onSelection]);

  const first = topRow * BYTES;
  const last = (topRow + BigInt(visibleRows + 1)) * BYTES;
  useEffect(() => {
    cache.ensure(first, last < spaceSize ? last : spaceSize);
  });

  const scrollRows = useCallback(
    (rows: bigint) => setTopRow((top) => clamp(top + rows, 0n, maxTop)),
    [maxTop],
  );

  const onWheel = (event: WheelEvent<HTMLDivElement>): void => {
    const delta =
      event.deltaMode === 1
        ? event.deltaY * ROW_HEIGHT
        : event.deltaMode === 2
          ? event.deltaY * height
          : event.deltaY;
    let next = pixel + delta;
    const rows = Math.floor(next / ROW_HEIGHT);
    next -= rows * ROW_HEIGHT;
    const newTop = clamp(topRow + BigInt(rows), 0n, maxTop);
    if ((newTop === 0n && rows < 0) || (newTop === maxTop && rows > 0)) next = 0;
    setTopRow(newTop);
    setPixel(newTop === maxTop && next > 0 ? 0 : next);
  };

  const ensureVisible = (address: bigint): void => {
    const row = address / BYTES;
    if (row < topRow) setTopRow(row);
    else if (row >= topRow + BigInt(visibleRows) - 1n)
      setTopRow(clamp(row - BigInt(visibleRows) + 2n, 0n, maxTop));
    setPixel(0);
  };

  const moveCursor = (to: bigint, extend: boolean): void => {
    const next = clamp(to, 0n, spaceSize - 1n);
    if (extend) setAnchor((a) => a ?? cursor);
    else setAnchor(null);
    setCursor(next);
    ensureVisible(next);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const page = BigInt(Math.max(1, visibleRows - 1)) * BYTES;
    const extend = event.shiftKey;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'c') {
      event.preventDefault();
      copy(event.shiftKey ? 'ascii' : 'hex');
      return;
    }
    const moves: Record<string, () => void> = {
      ArrowRight: () => moveCursor(cursor + 1n, extend),
      ArrowLeft: () => moveCursor(cursor - 1n, extend),
      ArrowDown: () => moveCursor(cursor + BYTES, extend),
      ArrowUp: () => moveCursor(cursor - BYTES, extend),
      PageDown: () => {
        scrollRows(BigInt(visibleRows - 1));
        moveCursor(cursor + page, extend);
      },
      PageUp: () => {
        scrollRows(-BigInt(visibleRows - 1));
        moveCursor(cursor - page, extend);
      },
      Home: () => moveCursor(event.ctrlKey ? 0n : cursor - (cursor % BYTES), extend),
      End: () => moveCursor(event.ctrlKey ? spaceSize - 1n : cursor - (cursor % BYTES) + BYTES - 1n, extend),
    };
    const action = moves[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  };

  // Overlay: which field covers each byte offset of the structure.
  const fieldAt = useMemo(() => {
    if (!overlay) return null;
    const map = new Map<bigint, { index: number; field: StructureField }>();
    overlay.fields.forEach((field, index) => {
      for (let i = 0; i < Math.max(1, field.size); i++)
        map.set(overlay.base + BigInt(field.offset + i), { index, field });
    });
    return map;
  }, [overlay]);

  const selFrom = anchor === null ? null : anchor < cursor ? anchor : cursor;
  const selTo = anchor === null ? null : anchor < cursor ? cursor : anchor;

  const rows = [];
  for (let i = 0; i <= visibleRows; i++) {
    const row = topRow + BigInt(i);
    if (row >= totalRows) break;
    const start = row * BYTES;
    const page = cache.page(start);
    const present = page?.bytes != null;
    const failure = page ? undefined : cache.error(start);
    const cells = [];
    const ascii = [];
    const names: string[] = [];
    for (let b = 0n; b < BYTES; b++) {
      const address = start + b;
      const value = cache.byte(address);
      const field = fieldAt?.get(address);
      if (field && overlay && BigInt(field.field.offset) + overlay.base === address)
        names.push(`+${field.field.offset.toString(16)} ${visibleText(field.field.name)}`);
      const classes = ['b'];
      if (value === undefined) classes.push('loading');
      else if (value === null) classes.push('absent');
      else if (value === 0) classes.push('zero');
      if (field) classes.push(`f${field.index % 6}`);
      if (address === cursor) classes.push('cursor');
      if (selFrom !== null && selTo !== null && address >= selFrom && address <= selTo) classes.push('sel');
      const text = value === undefined ? '  ' : value === null ? '??' : value.toString(16).padStart(2, '0');
      const char =
        value === undefined || value === null
          ? ' '
          : value >= 0x20 && value < 0x7f
            ? String.fromCharCode(value)
            : '.';
      const title = field
        ? visibleText(`${field.field.name} (+0x${field.field.offset.toString(16)}): ${field.field.value}`)
        : undefined;
      cells.push(
        <span
          key={Number(b)}
          className={classes.join(' ')}
          title={title}
          data-addr={address.toString(16)}
          onMouseDown={(e) => {
            e.preventDefault();
            gridRef.current?.focus();
            moveCursor(address, e.shiftKey);
          }}
        >
          {text}
        </span>,
      );
      ascii.push(
        <span key={Number(b)} className={classes.join(' ')}>
          {char}
        </span>,
      );
    }
    rows.push(
      <div
        className={`hex-row${present ? '' : ' absent-row'}`}
        key={row.toString()}
        style={{ height: ROW_HEIGHT }}
      >
        <span className="addr">{formatAddress(start, wide)}</span>
        <span className="bytes">{cells}</span>
        <span className="ascii">
          {failure !== undefined ? (
            <span className="status bad" title={visibleText(failure)}>
              not read
            </span>
          ) : page && !present ? (
            <span className="status">{STATUS_LABEL[page.status] ?? page.status}</span>
          ) : (
            ascii
          )}
        </span>
        <span className="fields">{names.join('  ')}</span>
      </div>,
    );
  }

  const fraction = maxTop === 0n ? 0 : Number((topRow * 1_000_000n) / maxTop) / 1_000_000;
  const thumbHeight = Math.max(
    24,
    Math.min(
      height,
      totalRows === 0n
        ? height
        : height *
            (visibleRows /
              Math.max(visibleRows, Number(totalRows > 1_000_000_000n ? 1_000_000_000n : totalRows))),
    ),
  );
  const thumbTop = fraction * (height - thumbHeight);

  const drag = (clientY: number): void => {
    const track = trackRef.current;
    if (!track) return;
    const rect = track.getBoundingClientRect();
    const f = Math.max(
      0,
      Math.min(1, (clientY - rect.top - thumbHeight / 2) / Math.max(1, rect.height - thumbHeight)),
    );
    setTopRow((maxTop * BigInt(Math.round(f * 1e9))) / 1_000_000_000n);
    setPixel(0);
  };

  const pageStatus = cache.page(cursor);
  const error = cache.error(cursor);
  return (
    <div className="hex-grid-wrap">
      <div
        className="hex-grid"
        style={{ ['--addr-width' as string]: wide ? '20ch' : '11ch' }}
        ref={gridRef}
        tabIndex={0}
        onWheel={onWheel}
        onKeyDown={onKeyDown}
        data-testid="hex-grid"
        aria-label="Hex view"
      >
        <div className="hex-rows" style={{ transform: `translateY(${-pixel}px)` }}>
          {rows}
        </div>
      </div>
      <div
        className="hex-scrollbar"
        ref={trackRef}
        onMouseDown={(e) => {
          drag(e.clientY);
          const move = (m: MouseEvent): void => drag(m.clientY);
          const up = (): void => {
            window.removeEventListener('mousemove', move);
            window.removeEventListener('mouseup', up);
          };
          window.addEventListener('mousemove', move);
          window.addEventListener('mouseup', up);
        }}
        title={`${(fraction * 100).toFixed(4)} % of the space`}
      >
        <div className="thumb" style={{ top: thumbTop, height: thumbHeight }} />
      </div>
      <div className="hex-status" data-testid="hex-status">
        <span>
          cursor <b className="mono">{formatAddress(cursor, wide)}</b>
        </span>
        {pageStatus ? (
          <span>
            page {STATUS_LABEL[pageStatus.status] ?? pageStatus.status}
            {pageStatus.physical ? ` → PA ${pageStatus.physical}` : ''}
          </span>
        ) : error ? (
          <span className="bad">
            page not read: <Text value={error} />
          </span>
        ) : (
          <span>page loading</span>
        )}
        {selFrom !== null && selTo !== null && (
          <span>{(selTo - selFrom + 1n).toString()} bytes selected</span>
        )}
        <span className="muted">page 0x{(cursor & ~(PAGE - 1n)).toString(16)}</span>
      </div>
    </div>
  );
}
