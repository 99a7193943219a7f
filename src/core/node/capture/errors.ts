// Why a capture failed, in one sentence for a person, with a kind for programs (the CLI exits 2
// on any of them; the workbench shows the sentence).

export type CaptureErrorKind =
  | 'bad-target'
  | 'unreachable'
  | 'not-qmp'
  | 'qmp-error'
  | 'disconnected'
  | 'timeout'
  | 'dump-failed'
  | 'tool-missing'
  | 'tool-failed'
  | 'output'
  | 'cancelled'
  /** The image is complete, but the VM this capture paused could not be resumed. */
  | 'resume-failed';

export class CaptureError extends Error {
  constructor(
    readonly kind: CaptureErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CaptureError';
  }
}
