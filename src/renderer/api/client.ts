// The renderer's one handle on the backend: the preload's binding in the desktop app, the
// HTTP/WebSocket client in a browser. Nothing else in the renderer knows which it has.

import type { DesktopApi, IrpscopeApi } from '../../common/api';
import { createWebClient } from './web-client';

export const api: IrpscopeApi = window.irpscope ?? createWebClient();
export const desktop: DesktopApi | null = window.irpscopeDesktop ?? null;
