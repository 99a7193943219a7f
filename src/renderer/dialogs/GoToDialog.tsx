import { useState } from 'react';
import type { MemorySpace } from '../../common/api';
import { hex, type Hex } from '../../common/hex';
import { addressProblem, type AddressSpaces } from '../util/address-space';
import { parseAddress } from '../util/format';
import { Dialog } from './Dialog';

export function GoToDialog({
  space,
  spaces,
  onGo,
  onClose,
}: {
  space: MemorySpace;
  /** The open image's address spaces (null: no image, nothing to check against). */
  spaces: AddressSpaces | null;
  onGo: (space: MemorySpace, address: Hex) => void;
  onClose: () => void;
}) {
  const [text, setText] = useState('');
  const [where, setWhere] = useState<MemorySpace>(space);
  const parsed = parseAddress(text);
  const problem = parsed !== null && spaces ? addressProblem(parsed, where, spaces) : null;
  const address = problem ? null : parsed;
  return (
    <Dialog title="Go to address" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (address === null) return;
          onGo(where, hex(address));
          onClose();
        }}
      >
        <div className="path-row">
          <input
            autoFocus
            className="mono"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="fffff803`12345678, 0x8a292140, 8a292140h"
            data-testid="goto-input"
          />
          <select value={where} onChange={(e) => setWhere(e.target.value as MemorySpace)} aria-label="Space">
            <option value="virtual">virtual</option>
            <option value="physical">physical</option>
          </select>
          <button type="submit" className="primary" disabled={address === null} data-testid="goto-go">
            Go
          </button>
        </div>
        {problem ? (
          <div className="bad small" data-testid="goto-problem">
            {problem}
          </div>
        ) : (
          <div className="muted small">
            {text && parsed === null ? 'Not an address.' : 'Hex by default; prefix 0n for decimal.'}
          </div>
        )}
      </form>
    </Dialog>
  );
}
