// The last part of a path, for Windows and POSIX paths alike (the engine names files without
// reaching for the platform's path module).

/** `C:\images\win.vmem` or `/images/win.vmem` → `win.vmem`; a trailing separator is ignored. */
export function fileNameOf(path: string): string {
  const parts = path.split(/[\\/]+/).filter((part) => part !== '');
  return parts[parts.length - 1] ?? '';
}
