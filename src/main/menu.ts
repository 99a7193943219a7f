// The application menu. Items that need the renderer's state (its current session: export; a
// form: practice image) are sent to it as MenuCommands; opening images happens here.

import { VIEWS, viewKey, type View } from '../common/views';
import { basename } from 'node:path';
import { Menu, app, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import type { Backend } from '../backend/index';
import type { MenuCommand } from '../common/api';
import { MENU_CHANNEL } from './channels';
import { pickImage } from './dialogs';
import { showAbout } from './about';

const VIEW_LABELS: Record<View, string> = {
  overview: 'Overview',
  drivers: 'Drivers',
  devices: 'Devices',
  modules: 'Modules',
  findings: 'Findings',
  hex: 'Hex View',
  flow: 'Flow Diagram',
  diff: 'Baseline Comparison',
  services: 'System Services',
  activity: 'Processes && IRPs',
  callbacks: 'Callbacks && Notify Routines',
};

export async function buildMenu(backend: Backend, window: () => BrowserWindow | null): Promise<void> {
  const send = (command: MenuCommand): void => window()?.webContents.send(MENU_CHANNEL, command);
  const open = async (path: string, role: 'primary' | 'baseline'): Promise<void> => {
    try {
      const session = await backend.open({ path, role });
      send({ type: 'session-opened', id: session.id });
    } catch (error) {
      const { dialog } = await import('electron');
      const target = window();
      const message = {
        type: 'error' as const,
        message: 'Cannot open the image',
        detail: (error as Error).message,
      };
      if (target) await dialog.showMessageBox(target, message);
      else await dialog.showMessageBox(message);
    }
  };
  const recent = await backend.recent();
  const about: MenuItemConstructorOptions = {
    label: 'About IRPscope',
    click: () => void showAbout(window()),
  };
  const macOS = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(macOS ? [appMenu(about)] : []),
    {
      label: 'File',
      submenu: [
        {
          label: 'Open Image…',
          accelerator: 'CmdOrCtrl+O',
          click: async () => {
            const path = await pickImage(window(), 'Open memory image');
            if (path) await open(path, 'primary');
          },
        },
        {
          label: 'Open Recent',
          submenu:
            recent.length === 0
              ? [{ label: 'No recent images', enabled: false }]
              : recent.map((path) => ({
                  label: `${basename(path)} — ${path}`,
                  click: () => void open(path, 'primary'),
                })),
        },
        {
          label: 'Open Baseline…',
          accelerator: 'CmdOrCtrl+Shift+O',
          click: async () => {
            const path = await pickImage(window(), 'Open a clean baseline image');
            if (path) {
              await open(path, 'baseline');
              send({ type: 'navigate', view: 'diff' });
            }
          },
        },
        { label: 'Capture from VM…', click: () => send({ type: 'capture' }) },
        { label: 'Open Fleet…', click: () => send({ type: 'open-fleet' }) },
        { label: 'New Practice Image…', click: () => send({ type: 'practice-image' }) },
        { type: 'separator' },
        {
          label: 'Export',
          submenu: [
            {
              label: 'Report (PDF)…',
              accelerator: 'CmdOrCtrl+E',
              click: () => send({ type: 'export', format: 'pdf' }),
            },
            { label: 'HTML Report…', click: () => send({ type: 'export', format: 'html' }) },
            { label: 'JSON…', click: () => send({ type: 'export', format: 'json' }) },
            { label: 'CSV Tables…', click: () => send({ type: 'export', format: 'csv' }) },
          ],
        },
        { type: 'separator' },
        macOS ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        ...VIEWS.map((view, index) => ({
          label: VIEW_LABELS[view],
          ...(viewKey(index) ? { accelerator: `Alt+${viewKey(index)}` } : {}),
          // The renderer handles these keys itself (in web mode too); the menu only shows them.
          registerAccelerator: false,
          click: () => send({ type: 'navigate', view }),
        })),
        { type: 'separator' },
        {
          label: 'Back',
          accelerator: 'Alt+Left',
          registerAccelerator: false,
          click: () => send({ type: 'back' }),
        },
        {
          label: 'Forward',
          accelerator: 'Alt+Right',
          registerAccelerator: false,
          click: () => send({ type: 'forward' }),
        },
        {
          label: 'Go to Address…',
          accelerator: 'CmdOrCtrl+G',
          registerAccelerator: false,
          click: () => send({ type: 'go-to-address' }),
        },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { role: 'togglefullscreen' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
      ],
    },
    { role: 'windowMenu' },
    ...(macOS ? [] : [{ role: 'help' as const, submenu: [about] }]),
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

/** macOS's application menu, as role 'appMenu' makes it, but with our About window. */
function appMenu(about: MenuItemConstructorOptions): MenuItemConstructorOptions {
  return {
    label: app.name,
    submenu: [
      about,
      { type: 'separator' },
      { role: 'services' },
      { type: 'separator' },
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      { type: 'separator' },
      { role: 'quit' },
    ],
  };
}
