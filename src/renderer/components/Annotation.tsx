// The analyst's word on a finding, driver, device or handler: a status (suspicious, benign, to
// check) and a note, kept in the image's case and carried into reports and the JSON export.

import { useState } from 'react';
import {
  MAX_NOTE_LENGTH,
  type Annotation,
  type AnnotationStatus,
  type AnnotationTarget,
  type CaseView,
} from '../../common/api';
import { api } from '../api/client';
import { useApp } from '../state/app-state';
import { visibleText } from '../util/format';
import { HiddenCharacters, NoteLength } from './NoteLength';

export const STATUS_LABELS: Record<AnnotationStatus, string> = {
  suspicious: 'Suspicious',
  benign: 'Benign',
  'to-check': 'To check',
};

export function annotationOf(view: CaseView | null, target: AnnotationTarget): Annotation | undefined {
  return view?.annotations[target];
}

/** A compact mark for tables: the status, and a pencil when there is a note (shown on hover). */
export function AnnotationBadge({ annotation }: { annotation: Annotation | undefined }) {
  if (!annotation) return null;
  return (
    <span
      className={`annotation-badge status-${annotation.status ?? 'none'}`}
      title={annotation.note ? visibleText(annotation.note) : undefined}
      data-testid="annotation-badge"
    >
      {annotation.status ? STATUS_LABELS[annotation.status] : ''}
      {annotation.note ? ' ✎' : ''}
    </span>
  );
}

/** Status buttons and a note, saved to the case. */
export function AnnotationEditor({
  session,
  target,
  view,
  label,
}: {
  session: string;
  target: AnnotationTarget;
  view: CaseView | null;
  label?: string;
}) {
  const { setCase, notify } = useApp();
  const current = annotationOf(view, target);
  const [draft, setDraft] = useState<{ target: string; note: string } | null>(null);
  const note = draft?.target === target ? draft.note : (current?.note ?? '');
  const save = (status: AnnotationStatus | null, text: string): void => {
    api.annotate({ session, target, status, note: text }).then(
      (next) => {
        setCase(session, next);
        setDraft((d) => (d?.target === target && d.note === text ? null : d));
      },
      (error: Error) => notify('error', error.message),
    );
  };
  if (!view) return <div className="muted small">Notes are kept once the analysis is saved as a case.</div>;
  return (
    <div className="annotation-editor" data-testid="annotation-editor">
      <div className="annotation-row">
        {label && <span className="muted">{label}</span>}
        <div className="segmented" role="group" aria-label="Status">
          {(['suspicious', 'benign', 'to-check'] as const).map((status) => (
            <button
              key={status}
              type="button"
              className={`status-${status}${current?.status === status ? ' active' : ''}`}
              aria-pressed={current?.status === status}
              onClick={() => save(current?.status === status ? null : status, note)}
            >
              {STATUS_LABELS[status]}
            </button>
          ))}
        </div>
        {current?.updatedAt && (
          <span className="muted small">noted {new Date(current.updatedAt).toLocaleString()}</span>
        )}
      </div>
      <textarea
        aria-label="Analyst note"
        value={note}
        placeholder="Your note on this (kept in the case, printed in the report)"
        onChange={(e) => setDraft({ target, note: e.target.value })}
        onBlur={() =>
          draft?.target === target &&
          draft.note !== (current?.note ?? '') &&
          save(current?.status ?? null, note)
        }
        rows={2}
        maxLength={MAX_NOTE_LENGTH}
      />
      <NoteLength length={note.length} />
      <HiddenCharacters field="The note" text={note} />
    </div>
  );
}
