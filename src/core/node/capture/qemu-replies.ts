// QEMU's answers, checked before they are believed: a reply of the wrong shape is an error that
// names the command, never a NaN, an undefined or a loop that waits for a status that never
// comes. Pure functions, shared by the capture and its fuzz replay.
// Shapes: https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html (StatusInfo, NameInfo,
// MemoryInfo, DumpQueryResult, DUMP_COMPLETED).

import { CaptureError } from './errors';
import { peerLine } from './qmp-message';

export interface RunState {
  status: string;
  running: boolean;
}

export type DumpState = 'none' | 'active' | 'completed' | 'failed';

export interface DumpStatus {
  status: DumpState;
  /** Bytes written so far and in all. */
  completed: number;
  total: number;
}

const DUMP_STATES: ReadonlySet<string> = new Set<DumpState>(['none', 'active', 'completed', 'failed']);

/** The longest string from a peer kept as it is; longer ones are cut, with a mark. */
const MAX_TEXT = 1024;

function text(value: string): string {
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A byte count: a non-negative integer that a double holds exactly. */
export function isByteCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function malformed(command: string, why: string): CaptureError {
  return new CaptureError('qmp-error', `QEMU's answer to ${command} is not what QMP documents: ${why}`);
}

export function readRunState(reply: unknown): RunState {
  if (!isRecord(reply)) throw malformed('query-status', 'not an object');
  if (typeof reply.status !== 'string') throw malformed('query-status', 'no status');
  if (typeof reply.running !== 'boolean') throw malformed('query-status', '"running" is not true or false');
  return { status: text(reply.status), running: reply.running };
}

/** The VM's name, or null when it has none (or the answer holds no string). */
export function readVmName(reply: unknown): string | null {
  return isRecord(reply) && typeof reply.name === 'string' ? text(reply.name) : null;
}

/** The guest's memory in bytes (base plus hot-plugged), or null when the answer does not say it. */
export function readMemorySize(reply: unknown): number | null {
  if (!isRecord(reply) || !isByteCount(reply['base-memory'])) return null;
  const plugged = reply['plugged-memory'];
  if (plugged !== undefined && !isByteCount(plugged)) return null;
  const total = reply['base-memory'] + (plugged ?? 0);
  return Number.isSafeInteger(total) ? total : null;
}

export function readDumpStatus(reply: unknown): DumpStatus {
  if (!isRecord(reply)) throw malformed('query-dump', 'not an object');
  const { status, completed, total } = reply;
  if (typeof status !== 'string') throw malformed('query-dump', 'no status');
  if (!DUMP_STATES.has(status))
    throw new CaptureError(
      'qmp-error',
      `QEMU answered query-dump with an unknown status "${peerLine(status, MAX_TEXT)}"`,
    );
  if (!isByteCount(completed) || !isByteCount(total))
    throw malformed('query-dump', '"completed" and "total" are not byte counts');
  return { status: status as DumpState, completed, total };
}

/** DUMP_COMPLETED's error, if it carries one: one visible line (it is quoted in a message). */
export function readDumpError(data: unknown): string | null {
  return isRecord(data) && typeof data.error === 'string' ? peerLine(data.error, MAX_TEXT) : null;
}
