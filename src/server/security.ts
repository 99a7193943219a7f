// Web mode's gatekeeping. The server listens on loopback only, but any local process and any web
// page the user visits can reach loopback. Every API call and the event socket must carry the
// per-run token — in a header, or the WebSocket's subprotocol list — that the page holds itself
// (from the address's #fragment, which no request carries, kept in sessionStorage): never a
// cookie, because a browser sends a host's cookies to every port of it, so any other local
// service would receive the token. Every request must name this server as its Host (a
// DNS-rebinding page names its own domain) and, when a browser sends an Origin, come from this
// server's own origin. The renderer's static files hold no secret and need only those two checks.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_HEADER = 'x-irpscope-token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export interface Gate {
  port: number;
  token: string;
}

function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export function hostAllowed(request: IncomingMessage, gate: Gate): boolean {
  const host = request.headers.host?.toLowerCase();
  return host !== undefined && allowedHosts(gate.port).includes(host);
}

/** No Origin (a same-origin GET, a non-browser client) passes; a foreign Origin never does. */
export function originAllowed(request: IncomingMessage, gate: Gate): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  return allowedHosts(gate.port).some((host) => origin.toLowerCase() === `http://${host}`);
}

/** The WebSocket subprotocol the server answers with; the token travels as a second one. */
export const EVENTS_PROTOCOL = 'irpscope';
const TOKEN_PROTOCOL_PREFIX = 'irpscope-token.';

export function tokenProtocol(token: string): string {
  return `${TOKEN_PROTOCOL_PREFIX}${token}`;
}

/** The token a request carries in the header (API) or subprotocol list (event socket), if valid. */
export function hasToken(request: IncomingMessage, gate: Gate): boolean {
  const header = request.headers[TOKEN_HEADER];
  if (sameToken(Array.isArray(header) ? header[0] : header, gate.token)) return true;
  const protocols = request.headers['sec-websocket-protocol'];
  if (typeof protocols !== 'string') return false;
  return protocols
    .split(',')
    .map((p) => p.trim())
    .some(
      (p) =>
        p.startsWith(TOKEN_PROTOCOL_PREFIX) && sameToken(p.slice(TOKEN_PROTOCOL_PREFIX.length), gate.token),
    );
}

/** A token in the address (`?token=`, the old form): valid or not. */
export function queryToken(url: URL, gate: Gate): boolean {
  return sameToken(url.searchParams.get('token'), gate.token);
}

/** The policy sent with every page; the renderer needs no eval and no foreign source. */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // React Flow and Monaco set element styles at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
