// IPC channel names shared by the main process and the preload.

export const API_CHANNEL = 'irpscope:api:';
export const DESKTOP_CHANNEL = 'irpscope:desktop:';
export const EVENT_CHANNEL = 'irpscope:event';
export const MENU_CHANNEL = 'irpscope:menu';
