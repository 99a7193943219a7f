// The QMP capture driven by a peer's bytes alone, without sockets, files or real time: the fuzz
// entry point for "QMP replies". The bytes are what a QEMU would send, line after line: the first
// line greets, and each command the capture sends is answered by the next reply line (its "id" is
// not matched: a transcript cannot know the ids), with event lines delivered as they come. A line
// that is not JSON, or not an object, breaks the connection as it does in the real client; the
// capture then reconnects where it would (to resume a VM), and the lines after it greet the new
// connection. When the bytes run out the peer has closed the connection (or, with
// `endOfInput: 'silence'`, stops answering: every wait then ends at its bound, in virtual time).
//
// Everything else is the real capture (runQemuCapture, the reply checks, the bounds). The replay
// returns the capture's result or its CaptureError; it throws anything else — which is a crash —
// and throws when a promise is broken: a VM this capture may have paused, left paused without
// the error saying so; an error message of more than one line or unbounded length.

import { CaptureError } from './errors';
import type { DumpTarget } from './output';
import type { QmpChannel, QmpEvent } from './qmp';
import { MAX_QMP_LINE, QmpLineReader, decodeQmpLine, type QmpGreeting } from './qmp-message';
import { DEFAULT_QEMU_BOUNDS, runQemuCapture, type QemuCaptureBounds } from './qemu';
import { readDumpStatus, readRunState } from './qemu-replies';
import type { CaptureResult } from './types';

export interface QmpReplayOptions {
  /** What the peer does when the bytes run out: close the connection (default) or fall silent. */
  endOfInput?: 'close' | 'silence';
  /** Cancels the capture when it sends its n-th command (0 for the first). */
  cancelAtCommand?: number;
  /** How many bytes the dump file holds when QEMU says it is done (default: what query-dump last said was written). */
  fileBytes?: number;
  bounds?: Partial<QemuCaptureBounds>;
}

export interface QmpReplayOutcome {
  result: CaptureResult | null;
  error: CaptureError | null;
  /** The commands the capture sent, in order, with the connection each went on (0 for the first). */
  commands: Array<{ connection: number; command: string }>;
}

/** A promise of the capture that this transcript broke: the fuzz campaign counts it as a crash. */
export class ReplayBrokenPromise extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayBrokenPromise';
  }
}

const MAX_MESSAGE = 8192;
const REPLAY_OUT = '/replay/capture.elf';

/** What the replay knows of the VM from the commands sent and the replies given. */
type VmState = 'running' | 'paused' | 'maybe-paused' | 'unknown';

class Transcript {
  readonly lines: string[] = [];
  next = 0;
  readonly commands: QmpReplayOutcome['commands'] = [];
  connections = 0;
  clock = 0;
  vm: VmState = 'unknown';
  stopSent = false;
  written = 0;

  constructor(
    peer: Uint8Array,
    readonly options: QmpReplayOptions,
    readonly abort: AbortController,
  ) {
    const reader = new QmpLineReader();
    try {
      this.lines.push(...reader.push(peer));
      const rest = reader.rest();
      if (rest) this.lines.push(rest);
    } catch {
      // A line past the bound: the real client drops the peer there; so does the replay.
      this.lines.push(`{"replay": "a line of more than ${MAX_QMP_LINE} bytes"`);
    }
  }

  take(): string | null {
    return this.next < this.lines.length ? this.lines[this.next++]! : null;
  }

  noteCommand(connection: number, command: string): void {
    if (this.options.cancelAtCommand === this.commands.length) this.abort.abort();
    this.commands.push({ connection, command });
    if (command === 'stop') {
      this.stopSent = true;
      this.vm = 'maybe-paused';
    }
  }

  noteReply(command: string, value: unknown): void {
    try {
      if (command === 'cont') this.vm = 'running';
      else if (command === 'query-status') this.vm = readRunState(value).running ? 'running' : 'paused';
      else if (command === 'query-dump') this.written = readDumpStatus(value).completed;
    } catch {
      // A reply the capture will refuse too: it tells nothing of the VM.
    }
  }
}

class ScriptedChannel implements QmpChannel {
  readonly #listeners = new Set<(event: QmpEvent) => void>();
  #closed: CaptureError | null = null;

  constructor(
    private readonly transcript: Transcript,
    readonly connection: number,
    readonly greeting: QmpGreeting,
  ) {}

  get closed(): boolean {
    return this.#closed !== null;
  }

  close(): void {
    this.#closed ??= new CaptureError('disconnected', 'the QMP connection was closed');
  }

  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  execute(
    command: string,
    _args?: Record<string, unknown>,
    timeoutMs = DEFAULT_QEMU_BOUNDS.replyMs,
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    this.transcript.noteCommand(this.connection, command);
    this.transcript.clock += 1;
    for (let line = this.transcript.take(); line !== null; line = this.transcript.take()) {
      const message = decodeQmpLine(line);
      if (message.kind === 'invalid')
        return Promise.reject(this.#break(`sent ${message.reason}: not QMP`, 'not-qmp'));
      if (message.kind === 'event') {
        for (const listener of this.#listeners)
          listener({ event: message.event, data: message.data, at: message.at ?? 0 });
        continue;
      }
      if (message.kind === 'error')
        return Promise.reject(
          new CaptureError('qmp-error', `QEMU refused ${command}: ${message.description}`),
        );
      if (message.kind === 'return') {
        this.transcript.noteReply(command, message.value);
        return Promise.resolve(message.value);
      }
    }
    if (this.transcript.options.endOfInput === 'silence') {
      this.transcript.clock += timeoutMs;
      return Promise.reject(
        new CaptureError('timeout', `QEMU did not answer ${command} within ${timeoutMs / 1000} s`),
      );
    }
    return Promise.reject(this.#break('closed the connection', 'disconnected'));
  }

  #break(what: string, kind: 'not-qmp' | 'disconnected'): CaptureError {
    this.#closed ??= new CaptureError(kind, `the replayed peer ${what}`);
    return this.#closed;
  }
}

async function connectScripted(transcript: Transcript, greetingMs: number): Promise<QmpChannel> {
  const line = transcript.take();
  if (line === null) {
    if (transcript.options.endOfInput === 'silence') {
      transcript.clock += greetingMs;
      throw new CaptureError('not-qmp', `the replayed peer did not greet within ${greetingMs / 1000} s`);
    }
    throw new CaptureError('unreachable', 'cannot connect to the replayed peer: nothing is listening there');
  }
  const first = decodeQmpLine(line);
  if (first.kind !== 'greeting')
    throw new CaptureError(
      'not-qmp',
      'the replayed peer is not a QMP socket (its first line is not a QMP greeting)',
    );
  const channel = new ScriptedChannel(transcript, transcript.connections++, first.greeting);
  await channel.execute('qmp_capabilities', undefined, greetingMs);
  return channel;
}

function replayOutput(transcript: Transcript): DumpTarget {
  let state: 'temporary' | 'discarded' | 'committed' = 'temporary';
  return {
    path: REPLAY_OUT,
    temp: '/replay/.capture.elf.tmp',
    size: () => (state === 'temporary' ? (transcript.options.fileBytes ?? transcript.written) : null),
    commit() {
      if (state !== 'temporary')
        throw new CaptureError('output', `cannot write ${REPLAY_OUT}: the temporary file is gone`);
      state = 'committed';
    },
    discard() {
      if (state === 'temporary') state = 'discarded';
    },
  };
}

function checkPromises(transcript: Transcript, error: CaptureError | null): void {
  if (error) {
    if (error.message.includes('\n') || error.message.length > MAX_MESSAGE)
      throw new ReplayBrokenPromise(
        `an error message of ${error.message.length} characters or several lines`,
      );
  }
  const mayBePaused = transcript.vm === 'paused' || transcript.vm === 'maybe-paused';
  if (transcript.stopSent && mayBePaused && !(error && /could not resume it/.test(error.message)))
    throw new ReplayBrokenPromise(
      `the capture sent stop, the VM may still be paused (${transcript.vm}), and ${error ? `the error does not say so: ${error.message}` : 'it reported success'}`,
    );
}

/** Runs one capture against the peer `peer` (see the top of this file). */
export async function replayQmpCapture(
  peer: Uint8Array,
  options: QmpReplayOptions = {},
): Promise<QmpReplayOutcome> {
  const abort = new AbortController();
  const transcript = new Transcript(peer, options, abort);
  const bounds = { ...DEFAULT_QEMU_BOUNDS, ...options.bounds };
  let result: CaptureResult | null = null;
  let error: CaptureError | null = null;
  try {
    result = await runQemuCapture(
      {
        where: 'replay',
        connect: (greetingMs) => connectScripted(transcript, greetingMs),
        output: replayOutput(transcript),
        now: () => transcript.clock,
        sleep: (ms) => {
          transcript.clock += ms;
          return Promise.resolve();
        },
      },
      { bounds, signal: abort.signal },
    );
  } catch (thrown) {
    if (!(thrown instanceof CaptureError)) throw thrown;
    error = thrown;
  }
  checkPromises(transcript, error);
  return { result, error, commands: transcript.commands };
}
