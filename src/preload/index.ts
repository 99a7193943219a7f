// The renderer's only door to the rest of the app: the IrpscopeApi and the desktop extras,
// bound with contextBridge in a sandboxed preload. Nothing of Node or Electron leaks through;
// each call is one IPC message whose result is plain data.

import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import {
  API_METHODS,
  type ApiEvent,
  type DesktopApi,
  type IrpscopeApi,
  type MenuCommand,
  type ReportFile,
} from '../common/api';
import { API_CHANNEL, DESKTOP_CHANNEL, EVENT_CHANNEL, MENU_CHANNEL } from '../main/channels';

const api = Object.fromEntries(
  API_METHODS.map((method) => [
    method,
    (arg?: unknown) => ipcRenderer.invoke(`${API_CHANNEL}${method}`, arg),
  ]),
) as Omit<IrpscopeApi, 'subscribe'>;

const irpscope: IrpscopeApi = {
  ...api,
  subscribe(listener: (event: ApiEvent) => void): () => void {
    const forward = (_: IpcRendererEvent, event: ApiEvent): void => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, forward);
  },
};

const desktop: DesktopApi = {
  pickImage: (options: { title: string }) => ipcRenderer.invoke(`${DESKTOP_CHANNEL}pickImage`, options),
  pickDirectory: (options: { title: string }) =>
    ipcRenderer.invoke(`${DESKTOP_CHANNEL}pickDirectory`, options),
  saveFile: (file: ReportFile) => ipcRenderer.invoke(`${DESKTOP_CHANNEL}saveFile`, file),
  pathForFile: (file: File) => {
    try {
      return webUtils.getPathForFile(file) || null;
    } catch {
      return null;
    }
  },
  onMenuCommand(listener: (command: MenuCommand) => void): () => void {
    const forward = (_: IpcRendererEvent, command: MenuCommand): void => listener(command);
    ipcRenderer.on(MENU_CHANNEL, forward);
    return () => ipcRenderer.removeListener(MENU_CHANNEL, forward);
  },
};

contextBridge.exposeInMainWorld('irpscope', irpscope);
contextBridge.exposeInMainWorld('irpscopeDesktop', desktop);
