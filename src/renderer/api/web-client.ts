// The IrpscopeApi over HTTP and a WebSocket, for web mode. The page was loaded with the token,
// which the server traded for an HttpOnly cookie: same-origin requests carry it by themselves.

import { API_METHODS, type ApiEvent, type IrpscopeApi, type SessionSummary } from '../../common/api';

async function call(method: string, arg: unknown): Promise<unknown> {
  const response = await fetch(`./api/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ arg: arg ?? null }),
    credentials: 'same-origin',
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
  const listeners = new Set<(event: ApiEvent) => void>();
  let socket: WebSocket | null = null;
  let retry = 500;
  /** Events received per session, to tell a replayed state from a newer one. */
  const seen = new Map<string, number>();

  const connect = (): void => {
    const url = new URL('./events', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(url);
    socket.onopen = () => {
      retry = 500;
      // Events sent before the socket was open (or while it was down) are lost: replay the
      // current state of every session — except those an event has updated meanwhile, whose
      // event is newer than this answer.
      const asked = new Map(seen);
      call('sessions', null).then(
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
      const id = event.type === 'session' ? event.session.id : event.id;
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
    API_METHODS.map((method) => [method, (arg?: unknown) => call(method, arg)]),
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
