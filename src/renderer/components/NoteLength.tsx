import { MAX_NOTE_LENGTH } from '../../common/api';

const count = (n: number) => n.toLocaleString('en-US');

/** How much of a note's room is used: one limit for every note the workbench keeps. */
export function NoteLength({ length }: { length: number }) {
  return (
    <span
      className={`note-limit small${length >= MAX_NOTE_LENGTH ? ' bad' : ' muted'}`}
      data-testid="note-limit"
    >
      {count(length)} / {count(MAX_NOTE_LENGTH)} characters
    </span>
  );
}
