// Object callbacks as ObRegisterCallbacks leaves them (Windows Vista SP1, build 6001, on): one
// registration block in nonpaged pool per call { USHORT Version; USHORT OperationRegistrationCount;
// PVOID RegistrationContext; UNICODE_STRING Altitude; OB_CALLBACK_ENTRY Entries[count]; WCHAR
// Altitude text }, each OB_CALLBACK_ENTRY { LIST_ENTRY CallbackList; OB_OPERATION Operations; ULONG
// Enabled; PVOID Registration; POBJECT_TYPE ObjectType; PreOperation; PostOperation;
// EX_RUNDOWN_REF } (0x40 bytes on x64, 0x24 on x86) linked on its type's _OBJECT_TYPE.CallbackList.
// Every type's CallbackList is initialized (an empty ring) when the type is created; it is the
// last member of _OBJECT_TYPE (the symbol files: +0xc0 of 0xd0 on 7601 x64, +0xc8 of 0xd8 on 8 and
// later; Windows 7 x86: +0x80 of 0x88), so a layout without the field has it there.
//
// Facts: wdm.h (OB_CALLBACK_REGISTRATION, OB_OPERATION_REGISTRATION, OB_FLT_REGISTRATION_VERSION
// 0x100, OB_OPERATION_HANDLE_CREATE 1 | _DUPLICATE 2); hfiref0x's OB_CALLBACK_CONTEXT_BLOCK
// (WinObjEx64 Source/Shared/ntos/ntos.h) and EDRSandblast's OB_CALLBACK_ENTRY / OB_CALLBACK
// (Includes/ObjectCallbacks.h) for the kernel's records; Microsoft Defender's WdFilter registers
// process and thread pre-operation callbacks at its altitude 328010 (as EDRSandblast's and
// WinObjEx64's listings of a stock Windows 10 show). The pool tag is the builder's.

import { sizeOf, type KernelLayout } from '../layout/kernel-layout';
import { utf16le } from '../bytes';
import type { DriverContext } from './drivers';
import { DESKTOP_TYPE_VARIABLE } from './kernel-names';
import type { LoadedModule } from './modules';

export const OBJECT_CALLBACK_KINDS = ['process-object', 'thread-object', 'desktop-object'] as const;
export type ObjectCallbackKind = (typeof OBJECT_CALLBACK_KINDS)[number];

/** The build of Vista SP1 and Server 2008, the first kernel with ObRegisterCallbacks. */
export const OBJECT_CALLBACKS_FROM_BUILD = 6001;

const TYPE_OF: Record<ObjectCallbackKind, string> = {
  'process-object': 'Process',
  'thread-object': 'Thread',
  'desktop-object': 'Desktop',
};

const OB_FLT_REGISTRATION_VERSION = 0x100;
const OB_OPERATION_HANDLE_CREATE_DUPLICATE = 3;

export interface ObjectOperation {
  kind: ObjectCallbackKind;
  pre: bigint | null;
  post: bigint | null;
}

/** One ObRegisterCallbacks call. */
export interface ObjectRegistration {
  module: LoadedModule | null;
  altitude: string;
  context: bigint;
  operations: ObjectOperation[];
  planted: boolean;
}

/** Where each operation's OB_CALLBACK_ENTRY went. */
export interface WrittenOperation {
  operation: ObjectOperation;
  entry: bigint;
  /** The registration block the entry points back to. */
  block: bigint;
}

export function hasObjectCallbacks(layout: KernelLayout): boolean {
  return layout.version.build >= OBJECT_CALLBACKS_FROM_BUILD;
}

/** _OBJECT_TYPE.CallbackList: the layout's, else the last LIST_ENTRY of the structure. */
export function callbackListOffset(layout: KernelLayout): number {
  return (
    layout.structs['_OBJECT_TYPE']?.fields['CallbackList'] ??
    sizeOf(layout, '_OBJECT_TYPE') - 2 * layout.pointerSize
  );
}

function entrySize(pointerSize: 4 | 8): number {
  return pointerSize === 8 ? 0x40 : 0x24;
}

/** The registration block with its entries, their fields filled; links are written by linkTypes. */
export function writeRegistration(ctx: DriverContext, registration: ObjectRegistration): WrittenOperation[] {
  const { layout, vm, nonPaged, objects } = ctx;
  const p = layout.pointerSize;
  const entriesAt = p === 8 ? 0x20 : 0x10;
  const size = entrySize(p);
  const text = utf16le(registration.altitude, false);
  const textAt = entriesAt + registration.operations.length * size;
  const block = nonPaged.allocate('ObRg', textAt + text.length).dataVa;
  vm.write(block, Uint8Array.of(OB_FLT_REGISTRATION_VERSION & 0xff, OB_FLT_REGISTRATION_VERSION >> 8));
  vm.write(block + 2n, Uint8Array.of(registration.operations.length, 0));
  vm.writePtr(block + BigInt(p), registration.context);
  vm.write(block + BigInt(2 * p), Uint8Array.of(text.length, 0, text.length, 0));
  vm.writePtr(block + BigInt(2 * p + p), block + BigInt(textAt));
  vm.write(block + BigInt(textAt), text);
  return registration.operations.map((operation, index) => {
    const entry = block + BigInt(entriesAt + index * size);
    const at = (offset: number) => entry + BigInt(offset);
    vm.writeU32(at(2 * p), OB_OPERATION_HANDLE_CREATE_DUPLICATE);
    vm.writeU32(at(2 * p + 4), 1); // Enabled
    vm.writePtr(at(p === 8 ? 0x18 : 0x10), block);
    vm.writePtr(at(p === 8 ? 0x20 : 0x14), objects.typeObject(TYPE_OF[operation.kind]).bodyVa);
    vm.writePtr(at(p === 8 ? 0x28 : 0x18), operation.pre ?? 0n);
    vm.writePtr(at(p === 8 ? 0x30 : 0x1c), operation.post ?? 0n);
    return { operation, entry, block };
  });
}

/**
 * Every object type's CallbackList: a ring of the entries registered on it, in order, or empty.
 * Returns the heads of the types that take callbacks.
 */
export function linkTypes(
  ctx: DriverContext,
  written: readonly WrittenOperation[],
): Map<ObjectCallbackKind, { head: bigint; type: bigint }> {
  const { layout, vm, objects } = ctx;
  const p = BigInt(layout.pointerSize);
  const offset = BigInt(callbackListOffset(layout));
  const heads = new Map<ObjectCallbackKind, { head: bigint; type: bigint }>();
  for (const [name, type] of objects.types) {
    const head = type.object.bodyVa + offset;
    const kind = OBJECT_CALLBACK_KINDS.find((k) => TYPE_OF[k] === name);
    if (kind) heads.set(kind, { head, type: type.object.bodyVa });
    const ring = [head, ...written.filter((w) => w.operation.kind === kind).map((w) => w.entry), head];
    for (let i = 0; i + 1 < ring.length; i++) {
      vm.writePtr(ring[i]!, ring[i + 1]!); // Flink
      vm.writePtr(ring[i + 1]! + p, ring[i]!); // Blink
    }
  }
  return heads;
}

/** ExDesktopObjectType holds the Desktop type where this kernel has one. */
export function writeDesktopTypeVariable(ctx: DriverContext): void {
  const desktop = ctx.objects.types.get('Desktop');
  if (desktop)
    ctx.vm.writePtr(ctx.kernel.symbol(DESKTOP_TYPE_VARIABLE, ctx.layout.pointerSize), desktop.object.bodyVa);
}
