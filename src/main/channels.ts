// IPC channel names shared by the main process and the preload.

export const API_CHANNEL = 'irpscope:api:';
export const DESKTOP_CHANNEL = 'irpscope:desktop:';
export const EVENT_CHANNEL = 'irpscope:event';
export const MENU_CHANNEL = 'irpscope:menu';

/** What a menu item asks the focused window to do (the renderer knows its current session). */
export type MenuCommand =
  | { type: 'open-image' }
  | { type: 'open-baseline' }
  | { type: 'practice-image' }
  | { type: 'export'; format: 'html' | 'json' | 'csv' }
  | { type: 'navigate'; view: string }
  | { type: 'go-to-address' }
  | { type: 'back' }
  | { type: 'forward' }
  | { type: 'session-opened'; id: string };
