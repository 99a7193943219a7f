// The fuzz entry point for QMP replies (src/core/node/capture/replay.ts): the real capture driven by a
// transcript of a peer's lines. A well-behaved transcript captures; a peer that breaks off after
// stop gets a resume over a new connection (its lines follow), and where none can be had the
// error says the VM is still paused. Then a seeded storm of damaged transcripts: every one ends
// in a result or a CaptureError, and none leaves a VM paused without saying so.

import { describe, expect, test } from 'vitest';
import { replayQmpCapture } from '../../../../src/core/node/capture/replay';

const GREETING =
  '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}}';
const OK = '{"return": {}}';
const MEMORY = 64 << 20;

/** A QEMU that captures a running 64 MiB VM named "lab" without a fault, line by line. */
const GOOD = [
  GREETING,
  OK, // qmp_capabilities
  '{"return": {"status": "running", "singlestep": false, "running": true}}', // query-status
  '{"return": {"name": "lab"}}', // query-name
  `{"return": {"base-memory": ${MEMORY}}}`, // query-memory-size-summary
  '{"return": {"status": "none", "completed": 0, "total": 0}}', // query-dump: nothing running
  OK, // stop
  '{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}}',
  OK, // dump-guest-memory
  `{"return": {"status": "active", "completed": 4096, "total": ${MEMORY}}}`,
  '{"event": "DUMP_COMPLETED", "data": {"result": {"status": "completed"}}, "timestamp": {"seconds": 2, "microseconds": 0}}',
  `{"return": {"status": "completed", "completed": ${MEMORY}, "total": ${MEMORY}}}`,
  `{"return": {"status": "completed", "completed": ${MEMORY}, "total": ${MEMORY}}}`, // query-dump before cont
  '{"return": {"status": "paused", "singlestep": false, "running": false}}', // query-status
  OK, // cont
];

function bytes(lines: readonly string[]): Uint8Array {
  return Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
}

describe('replaying a QMP transcript through the capture', () => {
  test('a well-behaved peer: the capture succeeds with what the peer said, and resumes the VM', async () => {
    const outcome = await replayQmpCapture(bytes(GOOD));
    expect(outcome.error).toBeNull();
    expect(outcome.result).toMatchObject({
      vm: { name: 'lab', memoryBytes: MEMORY, stateBefore: 'running', software: 'QEMU 7.2.0' },
      bytes: MEMORY,
      wasRunning: true,
    });
    expect(outcome.result!.pausedMs).not.toBeNull();
    expect(outcome.commands.map((c) => c.command)).toEqual([
      'qmp_capabilities',
      'query-status',
      'query-name',
      'query-memory-size-summary',
      'query-dump',
      'stop',
      'dump-guest-memory',
      'query-dump',
      'query-dump',
      'query-dump',
      'query-status',
      'cont',
    ]);
  });

  test('garbage after stop breaks the connection; the next lines greet a new one, which resumes the VM', async () => {
    const lines = [
      ...GOOD.slice(0, 6),
      'SSH-2.0-OpenSSH_9.2', // instead of stop's reply
      GREETING,
      OK, // qmp_capabilities
      '{"return": {"status": "none", "completed": 0, "total": 0}}', // query-dump
      '{"return": {"status": "paused", "singlestep": false, "running": false}}', // query-status
      OK, // cont
    ];
    const outcome = await replayQmpCapture(bytes(lines));
    expect(outcome.error?.kind).toBe('not-qmp');
    expect(outcome.error?.message).not.toMatch(/could not resume/);
    expect(outcome.commands.filter((c) => c.command === 'cont')).toEqual([
      { connection: 1, command: 'cont' },
    ]);
  });

  test('a peer that falls silent after stop: the waits end at their bounds, and the error says the VM is still paused', async () => {
    const outcome = await replayQmpCapture(bytes(GOOD.slice(0, 6)), { endOfInput: 'silence' });
    expect(outcome.error?.kind).toBe('timeout');
    expect(outcome.error?.message).toMatch(
      /did not answer stop within 30 s.*could not resume it.*still paused/,
    );
  });

  test('a cancel during the dump: the capture waits for the dump, resumes, and says cancelled', async () => {
    const outcome = await replayQmpCapture(bytes(GOOD), { cancelAtCommand: 7 });
    expect(outcome.error?.kind).toBe('cancelled');
    expect(outcome.commands.at(-1)?.command).toBe('cont');
  });
});

/** A small seeded generator (mulberry32), so that a failure names the seed that found it. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES = [
  'null',
  '"text"',
  '-1',
  '1.5',
  '1e309',
  '[]',
  '{}',
  '"\\u001b[2J"',
  '9007199254740993',
  '{"status": "paused-forever", "completed": 1, "total": 2}',
  '{"status": "active", "completed": 1, "total": 2}',
  '{"status": "failed", "completed": 0, "total": 0}',
  '{"running": "yes", "status": 5}',
];

function damage(lines: string[], next: () => number): string[] {
  const out = [...lines];
  const edits = 1 + Math.floor(next() * 4);
  for (let i = 0; i < edits && out.length > 0; i++) {
    const at = Math.floor(next() * out.length);
    const what = Math.floor(next() * 7);
    if (what === 0) out.splice(at, 1);
    else if (what === 1) out.splice(at, 0, out[Math.floor(next() * out.length)]!);
    else if (what === 2) out[at] = `{"return": ${ODD_VALUES[Math.floor(next() * ODD_VALUES.length)]}}`;
    else if (what === 3) out[at] = '{"error": {"class": "GenericError", "desc": "no\\u0007"}}';
    else if (what === 4) out[at] = out[at]!.slice(0, Math.floor(next() * out[at]!.length));
    else if (what === 5) out.splice(at, 0, GREETING, OK);
    else out.length = at;
  }
  return out;
}

describe('damaged transcripts (a seeded mini-fuzz of the entry point)', () => {
  test('every one ends in a result or a CaptureError, and none leaves a paused VM unmentioned', async () => {
    const next = random(0x51a7);
    const kinds = new Map<string, number>();
    for (let run = 0; run < 400; run++) {
      const lines = damage(GOOD, next);
      const options = {
        endOfInput: next() < 0.5 ? ('close' as const) : ('silence' as const),
        ...(next() < 0.2 ? { cancelAtCommand: Math.floor(next() * 14) } : {}),
      };
      const outcome = await replayQmpCapture(bytes(lines), options).catch((error: unknown) => {
        throw new Error(`run ${run}: ${(error as Error).message}\n${lines.join('\n')}`);
      });
      const kind = outcome.error?.kind ?? 'result';
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    // The storm reached the capture's many endings, not one.
    expect(kinds.size).toBeGreaterThanOrEqual(5);
  });
});
