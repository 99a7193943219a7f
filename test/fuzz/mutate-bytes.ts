// Inputs of the targets that are not whole images: a seed (seeds.ts) with one to four mutation
// steps applied in order. Every step draws from its own stream, seeded from the campaign's seed,
// the input's index and the step's place, when it is applied: the same steps give the same bytes,
// and a crash can be minimized by leaving steps out. Structural steps come first (PE fields,
// QMP lines, JSON trees), then bytewise ones (bit flips, bytes, invalid UTF-8, cuts, splices).

import { Rng } from '../../src/builder/rng';
import { ANALYSIS_SCHEMA } from '../../src/common/model';
import type { QmpReplayOptions } from '../../src/core/node/capture/replay';
import { JsonEdits, nodeText, parseTree, writeTree, type JsonNode, type JsonTree } from './json-edits';
import { CONNECTION_BREAK, type BytesTarget, type Seed, type Seeds } from './seeds';

const PAGE = 0x1000;

/** What the memory beyond the header page holds when a mutated header is read and rebuilt. */
export type PeMemory = 'zero' | 'absent' | 'mixed' | 'repeated';

export interface Step {
  label: string;
  /** PE fields, QMP lines, JSON trees: applied before the bytewise steps. */
  structural: boolean;
  /** Structural steps see the seed's JSON tree (case files) and run before bytewise ones. */
  json?: (tree: JsonTree, edits: JsonEdits, rng: Rng) => void;
  bytes?: (input: Uint8Array, rng: Rng) => Uint8Array;
}

export interface BytesInput {
  index: number;
  /** The seed's key. */
  base: string;
  target: BytesTarget;
  seed: Seed;
  steps: Step[];
  /** The stream label of each step (so that a subset is the same steps). */
  stepLabels: string[];
  campaignSeed: string;
  /** The input's bytes: the seed with `steps` applied. */
  bytes: Uint8Array;
  qmp?: QmpReplayOptions;
  peMemory?: PeMemory;
  description: string;
}

// ---------------------------------------------------------------- shared bytewise steps

const EXTREME_32 = [
  0, 1, 0x7f, 0x80, 0xff, 0xfff, 0x1000, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
];

function writeWord(bytes: Uint8Array, at: number, value: number, size: 1 | 2 | 4): void {
  for (let i = 0; i < size && at + i < bytes.length; i++)
    if (at + i >= 0) bytes[at + i] = (value >>> (8 * i)) & 0xff;
}

const INVALID_UTF8 = [
  [0xff],
  [0xc0, 0xaf], // an overlong '/'
  [0xed, 0xa0, 0x80], // a lone surrogate
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xe2, 0x80], // cut short
  [0x00],
  [0xef, 0xbb, 0xbf], // a byte-order mark
];

function bytewiseStep(rng: Rng, focus: number): Step {
  const kind = rng.pick([
    'bit flips',
    'random bytes',
    'extreme words',
    'invalid UTF-8',
    'cut',
    'cut out',
    'repeat range',
    'insert bytes',
  ]);
  return {
    label: kind,
    structural: false,
    bytes: (input, r) => {
      const near = () =>
        r.chance(0.5) && focus > 0
          ? Math.min(input.length, r.int(0, Math.min(input.length, focus)))
          : r.int(0, Math.max(0, input.length));
      switch (kind) {
        case 'bit flips': {
          const out = input.slice();
          if (out.length === 0) return out;
          for (let i = r.int(1, 16); i > 0; i--) {
            const at = Math.min(out.length - 1, near());
            out[at] = out[at]! ^ (1 << r.int(0, 7));
          }
          return out;
        }
        case 'random bytes': {
          const out = input.slice();
          if (out.length === 0) return out;
          for (let i = r.int(1, 16); i > 0; i--) out[Math.min(out.length - 1, near())] = r.int(0, 255);
          return out;
        }
        case 'extreme words': {
          const out = input.slice();
          for (let i = r.int(1, 8); i > 0; i--)
            writeWord(out, near() & ~1, r.pick(EXTREME_32), r.pick([1, 2, 4] as const));
          return out;
        }
        case 'invalid UTF-8': {
          const at = near();
          const junk = r.pick(INVALID_UTF8);
          return concat(input.subarray(0, at), Uint8Array.from(junk), input.subarray(at));
        }
        case 'cut':
          return input.slice(0, near());
        case 'cut out': {
          const at = near();
          return concat(input.subarray(0, at), input.subarray(Math.min(input.length, at + r.int(1, 256))));
        }
        case 'repeat range': {
          const at = near();
          const piece = input.subarray(at, Math.min(input.length, at + r.int(1, 512)));
          const copies = r.pick([1, 2, 16, 256]);
          return concat(
            input.subarray(0, at),
            ...Array.from({ length: copies + 1 }, () => piece),
            input.subarray(at + piece.length),
          );
        }
        default: {
          const at = near();
          return concat(input.subarray(0, at), r.bytes(r.int(1, 64)), input.subarray(at));
        }
      }
    },
  };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

// ---------------------------------------------------------------- pe-headers

/** Where the fields of a PE header are, from the header's own e_lfanew (bounded to the bytes). */
function peFields(bytes: Uint8Array): Array<{ at: number; size: 2 | 4 }> {
  const lfanew =
    bytes.length >= 0x40 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(0x3c, true) : 0xe8;
  const nt = lfanew < bytes.length ? lfanew : 0xe8;
  const fh = nt + 4;
  const oh = fh + 20;
  const fields: Array<{ at: number; size: 2 | 4 }> = [
    { at: 0x3c, size: 4 },
    { at: fh, size: 2 }, // Machine
    { at: fh + 2, size: 2 }, // NumberOfSections
    { at: fh + 0x10, size: 2 }, // SizeOfOptionalHeader
    { at: oh, size: 2 }, // Magic
    { at: oh + 0x10, size: 4 }, // AddressOfEntryPoint
    { at: oh + 0x24, size: 4 }, // FileAlignment
    { at: oh + 0x38, size: 4 }, // SizeOfImage
    { at: oh + 0x3c, size: 4 }, // SizeOfHeaders
    { at: oh + 0x5c, size: 4 }, // NumberOfRvaAndSizes (PE32)
    { at: oh + 0x6c, size: 4 }, // NumberOfRvaAndSizes (PE32+)
  ];
  for (let d = 0; d < 16; d++)
    fields.push({ at: oh + 0x70 + d * 8, size: 4 }, { at: oh + 0x74 + d * 8, size: 4 });
  const table = oh + 0xf0;
  for (let s = 0; s < 8; s++)
    for (const field of [8, 12, 16, 20, 36]) fields.push({ at: table + s * 40 + field, size: 4 });
  return fields;
}

function peStep(rng: Rng): Step {
  const kind = rng.pick([
    'field extremes',
    'field extremes',
    'e_lfanew near the end',
    'SizeOfOptionalHeader',
    'NumberOfSections',
    'sections overlap or wrap',
    'SizeOfImage and SizeOfHeaders',
    'cut at a boundary',
    'magic swap',
  ]);
  return {
    label: kind,
    structural: true,
    bytes: (input, r) => {
      const out = input.slice();
      const view = () => new DataView(out.buffer);
      const lfanew = out.length >= 0x40 ? view().getUint32(0x3c, true) : 0;
      const fh = lfanew + 4;
      const oh = fh + 20;
      const u32 = (at: number) => (at + 4 <= out.length ? view().getUint32(at, true) : 0);
      switch (kind) {
        case 'field extremes':
          for (let i = r.int(1, 6); i > 0; i--) {
            const field = r.pick(peFields(out));
            const current =
              field.at + field.size <= out.length
                ? field.size === 2
                  ? view().getUint16(field.at, true)
                  : u32(field.at)
                : 0;
            const value = r.pick([
              ...EXTREME_32,
              current + 1,
              current - 1,
              out.length,
              out.length - 1,
              PAGE - 1,
              PAGE + 1,
            ]);
            writeWord(out, field.at, value >>> 0, field.size);
          }
          return out;
        case 'e_lfanew near the end':
          writeWord(out, 0x3c, Math.max(0, out.length - r.int(0, 300)), 4);
          return out;
        case 'SizeOfOptionalHeader': {
          const magic = oh + 2 <= out.length ? view().getUint16(oh, true) : 0x20b;
          const fixed = magic === 0x20b ? 0x70 : 0x60;
          writeWord(
            out,
            fh + 0x10,
            r.pick([0, 1, fixed - 1, fixed, fixed + 8, 0xe0, 0xf0, 0xffff, r.int(0, 0xffff)]),
            2,
          );
          return out;
        }
        case 'NumberOfSections': {
          const optional = fh + 0x14 <= out.length ? view().getUint16(fh + 0x10, true) : 0xf0;
          const fits = Math.floor((out.length - (oh + optional)) / 40);
          writeWord(
            out,
            fh + 2,
            r.pick([0, 1, 95, 96, 97, 0xffff, fits, fits + 1, r.int(0, 0xffff)]) & 0xffff,
            2,
          );
          return out;
        }
        case 'sections overlap or wrap': {
          const optional = fh + 0x14 <= out.length ? view().getUint16(fh + 0x10, true) : 0xf0;
          const table = oh + optional;
          for (let i = r.int(1, 4); i > 0; i--) {
            const s = table + r.int(0, 7) * 40;
            writeWord(
              out,
              s + 12,
              r.pick([0, 0x1000, 0x1800, u32(oh + 0x38), 0xfffff000, r.int(0, 0x10000)]),
              4,
            );
            writeWord(out, s + 8, r.pick([0, 1, 0x1000, 0x7fffffff, 0xffffffff, r.int(0, 0x100000)]), 4);
            if (r.chance(0.3)) writeWord(out, s + 16, r.pick([0, 0xffffffff, r.int(0, 0x100000)]), 4);
          }
          return out;
        }
        case 'SizeOfImage and SizeOfHeaders':
          writeWord(
            out,
            oh + 0x38,
            r.pick([0, PAGE - 1, PAGE, 0x8000000, 0x8000001, 0xffffffff, r.int(0, 0x200000)]),
            4,
          );
          writeWord(out, oh + 0x3c, r.pick([0, 1, 0x200, 0x400, PAGE, 0x10000, 0xffffffff]), 4);
          return out;
        case 'cut at a boundary': {
          const optional = fh + 0x14 <= out.length ? view().getUint16(fh + 0x10, true) : 0xf0;
          const edges = [0x40, lfanew, fh, fh + 20, oh + 0x60, oh + 0x70, oh + optional, oh + optional + 40];
          return out.slice(0, Math.max(0, Math.min(out.length, r.pick(edges) + r.int(-8, 8))));
        }
        default: {
          const magic = oh + 2 <= out.length ? view().getUint16(oh, true) : 0x20b;
          writeWord(out, oh, magic === 0x20b ? 0x10b : 0x20b, 2);
          return out;
        }
      }
    },
  };
}

// ---------------------------------------------------------------- JSON (case files, QMP lines)

const ODD_VALUES = [
  'null',
  'true',
  'false',
  '0',
  '-1',
  '1.5',
  '1e308',
  '-1e308',
  '1e309',
  '-1e309',
  '9007199254740993',
  '123456789012345678901234567890',
  '-0',
  '1e-400',
  '4294967296',
  '""',
  '" "',
  '"0x"',
  '"0xffffffffffffffffffffffff"',
  '"2026-13-45T99:99:99.000Z"',
  '"\\u0000"',
  '"\\ud800"',
  '"\\u202egpj.exe"',
  '"line\\u2028separator"',
  '"\\u001b[2J"',
  '[]',
  '{}',
  '[null]',
  '{"":null}',
  '"irpscope-case/1"',
  '"irpscope-case/2"',
  `"${ANALYSIS_SCHEMA}"`,
  '"irpscope-analysis/999"',
];

const PROTO_ENTRIES = [
  '"__proto__":{"polluted":"yes"}',
  '"__proto__":null',
  '"__proto__":[]',
  '"__proto__":{"schema":"irpscope-case/2","toString":1}',
  '"constructor":{"prototype":{"polluted":"yes"}}',
  '"prototype":{"polluted":"yes"}',
  '"toString":"not a function"',
  '"hasOwnProperty":0',
];

function pickNode(tree: JsonTree, rng: Rng): JsonNode {
  const shallow = () => tree.nodes.filter((n) => n.depth <= 2);
  const roll = rng.float();
  if (roll < 0.3) return rng.pick(shallow());
  if (roll < 0.5 && tree.objects.length > 0) return rng.pick(tree.objects);
  return rng.pick(tree.nodes);
}

function longString(rng: Rng): string {
  const length = rng.pick([300, 20_001, 65_536, 1 << 20]);
  const unit = rng.pick(['a', 'é', '🦀', '\\u0007', '\\u202e', '\\ud800', '\\\\', '\\"']);
  const repeats = Math.ceil(length / Math.max(1, unit.length));
  return `"${unit.repeat(repeats)}"`;
}

function nested(rng: Rng, inner: string): string {
  const depth = rng.pick([64, 1000, 10_000, 100_000]);
  return rng.chance(0.5)
    ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
}

/** One structural mutation of a JSON tree, drawn when it is applied. */
function jsonEdit(kind: string, tree: JsonTree, edits: JsonEdits, r: Rng): void {
  const node = pickNode(tree, r);
  const anObject = () => (tree.objects.length > 0 ? r.pick(tree.objects) : null);
  switch (kind) {
    case 'delete a key': {
      const object = anObject();
      if (object && object.entries!.length > 0) edits.drop(object, r.int(0, object.entries!.length - 1));
      return;
    }
    case 'duplicate a key': {
      const object = anObject();
      if (!object || object.entries!.length === 0) return;
      const entry = r.pick(object.entries!);
      const value = r.chance(0.5) ? r.pick(ODD_VALUES) : (nodeText(r.pick(tree.nodes), 1 << 16) ?? 'null');
      edits.add(object, `${JSON.stringify(entry.key)}:${value}`);
      return;
    }
    case 'change a type':
      edits.replace(node, r.pick(ODD_VALUES));
      return;
    case 'huge numbers': {
      const numbers = tree.nodes.filter((n) => n.kind === 'number');
      edits.replace(
        numbers.length > 0 ? r.pick(numbers) : node,
        r.pick([
          '1e308',
          '1e309',
          '-1e309',
          '9007199254740993',
          '123456789012345678901234567890',
          '-0',
          '1e-400',
          '4294967296',
          '18446744073709551616',
          '0.000001',
        ]),
      );
      return;
    }
    case 'deep nesting':
      edits.replace(node, nested(r, r.chance(0.5) ? 'null' : (nodeText(node, 1 << 12) ?? 'null')));
      return;
    case 'long string': {
      const strings = tree.nodes.filter((n) => n.kind === 'string');
      edits.replace(strings.length > 0 && r.chance(0.8) ? r.pick(strings) : node, longString(r));
      return;
    }
    case '__proto__ key': {
      const object = anObject();
      if (!object) return;
      if (r.chance(0.3) && object.entries!.length > 0)
        edits.rename(
          object,
          r.int(0, object.entries!.length - 1),
          r.pick(['"__proto__"', '"constructor"', '"prototype"']),
        );
      else edits.add(object, r.pick(PROTO_ENTRIES));
      return;
    }
    case 'rename a key': {
      const object = anObject();
      if (!object || object.entries!.length === 0) return;
      const index = r.int(0, object.entries!.length - 1);
      const key = object.entries![index]!.key;
      edits.rename(
        object,
        index,
        JSON.stringify(r.pick(['', `${key} `, key.toUpperCase(), `${key}\u0000`, `${key}\u200b`, 'schema'])),
      );
      return;
    }
    case 'array items': {
      const arrays = tree.arrays.filter((a) => a.items!.length > 0);
      if (arrays.length === 0) return;
      const array = r.pick(arrays);
      const index = r.int(0, array.items!.length - 1);
      const what = r.int(0, 2);
      if (what === 0) edits.drop(array, index);
      else if (what === 1) edits.repeat(array, index, r.pick([1, 2, 100, 10_000]));
      else edits.replace(array, '[]');
      return;
    }
    default: {
      // Another schema for the same body: the first version's reader on the second's fields.
      const schema = tree.root.entries?.findIndex((e) => e.key === 'schema') ?? -1;
      const value = r.pick([
        '"irpscope-case/1"',
        '"irpscope-case/2"',
        `"${ANALYSIS_SCHEMA}"`,
        '"irpscope-case/3"',
        '"irpscope-analysis/2"',
        '"IRPSCOPE-CASE/2"',
        '["irpscope-case/2"]',
      ]);
      if (schema >= 0) edits.replace(tree.root.entries![schema]!.value, value);
      else if (tree.root.kind === 'object') edits.add(tree.root, `"schema":${value}`);
    }
  }
}

const JSON_KINDS = [
  'delete a key',
  'duplicate a key',
  'change a type',
  'huge numbers',
  'deep nesting',
  'long string',
  '__proto__ key',
  'rename a key',
  'array items',
  'schema swap',
];

function caseStep(rng: Rng): Step {
  const kind = rng.pick(JSON_KINDS);
  return { label: kind, structural: true, json: (tree, edits, r) => jsonEdit(kind, tree, edits, r) };
}

// ---------------------------------------------------------------- qmp-replies

const EVENTS = [
  '{"event":"STOP","timestamp":{"seconds":1,"microseconds":0}}',
  '{"event":"RESUME","timestamp":{"seconds":2,"microseconds":0}}',
  '{"event":"DUMP_COMPLETED","data":{"result":{"status":"completed","completed":4096,"total":4096}},"timestamp":{"seconds":3,"microseconds":0}}',
  '{"event":"DUMP_COMPLETED","data":{"result":{"status":"failed"},"error":"No space left on device"},"timestamp":{"seconds":3,"microseconds":0}}',
  '{"event":"SHUTDOWN","data":{"guest":false,"reason":"host-qmp-quit"},"timestamp":{"seconds":4,"microseconds":0}}',
  '{"event":"\\u001b]0;pwned\\u0007","timestamp":{"seconds":-1,"microseconds":1e309}}',
  '{"event":"DUMP_COMPLETED","data":null}',
  '{"event":"DUMP_COMPLETED","data":{"result":{"status":"failed"},"error":"dump: failed\\nto save memory\\r\\u2028here"}}',
  `{"event":"DUMP_COMPLETED","data":{"result":{"status":"failed"},"error":"${'\\u0007'.repeat(2048)}"}}`,
];

const GREETING =
  '{"QMP":{"version":{"qemu":{"micro":0,"minor":2,"major":7},"package":"Debian 1:7.2+dfsg-7"},"capabilities":["oob"]}}';

function splitLines(bytes: Uint8Array): string[] {
  return new TextDecoder().decode(bytes).split('\n');
}

function joinLines(lines: string[]): Uint8Array {
  return new TextEncoder().encode(lines.join('\n'));
}

function qmpStep(rng: Rng): Step {
  const kind = rng.pick([
    'drop a line',
    'repeat a line',
    'swap lines',
    'odd reply',
    'edit a reply',
    'edit a reply',
    'error reply',
    'cut a line',
    'new connection',
    'event',
    'break the connection',
    'end early',
    'huge line',
  ]);
  return {
    label: kind,
    structural: true,
    bytes: (input, r) => {
      const lines = splitLines(input);
      const at = r.int(0, Math.max(0, lines.length - 1));
      switch (kind) {
        case 'drop a line':
          lines.splice(at, 1);
          break;
        case 'repeat a line': {
          // A line past the reader's bound once is enough.
          const copies = (lines[at] ?? '').length > 1 << 16 ? 1 : r.pick([1, 1, 2, 50]);
          lines.splice(at, 0, ...Array.from({ length: copies }, () => lines[at] ?? ''));
          break;
        }
        case 'swap lines': {
          const other = r.int(0, Math.max(0, lines.length - 1));
          [lines[at], lines[other]] = [lines[other] ?? '', lines[at] ?? ''];
          break;
        }
        case 'odd reply':
          lines[at] = `{"return":${r.pick(ODD_VALUES)}}`;
          break;
        case 'edit a reply': {
          const tree = parseTree(lines[at] ?? '');
          if (!tree) break;
          const edits = new JsonEdits();
          jsonEdit(r.pick(JSON_KINDS.filter((k) => k !== 'schema swap')), tree, edits, r);
          lines[at] = writeTree(tree.root, edits);
          break;
        }
        case 'error reply':
          lines[at] =
            `{"error":{"class":${r.pick(['"GenericError"', '"CommandNotFound"', 'null', '""'])},"desc":${r.pick(['"There is a dump in process, please wait."', '""', 'null', '"line one\\nline two"', '"\\u001b[2Jcleared"', longString(r)])}}}`;
          break;
        case 'cut a line':
          lines[at] = (lines[at] ?? '').slice(0, r.int(0, (lines[at] ?? '').length));
          break;
        case 'new connection':
          lines.splice(at, 0, GREETING, '{"return":{}}');
          break;
        case 'event':
          lines.splice(at, 0, r.pick(EVENTS));
          break;
        case 'break the connection':
          lines.splice(
            at,
            0,
            r.pick([CONNECTION_BREAK, 'SSH-2.0-OpenSSH_9.2', '[1,2,3]', '"text"', '{"QMP":{}}']),
          );
          break;
        case 'end early':
          lines.length = at;
          break;
        default:
          // Past the reader's bound (4 MiB): the real client drops such a peer.
          lines.splice(
            at,
            0,
            `{"return":{"name":"${'x'.repeat(r.chance(0.5) ? 4 << 20 : (4 << 20) - 32)}"}}`,
          );
      }
      return joinLines(lines);
    },
  };
}

function qmpOptions(seed: Seed, rng: Rng): QmpReplayOptions {
  const options: QmpReplayOptions = { ...seed.qmp };
  if (rng.chance(0.3)) options.endOfInput = options.endOfInput === 'silence' ? 'close' : 'silence';
  if (rng.chance(0.2)) options.cancelAtCommand = rng.int(0, 24);
  else if (rng.chance(0.1)) delete options.cancelAtCommand;
  if (rng.chance(0.2))
    options.fileBytes = rng.pick([0, 1, 4096, 1 << 20, (1 << 20) + 4096, 16 << 20, 2 ** 53 - 1]);
  if (rng.chance(0.1)) delete options.bounds;
  return options;
}

// ---------------------------------------------------------------- inputs

/** The bytes of `seed` with `steps` applied (structural first, in their order, then bytewise). */
export function applySteps(
  seed: Seed,
  steps: readonly Step[],
  labels: readonly string[],
  campaignSeed: string,
): Uint8Array {
  const streams = labels.map((label) => new Rng(campaignSeed, label));
  const jsonSteps = steps.flatMap((step, i) => (step.json ? [{ step, rng: streams[i]! }] : []));
  let bytes = seed.bytes;
  if (jsonSteps.length > 0) {
    const tree = treeOf(seed);
    if (tree) {
      const edits = new JsonEdits();
      for (const { step, rng } of jsonSteps) step.json!(tree, edits, rng);
      bytes = new TextEncoder().encode(writeTree(tree.root, edits));
    }
  }
  steps.forEach((step, i) => {
    if (step.bytes) bytes = step.bytes(bytes, streams[i]!);
  });
  return bytes;
}

/**
 * A seed: first its group (what its key says before ':', e.g. a layout's module headers or the
 * crafted headers), then one of the group, so that a large group does not drown a small one.
 */
function pickSeed(seeds: readonly Seed[], rng: Rng): Seed {
  const group = (seed: Seed) => seed.key.split(':')[0]!;
  const groups = [...new Set(seeds.map(group))];
  const chosen = rng.pick(groups);
  return rng.pick(seeds.filter((seed) => group(seed) === chosen));
}

const trees = new WeakMap<Seed, JsonTree | null>();

function treeOf(seed: Seed): JsonTree | null {
  if (!trees.has(seed)) trees.set(seed, parseTree(new TextDecoder().decode(seed.bytes)));
  return trees.get(seed)!;
}

/** Input `index` of a bytes target: drawn from `rng`, the stream drawPlan began. */
export function makeBytesInput(
  campaignSeed: string,
  index: number,
  rng: Rng,
  target: BytesTarget,
  seeds: Seeds,
): BytesInput {
  const seed = pickSeed(seeds[target], rng);
  const count = rng.chance(0.6) ? 1 : rng.int(2, 4);
  const focus = target === 'pe-headers' ? 0x400 : 0;
  const steps: Step[] = [];
  for (let i = 0; i < count; i++) {
    // Most bytewise changes make a case file no JSON at all: its structure gets most steps.
    const structural = rng.chance(target === 'case-files' ? 0.85 : 0.6);
    if (!structural) steps.push(bytewiseStep(rng, focus));
    else if (target === 'pe-headers') steps.push(peStep(rng));
    else if (target === 'qmp-replies') steps.push(qmpStep(rng));
    else steps.push(caseStep(rng));
  }
  // Structural steps before bytewise ones (a JSON step needs JSON to work on).
  const order = steps
    .map((step, i) => ({ step, i }))
    .sort((a, b) => Number(b.step.structural) - Number(a.step.structural) || a.i - b.i);
  const ordered = order.map((o) => o.step);
  const stepLabels = order.map((o) => `input ${index} step ${o.i}`);
  const qmp = target === 'qmp-replies' ? qmpOptions(seed, rng) : undefined;
  const peMemory =
    target === 'pe-headers' ? rng.pick(['zero', 'absent', 'mixed', 'repeated'] as const) : undefined;
  const bytes = applySteps(seed, ordered, stepLabels, campaignSeed);
  const description = `${ordered.map((s) => s.label).join(' + ')} on ${seed.key}${qmp ? ` ${JSON.stringify(optionsWithoutSeed(qmp, seed))}` : ''}${peMemory ? `, other pages ${peMemory}` : ''} (${bytes.length} bytes)`;
  return {
    index,
    base: seed.key,
    target,
    seed,
    steps: ordered,
    stepLabels,
    campaignSeed,
    bytes,
    ...(qmp ? { qmp } : {}),
    ...(peMemory ? { peMemory } : {}),
    description,
  };
}

function optionsWithoutSeed(options: QmpReplayOptions, seed: Seed): Partial<QmpReplayOptions> {
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options))
    if (JSON.stringify(value) !== JSON.stringify((seed.qmp as Record<string, unknown> | undefined)?.[key]))
      changed[key] = value;
  for (const key of Object.keys(seed.qmp ?? {})) if (!(key in options)) changed[key] = 'default';
  return changed;
}

/** The input with only `keep` of its steps (minimization). */
export function withSteps(input: BytesInput, keep: readonly number[]): BytesInput {
  const steps = keep.map((i) => input.steps[i]!);
  const stepLabels = keep.map((i) => input.stepLabels[i]!);
  return {
    ...input,
    steps,
    stepLabels,
    bytes: applySteps(input.seed, steps, stepLabels, input.campaignSeed),
  };
}
