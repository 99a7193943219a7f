// Names of the kernel's own that the callbacks' side of the builder defines: the globals whose
// RVAs the kernel image places when no symbol file gives them, and the exports whose code loads
// them. A leaf, so that the kernel image can list them without importing the writers of callbacks.

/** The variable holding the Desktop type (win32k creates the type; ntoskrnl exports the variable). */
export const DESKTOP_TYPE_VARIABLE = 'ExDesktopObjectType';

/** Kernel globals the builder places in .data when no symbol file gives their RVA. */
export const CALLBACK_HEADS = [
  'PspCreateProcessNotifyRoutine',
  'PspCreateThreadNotifyRoutine',
  'PspLoadImageNotifyRoutine',
  'CmpCallBackVector',
  'CallbackListHead',
  'KeBugCheckCallbackListHead',
  'KeBugCheckReasonCallbackListHead',
  'IopNotifyShutdownQueueHead',
  'IopNotifyLastChanceShutdownQueueHead',
  'IopFsNotifyChangeQueueHead',
  // How many registry callbacks are registered: the kernel calls them only while it is not 0.
  'CmpCallBackCount',
  DESKTOP_TYPE_VARIABLE,
];

/** The registration routines, exported by every kernel. */
export const CALLBACK_EXPORTS = [
  'PsSetCreateProcessNotifyRoutine',
  'PsSetCreateThreadNotifyRoutine',
  'PsSetLoadImageNotifyRoutine',
  'CmRegisterCallback',
  'CmRegisterCallbackEx',
  'KeRegisterBugCheckCallback',
  'KeRegisterBugCheckReasonCallback',
  'IoRegisterShutdownNotification',
  'IoRegisterLastChanceShutdownNotification',
  'IoRegisterFsRegistrationChange',
  // The Desktop type's variable (PsProcessType and PsThreadType are exported with the others).
  DESKTOP_TYPE_VARIABLE,
];
