import { visibleParts } from '../util/format';

/** Untrusted text from the image: rendered as text, control characters as visible escapes. */
export function Text({ value, fallback = '—' }: { value: string | null | undefined; fallback?: string }) {
  if (value === null || value === undefined || value === '')
    return <span className="absent">{fallback}</span>;
  const parts = visibleParts(value);
  if (parts.length === 1 && !parts[0]!.control) return <>{value}</>;
  return (
    <span className="has-control" title="contains control characters (shown escaped)">
      {parts.map((part, i) =>
        part.control ? (
          <span key={i} className="control">
            {part.text}
          </span>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </span>
  );
}
