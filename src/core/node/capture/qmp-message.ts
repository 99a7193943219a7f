// What a QMP peer sends, decoded without trusting it: bytes become lines (UTF-8 decoded across
// chunk boundaries, a line's length bounded), a line becomes one message of a known kind or an
// "invalid" with the reason. Nothing here touches a socket, so the QMP client and the capture's
// replay (the fuzz entry point) decode the same way.
// Protocol: https://www.qemu.org/docs/master/interop/qmp-spec.html

import { StringDecoder } from 'node:string_decoder';
import { visibleText } from '../../../common/visible-text';

export interface QmpGreeting {
  version: string;
  package: string;
}

export type QmpMessage =
  | { kind: 'greeting'; greeting: QmpGreeting }
  | { kind: 'return'; id: unknown; value: unknown }
  | { kind: 'error'; id: unknown; description: string }
  | { kind: 'event'; event: string; data: unknown; at: number | null }
  /** A JSON object that is none of the above: the protocol says to ignore it. */
  | { kind: 'other' }
  | { kind: 'invalid'; reason: string };

/** A line longer than this is not QMP; the peer is stopped before it fills the memory. */
export const MAX_QMP_LINE = 4 * 1024 * 1024;

/** A peer's text kept in a message: long enough to read, bounded. */
const MAX_TEXT = 500;

function bounded(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/**
 * A peer's text quoted in an error's message: one line, every control or invisible character a
 * visible escape, at most `max` characters (an escape is not cut in half).
 */
export function peerLine(text: string, max = MAX_TEXT): string {
  const line = visibleText(text);
  if (line.length <= max) return line;
  const cut = line.slice(0, max);
  const partialEscape = /\\(u[0-9a-f]{0,3})?$/.exec(cut);
  return `${partialEscape ? cut.slice(0, partialEscape.index) : cut}…`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function greetingOf(qmp: unknown): QmpGreeting | null {
  if (!isRecord(qmp) || !isRecord(qmp.version) || !isRecord(qmp.version.qemu)) return null;
  const { major, minor, micro } = qmp.version.qemu;
  if (!isCount(major) || !isCount(minor) || !isCount(micro)) return null;
  const pkg = qmp.version.package;
  return { version: `${major}.${minor}.${micro}`, package: typeof pkg === 'string' ? bounded(pkg) : '' };
}

function errorDescription(error: unknown): string {
  if (isRecord(error)) {
    if (typeof error.desc === 'string' && error.desc.length > 0) return peerLine(error.desc);
    if (typeof error.class === 'string' && error.class.length > 0) return peerLine(error.class);
  }
  return 'no reason given';
}

function eventTime(timestamp: unknown): number | null {
  if (!isRecord(timestamp)) return null;
  const { seconds, microseconds } = timestamp;
  if (!isCount(seconds) || !isCount(microseconds)) return null;
  return seconds * 1e6 + microseconds;
}

/** One line from a QMP peer, as one message. */
export function decodeQmpLine(line: string): QmpMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'invalid', reason: 'a line that is not JSON' };
  }
  if (!isRecord(value)) return { kind: 'invalid', reason: 'a line that is not a JSON object' };
  if ('QMP' in value) {
    const greeting = greetingOf(value.QMP);
    return greeting
      ? { kind: 'greeting', greeting }
      : { kind: 'invalid', reason: 'a greeting without a QEMU version' };
  }
  if ('return' in value) return { kind: 'return', id: value.id, value: value.return };
  if ('error' in value) return { kind: 'error', id: value.id, description: errorDescription(value.error) };
  if (typeof value.event === 'string')
    return { kind: 'event', event: bounded(value.event), data: value.data, at: eventTime(value.timestamp) };
  return { kind: 'other' };
}

/** Splits a peer's bytes into lines; a line past MAX_QMP_LINE is an error, not a line. */
export class QmpLineReader {
  readonly #decoder = new StringDecoder('utf8');
  #buffer = '';

  /** The complete lines in `chunk` (without their ends, blank ones dropped); throws past the bound. */
  push(chunk: Uint8Array | string): string[] {
    this.#buffer += typeof chunk === 'string' ? chunk : this.#decoder.write(Buffer.from(chunk));
    const lines: string[] = [];
    for (let end = this.#buffer.indexOf('\n'); end >= 0; end = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, end).trim();
      this.#buffer = this.#buffer.slice(end + 1);
      if (line) lines.push(line);
    }
    if (this.#buffer.length > MAX_QMP_LINE) {
      this.#buffer = '';
      throw new RangeError(`a line of more than ${MAX_QMP_LINE} bytes`);
    }
    return lines;
  }

  /** What is left after the last line end (a peer that closed mid-line). */
  rest(): string {
    return (this.#buffer + this.#decoder.end()).trim();
  }
}
