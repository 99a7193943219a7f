import type { DesktopApi } from '../../common/api';

/** Mirrors src/main/channels.ts MenuCommand (the renderer cannot import the main process's code). */
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

export type DesktopShell = DesktopApi & {
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
};
