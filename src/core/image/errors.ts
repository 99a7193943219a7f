// One error type for everything that stops an image from opening, each with a one-line message.

export type ImageErrorKind =
  | 'not-found'
  | 'directory'
  | 'empty'
  | 'unreadable'
  | 'too-small'
  /** A recognised file that is not a memory image (archive, executable, text, user-mode dump). */
  | 'not-memory-image'
  | 'user-minidump'
  | 'unsupported-architecture'
  | 'hibernation'
  | 'ewf'
  | 'aff4'
  /** A recognised container whose variant IRPscope does not read. */
  | 'unsupported-format'
  /** A companion file (.vmem for a .vmss without memory) is missing. */
  | 'missing-companion'
  | 'corrupt'
  | 'truncated'
  /** A memory image in which no Windows kernel was found: not a clean system, no answer at all. */
  | 'no-kernel';

export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    readonly kind: ImageErrorKind,
    message: string,
  ) {
    super(message);
  }
}
