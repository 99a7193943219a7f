// Object callbacks (ObRegisterCallbacks, Windows Vista SP1 / build 6001 on): the Process, Thread
// and Desktop object types each keep a LIST_ENTRY ring, _OBJECT_TYPE.CallbackList, of
// OB_CALLBACK_ENTRY { LIST_ENTRY CallbackList; OB_OPERATION Operations; ULONG Enabled; PVOID
// Registration; POBJECT_TYPE ObjectType; PreOperation; PostOperation; EX_RUNDOWN_REF } (x64
// +0x10/+0x14/+0x18/+0x20/+0x28/+0x30, x86 +0x8/+0xc/+0x10/+0x14/+0x18/+0x1c). Registration is the
// block ObRegisterCallbacks allocated { USHORT Version; USHORT OperationRegistrationCount; PVOID
// RegistrationContext; UNICODE_STRING Altitude; OB_CALLBACK_ENTRY Entries[] } (the entry's
// component: its altitude, untrusted text). Public readers of these structures: hfiref0x's
// OB_CALLBACK_CONTEXT_BLOCK (WinObjEx64, Source/Shared/ntos/ntos.h) and EDRSandblast's
// OB_CALLBACK_ENTRY (Includes/ObjectCallbacks.h); the symbol files give _OBJECT_TYPE.CallbackList
// (+0xc0 on 7601 x64, +0xc8 on 8 and later) but not the entry, whose layout has not changed.
//
// The offset of CallbackList is the symbol file's; without one a per-build hint, taken only when
// every type's list there is a ring whose records name their type (ObjectType points back), and
// when the hint fails a bounded search of the type for the offset that passes that check.

import { hex } from '../../common/hex';
import { CALLBACK_LABELS } from '../../common/callback-labels';
import type { Callback, CallbackHead, CallbackKind } from '../../common/model';
import type { KernelMemory } from '../kernel/memory';
import type { CallbackInputs } from './inputs';
import { readList, rejectListHead } from './lists';

/** The build of Windows Vista SP1 and Server 2008, the first with ObRegisterCallbacks. */
export const OBJECT_CALLBACKS_FROM_BUILD = 6001;

type ObjectKind = Extract<CallbackKind, 'process-object' | 'thread-object' | 'desktop-object'>;

/** Each type that takes callbacks: the exported variable holding its OBJECT_TYPE, and its name. */
export const OBJECT_CALLBACK_TYPES: ReadonlyArray<{ kind: ObjectKind; variable: string; name: string }> = [
  { kind: 'process-object', variable: 'PsProcessType', name: 'Process' },
  { kind: 'thread-object', variable: 'PsThreadType', name: 'Thread' },
  { kind: 'desktop-object', variable: 'ExDesktopObjectType', name: 'Desktop' },
];

/** The offsets in OB_CALLBACK_ENTRY and in the registration block it points to. */
export function obCallbackEntryLayout(pointerSize: 4 | 8) {
  const p = pointerSize;
  return {
    registration: p === 8 ? 0x18 : 0x10,
    objectType: p === 8 ? 0x20 : 0x14,
    pre: p === 8 ? 0x28 : 0x18,
    post: p === 8 ? 0x30 : 0x1c,
    /** In the registration block: RegistrationContext and the Altitude UNICODE_STRING. */
    context: p,
    altitude: 2 * p,
  };
}

/** _OBJECT_TYPE.CallbackList by build, a hint to be checked (x64: +0xc0 to 7601, +0xc8 from 8; x86: +0x80, +0x88). */
export function callbackListHint(build: number | null, pointerSize: 4 | 8): number {
  const win8 = build !== null && build >= 9200;
  if (pointerSize === 8) return win8 ? 0xc8 : 0xc0;
  return win8 ? 0x88 : 0x80;
}

/** How far past TypeList the search looks: beyond every known _OBJECT_TYPE (0xd8 x64, 0x90 x86). */
function searchEnd(pointerSize: 4 | 8): number {
  return pointerSize === 8 ? 0x100 : 0xa0;
}

export interface TypeObject {
  kind: ObjectKind;
  variable: string;
  name: string;
  type: bigint;
}

/** Which records on the list at `type + offset` name their type, which do not, or why it is no list. */
interface OffsetCheck {
  proven: number;
  strays: number;
  rejected: string | null;
}

function checkType(memory: KernelMemory, type: bigint, offset: number): OffsetCheck {
  const head = type + BigInt(offset);
  const rejected = rejectListHead(memory, head);
  if (rejected !== null) return { proven: 0, strays: 0, rejected };
  const objectType = obCallbackEntryLayout(memory.pointerSize).objectType;
  let proven = 0;
  let strays = 0;
  for (const record of readList(memory, head, 'object callback').records) {
    if (memory.ptr(record + BigInt(objectType)) === type) proven++;
    else strays++;
  }
  return { proven, strays, rejected: null };
}

/** Every type's list at `offset` is a ring, and more of its records name their type than not. */
function checkOffset(memory: KernelMemory, types: readonly TypeObject[], offset: number) {
  const checks = types.map((t) => checkType(memory, t.type, offset));
  const rejected = checks.find((c) => c.rejected !== null)?.rejected ?? null;
  const proven = checks.reduce((n, c) => n + c.proven, 0);
  const strays = checks.reduce((n, c) => n + c.strays, 0);
  return { ok: rejected === null && proven >= strays, proven, strays, rejected };
}

/** The offset of CallbackList in _OBJECT_TYPE and how it was established, or why it could not be. */
export function establishCallbackList(
  memory: KernelMemory,
  inputs: Pick<CallbackInputs, 'profile' | 'build'>,
  types: readonly TypeObject[],
): { offset: number; method: string } | { why: string } {
  const { profile, build } = inputs;
  if (profile?.hasField('_OBJECT_TYPE', 'CallbackList')) {
    const offset = profile.field('_OBJECT_TYPE', 'CallbackList').offset;
    return { offset, method: `symbol file: _OBJECT_TYPE.CallbackList +${hex(offset)}` };
  }
  const hint = callbackListHint(build, memory.pointerSize);
  const hinted = checkOffset(memory, types, hint);
  const hintMethod = `build ${build ?? '?'}'s _OBJECT_TYPE.CallbackList +${hex(hint)}, checked: ${proof(hinted.proven)}`;
  if (hinted.ok && hinted.proven > 0) return { offset: hint, method: hintMethod };
  // An empty ring at the hint proves little: records elsewhere in the type would be the list.
  const found = searchType(memory, types, hint);
  const hintFate = hinted.ok
    ? 'held no record'
    : `failed: ${hinted.rejected ?? `${hinted.strays} of its records name another type`}`;
  if (found.length === 1)
    return {
      offset: found[0]!.offset,
      method: `searched the type (the hint +${hex(hint)} ${hintFate}): _OBJECT_TYPE.CallbackList +${hex(found[0]!.offset)}, ${proof(found[0]!.proven)}`,
    };
  if (found.length === 0 && hinted.ok) return { offset: hint, method: hintMethod };
  const searched = `+${hex(2 * memory.pointerSize)}…+${hex(searchEnd(memory.pointerSize) - memory.pointerSize)}`;
  return {
    why:
      found.length === 0
        ? `the hint +${hex(hint)} ${hintFate} and no offset in ${searched} holds a ring whose records name their type`
        : `the hint +${hex(hint)} ${hintFate} and ${found.length} offsets in ${searched} hold rings whose records name their type (${found.map((f) => `+${hex(f.offset)}`).join(', ')})`,
  };
}

/** The offsets other than the hint where every type's list is a ring with records naming the type. */
function searchType(
  memory: KernelMemory,
  types: readonly TypeObject[],
  hint: number,
): Array<{ offset: number; proven: number }> {
  const found: Array<{ offset: number; proven: number }> = [];
  const p = memory.pointerSize;
  for (let offset = 2 * p; offset < searchEnd(p); offset += p) {
    if (offset === hint) continue;
    const check = checkOffset(memory, types, offset);
    if (check.ok && check.proven > 0) found.push({ offset, proven: check.proven });
  }
  return found;
}

function proof(proven: number): string {
  return proven === 0
    ? 'each type links it to itself (no record to name the type)'
    : `each type's list is a ring and its ${proven} records name their type`;
}

/** The OBJECT_TYPE the variable holds, or why it cannot be read as the type named. */
function typeObject(
  inputs: CallbackInputs,
  entry: (typeof OBJECT_CALLBACK_TYPES)[number],
): TypeObject | string {
  const { memory, kernel, profile } = inputs;
  const rva = profile?.symbol(entry.variable) ?? kernel.exports.get(entry.variable);
  if (rva === undefined) return `${entry.variable} is neither in the symbol file nor exported`;
  const type = memory.ptr(kernel.pe.base + BigInt(rva));
  if (type === null) return `${entry.variable} is not in the image`;
  if (type === 0n) return `${entry.variable} holds no object type`;
  if (!memory.isKernelAddress(type)) return `${entry.variable} holds ${hex(type)}, not a kernel address`;
  const name = typeName(inputs, type);
  if (name !== null && name !== entry.name)
    return `${entry.variable} holds ${hex(type)}, the type named ${JSON.stringify(name)}, not ${entry.name}`;
  return { ...entry, type };
}

function typeName(inputs: CallbackInputs, type: bigint): string | null {
  const { memory, profile } = inputs;
  if (!profile?.hasField('_OBJECT_TYPE', 'Name')) return null;
  return unicodeAt(memory, type + BigInt(profile.field('_OBJECT_TYPE', 'Name').offset));
}

/** The text of the UNICODE_STRING at `at`, or null when it cannot be read as text. */
function unicodeAt(memory: KernelMemory, at: bigint): string | null {
  const lengths = memory.bytes(at, 4);
  const buffer = memory.ptr(at + BigInt(memory.pointerSize));
  if (!lengths || buffer === null) return null;
  const text = memory.unicodeString({
    length: lengths[0]! | (lengths[1]! << 8),
    maximumLength: lengths[2]! | (lengths[3]! << 8),
    buffer,
  });
  return 'text' in text ? text.text : null;
}

export interface ObjectCallbackRead {
  heads: CallbackHead[];
  entries: Callback[];
  warnings: string[];
  /** The kinds this kernel does not have. */
  absent: ObjectKind[];
}

function unavailable(kind: ObjectKind, why: string): CallbackHead {
  return { kind, address: null, method: null, coverage: { state: 'unavailable', missing: [why] } };
}

export function readObjectCallbacks(inputs: CallbackInputs): ObjectCallbackRead {
  if (inputs.build !== null && inputs.build < OBJECT_CALLBACKS_FROM_BUILD) {
    const why = 'object callbacks exist from Windows Vista SP1 (build 6001) on';
    const kinds = OBJECT_CALLBACK_TYPES.map((t) => t.kind);
    return { heads: kinds.map((kind) => unavailable(kind, why)), entries: [], warnings: [], absent: kinds };
  }
  const heads: CallbackHead[] = [];
  const warnings: string[] = [];
  const types: TypeObject[] = [];
  for (const entry of OBJECT_CALLBACK_TYPES) {
    const read = typeObject(inputs, entry);
    if (typeof read !== 'string') types.push(read);
    // The desktop type is win32k's: a kernel without it has no desktop callbacks to read.
    else if (entry.kind === 'desktop-object') heads.push(unavailable(entry.kind, read));
    else {
      heads.push(unavailable(entry.kind, read));
      warnings.push(`the ${CALLBACK_LABELS[entry.kind]}s were not read: ${read}`);
    }
  }
  const established = types.length > 0 ? establishCallbackList(inputs.memory, inputs, types) : null;
  const entries: Callback[] = [];
  for (const type of types) {
    const read = readTypeHead(inputs, type, established ?? { why: 'no type' });
    heads.push(read.head);
    entries.push(...read.entries);
    warnings.push(...read.warnings);
  }
  const order = OBJECT_CALLBACK_TYPES.map((t) => t.kind);
  heads.sort((a, b) => order.indexOf(a.kind as ObjectKind) - order.indexOf(b.kind as ObjectKind));
  return { heads, entries, warnings, absent: [] };
}

/** One type's head and the callbacks on it, or why they could not be read. */
function readTypeHead(
  inputs: CallbackInputs,
  type: TypeObject,
  established: { offset: number; method: string } | { why: string },
): { head: CallbackHead; entries: Callback[]; warnings: string[] } {
  if ('why' in established) {
    const why = `the CallbackList of _OBJECT_TYPE could not be established: ${established.why}`;
    return {
      head: unavailable(type.kind, why),
      entries: [],
      warnings: [`the ${CALLBACK_LABELS[type.kind]}s were not read: ${why}`],
    };
  }
  const read = readType(inputs, type, established.offset);
  return {
    head: {
      kind: type.kind,
      address: hex(type.type + BigInt(established.offset)),
      method: `${established.method} (${type.variable} → ${hex(type.type)})`,
      coverage: { state: read.problems.length > 0 ? 'partial' : 'complete', missing: read.problems },
    },
    entries: read.entries,
    warnings: read.problems,
  };
}

/** The pre- and post-operation routines of each record on one type's list, judged. */
function readType(
  inputs: CallbackInputs,
  type: TypeObject,
  offset: number,
): { entries: Callback[]; problems: string[] } {
  const { memory } = inputs;
  const label = CALLBACK_LABELS[type.kind];
  const layout = obCallbackEntryLayout(memory.pointerSize);
  const walk = readList(memory, type.type + BigInt(offset), label);
  const problems = [...walk.problems];
  const entries: Callback[] = [];
  for (const [slot, record] of walk.records.entries()) {
    const where = `${label} ${slot} (${hex(record)})`;
    const named = memory.ptr(record + BigInt(layout.objectType));
    if (named !== type.type) {
      problems.push(
        `${where}: its ObjectType ${named === null ? 'is not in the image' : hex(named)} is not the ${type.name} type ${hex(type.type)}`,
      );
      continue;
    }
    const registration = memory.ptr(record + BigInt(layout.registration));
    const block = registration !== null && memory.isKernelAddress(registration) ? registration : null;
    const context = block === null ? null : memory.ptr(block + BigInt(layout.context));
    const component = block === null ? null : altitude(memory, block + BigInt(layout.altitude));
    for (const operation of ['pre', 'post'] as const) {
      const routine = memory.ptr(record + BigInt(operation === 'pre' ? layout.pre : layout.post));
      if (routine === null) problems.push(`${where}: its ${operation}-operation routine is not in the image`);
      else if (routine === 0n) continue;
      else if (!memory.isKernelAddress(routine))
        problems.push(`${where}: its ${operation}-operation routine ${hex(routine)} is not a kernel address`);
      else
        entries.push(
          judged(inputs, type.kind, { slot, record, routine, context, component, operation, block }),
        );
    }
  }
  return { entries, problems };
}

function altitude(memory: KernelMemory, at: bigint): string | null {
  const text = unicodeAt(memory, at);
  return text === null || text.length === 0 ? null : text;
}

function judged(
  inputs: CallbackInputs,
  kind: ObjectKind,
  raw: {
    slot: number;
    record: bigint;
    routine: bigint;
    context: bigint | null;
    component: string | null;
    operation: 'pre' | 'post';
    /** The registration block ObRegisterCallbacks allocated, which the entry points back to. */
    block: bigint | null;
  },
): Callback {
  const holder = inputs.modules.owner(raw.routine);
  const name = `${CALLBACK_LABELS[kind]} ${raw.slot} ${raw.operation}`;
  return {
    kind,
    slot: raw.slot,
    entry: hex(raw.record),
    block: raw.block === null ? null : hex(raw.block),
    routine: inputs.judge.judge(raw.routine, holder, raw.slot, name, true),
    owner: holder?.name ?? null,
    context: raw.context === null ? null : hex(raw.context),
    component: raw.component,
    device: null,
    driver: null,
    operation: raw.operation,
  };
}
