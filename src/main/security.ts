// The desktop shell's guard rails, item by item from Electron's security checklist
// (docs/security.md says how each item is met). The window shows only the app's own pages:
// nothing navigates, redirects, opens a window or attaches a webview elsewhere, no permission is
// ever granted, and nothing opens a link outside the app.

import type { App, Session, WebContents } from 'electron';
import { APP_ORIGIN } from './origin';

/** Whether `url` is one of the app's own pages (the app:// origin, or the dev server in development). */
export function isAppUrl(
  url: string,
  devRendererUrl: string | undefined = process.env.ELECTRON_RENDERER_URL,
): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.origin === APP_ORIGIN || `${parsed.protocol}//${parsed.host}` === APP_ORIGIN) return true;
  if (!devRendererUrl) return false;
  const dev = new URL(devRendererUrl);
  return parsed.origin === dev.origin && (dev.hostname === 'localhost' || dev.hostname === '127.0.0.1');
}

/** Every navigation of a frame: only to the app's own pages. */
export function navigationAllowed(url: string): boolean {
  return isAppUrl(url);
}

function guardContents(contents: WebContents): void {
  // No new windows: a link with target=_blank, window.open — from the page or injected markup.
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const stay = (event: { preventDefault(): void }, url: string) => {
    if (!navigationAllowed(url)) event.preventDefault();
  };
  contents.on('will-navigate', stay);
  contents.on('will-redirect', stay);
  contents.on('will-frame-navigate', (event) => {
    if (!navigationAllowed(event.url)) event.preventDefault();
  });
  // The app has no <webview>; one that appears was not put there by the app.
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function guardSession(session: Session): void {
  // Camera, microphone, notifications, geolocation, clipboard, HID, serial, USB...: never.
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.on('will-download', (event) => event.preventDefault());
}

/** Applies the guards to every web contents and session the app ever creates. Before ready. */
export function hardenApp(app: App): void {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => guardContents(contents));
  app.on('session-created', (session) => guardSession(session));
}

/** The default session exists from ready on; guard it too (once is enough: guards replace). */
export function hardenDefaultSession(session: Session): void {
  guardSession(session);
}
