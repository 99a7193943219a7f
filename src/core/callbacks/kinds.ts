// Where the kernel keeps each kind of callback, and how a record of it reads.
//
// Arrays: EX_CALLBACK fast references, each a pointer to an EX_CALLBACK_ROUTINE_BLOCK
// { EX_RUNDOWN_REF RundownProtect; PEX_CALLBACK_FUNCTION Function; PVOID Context } whose low bits
// count references (3 bits on x86, 4 on x64). The notify arrays have 8 slots on XP and Server 2003
// and 64 from Vista on; XP and 2003 keep registry callbacks in CmpCallBackVector, 100 slots
// (ReactOS ntoskrnl/ps/psnotify.c, ntoskrnl/ex/callback.c, ntoskrnl/config/cmhook.c; Volatility 3
// volatility3/framework/plugins/windows/callbacks.py for the slot counts and masks).
//
// Lists: LIST_ENTRY rings of records whose first member is the link. From Vista on registry
// callbacks hang on CallbackListHead as CM_CALLBACK_CONTEXT_BLOCKEX { LIST_ENTRY; ULONG; ULONG;
// LARGE_INTEGER Cookie; PVOID CallerContext; PVOID Function; UNICODE_STRING Altitude; … }
// (Function at +0x28 on x64, +0x1c on x86: WinObjEx64's and OpenArk's readers of that list);
// bug-check callbacks are KBUGCHECK_CALLBACK_RECORD { LIST_ENTRY; CallbackRoutine; Buffer; Length;
// Component; Checksum; State } and reason callbacks KBUGCHECK_REASON_CALLBACK_RECORD { LIST_ENTRY;
// CallbackRoutine; Component; Checksum; Reason; State } (wdm.h: drivers allocate them, so their
// layout is the driver ABI); shutdown queues hold SHUTDOWN_PACKET { LIST_ENTRY; DeviceObject }
// (the routine the kernel calls is that device's driver's IRP_MJ_SHUTDOWN), and file-system
// registration changes NOTIFICATION_PACKET { LIST_ENTRY; DriverObject; NotificationRoutine }
// (ReactOS ntoskrnl/io/iomgr/device.c, volume.c).
//
// The exported registration routines reach the head themselves or through one internal routine.

import type { CallbackKind } from '../../common/model';

export type RecordField = 'routine' | 'context' | 'component' | 'device' | 'driver';

export type CallbackShape =
  { shape: 'array'; slots: number } | { shape: 'list'; fields: Partial<Record<RecordField, number>> };

export interface CallbackSource {
  kind: CallbackKind;
  /** The array's or list head's name in a symbol file. */
  symbol: string;
  /** Exported routines whose code references it, tried in order. */
  registrations: readonly string[];
  shape: CallbackShape;
}

/** Slots of a notify array: 8 before Vista (build 6000), 64 after. */
export function notifySlots(build: number | null): number {
  return build !== null && build < 6000 ? 8 : 64;
}

/** The reference-count bits of an EX_CALLBACK fast reference. */
export function fastRefMask(pointerSize: 4 | 8): bigint {
  return pointerSize === 8 ? 0xfn : 0x7n;
}

/** Every kind's source in a kernel of this build and pointer size. */
export function callbackSources(build: number | null, pointerSize: 4 | 8): CallbackSource[] {
  const p = pointerSize;
  const slots = notifySlots(build);
  const legacy = build !== null && build < 6000;
  return [
    {
      kind: 'process-notify',
      symbol: 'PspCreateProcessNotifyRoutine',
      registrations: ['PsSetCreateProcessNotifyRoutine', 'PsSetCreateProcessNotifyRoutineEx'],
      shape: { shape: 'array', slots },
    },
    {
      kind: 'thread-notify',
      symbol: 'PspCreateThreadNotifyRoutine',
      registrations: ['PsSetCreateThreadNotifyRoutine', 'PsSetCreateThreadNotifyRoutineEx'],
      shape: { shape: 'array', slots },
    },
    {
      kind: 'image-load-notify',
      symbol: 'PspLoadImageNotifyRoutine',
      registrations: ['PsSetLoadImageNotifyRoutine', 'PsSetLoadImageNotifyRoutineEx'],
      shape: { shape: 'array', slots },
    },
    legacy
      ? {
          kind: 'registry',
          symbol: 'CmpCallBackVector',
          registrations: ['CmRegisterCallback'],
          shape: { shape: 'array', slots: 100 },
        }
      : {
          kind: 'registry',
          symbol: 'CallbackListHead',
          registrations: ['CmRegisterCallbackEx', 'CmRegisterCallback'],
          shape: {
            shape: 'list',
            fields: { context: p === 8 ? 0x20 : 0x18, routine: p === 8 ? 0x28 : 0x1c },
          },
        },
    {
      kind: 'bugcheck',
      symbol: 'KeBugCheckCallbackListHead',
      registrations: ['KeRegisterBugCheckCallback'],
      shape: { shape: 'list', fields: { routine: 2 * p, context: 3 * p, component: 5 * p } },
    },
    {
      kind: 'bugcheck-reason',
      symbol: 'KeBugCheckReasonCallbackListHead',
      registrations: ['KeRegisterBugCheckReasonCallback'],
      shape: { shape: 'list', fields: { routine: 2 * p, component: 3 * p } },
    },
    {
      kind: 'shutdown',
      symbol: 'IopNotifyShutdownQueueHead',
      registrations: ['IoRegisterShutdownNotification'],
      shape: { shape: 'list', fields: { device: 2 * p } },
    },
    {
      kind: 'last-chance-shutdown',
      symbol: 'IopNotifyLastChanceShutdownQueueHead',
      registrations: ['IoRegisterLastChanceShutdownNotification'],
      shape: { shape: 'list', fields: { device: 2 * p } },
    },
    {
      kind: 'fs-registration',
      symbol: 'IopFsNotifyChangeQueueHead',
      registrations: ['IoRegisterFsRegistrationChange', 'IoRegisterFsRegistrationChangeMountAware'],
      shape: { shape: 'list', fields: { driver: 2 * p, routine: 3 * p } },
    },
  ];
}
