// `irpscope capture` as text: what was captured, and the VMs and sockets a capture could reach.
// Everything a peer chose — a VM's name, its state, a tool's error line, a socket's file name —
// goes through visibleText, and a size nobody stated reads "unknown".

import type {
  CaptureProgress,
  CaptureResult,
  CaptureToolStatus as ToolStatus,
  QmpSocketSearch,
} from '../core/node/capture';
import { visibleText } from '../common/visible-text';
import { formatBytes } from './render-info';

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A byte count, or "unknown" for anything that is not one. */
export function sizeText(bytes: number | null | undefined): string {
  return typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0
    ? formatBytes(bytes)
    : 'unknown';
}

function memoryText(bytes: number | null): string {
  return bytes === null ? 'memory size unknown' : `${sizeText(bytes)} of memory`;
}

export function renderCaptureResult(result: CaptureResult): string {
  const vm = visibleText(result.vm.name ?? result.source);
  const paused =
    result.pausedMs !== null
      ? `the VM was paused for ${seconds(result.pausedMs)} and is running again`
      : result.wasRunning
        ? `${visibleText(result.vm.software)} paused and resumed the VM itself`
        : `the VM was ${visibleText(result.vm.stateBefore)} and stays so`;
  return [
    `Captured ${vm} (${visibleText(result.vm.software)}, ${memoryText(result.vm.memoryBytes)})`,
    `  image      ${visibleText(result.file)} (${sizeText(result.bytes)}, ${visibleText(result.format)})`,
    `  timing     dump ${seconds(result.dumpMs)}, whole capture ${seconds(result.totalMs)}; ${paused}`,
    '',
  ].join('\n');
}

/** One progress line: the stage, how much is written where that is measured, and the detail. */
export function renderCaptureProgress(progress: CaptureProgress): string {
  const measured = progress.stage === 'dumping' || progress.stage === 'cancelling';
  const amount = !measured
    ? ''
    : progress.total === 100 && progress.completed <= 100
      ? ` ${Math.round(progress.completed)}%`
      : progress.total > 0
        ? ` ${sizeText(progress.completed)} of ${sizeText(progress.total)}`
        : progress.completed > 0
          ? ` ${sizeText(progress.completed)} of a size not yet known`
          : '';
  return `${progress.stage}${amount}${progress.detail ? ` (${visibleText(progress.detail)})` : ''}`;
}

export function renderCaptureTargets(
  search: QmpSocketSearch,
  tools: ToolStatus[],
  folders: string[],
): string {
  const lines = [`QMP sockets (in ${folders.map(visibleText).join(', ')}):`];
  if (search.probes.length === 0) lines.push('  none found');
  for (const socket of search.probes) {
    const path = visibleText(socket.path);
    if (socket.state === 'ready' && socket.vm)
      lines.push(
        `  ${path}  ${socket.vm.name === null ? '(unnamed VM)' : visibleText(socket.vm.name)}, ${socket.vm.memoryBytes === null ? 'memory size unknown' : sizeText(socket.vm.memoryBytes)}, ${visibleText(socket.vm.status)}, QEMU ${visibleText(socket.vm.qemuVersion)}`,
      );
    else lines.push(`  ${path}  ${socket.state}: ${visibleText(socket.reason ?? '')}`);
  }
  for (const skipped of search.skipped)
    lines.push(`  skipped ${visibleText(skipped.path)}: ${visibleText(skipped.reason)}`);
  if (search.truncated) lines.push('  (only the first 64 sockets were looked at)');
  const byProblem = new Map<string, string[]>();
  for (const { folder, problem } of search.folders)
    byProblem.set(problem, [...(byProblem.get(problem) ?? []), folder]);
  for (const [problem, where] of byProblem)
    lines.push(`  not searched (${visibleText(problem)}): ${where.map(visibleText).join(', ')}`);
  for (const tool of tools) {
    lines.push('');
    if (!tool.path) {
      lines.push(`${tool.tool}: ${tool.missing}`);
      continue;
    }
    lines.push(`${tool.tool} (${visibleText(tool.path)}):`);
    if (tool.problem) lines.push(`  ${visibleText(tool.problem)}`);
    else if (tool.vms.length === 0) lines.push('  no VMs');
    for (const vm of tool.vms)
      lines.push(
        `  ${visibleText(vm.id)}  ${vm.name === vm.id ? '' : `${visibleText(vm.name)}, `}${visibleText(vm.state)}`,
      );
  }
  return `${lines.join('\n')}\n`;
}
