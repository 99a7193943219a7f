// Capturing the memory of a running VM into an image file (src/core/node/capture): QEMU over QMP,
// or the libvirt, VirtualBox and VMware command-line tools. What comes out is a file that the
// image containers then open like any other.

import { captureQemu } from './qemu';
import { captureWithTool } from './tools';
import type { CaptureProgress, CaptureResult, CaptureSource } from './types';

export { CaptureError, type CaptureErrorKind } from './errors';
export { parseEndpoint, describeEndpoint, type QmpEndpoint } from './endpoint';
export { captureQemu, describeQemuVm, DEFAULT_QEMU_BOUNDS, type QemuCaptureBounds } from './qemu';
export {
  findQmpSockets,
  libvirtSocketFolders,
  probeQmpSocket,
  type FolderProblem,
  type QmpSocketSearch,
  type SkippedSocket,
} from './sockets';
export { captureWithTool, toolStatus, TOOL_COMMANDS } from './tools';
export type {
  CaptureProgress,
  CaptureResult,
  CaptureSource,
  CaptureToolKind,
  CaptureToolStatus,
  CaptureToolVm,
  QemuVm,
  QmpSocketProbe,
} from './types';

export interface CaptureOptions {
  out: string;
  onProgress?: (progress: CaptureProgress) => void;
  signal?: AbortSignal;
  /** The environment whose PATH the tools are looked up on (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export function capture(source: CaptureSource, options: CaptureOptions): Promise<CaptureResult> {
  if (source.kind === 'qmp')
    return captureQemu({
      qmp: source.endpoint,
      out: options.out,
      onProgress: options.onProgress,
      signal: options.signal,
    });
  return captureWithTool({ tool: source.kind, vm: source.vm, ...options });
}
