import { useState } from 'react';
import type { MemorySpace } from '../../common/api';
import { parseAddress } from '../util/format';
import { Dialog } from './Dialog';

export function GoToDialog({
  space,
  onGo,
  onClose,
}: {
  space: MemorySpace;
  onGo: (space: MemorySpace, address: string) => void;
  onClose: () => void;
}) {
  const [text, setText] = useState('');
  const [where, setWhere] = useState<MemorySpace>(space);
  const address = parseAddress(text);
  return (
    <Dialog title="Go to address" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (address === null) return;
          onGo(where, `0x${address.toString(16)}`);
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
          <button type="submit" className="primary" disabled={address === null}>
            Go
          </button>
        </div>
        <div className="muted small">
          {text && address === null ? 'Not an address.' : 'Hex by default; prefix 0n for decimal.'}
        </div>
      </form>
    </Dialog>
  );
}
