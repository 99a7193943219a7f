// Web mode's gatekeeping. The server listens on loopback only, but any local process and any web
// page the user visits can reach loopback: every request must carry the per-run token (the first
// page load in the query, then an HttpOnly SameSite cookie or a header), name this server as its
// Host (a DNS-rebinding page names its own domain) and, when a browser sends an Origin, come
// from this server's own origin.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_HEADER = 'x-irpscope-token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function cookieName(port: number): string {
  // Cookies are shared by every port of a host: name this one after the port.
  return `irpscope-${port}`;
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

export function readCookie(request: IncomingMessage, name: string): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return null;
}

export type TokenSource = 'query' | 'header' | 'cookie' | null;

/** Where a valid token came from, or null when the request has none that matches. */
export function tokenSource(request: IncomingMessage, url: URL, gate: Gate): TokenSource {
  if (sameToken(url.searchParams.get('token'), gate.token)) return 'query';
  const header = request.headers[TOKEN_HEADER];
  if (sameToken(Array.isArray(header) ? header[0] : header, gate.token)) return 'header';
  if (sameToken(readCookie(request, cookieName(gate.port)), gate.token)) return 'cookie';
  return null;
}

export function sessionCookie(gate: Gate): string {
  return `${cookieName(gate.port)}=${gate.token}; Path=/; HttpOnly; SameSite=Strict`;
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
