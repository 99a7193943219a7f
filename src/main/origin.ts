// Where the desktop app's own pages come from: the privileged app:// scheme (not file://), so
// 'self' in the Content-Security-Policy means exactly the app's files.

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://irpscope`;
