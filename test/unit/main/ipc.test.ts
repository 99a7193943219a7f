// The desktop shell's IPC handlers (src/main/ipc.ts) with an ipcMain stand-in: only the app's page
// is answered; what reaches the backend and the dialogs is the decoded request; a request the
// renderer got wrong is refused with its reason; a fault inside is logged with its stack and the
// renderer gets a reference only. (Electron itself needs its binary; this is the wiring it runs.)

import type { IpcMainInvokeEvent } from 'electron';
import { describe, expect, test, vi } from 'vitest';
import { API_METHODS, DESKTOP_METHODS } from '../../../src/common/api';
import { RequestError } from '../../../src/common/api-errors';
import type { ApiCalls, InternalFailure } from '../../../src/common/api-serve';
import { API_CHANNEL, DESKTOP_CHANNEL } from '../../../src/main/channels';
import {
  registerApiHandlers,
  registerDesktopHandlers,
  type DesktopHandlers,
  type IpcRegistry,
} from '../../../src/main/ipc';

type Listener = (event: IpcMainInvokeEvent, arg: unknown) => Promise<unknown>;

function fakeIpc(): IpcRegistry & {
  invoke(channel: string, arg: unknown, from?: 'app' | 'stranger'): Promise<unknown>;
} {
  const handlers = new Map<string, Listener>();
  return {
    handle(channel, listener) {
      expect(handlers.has(channel), channel).toBe(false);
      handlers.set(channel, listener);
    },
    invoke(channel, arg, from = 'app') {
      const listener = handlers.get(channel);
      if (!listener) throw new Error(`no handler for ${channel}`);
      return listener({ sender: from } as unknown as IpcMainInvokeEvent, arg);
    },
  };
}

const trusted = (event: IpcMainInvokeEvent) => (event.sender as unknown) === 'app';

/** A backend stand-in: every call records its request; readMemory answers, sessions fails inside. */
function fakeApi() {
  const received: Array<[string, unknown]> = [];
  const api = Object.fromEntries(
    API_METHODS.map((method) => [
      method,
      async (request: unknown) => {
        received.push([method, request]);
        if (method === 'sessions')
          throw new TypeError("Cannot read properties of null (reading 'summary') in /home/analyst/x");
        if (method === 'result') throw new RequestError(`no session ${String(request)}`);
        return { echoed: request };
      },
    ]),
  ) as unknown as ApiCalls;
  return { api, received };
}

describe('API calls over IPC', () => {
  test('every method is registered on its channel, and a stranger is refused before anything runs', async () => {
    const ipc = fakeIpc();
    const { api, received } = fakeApi();
    registerApiHandlers(ipc, api, { trusted });
    for (const method of API_METHODS)
      await expect(ipc.invoke(`${API_CHANNEL}${method}`, undefined, 'stranger'), method).rejects.toThrow(
        'refused: unknown sender',
      );
    expect(received).toEqual([]);
  });

  test('the backend receives the decoded request', async () => {
    const ipc = fakeIpc();
    const { api, received } = fakeApi();
    registerApiHandlers(ipc, api, { trusted });
    const value = await ipc.invoke(`${API_CHANNEL}readMemory`, {
      session: 's1',
      space: 'virtual',
      address: '0xFFFFF80000001000',
      length: 16,
    });
    const decoded = { session: 's1', space: 'virtual', address: '0xfffff80000001000', length: 16 };
    expect(value).toEqual({ echoed: decoded });
    expect(await ipc.invoke(`${API_CHANNEL}appInfo`, undefined)).toEqual({ echoed: undefined });
    expect(received).toEqual([
      ['readMemory', decoded],
      ['appInfo', undefined],
    ]);
  });

  test('a request that does not decode is refused with the field, and never reaches the backend', async () => {
    const ipc = fakeIpc();
    const { api, received } = fakeApi();
    registerApiHandlers(ipc, api, { trusted });
    await expect(
      ipc.invoke(`${API_CHANNEL}readMemory`, {
        session: 's1',
        space: 'virtual',
        address: '0x1',
        length: 1 << 20,
      }),
    ).rejects.toThrow(/^length must be a whole number from 1 to 65536$/);
    await expect(ipc.invoke(`${API_CHANNEL}open`, { path: '/x', extra: 1 })).rejects.toThrow(
      'open request: unknown field "extra"',
    );
    await expect(ipc.invoke(`${API_CHANNEL}cancel`, 42)).rejects.toThrow(
      'session must be a non-empty string',
    );
    expect(received).toEqual([]);
  });

  test("the backend's refusal passes word for word; a fault inside is logged and only its reference is told", async () => {
    const ipc = fakeIpc();
    const { api } = fakeApi();
    const log = vi.fn<(failure: InternalFailure) => void>();
    registerApiHandlers(ipc, api, { trusted, log });
    await expect(ipc.invoke(`${API_CHANNEL}result`, 's9')).rejects.toThrow(/^no session s9$/);
    expect(log).not.toHaveBeenCalled();

    const failure = await ipc.invoke(`${API_CHANNEL}sessions`, null).then(
      () => null,
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(/^internal error in sessions \(reference [0-9a-f]{8};/);
    expect(failure?.message).not.toMatch(/Cannot read|analyst|TypeError/);
    expect(log).toHaveBeenCalledTimes(1);
    const logged = log.mock.calls[0]![0];
    expect(failure?.message).toContain(logged.reference);
    expect(logged.method).toBe('sessions');
    expect((logged.error as Error).message).toContain('/home/analyst/x');
    expect((logged.error as Error).stack).toContain('ipc.test.ts');
  });
});

describe('desktop calls over IPC', () => {
  function desktop() {
    const calls: Array<[string, unknown]> = [];
    const handlers: DesktopHandlers = {
      pickImage: async (_event, request) => {
        calls.push(['pickImage', request]);
        return '/images/a.raw';
      },
      pickDirectory: async (_event, request) => {
        calls.push(['pickDirectory', request]);
        throw new RangeError('dialog exploded at /opt/irpscope/main.js:1');
      },
      saveFile: async (_event, request) => {
        calls.push(['saveFile', request]);
        throw new RequestError('cannot write /dev/full: it is a device');
      },
    };
    return { handlers, calls };
  }

  test('each desktop call gets its decoded request; bad ones are refused before the dialog opens', async () => {
    const ipc = fakeIpc();
    const { handlers, calls } = desktop();
    registerDesktopHandlers(ipc, handlers, { trusted, log: () => undefined });
    for (const method of DESKTOP_METHODS)
      await expect(ipc.invoke(`${DESKTOP_CHANNEL}${method}`, { title: 'x' }, 'stranger')).rejects.toThrow(
        'refused: unknown sender',
      );
    expect(await ipc.invoke(`${DESKTOP_CHANNEL}pickImage`, { title: 'Open memory image' })).toBe(
      '/images/a.raw',
    );
    await expect(ipc.invoke(`${DESKTOP_CHANNEL}pickImage`, { title: 7 })).rejects.toThrow(
      'title must be a non-empty string',
    );
    await expect(
      ipc.invoke(`${DESKTOP_CHANNEL}saveFile`, { fileName: 'r.html', mimeType: 'text/html', content: 5 }),
    ).rejects.toThrow('content must be a string');
    // An extracted image is a report file with more: the handler gets the file's own fields only.
    await expect(
      ipc.invoke(`${DESKTOP_CHANNEL}saveFile`, {
        fileName: 'disk.sys',
        mimeType: 'application/octet-stream',
        content: 'TVo=',
        encoding: 'base64',
        record: { sha256: '00' },
      }),
    ).rejects.toThrow(/^cannot write \/dev\/full: it is a device$/);
    expect(calls).toEqual([
      ['pickImage', { title: 'Open memory image' }],
      [
        'saveFile',
        { fileName: 'disk.sys', mimeType: 'application/octet-stream', content: 'TVo=', encoding: 'base64' },
      ],
    ]);
  });

  test('a fault inside a dialog is logged; the renderer gets the reference only', async () => {
    const ipc = fakeIpc();
    const log = vi.fn<(failure: InternalFailure) => void>();
    registerDesktopHandlers(ipc, desktop().handlers, { trusted, log });
    const failure = await ipc.invoke(`${DESKTOP_CHANNEL}pickDirectory`, { title: 'Symbol folder' }).then(
      () => null,
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(/^internal error in pickDirectory \(reference [0-9a-f]{8};/);
    expect(failure?.message).not.toContain('/opt/irpscope');
    expect(log.mock.calls.map(([f]) => [f.method, (f.error as Error).message])).toEqual([
      ['pickDirectory', 'dialog exploded at /opt/irpscope/main.js:1'],
    ]);
  });
});
