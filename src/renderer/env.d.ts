/// <reference types="vite/client" />

import type { DesktopApi, IrpscopeApi } from '../common/api';
import type { MenuCommand } from './api/desktop';

declare global {
  interface Window {
    /** Bound by the Electron preload; absent in web mode. */
    irpscope?: IrpscopeApi;
    irpscopeDesktop?: DesktopApi & { onMenuCommand(listener: (command: MenuCommand) => void): () => void };
  }
}
