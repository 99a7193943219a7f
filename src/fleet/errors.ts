// A fleet command that cannot do what it was asked says so in one sentence, before any work:
// a missing image, a results folder it cannot write, a Redis it cannot reach.

export class FleetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetError';
  }
}

/** An error as the one line a job's failure records and the report shows. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? 'unknown error';
  return line.length > 500 ? `${line.slice(0, 499)}…` : line;
}
