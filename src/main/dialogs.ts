// Native dialogs for the renderer (DesktopApi): pick an image or a folder, save an export.

import { writeFileAtomic } from '../core/util/atomic-file';
import { BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { ReportFile } from '../common/api';
import { DESKTOP_CHANNEL } from './channels';

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

export function registerDesktopHandlers(trusted: (event: IpcMainInvokeEvent) => boolean): void {
  const windowOf = (event: IpcMainInvokeEvent): BrowserWindow | null =>
    BrowserWindow.fromWebContents(event.sender);
  const guard =
    <A, R>(handler: (event: IpcMainInvokeEvent, arg: A) => Promise<R>) =>
    (event: IpcMainInvokeEvent, arg: A): Promise<R> => {
      if (!trusted(event)) throw new Error('refused: unknown sender');
      return handler(event, arg);
    };

  ipcMain.handle(
    `${DESKTOP_CHANNEL}pickImage`,
    guard(async (event, options: { title?: unknown }) =>
      pickImage(windowOf(event), typeof options?.title === 'string' ? options.title : 'Open memory image'),
    ),
  );
  ipcMain.handle(
    `${DESKTOP_CHANNEL}pickDirectory`,
    guard(async (event, options: { title?: unknown }) => {
      const window = windowOf(event);
      const settings = {
        title: typeof options?.title === 'string' ? options.title : 'Choose a folder',
        properties: ['openDirectory' as const],
      };
      const picked = window
        ? await dialog.showOpenDialog(window, settings)
        : await dialog.showOpenDialog(settings);
      return picked.canceled ? null : (picked.filePaths[0] ?? null);
    }),
  );
  ipcMain.handle(
    `${DESKTOP_CHANNEL}saveFile`,
    guard(async (event, file: ReportFile) => {
      if (typeof file?.fileName !== 'string' || typeof file?.content !== 'string')
        throw new Error('bad file');
      const window = windowOf(event);
      const settings = {
        title: file.mimeType === 'application/octet-stream' ? 'Save driver image' : 'Export report',
        defaultPath: file.fileName.replace(/[\\/]/g, '_'),
      };
      const picked = window
        ? await dialog.showSaveDialog(window, settings)
        : await dialog.showSaveDialog(settings);
      if (picked.canceled || !picked.filePath) return null;
      writeFileAtomic(
        picked.filePath,
        file.encoding === 'base64' ? Buffer.from(file.content, 'base64') : file.content,
      );
      return picked.filePath;
    }),
  );
}
