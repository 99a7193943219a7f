// Everything clickable that leads somewhere else in the workbench: addresses open the hex view,
// names open their row. Links are buttons (keyboard-reachable), styled as links.

import type { MouseEvent, ReactNode } from 'react';
import type { MemorySpace, StructureKind } from '../../common/api';
import { useApp } from '../state/app-state';
import { formatAddress } from '../util/format';
import { Text } from './Text';

function stop(event: MouseEvent): void {
  // A link inside a table row must not also select the row underneath.
  event.stopPropagation();
}

export function AddressLink({
  address,
  wide,
  space = 'virtual',
  structure,
  label,
}: {
  address: string | null | undefined;
  wide: boolean;
  space?: MemorySpace;
  structure?: StructureKind;
  label?: ReactNode;
}) {
  const { navigate } = useApp();
  if (!address) return <span className="absent">—</span>;
  let shown: string;
  try {
    shown = formatAddress(address, wide);
  } catch {
    return <Text value={address} />;
  }
  return (
    <button
      type="button"
      className="link address"
      title={`Open ${address} in the hex view`}
      onMouseDown={stop}
      onClick={(e) => {
        stop(e);
        navigate({ view: 'hex', hex: { space, address, ...(structure ? { structure } : {}) } });
      }}
    >
      {label ?? shown}
    </button>
  );
}

/** A driver or device name that opens its row (plain text when the object has no row). */
function RowLink({
  view,
  id,
  name,
  fallback,
}: {
  view: 'drivers' | 'devices';
  id: string | null | undefined;
  name: string | null | undefined;
  fallback: string;
}) {
  const { navigate } = useApp();
  if (!id) return <Text value={name} />;
  return (
    <button
      type="button"
      className="link"
      onMouseDown={stop}
      onClick={(e) => {
        stop(e);
        navigate(view === 'drivers' ? { view, driver: id } : { view, device: id });
      }}
    >
      <Text value={name} fallback={fallback} />
    </button>
  );
}

export function DriverLink({ id, name }: { id: string | null | undefined; name: string | null | undefined }) {
  return <RowLink view="drivers" id={id} name={name} fallback="(unnamed driver)" />;
}

export function DeviceLink({ id, name }: { id: string | null | undefined; name: string | null | undefined }) {
  return <RowLink view="devices" id={id} name={name} fallback="(unnamed device)" />;
}

export function ModuleLink({ name, suffix }: { name: string | null | undefined; suffix?: string | null }) {
  const { navigate } = useApp();
  if (!name) return <span className="absent">no module</span>;
  return (
    <button
      type="button"
      className="link"
      onMouseDown={stop}
      onClick={(e) => {
        stop(e);
        navigate({ view: 'modules', module: name.toLowerCase() });
      }}
    >
      <Text value={name} />
      {suffix ? <span className="offset">+{suffix.replace(/^0x/, '0x')}</span> : null}
    </button>
  );
}

export function FindingLink({ id, children }: { id: string; children: ReactNode }) {
  const { navigate } = useApp();
  return (
    <button
      type="button"
      className="link"
      onMouseDown={stop}
      onClick={(e) => {
        stop(e);
        navigate({ view: 'findings', finding: id });
      }}
    >
      {children}
    </button>
  );
}
