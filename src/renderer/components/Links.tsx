// Everything clickable that leads somewhere else in the workbench: addresses open the hex view,
// names open their row. Links are buttons (keyboard-reachable), styled as links.

import type { MouseEvent, ReactNode } from 'react';
import type { MemorySpace, StructureKind } from '../../common/api';
import type { Hex } from '../../common/hex';
import { CALLBACK_LABELS } from '../../common/callback-labels';
import type { Callback } from '../../common/model';
import { callbackId } from '../util/callbacks';
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
  session,
}: {
  address: Hex | null | undefined;
  wide: boolean;
  space?: MemorySpace;
  structure?: StructureKind;
  label?: ReactNode;
  /** The image the address belongs to, when it is not the one shown (the comparison shows two). */
  session?: string;
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
        navigate({
          ...(session ? { session } : {}),
          view: 'hex',
          hex: { space, address, ...(structure ? { structure } : {}) },
        });
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
  session,
}: {
  view: 'drivers' | 'devices';
  id: string | null | undefined;
  name: string | null | undefined;
  fallback: string;
  session?: string;
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
        const where = session ? { session } : {};
        navigate(view === 'drivers' ? { ...where, view, driver: id } : { ...where, view, device: id });
      }}
    >
      <Text value={name} fallback={fallback} />
    </button>
  );
}

interface RowLinkProps {
  id: string | null | undefined;
  name: string | null | undefined;
  session?: string;
}

export function DriverLink(props: RowLinkProps) {
  return <RowLink view="drivers" fallback="(unnamed driver)" {...props} />;
}

export function DeviceLink(props: RowLinkProps) {
  return <RowLink view="devices" fallback="(unnamed device)" {...props} />;
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

export function FindingLink({
  id,
  children,
  session,
}: {
  id: string;
  children: ReactNode;
  session?: string;
}) {
  const { navigate } = useApp();
  return (
    <button
      type="button"
      className="link"
      onMouseDown={stop}
      onClick={(e) => {
        stop(e);
        navigate({ ...(session ? { session } : {}), view: 'findings', finding: id });
      }}
    >
      {children}
    </button>
  );
}

/** A registered callback: opens its row, with its evidence, in the Callbacks view. */
export function CallbackLink({ callback, session }: { callback: Callback; session?: string }) {
  const { navigate } = useApp();
  return (
    <button
      type="button"
      className="link"
      data-testid="callback-link"
      onMouseDown={stop}
      onClick={(e) => {
        stop(e);
        navigate({ ...(session ? { session } : {}), view: 'callbacks', callback: callbackId(callback) });
      }}
    >
      {`${CALLBACK_LABELS[callback.kind]}, slot ${callback.slot} ›`}
    </button>
  );
}
