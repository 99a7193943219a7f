// Capturing the memory of a running VM into an image file (src/core/capture): QEMU over QMP,
// or the libvirt, VirtualBox and VMware command-line tools. What comes out is a file that the
// image containers then open like any other.

import { captureQemu } from './qemu';
import { captureWithTool, type ToolKind } from './tools';
import type { CaptureProgress, CaptureResult } from './types';

export { CaptureError, type CaptureErrorKind } from './errors';
export { parseEndpoint, describeEndpoint, type QmpEndpoint } from './endpoint';
export { captureQemu, describeQemuVm, type QemuVm } from './qemu';
export { findQmpSockets, libvirtSocketFolders, probeQmpSocket, type QmpSocketProbe } from './sockets';
export {
  captureWithTool,
  toolStatus,
  TOOL_COMMANDS,
  type ToolKind,
  type ToolStatus,
  type ToolVm,
} from './tools';
export type { CaptureProgress, CaptureResult } from './types';

export type CaptureSource = { kind: 'qmp'; endpoint: string } | { kind: ToolKind; vm: string };

export interface CaptureOptions {
  out: string;
  onProgress?: (progress: CaptureProgress) => void;
  signal?: AbortSignal;
}

export function capture(source: CaptureSource, options: CaptureOptions): Promise<CaptureResult> {
  if (source.kind === 'qmp') return captureQemu({ qmp: source.endpoint, ...options });
  return captureWithTool({ tool: source.kind, vm: source.vm, ...options });
}
