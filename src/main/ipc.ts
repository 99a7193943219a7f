// The desktop shell's IPC handlers: every API call and every desktop call (native dialogs) the
// renderer makes arrives here. Each is answered only for the app's own page, decoded once
// (src/common/api-decode.ts) and then served; a request the renderer got wrong is refused with its
// reason, and any other failure is logged here with its stack while the renderer gets only a
// reference to it. Electron is passed in, not imported, so this wiring runs in unit tests.

import type { IpcMainInvokeEvent } from 'electron';
import { API_METHODS, DESKTOP_METHODS, type DesktopMethod } from '../common/api';
import { decodeDesktopRequest, type DesktopRequest } from '../common/api-decode';
import {
  serveRequest,
  settle,
  type ApiAnswer,
  type ApiCalls,
  type InternalFailure,
} from '../common/api-serve';
import { API_CHANNEL, DESKTOP_CHANNEL } from './channels';

/** The part of ipcMain this needs. */
export interface IpcRegistry {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, arg: unknown) => Promise<unknown>): void;
}

export interface IpcSettings {
  /** Whether the message comes from the app's own top-level page. */
  trusted: (event: IpcMainInvokeEvent) => boolean;
  /** Where the program's own failures go, stack and all (default: the main process's stderr). */
  log?: (failure: InternalFailure) => void;
}

/** The desktop calls, given decoded requests. */
export type DesktopHandlers = {
  [M in DesktopMethod]: (event: IpcMainInvokeEvent, request: DesktopRequest<M>) => Promise<unknown>;
};

export function registerApiHandlers(ipc: IpcRegistry, api: ApiCalls, settings: IpcSettings): void {
  for (const method of API_METHODS) {
    ipc.handle(`${API_CHANNEL}${method}`, async (event, arg) => {
      refuseStrangers(event, settings);
      return answered(await serveRequest(api, method, arg, settings.log ?? logFailure));
    });
  }
}

export function registerDesktopHandlers(
  ipc: IpcRegistry,
  handlers: DesktopHandlers,
  settings: IpcSettings,
): void {
  for (const method of DESKTOP_METHODS) {
    ipc.handle(`${DESKTOP_CHANNEL}${method}`, async (event, arg) => {
      refuseStrangers(event, settings);
      // handlers[method] takes DesktopRequest<method>; TypeScript cannot follow the lookup.
      const handler = handlers[method] as (event: IpcMainInvokeEvent, request: unknown) => Promise<unknown>;
      const answer = await settle(
        method,
        async () => handler(event, decodeDesktopRequest(method, arg)),
        settings.log ?? logFailure,
      );
      return answered(answer);
    });
  }
}

function refuseStrangers(event: IpcMainInvokeEvent, settings: IpcSettings): void {
  if (!settings.trusted(event)) throw new Error('refused: unknown sender');
}

/** The value, or the error the renderer's invoke() rejects with (Electron passes on its message). */
function answered(answer: ApiAnswer): unknown {
  if (answer.ok) return answer.value;
  throw new Error(answer.message);
}

function logFailure(failure: InternalFailure): void {
  console.error(`IRPscope: internal error ${failure.reference} in ${failure.method}:`, failure.error);
}
