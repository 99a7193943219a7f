// The desktop shell: one BrowserWindow (sessions are tabs inside it), the renderer loaded from
// the app:// scheme with a strict CSP, the API served over IPC by the backend — whose engine work
// runs in worker threads — native dialogs, menus, and taskbar/dock progress.

import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, dialog, ipcMain, protocol, session, type IpcMainInvokeEvent } from 'electron';
import type { ApiEvent, SessionSummary } from '../common/api';
import { visibleText } from '../common/visible-text';
import { Backend } from '../backend/index';
import { EVENT_CHANNEL } from './channels';
import { printPdfWithElectron } from './print-pdf';
import { desktopHandlers } from './dialogs';
import { registerApiHandlers, registerDesktopHandlers } from './ipc';
import { buildMenu } from './menu';
import { APP_ORIGIN, registerAppProtocol, registerAppScheme } from './app-protocol';
import { hardenApp, hardenDefaultSession, isAppUrl } from './security';
import { launchRequest, type LaunchRequest } from './launch-paths';

registerAppScheme();
hardenApp(app);
// Tests (and analysts who keep cases apart) can point the app at another data folder.
if (process.env.IRPSCOPE_DATA_DIR) app.setPath('userData', process.env.IRPSCOPE_DATA_DIR);

const rendererDirectory = fileURLToPath(new URL('../renderer/', import.meta.url));
const preload = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));

function cliImages(argv: string[]): LaunchRequest {
  const isFile = (path: string): boolean => existsSync(path) && statSync(path).isFile();
  return launchRequest(argv.slice(app.isPackaged ? 1 : 2), isFile);
}

// macOS hands the app a file opened from the Finder (a file association, the Dock icon) as an
// event rather than in argv, possibly before the app is ready: those wait for the backend.
const openedBeforeReady: string[] = [];
let openFromSystem = (path: string): void => void openedBeforeReady.push(path);
app.on('open-file', (event, path) => {
  event.preventDefault();
  openFromSystem(path);
});

/** IPC is answered only for the app's own top-level page (checklist: validate every sender). */
function trustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return !!frame && frame.parent === null && isAppUrl(frame.url);
}

let backend: Backend;
let mainWindow: BrowserWindow | null = null;

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    backgroundColor: '#11151c',
    title: 'IRPscope',
    show: false,
    webPreferences: {
      preload,
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  });
  // Navigation, new windows, webviews and permissions are guarded for every web contents (security.ts).
  window.once('ready-to-show', () => window.show());
  if (process.env.ELECTRON_RENDERER_URL) void window.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void window.loadURL(`${APP_ORIGIN}/index.html`);
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  return window;
}

function focusMainWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

/** Taskbar/dock progress: the mean fraction of the analyses still running. */
function showProgress(sessions: SessionSummary[]): void {
  const running = sessions.filter((s) => s.state === 'analysing' || s.state === 'queued');
  const fraction =
    running.length === 0 ? -1 : running.reduce((n, s) => n + (s.progress?.fraction ?? 0), 0) / running.length;
  for (const window of BrowserWindow.getAllWindows())
    window.setProgressBar(fraction < 0 ? -1 : Math.max(0.01, fraction));
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  hardenDefaultSession(session.defaultSession);
  const { images, symbols } = cliImages(process.argv);
  backend = new Backend({
    mode: 'desktop',
    version: app.getVersion(),
    dataDirectory: app.getPath('userData'),
    symbolsDirectory: symbols,
    printPdf: printPdfWithElectron,
  });
  registerAppProtocol(protocol, rendererDirectory);

  registerApiHandlers(ipcMain, backend, { trusted: trustedSender });
  registerDesktopHandlers(ipcMain, desktopHandlers, { trusted: trustedSender });

  const summaries = new Map<string, SessionSummary>();
  let refreshMenu = (): void => {};
  backend.subscribe((event: ApiEvent) => {
    if (event.type === 'session') summaries.set(event.session.id, event.session);
    else if (event.type === 'session-closed') summaries.delete(event.id);
    for (const window of BrowserWindow.getAllWindows()) window.webContents.send(EVENT_CHANNEL, event);
    showProgress([...summaries.values()]);
    if (event.type === 'session' && event.session.state !== 'analysing') refreshMenu();
  });

  mainWindow = createWindow();
  refreshMenu = () => void buildMenu(backend, () => mainWindow);
  refreshMenu();

  const openOrSay = (path: string): void => {
    backend.open({ path }).catch((error: Error) => {
      dialog.showErrorBox('Cannot open the image', visibleText(error.message));
    });
  };
  openFromSystem = (path) => {
    openOrSay(path);
    focusMainWindow();
  };
  const launched = [...images, ...openedBeforeReady.splice(0)];
  for (const image of launched) await backend.open({ path: image });
  if (launched.length === 0) await backend.openDemo();

  app.on('second-instance', (_event, argv) => {
    for (const image of cliImages(argv).images) openOrSay(image);
    focusMainWindow();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', () => backend.dispose());
}

void main();
