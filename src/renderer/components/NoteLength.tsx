import { MAX_NOTE_LENGTH } from '../../common/api';
import { hasHiddenCharacters } from '../../common/visible-text';
import { Text } from './Text';

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

/**
 * Under a field whose text holds characters that hide or reorder text (a right-to-left override,
 * a zero-width space): the text as the rest of the workbench shows it, escaped. The field itself
 * keeps what was typed, so that editing it does not change it.
 */
export function HiddenCharacters({ text, field = 'This text' }: { text: string; field?: string }) {
  if (!hasHiddenCharacters(text)) return null;
  return (
    <div className="hidden-characters small" data-testid="hidden-characters">
      <span className="muted">{field} holds hidden characters, shown escaped: </span>
      <Text value={text} />
    </div>
  );
}
