// "Save image…": a driver's or module's image rebuilt from memory as a PE file for a
// disassembler, saved where the analyst chooses; what came out (pages not in memory, SHA-256) is
// said at once and kept in the case and its reports.

import { useState } from 'react';
import type { ExtractTargetRequest } from '../../common/api';
import { api } from '../api/client';
import { useApp } from '../state/app-state';
import { saveFile } from '../util/save-file';

export function SaveImageButton({
  session,
  target,
  label = 'Save image…',
  className,
}: {
  session: string;
  target: ExtractTargetRequest;
  label?: string;
  className?: string;
}) {
  const { notify } = useApp();
  const [busy, setBusy] = useState(false);
  const save = async (): Promise<void> => {
    setBusy(true);
    try {
      const file = await api.extractImage({ session, target });
      const saved = await saveFile(file);
      if (!saved) return;
      const r = file.record;
      notify(
        'info',
        `Saved ${saved}: ${r.layout === 'pe' ? `PE ${file.machine ?? ''}` : 'raw memory (no PE headers in memory)'}, ` +
          `${r.size.toLocaleString('en')} bytes, ` +
          (r.missingPages
            ? `${r.missingPages} of ${r.pages} pages not in memory (zero-filled), `
            : 'every page in memory, ') +
          `SHA-256 ${r.sha256}`,
      );
    } catch (error) {
      notify('error', (error as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      onClick={(e) => {
        e.stopPropagation();
        void save();
      }}
      disabled={busy}
      className={className}
      title="Rebuild this image from memory as a PE file (sections at file alignment, absent pages zero-filled) for a disassembler"
      data-testid="save-image"
    >
      {busy ? 'Saving…' : label}
    </button>
  );
}
