// The engine module the workbench's tests give their backends: the real engine (src/core/node/engine.ts)
// with its analysis replayed from a recording (engine-recordings.ts), so a session is ready at
// once after the first, plus failures on request. Results, memory, structures, disassembly and
// extracted images are the real engine's; this file only steers. An `engine-steering.json` beside
// the image asks for:
//
//   { "busyMs": 200 }          spin this long, synchronously, at the start of every stage
//                              (only terminating the worker stops it)
//   { "heartbeat": "/tmp/f" }  append "<image path>\t<event>" lines to that file: begin,
//                              stage <name>, pulse (every few ms of a busy stage), end
//   { "failAt": "verdicts", "failMode": "throw" | "exit" | "oom" }
//                              fail at that stage of the engine (exit: code 3)
//
// A stage the engine does not have is refused, so that a steering never silently does nothing.

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MemoryChunk, MemorySpace, StructureKind, StructureView } from '../../src/common/api';
import type { AnalysisResult, Disassembly, ImageInfo, Progress } from '../../src/common/model';
import type { EngineHandle, OpenEngine } from '../../src/core/engine-handle';
import { openEngine as openRealEngine } from '../../src/core/node/engine';
import type { ExtractedImage } from '../../src/core/extract/pe-rebuild';
import { recordingOf, type Recording } from './engine-recordings';

export const STEERING_FILE = 'engine-steering.json';
const PULSE_MS = 5;

export interface Steering {
  busyMs?: number;
  heartbeat?: string;
  failAt?: string;
  failMode?: 'throw' | 'exit' | 'oom';
}

function steeringOf(path: string): Steering {
  const file = join(dirname(path), STEERING_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Steering) : {};
}

export const openEngine: OpenEngine = async (path, options, onProgress) => {
  const steering = steeringOf(path);
  // A steered analysis is replayed, steered, from the recording: the first one records silently.
  const steered = Object.keys(steering).length > 0;
  const { recording, engine } = await recordingOf(path, options, steered ? () => {} : onProgress);
  // A worker that analyses only replays (its session starts another to read the image); one that
  // serves the hex view and extractions reads through the real engine, opened as it opens itself.
  const reader = engine ?? (options.analyzeAfterOpen ? null : await openRealEngine(path, options, () => {}));
  return new RecordedEngine(path, recording, reader, steering);
};

class RecordedEngine implements EngineHandle {
  constructor(
    private readonly path: string,
    private readonly recording: Recording,
    /** The real engine, reading the image (null in a worker that only replays an analysis). */
    private real: EngineHandle | null,
    private readonly steering: Steering,
  ) {}

  info(): ImageInfo {
    return this.recording.info;
  }

  async analyze(onProgress: (progress: Progress) => void, signal: AbortSignal): Promise<AnalysisResult> {
    const stages = this.recording.stages;
    const { failAt } = this.steering;
    if (failAt !== undefined && !stages.some((s) => s.stage === failAt)) {
      throw new Error(
        `${STEERING_FILE} fails at "${failAt}", a stage the engine does not have (${stages.map((s) => s.stage).join(', ')})`,
      );
    }
    this.beat('begin');
    for (const progress of stages) {
      signal.throwIfAborted();
      onProgress(progress);
      this.steer(progress.stage);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.beat('end');
    return this.recording.result;
  }

  readMemory(space: MemorySpace, address: bigint, length: number): MemoryChunk {
    return this.engine().readMemory(space, address, length);
  }

  disassemble(address: bigint, count: number): Disassembly {
    return this.engine().disassemble(address, count);
  }

  structure(kind: StructureKind, address: bigint): StructureView {
    return this.engine().structure(kind, address);
  }

  extractImage(base: bigint, fallbackSize: number | null): ExtractedImage {
    return this.engine().extractImage(base, fallbackSize);
  }

  close(): void {
    this.real?.close();
    this.real = null;
  }

  private engine(): EngineHandle {
    if (!this.real) throw new Error('the recorded engine reads the image once its analysis is done');
    return this.real;
  }

  private beat(event: string): void {
    if (this.steering.heartbeat) appendFileSync(this.steering.heartbeat, `${this.path}\t${event}\n`);
  }

  private steer(stage: string): void {
    this.beat(`stage ${stage}`);
    if (this.steering.busyMs) {
      const until = Date.now() + this.steering.busyMs;
      let pulse = Date.now();
      while (Date.now() < until) {
        // Deliberately synchronous: only terminating the worker stops this.
        if (Date.now() - pulse >= PULSE_MS) {
          pulse = Date.now();
          this.beat('pulse');
        }
      }
    }
    if (this.steering.failAt !== stage) return;
    if (this.steering.failMode === 'exit') process.exit(3);
    if (this.steering.failMode === 'oom') {
      const hoard: unknown[] = [];
      while (true) hoard.push(new Array(1_000_000).fill(hoard.length));
    }
    throw new Error(`corrupt ${stage} data (planted by ${STEERING_FILE})`);
  }
}
