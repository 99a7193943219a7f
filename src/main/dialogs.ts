// Native dialogs for the renderer (DesktopApi): pick an image or a folder, save an export.

import { OutputError, writeFileAtomic } from '../core/node/util/atomic-file';
import { BrowserWindow, dialog, type IpcMainInvokeEvent } from 'electron';
import { RequestError } from '../common/api-errors';
import type { DesktopHandlers } from './ipc';

export const IMAGE_FILTERS = [
  {
    name: 'Memory images',
    extensions: ['raw', 'mem', 'bin', 'img', 'dmp', 'vmem', 'vmss', 'vmsn', 'elf', 'core', 'lime'],
  },
  { name: 'All files', extensions: ['*'] },
];

export async function pickImage(window: BrowserWindow | null, title: string): Promise<string | null> {
  const options = { title, properties: ['openFile' as const], filters: IMAGE_FILTERS };
  const picked = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  return picked.canceled ? null : (picked.filePaths[0] ?? null);
}

/** The native dialogs behind DesktopApi, for requests already decoded (src/main/ipc.ts). */
export const desktopHandlers: DesktopHandlers = {
  pickImage: async (event, request) => pickImage(windowOf(event), request.title),
  pickDirectory: async (event, request) => {
    const window = windowOf(event);
    const settings = { title: request.title, properties: ['openDirectory' as const] };
    const picked = window
      ? await dialog.showOpenDialog(window, settings)
      : await dialog.showOpenDialog(settings);
    return picked.canceled ? null : (picked.filePaths[0] ?? null);
  },
  saveFile: async (event, file) => {
    const window = windowOf(event);
    const settings = {
      title: file.mimeType === 'application/octet-stream' ? 'Save driver image' : 'Export report',
      defaultPath: file.fileName.replace(/[\\/]/g, '_'),
    };
    const picked = window
      ? await dialog.showSaveDialog(window, settings)
      : await dialog.showSaveDialog(settings);
    if (picked.canceled || !picked.filePath) return null;
    try {
      writeFileAtomic(
        picked.filePath,
        file.encoding === 'base64' ? Buffer.from(file.content, 'base64') : file.content,
      );
    } catch (error) {
      // The file the analyst picked cannot be written (a folder, a pipe, no permission): say why.
      if (error instanceof OutputError) throw new RequestError(error.message);
      throw error;
    }
    return picked.filePath;
  },
};

function windowOf(event: IpcMainInvokeEvent): BrowserWindow | null {
  return BrowserWindow.fromWebContents(event.sender);
}
