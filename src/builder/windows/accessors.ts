// The kernel's exported one-field accessors (PsGetProcessId and its kin), written from the layout
// the image really uses, so that a reader can learn a field's offset from the kernel's own code.
// What each returns is ReactOS' reading of it (ROS:ntoskrnl/ps/process.c, ps/thread.c,
// io/iomgr/util.c): PsGetProcessId → Process->UniqueProcessId, PsGetProcessImageFileName →
// Process->ImageFileName (its address), PsGetProcessInheritedFromUniqueProcessId, PsGetProcessPeb
// → Process->Peb, PsGetThreadId → Thread->Cid.UniqueThread, PsGetThreadProcessId →
// Thread->Cid.UniqueProcess, PsGetThreadProcess and IoThreadToProcess → Thread->ThreadsProcess,
// which exists before Vista only (ROS:sdk/include/ndk/pstypes.h); later kernels keep the owner in
// KTHREAD.Process.
//
// The encodings:
// - x64: `mov rax, [rcx+disp32]; ret` (48 8B 81 disp32 C3), `lea rax, [rcx+disp32]; ret` for the
//   name. Public drivers read UniqueProcessId as the disp32 at PsGetProcessId+3, after 48 8B 81
//   (one annotates 24H2's as `mov rax, [rcx+1D0h]` = 48 8B 81 D0 01 00 00), and the shared ISFs
//   of 9600 and 14393 put the next symbol 8 bytes after each accessor: that pair exactly. Windows
//   11 images (22000 and later here) fill the rest of the 16-byte slot with int3, as MSVC pads
//   functions.
// - x86 with a hot-patch frame: `mov edi, edi; push ebp; mov ebp, esp; mov eax, [ebp+8]; …;
//   pop ebp; ret 4`. The NT Insider 13(4), 2006, "What's in a (Process) Name?", Figure 1, lists
//   XP SP2's PsGetProcessImageFileName so: 8BFF 55 8BEC 8B4508 0574010000 5D C20400 (the name's
//   address by `add eax, 174h`). Used for the XP SP3 and Windows 7 profiles.
// - x86 without a frame: `mov eax, [esp+4]; mov eax, [eax+disp]; ret 4` (the name by
//   `lea eax, [eax+disp32]`). [UNVERIFIED] No listing of a Windows Server 2003 accessor was found;
//   the 2003 profile uses this form so that a reader meets both stdcall shapes.
// A displacement that fits a signed byte is encoded as disp8, as compilers do.

import { field, hasField, type KernelLayout } from '../layout/kernel-layout';
import type { VirtualMemory } from '../memory/virtual';
import type { KernelImage } from './kernel-image';

export type AccessorEncoding = 'x64' | 'x64-int3-padded' | 'x86-hotpatch-frame' | 'x86-no-frame';

export interface AccessorPlan {
  name: string;
  /** The field the routine reads, e.g. "_EPROCESS.UniqueProcessId" or "_ETHREAD.Cid.UniqueThread". */
  reads: string;
  /** Offset of that field from the object the routine is given. */
  offset: number;
  /** 'value' returns the field; 'address' returns where it is (the image file name). */
  returns: 'value' | 'address';
}

export function accessorEncoding(layout: KernelLayout): AccessorEncoding {
  if (layout.arch === 'x64') return layout.version.build >= 22000 ? 'x64-int3-padded' : 'x64';
  return layout.version.family === '2003' ? 'x86-no-frame' : 'x86-hotpatch-frame';
}

/** The accessors this layout can have, with the field each reads. */
export function accessorPlans(layout: KernelLayout): AccessorPlan[] {
  const ep = (name: string) => field(layout, '_EPROCESS', name);
  const cid = field(layout, '_ETHREAD', 'Cid');
  const plans: AccessorPlan[] = [
    {
      name: 'PsGetProcessId',
      reads: '_EPROCESS.UniqueProcessId',
      offset: ep('UniqueProcessId'),
      returns: 'value',
    },
    {
      name: 'PsGetProcessImageFileName',
      reads: '_EPROCESS.ImageFileName',
      offset: ep('ImageFileName'),
      returns: 'address',
    },
    {
      name: 'PsGetProcessInheritedFromUniqueProcessId',
      reads: '_EPROCESS.InheritedFromUniqueProcessId',
      offset: ep('InheritedFromUniqueProcessId'),
      returns: 'value',
    },
  ];
  if (hasField(layout, '_EPROCESS', 'Peb'))
    plans.push({ name: 'PsGetProcessPeb', reads: '_EPROCESS.Peb', offset: ep('Peb'), returns: 'value' });
  plans.push(
    {
      name: 'PsGetThreadId',
      reads: '_ETHREAD.Cid.UniqueThread',
      offset: cid + field(layout, '_CLIENT_ID', 'UniqueThread'),
      returns: 'value',
    },
    {
      name: 'PsGetThreadProcessId',
      reads: '_ETHREAD.Cid.UniqueProcess',
      offset: cid + field(layout, '_CLIENT_ID', 'UniqueProcess'),
      returns: 'value',
    },
  );
  const owner = threadOwnerField(layout);
  for (const name of ['PsGetThreadProcess', 'IoThreadToProcess'])
    plans.push({ name, reads: owner.reads, offset: owner.offset, returns: 'value' });
  return plans;
}

/** Where a thread names its process: ETHREAD.ThreadsProcess before Vista, else KTHREAD.Process. */
export function threadOwnerField(layout: KernelLayout): { reads: string; offset: number } {
  if (hasField(layout, '_ETHREAD', 'ThreadsProcess'))
    return { reads: '_ETHREAD.ThreadsProcess', offset: field(layout, '_ETHREAD', 'ThreadsProcess') };
  return {
    reads: '_ETHREAD.Tcb.Process',
    offset: field(layout, '_ETHREAD', 'Tcb') + field(layout, '_KTHREAD', 'Process'),
  };
}

const u32le = (value: number) => [
  value & 0xff,
  (value >>> 8) & 0xff,
  (value >>> 16) & 0xff,
  (value >>> 24) & 0xff,
];
const fitsDisp8 = (offset: number) => offset >= -0x80 && offset <= 0x7f;

/** ModRM + displacement for [base+offset] with a register operand: mod 01 (disp8) or 10 (disp32). */
function memoryOperand(reg: number, base: number, offset: number): number[] {
  return fitsDisp8(offset)
    ? [0x40 | (reg << 3) | base, offset & 0xff]
    : [0x80 | (reg << 3) | base, ...u32le(offset)];
}

const EAX = 0;
const ECX = 1;
const MOV_LOAD = 0x8b;
const LEA = 0x8d;

/** The routine's bytes (x64: its 16-byte slot when int3-padded). */
export function accessorBytes(encoding: AccessorEncoding, plan: AccessorPlan): Uint8Array {
  const opcode = plan.returns === 'address' ? LEA : MOV_LOAD;
  switch (encoding) {
    case 'x64':
    case 'x64-int3-padded': {
      const code = [0x48, opcode, ...memoryOperand(EAX, ECX, plan.offset), 0xc3]; // rax, [rcx+disp]; ret
      if (encoding === 'x64') return Uint8Array.from(code);
      return Uint8Array.from([...code, ...new Array<number>(16 - (code.length % 16)).fill(0xcc)]);
    }
    case 'x86-hotpatch-frame': {
      const body =
        plan.returns === 'address'
          ? [0x05, ...u32le(plan.offset)] // add eax, imm32
          : [MOV_LOAD, ...memoryOperand(EAX, EAX, plan.offset)]; // mov eax, [eax+disp]
      // mov edi, edi; push ebp; mov ebp, esp; mov eax, [ebp+8]; …; pop ebp; ret 4
      return Uint8Array.from([
        0x8b,
        0xff,
        0x55,
        0x8b,
        0xec,
        0x8b,
        0x45,
        0x08,
        ...body,
        0x5d,
        0xc2,
        0x04,
        0x00,
      ]);
    }
    case 'x86-no-frame':
      // mov eax, [esp+4]; mov|lea eax, [eax+disp]; ret 4
      return Uint8Array.from([
        0x8b,
        0x44,
        0x24,
        0x04,
        opcode,
        ...memoryOperand(EAX, EAX, plan.offset),
        0xc2,
        0x04,
        0x00,
      ]);
  }
}

export interface PlacedAccessor extends AccessorPlan {
  va: bigint;
  encoding: AccessorEncoding;
  bytes: Uint8Array;
}

/** Writes every accessor at its symbol (the ISF's RVA, or a place in the kernel's code). */
export function writeAccessors(
  layout: KernelLayout,
  vm: VirtualMemory,
  kernel: KernelImage,
): PlacedAccessor[] {
  const encoding = accessorEncoding(layout);
  return accessorPlans(layout).map((plan) => {
    const bytes = accessorBytes(encoding, plan);
    const va = kernel.symbol(plan.name, bytes.length);
    vm.write(va, bytes);
    return { ...plan, va, encoding, bytes };
  });
}
