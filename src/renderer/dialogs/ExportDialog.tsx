// File › Export Report…: the report of the open image — HTML, PDF (the same page printed by
// Chromium), JSON or CSV — with the comparison against a baseline when one is open, the analyst's
// name and case notes, and a preview of exactly what will be written.

import { useEffect, useState } from 'react';
import { MAX_NOTE_LENGTH, type ReportFile, type ReportFormat, type SessionSummary } from '../../common/api';
import { api } from '../api/client';
import { saveFile } from '../util/save-file';
import { visibleText } from '../util/format';
import { HiddenCharacters, NoteLength } from '../components/NoteLength';
import { Text } from '../components/Text';
import { useApp, useCase } from '../state/app-state';
import { Dialog } from './Dialog';

const FORMATS: Array<{ format: ReportFormat; label: string; hint: string }> = [
  { format: 'pdf', label: 'PDF', hint: 'A4 landscape pages with the case in the header and page numbers' },
  { format: 'html', label: 'HTML', hint: 'one self-contained file, no script; prints as the PDF does' },
  {
    format: 'json',
    label: 'JSON',
    hint: 'the analysis (schema irpscope-analysis/4) with the case and notes',
  },
  { format: 'csv', label: 'CSV', hint: 'every table, RFC 4180, formulas neutralised' },
];

export function ExportDialog({
  session,
  initialFormat,
  onClose,
}: {
  session: SessionSummary;
  initialFormat: ReportFormat;
  onClose: () => void;
}) {
  const { sessions, notify, setCase } = useApp();
  const view = useCase(session);
  const baselines = sessions.filter(
    (s) => s.role === 'baseline' && s.id !== session.id && s.state === 'ready',
  );
  const paired = baselines.find((s) => s.path === view?.baseline?.path) ?? baselines[0];
  const [format, setFormat] = useState<ReportFormat>(initialFormat);
  const [baseline, setBaseline] = useState<string>(paired?.id ?? '');
  const [preview, setPreview] = useState<
    { key: string; file: ReportFile } | { key: string; error: string } | null
  >(null);
  const [busy, setBusy] = useState(false);
  const [analyst, setAnalyst] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  // The preview is the HTML report (what PDF prints) or the text document itself.
  const previewFormat: ReportFormat = format === 'pdf' ? 'html' : format;
  const key = `${previewFormat}|${baseline}|${view?.analyst}|${view?.note}|${JSON.stringify(view?.annotations)}`;
  useEffect(() => {
    let live = true;
    api.report({ session: session.id, format: previewFormat, ...(baseline ? { baseline } : {}) }).then(
      (file) => live && setPreview({ key, file }),
      (error: Error) => live && setPreview({ key, error: error.message }),
    );
    return () => {
      live = false;
    };
  }, [session.id, previewFormat, baseline, key]);

  // A cleared field is sent as '' (it clears the name or the note), never left out.
  const saveCase = async (): Promise<void> => {
    const change = {
      ...(analyst !== null && analyst !== view?.analyst ? { analyst } : {}),
      ...(note !== null && note !== view?.note ? { note } : {}),
    };
    if (Object.keys(change).length === 0) return;
    setCase(session.id, await api.updateCase({ session: session.id, ...change }));
  };
  const saveOnLeave = (): void => {
    saveCase().catch((error: Error) => notify('error', error.message));
  };

  const save = async (): Promise<void> => {
    setBusy(true);
    try {
      await saveCase();
      const file = await api.report({ session: session.id, format, ...(baseline ? { baseline } : {}) });
      const saved = await saveFile(file);
      if (saved) {
        notify('info', `Saved ${saved}`);
        onClose();
      }
    } catch (error) {
      notify('error', (error as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const current = preview && preview.key === key ? preview : null;
  return (
    <Dialog title="Export report" onClose={onClose} wide>
      <div className="export-layout">
        <div className="form-grid">
          <label>Format</label>
          <div className="segmented" role="radiogroup" aria-label="Format">
            {FORMATS.map((f) => (
              <button
                key={f.format}
                type="button"
                role="radio"
                aria-checked={format === f.format}
                className={format === f.format ? 'active' : ''}
                title={f.hint}
                onClick={() => setFormat(f.format)}
              >
                {f.label}
              </button>
            ))}
          </div>
          <span />
          <span className="muted small">{FORMATS.find((f) => f.format === format)!.hint}</span>
          <label htmlFor="export-baseline">Baseline</label>
          <select id="export-baseline" value={baseline} onChange={(e) => setBaseline(e.target.value)}>
            <option value="">none: this image alone</option>
            {baselines.map((b) => (
              <option key={b.id} value={b.id}>
                {visibleText(b.label)}
              </option>
            ))}
          </select>
          <label htmlFor="export-analyst">Analyst</label>
          <input
            id="export-analyst"
            value={analyst ?? view?.analyst ?? ''}
            onChange={(e) => setAnalyst(e.target.value)}
            onBlur={saveOnLeave}
            placeholder="named in the report header"
            disabled={!view}
          />
          <label htmlFor="export-note">Case notes</label>
          <textarea
            id="export-note"
            rows={2}
            value={note ?? view?.note ?? ''}
            onChange={(e) => setNote(e.target.value)}
            onBlur={saveOnLeave}
            placeholder="case number, host, sample… (heads the report)"
            disabled={!view}
            maxLength={MAX_NOTE_LENGTH}
          />
          <span />
          <div>
            <NoteLength length={(note ?? view?.note ?? '').length} />
            <HiddenCharacters field="The analyst's name" text={analyst ?? view?.analyst ?? ''} />
            <HiddenCharacters field="The case note" text={note ?? view?.note ?? ''} />
          </div>
          <label>SHA-256</label>
          <span className="mono small">
            {view?.image.sha256 ??
              (view?.image.hashing
                ? `computing… ${Math.round(view.image.hashing.fraction * 100)}%`
                : 'not computed (Overview › Case)')}
          </span>
        </div>
        <div className="export-preview" data-testid="export-preview">
          {!current ? (
            <div className="placeholder">Preparing the preview…</div>
          ) : 'error' in current ? (
            <div className="bad small">
              <Text value={current.error} />
            </div>
          ) : current.file.mimeType === 'text/html' ? (
            // No scripts, no same-origin: the report is shown, never run.
            <iframe title="Report preview" sandbox="" srcDoc={current.file.content} />
          ) : (
            <pre className="export-text">{current.file.content.slice(0, 60_000)}</pre>
          )}
        </div>
      </div>
      <div className="modal-actions">
        <span className="muted small">
          {format === 'pdf' ? 'Printed by Chromium: the pages look as in the preview, in A4 landscape.' : ''}
        </span>
        <button type="button" className="primary" onClick={() => void save()} disabled={busy}>
          {busy ? 'Writing…' : `Save ${FORMATS.find((f) => f.format === format)!.label}…`}
        </button>
      </div>
    </Dialog>
  );
}
