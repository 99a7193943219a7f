/// <reference types="vite/client" />

import type { DesktopApi, IrpscopeApi } from '../common/api';

declare global {
  interface Window {
    /** Bound by the Electron preload; absent in web mode. */
    irpscope?: IrpscopeApi;
    irpscopeDesktop?: DesktopApi;
  }
}
