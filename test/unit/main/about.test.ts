// The About window, reached from the menu the desktop app builds (src/main/menu.ts), with
// Electron replaced by a recorder: no Electron binary is needed to see what the window says.

import type { MenuItemConstructorOptions, MessageBoxOptions } from 'electron';
import { afterEach, expect, test, vi } from 'vitest';

const recorded = vi.hoisted(() => ({
  template: [] as MenuItemConstructorOptions[],
  boxes: [] as MessageBoxOptions[],
}));

vi.mock('electron', () => ({
  app: { name: 'IRPscope', isPackaged: true, getVersion: () => '9.8.7-about' },
  Menu: {
    buildFromTemplate: (template: MenuItemConstructorOptions[]) => {
      recorded.template = template;
      return template;
    },
    setApplicationMenu: () => {},
  },
  dialog: {
    showMessageBox: async (...args: unknown[]) => {
      recorded.boxes.push(args.at(-1) as MessageBoxOptions);
      return { response: 0 };
    },
  },
  BrowserWindow: { fromWebContents: () => null },
  ipcMain: { handle: () => {} },
}));

const { buildMenu } = await import('../../../src/main/menu');
type Backend = Parameters<typeof buildMenu>[0];
const backend = { recent: async () => [] } as unknown as Backend;

const platform = process.platform;
afterEach(() => {
  Object.defineProperty(process, 'platform', { value: platform });
  recorded.boxes = [];
});

function item(menu: MenuItemConstructorOptions | undefined, label: string): MenuItemConstructorOptions {
  const submenu = (menu?.submenu ?? []) as MenuItemConstructorOptions[];
  const found = submenu.find((entry) => entry.label === label);
  expect(found, `${menu?.label ?? menu?.role} › ${label}`).toBeDefined();
  return found!;
}

async function openAbout(about: MenuItemConstructorOptions): Promise<MessageBoxOptions> {
  (about.click as () => void)();
  await vi.waitFor(() => expect(recorded.boxes).toHaveLength(1));
  return recorded.boxes[0]!;
}

function expectAbout(box: MessageBoxOptions): void {
  expect(box.title).toBe('About IRPscope');
  expect(box.message).toBe('IRPscope 9.8.7-about');
  expect(box.detail).toContain(`Node.js ${process.versions.node}`);
  expect(box.detail).toMatch(/No automatic updates: IRPscope never checks for updates, never downloads them/);
  expect(box.detail).toMatch(/An offline forensic tool must not phone home/);
}

test('Help › About IRPscope says the version and that the app never updates itself, and why', async () => {
  Object.defineProperty(process, 'platform', { value: 'linux' });
  await buildMenu(backend, () => null);
  const help = recorded.template.find((menu) => menu.role === 'help');
  expectAbout(await openAbout(item(help, 'About IRPscope')));
});

test('on macOS the same window is the first item of the application menu', async () => {
  Object.defineProperty(process, 'platform', { value: 'darwin' });
  await buildMenu(backend, () => null);
  const [appMenu] = recorded.template;
  expect(appMenu?.label).toBe('IRPscope');
  expect((appMenu?.submenu as MenuItemConstructorOptions[])[0]?.label).toBe('About IRPscope');
  expect(recorded.template.some((menu) => menu.role === 'help')).toBe(false);
  expectAbout(await openAbout(item(appMenu, 'About IRPscope')));
});
