// Whether an image holds a kernel the analysis can stand on. A file in which none was found is not
// a clean system: "0 drivers, no findings" would be an answer without a basis, so it is an error
// that says what was tried. A triage dump's kernel is known from its header (build, module list)
// even though it holds no pool memory; its analysis is partial, not absent.

import type { ImageInfo } from '../../common/model';
import { ImageError } from '../image';

/** Null when a kernel was found; else one sentence naming the file and what was tried. */
export function noKernelReason(info: ImageInfo): string | null {
  return info.noKernel === undefined ? null : `no Windows kernel found in ${info.path}: ${info.noKernel}`;
}

/** Throws the 'no-kernel' image error when no kernel was found. */
export function requireKernel(info: ImageInfo): void {
  const reason = noKernelReason(info);
  if (reason) throw new ImageError('no-kernel', reason);
}
