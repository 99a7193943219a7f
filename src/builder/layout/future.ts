// A kernel newer than every table (--future): the layout of the newest build the builder has,
// with its opaque structures changed the way Windows releases change them. Fields are inserted
// before and among the ones a process and thread reader needs, so offsets shift by different
// amounts; two lists of ETHREAD trade places; KTHREAD grows, and with it every ETHREAD field
// after Tcb. Structures drivers are compiled against (IRP, IO_STACK_LOCATION, DEVICE_OBJECT,
// DRIVER_OBJECT, FILE_OBJECT, OBJECT_HEADER, LDR entries, LIST_ENTRY, UNICODE_STRING, CLIENT_ID)
// and KPROCESS.DirectoryTableBase stay where they are: the WDK's headers fix them.
//
// The moves, in order (x64 bytes; x86 uses 8 where x64 uses 0x10):
//   _KTHREAD   +0x10 before Process (before ThreadListEntry where KTHREAD has no Process: XP)
//   _ETHREAD   +0x10 after Tcb (KTHREAD grew), +0x10 before Cid, +0x8 before IrpList:
//              StartAddress +0x10, Cid +0x20, IrpList and every later field +0x28
//   _ETHREAD   IrpList and ThreadListEntry swap places
//   _EPROCESS  +0x10 before ActiveProcessLinks (UniqueProcessId stays), +0x8 after ImageFileName:
//              ActiveProcessLinks… ImageFileName +0x10, the fields after ImageFileName +0x18
// Every insertion is a multiple of 8, so every field keeps its alignment.

import { BuildError } from '../errors';
import type { KernelLayout, StructLayout, StructMove } from './kernel-layout';

/** The x64 build --future claims by default: newer than the newest table (22000). */
export const FUTURE_X64_BUILD = 26100;
/** The newest layout the builder has an ISF for: --future starts from it on x64. */
export const NEWEST_X64_LAYOUT_BUILD = 22000;

function structOf(structs: Record<string, StructLayout>, name: string): StructLayout {
  const found = structs[name];
  if (!found) throw new BuildError(`--future: the layout has no ${name}`);
  return found;
}

/** Inserts `bytes` at `at`: every field at or after it moves up, and the structure grows. */
function insert(layout: StructLayout, at: number, bytes: number): StructLayout {
  const fields: Record<string, number> = {};
  for (const [name, offset] of Object.entries(layout.fields))
    fields[name] = offset >= at ? offset + bytes : offset;
  return { size: layout.size + bytes, fields };
}

function swap(layout: StructLayout, a: string, b: string): StructLayout {
  const fields = { ...layout.fields };
  [fields[a], fields[b]] = [layout.fields[b]!, layout.fields[a]!];
  return { size: layout.size, fields };
}

/** The first field that starts at or after `offset`, other than `except`. */
function firstFieldFrom(layout: StructLayout, offset: number, except: string): string {
  const after = Object.entries(layout.fields)
    .filter(([name, at]) => name !== except && at >= offset)
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  if (after.length === 0) throw new BuildError(`--future: no field after ${except}`);
  return after[0]![0];
}

function fieldAt(layout: StructLayout, struct: string, name: string): number {
  const offset = layout.fields[name];
  if (offset === undefined) throw new BuildError(`--future: the layout has no ${struct}.${name}`);
  return offset;
}

/** The future layout's structures and the moves that made them. */
export function moveOpaqueStructures(
  structs: Record<string, StructLayout>,
  pointerSize: 4 | 8,
): { structs: Record<string, StructLayout>; moves: StructMove[] } {
  const big = pointerSize === 8 ? 0x10 : 0x8;
  const small = 0x8;
  const moves: StructMove[] = [];
  const out = { ...structs };
  const apply = (struct: string, before: string, bytes: number) => {
    const layout = structOf(out, struct);
    const at = fieldAt(layout, struct, before);
    out[struct] = insert(layout, at, bytes);
    moves.push({ struct, insert: bytes, at, before });
  };

  const kthread = structOf(out, '_KTHREAD');
  apply('_KTHREAD', kthread.fields['Process'] !== undefined ? 'Process' : 'ThreadListEntry', big);
  const grownBy = structOf(out, '_KTHREAD').size - kthread.size;
  const ethread = structOf(out, '_ETHREAD');
  apply('_ETHREAD', firstFieldFrom(ethread, kthread.size, 'Tcb'), grownBy);
  apply('_ETHREAD', 'Cid', big);
  apply('_ETHREAD', 'IrpList', small);
  out['_ETHREAD'] = swap(structOf(out, '_ETHREAD'), 'IrpList', 'ThreadListEntry');
  moves.push({ struct: '_ETHREAD', swap: ['IrpList', 'ThreadListEntry'] });

  apply('_EPROCESS', 'ActiveProcessLinks', big);
  const eprocess = structOf(out, '_EPROCESS');
  const imageFileName = fieldAt(eprocess, '_EPROCESS', 'ImageFileName');
  // ImageFileName is UCHAR[15] (x64) or [16] (x86): the next field starts at +15 or later.
  apply('_EPROCESS', firstFieldFrom(eprocess, imageFileName + 15, 'ImageFileName'), small);
  return { structs: out, moves };
}

/**
 * The future variant of a layout that already claims its build: the structures of `layoutBuild`
 * moved, and a synthetic PDB identity (no symbol server knows it, and the real one would name
 * the unmoved layout).
 */
export function futureLayout(layout: KernelLayout, layoutBuild: number, pdbGuid: string): KernelLayout {
  const { structs, moves } = moveOpaqueStructures(layout.structs, layout.pointerSize);
  return {
    ...layout,
    pdb: { ...layout.pdb, guid: pdbGuid, synthetic: true },
    structs,
    variant: { kind: 'future', layoutBuild, moves, unmoved: layout.structs },
  };
}
