// The words for each callback kind, shared by the engine's findings, the CLI and the views.

import type { CallbackKind } from './model';

/** How each kind is named in sentences and tables. */
export const CALLBACK_LABELS: Readonly<Record<CallbackKind, string>> = {
  'process-notify': 'process notify',
  'thread-notify': 'thread notify',
  'image-load-notify': 'image-load notify',
  registry: 'registry callback',
  bugcheck: 'bug-check callback',
  'bugcheck-reason': 'bug-check reason callback',
  shutdown: 'shutdown notification',
  'last-chance-shutdown': 'last-chance shutdown notification',
  'fs-registration': 'file-system registration change',
  'process-object': 'process object callback',
  'thread-object': 'thread object callback',
  'desktop-object': 'desktop object callback',
  'system-thread': 'System thread',
  idt: 'interrupt gate',
  gdt: 'GDT call gate',
  timer: 'timer DPC',
};
