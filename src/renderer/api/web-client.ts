// The IrpscopeApi over HTTP and a WebSocket, for web mode. The page was opened with the token in
// its #fragment (never sent by the browser): it keeps the token in this tab's sessionStorage
// (private to this origin, so to this port) and sends it itself — as a header on API calls and
// as a subprotocol of the event socket. No cookie: cookies reach every port of 127.0.0.1.

import { API_METHODS, type ApiEvent, type IrpscopeApi, type SessionSummary } from '../../common/api';

const TOKEN_KEY = 'irpscope-token';

/** The token from the address (then removed from it and from history), else from this tab. */
function takeToken(): string {
  const fromAddress = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromAddress) {
    sessionStorage.setItem(TOKEN_KEY, fromAddress);
    history.replaceState(history.state, '', `${location.pathname}${location.search}`);
    return fromAddress;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

async function call(token: string, method: string, arg: unknown): Promise<unknown> {
  const response = await fetch(`./api/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-IRPscope-Token': token },
    body: JSON.stringify({ arg: arg ?? null }),
    credentials: 'omit',
  });
  let body: { ok: boolean; value?: unknown; error?: { message: string } };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new Error(`the server answered ${response.status} without JSON`);
  }
  if (!body.ok) throw new Error(body.error?.message ?? `request failed (${response.status})`);
  return body.value;
}

export function createWebClient(): IrpscopeApi {
  const token = takeToken();
  const listeners = new Set<(event: ApiEvent) => void>();
  let socket: WebSocket | null = null;
  let retry = 500;
  /** Events received per session, to tell a replayed state from a newer one. */
  const seen = new Map<string, number>();

  const connect = (): void => {
    const url = new URL('./events', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(url, ['irpscope', `irpscope-token.${token}`]);
    socket.onopen = () => {
      retry = 500;
      // Events sent before the socket was open (or while it was down) are lost: replay the
      // current state of every session — except those an event has updated meanwhile, whose
      // event is newer than this answer.
      const asked = new Map(seen);
      call(token, 'sessions', null).then(
        (sessions) => {
          for (const session of sessions as SessionSummary[]) {
            if ((seen.get(session.id) ?? 0) !== (asked.get(session.id) ?? 0)) continue;
            for (const listener of listeners) listener({ type: 'session', session });
          }
        },
        () => {},
      );
    };
    socket.onmessage = (message) => {
      let event: ApiEvent;
      try {
        event = JSON.parse(String(message.data)) as ApiEvent;
      } catch {
        return;
      }
      const id =
        event.type === 'session'
          ? event.session.id
          : event.type === 'capture'
            ? event.capture.id
            : event.type === 'case'
              ? `case:${event.session}`
              : event.id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      for (const listener of listeners) listener(event);
    };
    socket.onclose = () => {
      socket = null;
      if (listeners.size > 0) {
        // The server went away (restart, sleep): keep trying, more slowly each time.
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 10_000);
      }
    };
  };

  const methods = Object.fromEntries(
    API_METHODS.map((method) => [method, (arg?: unknown) => call(token, method, arg)]),
  );
  return {
    ...(methods as Omit<IrpscopeApi, 'subscribe'>),
    subscribe(listener) {
      listeners.add(listener);
      if (!socket) connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) socket?.close();
      };
    },
  };
}
