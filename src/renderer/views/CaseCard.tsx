// The case of the open image: how its result came about (a new analysis, reopened from its case,
// analysed again and why), the file's identity with its full SHA-256 (computed on request in the
// background), the baseline it was compared with, and the analyst's name and case notes that
// head its reports.

import { useState } from 'react';
import { MAX_NOTE_LENGTH, type CaseView, type SessionSummary } from '../../common/api';
import { api } from '../api/client';
import { HiddenCharacters, NoteLength } from '../components/NoteLength';
import { Text } from '../components/Text';
import { useApp, useCase } from '../state/app-state';
import { formatSize, localTimes } from '../util/format';

export function CaseCard({ session, onExport }: { session: SessionSummary; onExport: () => void }) {
  const { setCase, notify } = useApp();
  const view = useCase(session);
  const [draft, setDraft] = useState<{ analyst?: string; note?: string }>({});
  const update = (change: { analyst?: string; note?: string }): void => {
    api.updateCase({ session: session.id, ...change }).then(
      (next: CaseView) => {
        setCase(session.id, next);
        // Only the fields saved: the other may be mid-edit.
        setDraft((d) => {
          const rest = { ...d };
          for (const field of Object.keys(change) as Array<keyof typeof change>)
            if (rest[field] === change[field]) delete rest[field];
          return rest;
        });
      },
      (error: Error) => notify('error', error.message),
    );
  };
  const hash = (action: 'start' | 'cancel'): void => {
    api.hashImage({ session: session.id, action }).then(
      (next) => setCase(session.id, next),
      (error: Error) => notify('error', error.message),
    );
  };
  const analyst = draft.analyst ?? view?.analyst ?? '';
  const note = draft.note ?? view?.note ?? '';
  return (
    <section className="card case-card" data-testid="case-card">
      <h2>
        Case{' '}
        <span className="sub">
          {view ? `analysed ${new Date(view.analyzedAt).toLocaleString()}` : 'not saved yet'}
        </span>
        <button type="button" className="ghost right" onClick={onExport}>
          Export report…
        </button>
      </h2>
      {session.caseNote && (
        <p className="case-note" data-testid="case-note">
          <Text value={localTimes(session.caseNote)} />
        </p>
      )}
      {view ? (
        <table className="facts">
          <tbody>
            <tr>
              <th>Image file</th>
              <td>
                {formatSize(view.image.size)} · modified {new Date(view.image.modified).toLocaleString()}
              </td>
            </tr>
            <tr>
              <th>SHA-256</th>
              <td data-testid="case-sha256">
                {view.image.sha256 ? (
                  <span className="mono selectable">{view.image.sha256}</span>
                ) : view.image.hashing ? (
                  <span className="hashing">
                    <span className="progress-large inline">
                      <span className="fill" style={{ width: `${view.image.hashing.fraction * 100}%` }} />
                    </span>
                    <span className="mono">{Math.round(view.image.hashing.fraction * 100)}%</span>
                    <button type="button" className="ghost" onClick={() => hash('cancel')}>
                      Cancel
                    </button>
                  </span>
                ) : (
                  <>
                    <button type="button" onClick={() => hash('start')}>
                      Compute SHA-256
                    </button>{' '}
                    {view.image.hashError && <span className="bad small">{view.image.hashError}</span>}
                  </>
                )}
              </td>
            </tr>
            {view.extractions.length > 0 && (
              <tr>
                <th>Extracted</th>
                <td data-testid="case-extractions">
                  {view.extractions.slice(-5).map((e) => (
                    <div key={`${e.at}-${e.sha256}`} className="small">
                      <Text value={e.label} /> → <Text value={e.fileName} />{' '}
                      <span className="mono selectable">{e.sha256}</span>
                      {e.missingPages > 0 && (
                        <span className="muted">
                          {' '}
                          ({e.missingPages} of {e.pages} pages not in memory)
                        </span>
                      )}
                    </div>
                  ))}
                  {view.extractions.length > 5 && (
                    <div className="muted small">
                      and {view.extractions.length - 5} earlier (all in the report)
                    </div>
                  )}
                </td>
              </tr>
            )}
            {view.baseline && (
              <tr>
                <th>Baseline</th>
                <td>
                  <Text value={view.baseline.path} />
                </td>
              </tr>
            )}
            <tr>
              <th>
                <label htmlFor="case-analyst">Analyst</label>
              </th>
              <td>
                <input
                  id="case-analyst"
                  value={analyst}
                  placeholder="your name, for the report"
                  onChange={(e) => setDraft((d) => ({ ...d, analyst: e.target.value }))}
                  onBlur={() =>
                    draft.analyst !== undefined && draft.analyst !== view.analyst && update({ analyst })
                  }
                />
                <HiddenCharacters field="The analyst's name" text={analyst} />
              </td>
            </tr>
            <tr>
              <th>
                <label htmlFor="case-notes">Case notes</label>
              </th>
              <td>
                <textarea
                  id="case-notes"
                  rows={2}
                  value={note}
                  placeholder="case number, host, what was detonated… (heads the report)"
                  onChange={(e) => setDraft((d) => ({ ...d, note: e.target.value }))}
                  onBlur={() => draft.note !== undefined && draft.note !== view.note && update({ note })}
                  maxLength={MAX_NOTE_LENGTH}
                />
                <NoteLength length={note.length} />
                <HiddenCharacters field="The case note" text={note} />
              </td>
            </tr>
          </tbody>
        </table>
      ) : (
        <p className="muted">The case is saved when the analysis is done.</p>
      )}
    </section>
  );
}
