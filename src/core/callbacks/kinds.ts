// The notify arrays the kernel calls on process creation, thread creation and image load, and
// where each is found.
//
// Facts: each array holds EX_CALLBACK fast references, a pointer to an EX_CALLBACK_ROUTINE_BLOCK
// { EX_RUNDOWN_REF RundownProtect; PEX_CALLBACK_FUNCTION Function; PVOID Context } whose low bits
// count references (3 bits on x86, 4 on x64); the arrays have 8 slots on XP and Server 2003 and 64
// from Vista on (ReactOS ntoskrnl/ps/psnotify.c and ntoskrnl/ex/callback.c for the structures;
// Volatility 3 volatility3/framework/plugins/windows/callbacks.py for the slot counts and the
// masks). The exported registration routines reach the array themselves or through one internal
// routine (PspSetCreateProcessNotifyRoutine on Vista and later).

import type { CallbackKind } from '../../common/model';

export interface NotifyArrayKind {
  kind: Extract<CallbackKind, 'process-notify' | 'thread-notify' | 'image-load-notify'>;
  /** The array's name in a symbol file. */
  symbol: string;
  /** Exported routines whose code references the array, tried in order. */
  registrations: readonly string[];
  /** What a slot's routine is called when shown. */
  label: string;
}

export const NOTIFY_ARRAYS: readonly NotifyArrayKind[] = [
  {
    kind: 'process-notify',
    symbol: 'PspCreateProcessNotifyRoutine',
    registrations: ['PsSetCreateProcessNotifyRoutine', 'PsSetCreateProcessNotifyRoutineEx'],
    label: 'process notify',
  },
  {
    kind: 'thread-notify',
    symbol: 'PspCreateThreadNotifyRoutine',
    registrations: ['PsSetCreateThreadNotifyRoutine', 'PsSetCreateThreadNotifyRoutineEx'],
    label: 'thread notify',
  },
  {
    kind: 'image-load-notify',
    symbol: 'PspLoadImageNotifyRoutine',
    registrations: ['PsSetLoadImageNotifyRoutine', 'PsSetLoadImageNotifyRoutineEx'],
    label: 'image-load notify',
  },
];

/** Slots of a notify array: 8 before Vista (build 6000), 64 after. */
export function notifySlots(build: number | null): number {
  return build !== null && build < 6000 ? 8 : 64;
}

/** The reference-count bits of an EX_CALLBACK fast reference. */
export function fastRefMask(pointerSize: 4 | 8): bigint {
  return pointerSize === 8 ? 0xfn : 0x7n;
}
