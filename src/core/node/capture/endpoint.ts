// Where a QMP socket is: a unix socket path, or host:port on this machine. QEMU writes the dump
// itself, on its own machine, so only a loopback TCP address is accepted: the file must be one
// IRPscope can then open.

import { isAbsolute, resolve } from 'node:path';
import { CaptureError } from './errors';

export type QmpEndpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function parseEndpoint(text: string): QmpEndpoint {
  const value = text.trim();
  if (value === '') throw new CaptureError('bad-target', 'no QMP socket given');
  const unix = /^unix:(.+)$/.exec(value);
  if (unix) return { kind: 'unix', path: resolve(unix[1]!) };
  const tcp = /^(?:tcp:)?(\[[^\]]+\]|[^:/\\]+):(\d{1,5})$/.exec(value);
  if (tcp && !isAbsolute(value)) {
    const host = tcp[1]!;
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535)
      throw new CaptureError('bad-target', `${value}: port ${port} is out of range`);
    if (!LOOPBACK.has(host))
      throw new CaptureError(
        'bad-target',
        `${value}: QEMU writes the dump on its own machine, so only a QMP socket on this machine (127.0.0.1, ::1, localhost or a unix socket) can be captured`,
      );
    return { kind: 'tcp', host: host.replace(/^\[|\]$/g, ''), port };
  }
  return { kind: 'unix', path: resolve(value) };
}

export function describeEndpoint(endpoint: QmpEndpoint): string {
  return endpoint.kind === 'unix'
    ? endpoint.path
    : `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}
