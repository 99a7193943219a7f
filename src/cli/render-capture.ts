// `irpscope capture` as text: what was captured, and the VMs and sockets a capture could reach.

import type { CaptureResult, CaptureToolStatus as ToolStatus, QmpSocketProbe } from '../core/capture';
import { formatBytes } from './render-info';

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function renderCaptureResult(result: CaptureResult): string {
  const vm = result.vm.name ?? result.source;
  const paused =
    result.pausedMs !== null
      ? `the VM was paused for ${seconds(result.pausedMs)} and is running again`
      : result.wasRunning
        ? `${result.vm.software} paused and resumed the VM itself`
        : `the VM was ${result.vm.stateBefore} and stays so`;
  return [
    `Captured ${vm} (${result.vm.software}${result.vm.memoryBytes ? `, ${formatBytes(result.vm.memoryBytes)} of memory` : ''})`,
    `  image      ${result.file} (${formatBytes(result.bytes)}, ${result.format})`,
    `  timing     dump ${seconds(result.dumpMs)}, whole capture ${seconds(result.totalMs)}; ${paused}`,
    '',
  ].join('\n');
}

export function renderCaptureTargets(
  sockets: QmpSocketProbe[],
  tools: ToolStatus[],
  folders: string[],
): string {
  const lines = [`QMP sockets (in ${folders.join(', ')}):`];
  if (sockets.length === 0) lines.push('  none found');
  for (const socket of sockets) {
    if (socket.state === 'ready' && socket.vm)
      lines.push(
        `  ${socket.path}  ${socket.vm.name ?? '(unnamed VM)'}, ${socket.vm.memoryBytes ? formatBytes(socket.vm.memoryBytes) : 'memory size unknown'}, ${socket.vm.status}, QEMU ${socket.vm.qemuVersion}`,
      );
    else lines.push(`  ${socket.path}  ${socket.state}: ${socket.reason}`);
  }
  for (const tool of tools) {
    lines.push('');
    if (!tool.path) {
      lines.push(`${tool.tool}: ${tool.missing}`);
      continue;
    }
    lines.push(`${tool.tool} (${tool.path}):`);
    if (tool.problem) lines.push(`  ${tool.problem}`);
    else if (tool.vms.length === 0) lines.push('  no VMs');
    for (const vm of tool.vms)
      lines.push(`  ${vm.id}  ${vm.name === vm.id ? '' : `${vm.name}, `}${vm.state}`);
  }
  return `${lines.join('\n')}\n`;
}
