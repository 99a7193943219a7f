// --path-map FROM=TO: where a worker sees the shared storage the submitter named (mounted at
// /mnt/evidence here, /srv/cases there). The longest FROM that is a whole-folder prefix of a path
// wins; other paths are used as they are.

import { FleetError } from './errors';

export interface PathMapping {
  from: string;
  to: string;
}

const trimSlash = (path: string): string => (path.length > 1 ? path.replace(/[\\/]+$/, '') : path);

export function parsePathMap(text: string): PathMapping {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1)
    throw new FleetError(`--path-map takes FROM=TO (two folders), not ${JSON.stringify(text)}`);
  return { from: trimSlash(text.slice(0, at)), to: trimSlash(text.slice(at + 1)) };
}

export function pathMapper(mappings: readonly PathMapping[]): (path: string) => string {
  const ordered = [...mappings].sort((a, b) => b.from.length - a.from.length);
  return (path) => {
    for (const { from, to } of ordered) {
      if (path === from) return to;
      const root = from === '/' || from === '\\';
      if (root && path.startsWith(from)) return `${to}/${path.slice(1)}`.replace(/\/\/+/g, '/');
      if (path.startsWith(from) && (path[from.length] === '/' || path[from.length] === '\\'))
        return to + path.slice(from.length);
    }
    return path;
  };
}
