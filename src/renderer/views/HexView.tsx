// The hex view of a session's kernel virtual or physical space: go to any address, scroll the
// whole space, overlay a DRIVER_OBJECT / DEVICE_OBJECT (field names beside their bytes), copy as
// hex or ASCII; beside it the decoded structure and the disassembly at the cursor (Monaco).

import { hex as formatHex } from '../../common/hex';
import { Suspense, lazy, useCallback, useEffect, useState } from 'react';
import type { MemorySpace, StructureKind, StructureView } from '../../common/api';
import type { Disassembly } from '../../common/model';
import { api } from '../api/client';
import { AddressLink } from '../components/Links';
import { Text } from '../components/Text';
import { HexGrid, type Selection } from '../hex/HexGrid';
import { MemoryCache } from '../hex/memory-cache';
import { useApp } from '../state/app-state';
import { addressProblem, addressSpacesOf } from '../util/address-space';
import { formatAddress, parseAddress, visibleText } from '../util/format';
import type { ResultIndex } from '../util/result-index';

function parseHex(text: string): bigint {
  try {
    return BigInt(text);
  } catch {
    return 0n;
  }
}

const CodePane = lazy(() => import('../code/CodePane'));

const STRUCTURES: StructureKind[] = [
  'DRIVER_OBJECT',
  'DEVICE_OBJECT',
  'DRIVER_EXTENSION',
  'DEVOBJ_EXTENSION',
  'FAST_IO_DISPATCH',
  'OBJECT_HEADER',
];

export function HexView({ session, index }: { session: string; index: ResultIndex }) {
  const { location, navigate, notify } = useApp();
  const wide = index.wide;
  const hex = location.hex ?? {
    space: 'virtual' as MemorySpace,
    address: index.result.image.kernelBase?.value ?? '0x0',
  };
  const space = hex.space;
  const target = parseHex(hex.address);
  const spaces = addressSpacesOf(index);
  // An address from history or a link that the space cannot hold is refused, not waited for.
  const refused = addressProblem(target, space, spaces);
  const [, setTick] = useState(0);
  const cacheKey = `${session}|${space}`;
  const [cacheState, setCacheState] = useState(() => ({
    key: cacheKey,
    cache: new MemoryCache(session, space, () => setTick((t) => t + 1)),
  }));
  if (cacheState.key !== cacheKey) {
    setCacheState({ key: cacheKey, cache: new MemoryCache(session, space, () => setTick((t) => t + 1)) });
  }
  const cache = cacheState.cache;
  const [cursor, setCursor] = useState(target);
  const [selection, setSelection] = useState<Selection>({ from: target, to: target });
  const [pane, setPane] = useState<'disassembly' | 'structure'>(hex.structure ? 'structure' : 'disassembly');
  const [addressText, setAddressText] = useState(formatAddress(target, wide));
  // A new navigation resets the address box and shows the structure pane when one is overlaid.
  const navigationKey = `${hex.address}|${hex.structure ?? ''}`;
  const [shownNavigation, setShownNavigation] = useState(navigationKey);
  if (shownNavigation !== navigationKey) {
    setShownNavigation(navigationKey);
    // A new navigation asks again for what failed before (a restarted worker may answer now).
    cache.forgetFailures();
    setAddressText(formatAddress(target, wide));
    if (hex.structure) setPane('structure');
  }
  const spaceSize =
    cache.spaceSize ??
    (space === 'virtual'
      ? wide
        ? 1n << 64n
        : 1n << 32n
      : BigInt(index.result.image.physical.maxAddress) + 1n);

  const structureKey =
    hex.structure && space === 'virtual' ? `${session}|${hex.structure}|${hex.address}` : null;
  const [structureState, setStructureState] = useState<{ key: string; view: StructureView } | null>(null);
  const structure = structureKey && structureState?.key === structureKey ? structureState.view : null;
  useEffect(() => {
    if (!structureKey || !hex.structure) return;
    let live = true;
    api.structure({ session, kind: hex.structure, address: hex.address }).then(
      (view) => live && setStructureState({ key: structureKey, view }),
      (error: Error) => live && notify('error', `Cannot decode ${hex.structure}: ${error.message}`),
    );
    return () => {
      live = false;
    };
  }, [session, structureKey, hex.structure, hex.address, notify]);

  // Disassembly follows the cursor (debounced: holding an arrow key must not flood the worker).
  const disassemblyKey = space === 'virtual' ? `${session}|${cursor.toString(16)}` : null;
  const [disassemblyState, setDisassemblyState] = useState<{ key: string; value: Disassembly } | null>(null);
  const disassembly =
    disassemblyKey && disassemblyState?.key === disassemblyKey ? disassemblyState.value : null;
  useEffect(() => {
    if (!disassemblyKey) return;
    let live = true;
    const timer = setTimeout(() => {
      api.disassemble({ session, address: `0x${cursor.toString(16)}`, count: 48 }).then(
        (value) => live && setDisassemblyState({ key: disassemblyKey, value }),
        () => live && setDisassemblyState({ key: disassemblyKey, value: { bytes: '', instructions: [] } }),
      );
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [session, disassemblyKey, cursor]);

  const onCursor = useCallback((address: bigint) => setCursor(address), []);
  const onSelection = useCallback((s: Selection) => setSelection(s), []);

  const copy = useCallback(
    (kind: 'hex' | 'ascii') => {
      const length = selection.to - selection.from + 1n;
      if (length > 0x10000n) {
        notify('error', 'Select at most 64 KiB to copy.');
        return;
      }
      const bytes: Array<number | null | undefined> = [];
      for (let a = selection.from; a <= selection.to; a++) bytes.push(cache.byte(a));
      const text =
        kind === 'hex'
          ? bytes
              .map((b) => (b === null || b === undefined ? '??' : b.toString(16).padStart(2, '0')))
              .join(' ')
          : bytes
              .map((b) =>
                b === null || b === undefined ? '.' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.',
              )
              .join('');
      navigator.clipboard.writeText(text).then(
        () => notify('info', `Copied ${bytes.length} bytes as ${kind === 'hex' ? 'hex' : 'ASCII'}.`),
        () => notify('error', 'The clipboard refused the copy.'),
      );
    },
    [selection, cache, notify],
  );

  const go = (): void => {
    const address = parseAddress(addressText);
    if (address === null) {
      notify('error', `"${addressText}" is not an address.`);
      return;
    }
    const problem = addressProblem(address, space, spaces);
    if (problem) {
      notify('error', problem);
      return;
    }
    navigate({ view: 'hex', hex: { space, address: `0x${address.toString(16)}` } });
  };

  const overlay =
    structure && !structure.problem
      ? { base: BigInt(structure.address), fields: structure.fields }
      : structure
        ? { base: BigInt(structure.address), fields: structure.fields }
        : null;
  const symbol = index.symbolize(cursor);
  // Values line up after the usual field names; a longer one (MajorFunction[…]) is not padded,
  // so that most lines fit the narrow pane without wrapping. Values from the image are escaped.
  const nameWidth = structure ? Math.min(24, Math.max(0, ...structure.fields.map((f) => f.name.length))) : 0;
  const structureText = structure
    ? [
        `// ${structure.kind} at ${structure.address} (${structure.size} bytes, layout: ${visibleText(structure.layoutSource)})`,
        ...(structure.problem ? [`// ${visibleText(structure.problem)}`] : []),
        ...structure.fields.map(
          (f) =>
            `+0x${f.offset.toString(16).padStart(3, '0')} ${f.name.padEnd(nameWidth)} : ${visibleText(f.value)}`,
        ),
      ].join('\n')
    : '// Choose a structure in the toolbar to decode the bytes at the address.';
  const disassemblyText = disassembly
    ? disassembly.instructions.length > 0
      ? disassembly.instructions.map(visibleText).join('\n')
      : `// no code readable at ${formatAddress(cursor, wide)}`
    : '// …';

  return (
    <div className="hex-view" data-testid="view-hex">
      <div className="hex-toolbar">
        <div className="segmented" role="group" aria-label="Address space">
          {(['virtual', 'physical'] as const).map((s) => (
            <button
              key={s}
              type="button"
              className={space === s ? 'active' : ''}
              onClick={() => navigate({ hex: { space: s, address: `0x${cursor.toString(16)}` } })}
            >
              {s === 'virtual' ? 'Kernel virtual' : 'Physical'}
            </button>
          ))}
        </div>
        <form
          className="goto"
          onSubmit={(e) => {
            e.preventDefault();
            go();
          }}
        >
          <label htmlFor="hex-address">Address</label>
          <input
            id="hex-address"

            data-testid="hex-address"
            className="mono"
            value={addressText}
            onChange={(e) => setAddressText(e.target.value)}
            spellCheck={false}
          />
          <button type="submit">Go</button>
        </form>
        <label className="structure-select">
          Overlay
          <select
            value={hex.structure ?? ''}
            onChange={(e) =>
              navigate(
                {
                  hex: {
                    space,
                    address: `0x${cursor.toString(16)}`,
                    ...(e.target.value ? { structure: e.target.value as StructureKind } : {}),
                  },
                },
                'replace',
              )
            }
            disabled={space !== 'virtual'}
          >
            <option value="">none</option>
            {STRUCTURES.map((s) => (
              <option key={s} value={s}>
                {s} at cursor
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => copy('hex')} title="Ctrl+C">
          Copy hex
        </button>
        <button type="button" onClick={() => copy('ascii')} title="Ctrl+Shift+C">
          Copy ASCII
        </button>
        <span className="where muted">
          {symbol ? (
            <Text value={symbol} />
          ) : space === 'virtual' ? (
            'outside every module'
          ) : (
            'physical memory'
          )}
        </span>
      </div>
      {refused ? (
        <div className="placeholder bad" data-testid="hex-refused">
          {refused}
        </div>
      ) : (
        <div className="hex-main">
          <HexGrid
            cache={cache}
            spaceSize={spaceSize}
            wide={space === 'virtual' ? wide : spaceSize > 1n << 32n}
            target={target}
            targetKey={`${session}|${space}|${hex.address}|${location.view}`}
            overlay={overlay}
            onCursor={onCursor}
            onSelection={onSelection}
            copy={copy}
          />
          <aside className="hex-side">
            {structure && (
              <div className="struct-fields" data-testid="structure-fields">
                <div className="side-title">
                  {structure.kind} <AddressLink address={structure.address} wide={wide} />{' '}
                  <span className="layout-source" title={visibleText(structure.layoutSource)}>
                    <Text value={structure.layoutSource} />
                  </span>
                </div>
                {structure.problem && <div className="bad small">{structure.problem}</div>}
                <table className="mini fields">
                  <tbody>
                    {structure.fields.map((f, i) => (
                      <tr key={`${f.name}${f.offset}`} className={`f${i % 6}`}>
                        <td className="mono muted">+{f.offset.toString(16)}</td>
                        <td className="mono">
                          <Text value={f.name} />
                        </td>
                        <td className="mono">
                          {f.link?.kind === 'address' ? (
                            <AddressLink
                              address={formatHex(parseHex(f.link.target))}
                              wide={wide}
                              label={<Text value={f.value} />}
                            />
                          ) : (
                            <Text value={f.value} />
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <div className="code-pane">
              <div className="tabs">
                <button
                  type="button"
                  className={pane === 'disassembly' ? 'active' : ''}
                  onClick={() => setPane('disassembly')}
                >
                  Disassembly at cursor
                </button>
                <button
                  type="button"
                  className={pane === 'structure' ? 'active' : ''}
                  onClick={() => setPane('structure')}
                >
                  Decoded structure
                </button>
              </div>
              <div className="code-host" data-testid={`code-${pane}`}>
                <Suspense
                  fallback={
                    <pre className="code-block">
                      {pane === 'disassembly' ? disassemblyText : structureText}
                    </pre>
                  }
                >
                  <CodePane
                    text={pane === 'disassembly' ? disassemblyText : structureText}
                    language={pane === 'disassembly' ? 'irpscope-asm' : 'irpscope-struct'}
                  />
                </Suspense>
              </div>
            </div>
          </aside>
        </div>
      )}
    </div>
  );
}
