// Where a capture's image goes. Checked before any VM is touched: the path is made absolute (it
// is handed to another process — QEMU, libvirtd — whose working folder is not ours), whatever is
// there already must be a regular file (a FIFO, a device or a folder would be written into or
// replaced), and its folder must exist on a file system that takes files. Then the file is
// written under a temporary name beside it and renamed into place only when complete.

import { accessSync, constants, lstatSync, statSync, statfsSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OutputError, externalTemp } from '../util/atomic-file';
import { CaptureError } from './errors';

export interface DumpTarget {
  /** The absolute path the image ends at. */
  path: string;
  /** The absolute temporary path the hypervisor writes. */
  temp: string;
  /** The temporary file's size now, or null when it is not there. */
  size(): number | null;
  commit(): void;
  discard(): void;
}

/** Linux file systems that hold the kernel's own entries, not files (linux/magic.h). */
const VIRTUAL_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
  [0xf97cff8c, 'selinuxfs'],
  [0x42494e4d, 'binfmt_misc'],
  [0x19800202, 'mqueue'],
  [0x6e736673, 'nsfs'],
  [0x958458f6, 'hugetlbfs'],
]);

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

function refuse(path: string, reason: string): CaptureError {
  return new CaptureError('output', `cannot write ${path}: ${reason}`);
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** What is at `path` now: nothing, or a regular file (through a symbolic link or not). */
function checkExisting(path: string): void {
  let link: Stats;
  try {
    link = lstatSync(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    if (errorCode(error) === 'ENOTDIR') throw refuse(path, 'a part of its path is not a folder');
    throw refuse(path, (error as Error).message);
  }
  if (!link.isSymbolicLink()) {
    if (!link.isFile()) throw refuse(path, `it is not a regular file but ${kindOf(link)}`);
    return;
  }
  let target: Stats;
  try {
    target = statSync(path);
  } catch {
    return; // A link to nothing: the rename replaces the link.
  }
  if (!target.isFile())
    throw refuse(path, `it is not a regular file but a symbolic link to ${kindOf(target)}`);
}

function checkFolder(path: string, folder: string): void {
  let stats: Stats;
  try {
    stats = statSync(folder);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw refuse(path, 'its folder does not exist');
    if (errorCode(error) === 'ENOTDIR') throw refuse(path, `a part of its path is not a folder`);
    throw refuse(path, (error as Error).message);
  }
  if (!stats.isDirectory()) throw refuse(path, `${folder} is not a folder`);
  if (process.platform === 'linux') {
    const system = VIRTUAL_FILE_SYSTEMS.get(Number(statfsSync(folder).type));
    if (system) throw refuse(path, `${folder} is on ${system}, not a regular file system`);
  }
  try {
    accessSync(folder, constants.W_OK);
  } catch (error) {
    if (errorCode(error) === 'EROFS') throw refuse(path, `${folder} is on a read-only file system`);
    throw refuse(path, `its folder ${folder} is not writable (permission denied)`);
  }
}

/** The absolute path for `out`, or a CaptureError('output') that says why it cannot take an image. */
export function checkOutput(out: string): string {
  if (out.trim() === '') throw new CaptureError('bad-target', 'say where the image goes: --out FILE');
  const path = resolve(out);
  checkExisting(path);
  checkFolder(path, dirname(path));
  return path;
}

/** Checks `out` and creates the temporary file the hypervisor will write. */
export function prepareOutput(out: string): DumpTarget {
  const path = checkOutput(out);
  let target: ReturnType<typeof externalTemp>;
  try {
    target = externalTemp(path);
  } catch (error) {
    throw error instanceof OutputError ? new CaptureError('output', error.message) : error;
  }
  return {
    path,
    temp: target.temp,
    size() {
      try {
        return statSync(target.temp).size;
      } catch {
        return null;
      }
    },
    commit() {
      try {
        // Again: something may have appeared at the path while the VM was being dumped.
        checkExisting(path);
      } catch (error) {
        target.discard();
        throw error;
      }
      try {
        target.commit();
      } catch (error) {
        throw error instanceof OutputError ? new CaptureError('output', error.message) : error;
      }
    },
    discard: () => target.discard(),
  };
}

/**
 * What a core may leave out of the guest's memory: the first MiB, where the legacy VGA window and
 * ROMs can take the place of RAM (QEMU with a VGA card, VirtualBox, and crash dumps all describe
 * RAM as 0–640 KiB, then from 1 MiB up).
 */
const LEGACY_AREA = 1 << 20;

/**
 * Whether a dump the hypervisor called complete is all there: a file, not empty, and holding at
 * least the guest's memory (less the legacy area) when that is known. Null when it is; else the failure.
 */
export function incompleteDump(
  who: string,
  bytes: number | null,
  memoryBytes: number | null,
): CaptureError | null {
  if (bytes === null)
    return new CaptureError('dump-failed', `${who} reported the dump complete, but its file is not there`);
  if (bytes === 0)
    return new CaptureError('dump-failed', `${who} reported the dump complete, but the file holds 0 bytes`);
  if (memoryBytes !== null && bytes < memoryBytes - LEGACY_AREA)
    return new CaptureError(
      'dump-failed',
      `${who} reported the dump complete, but the file holds ${bytes} bytes, fewer than the ${memoryBytes} bytes of the VM's memory (less its first MiB, which may be device memory)`,
    );
  return null;
}
