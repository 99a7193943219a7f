// Opening an image file by its path as a PhysicalSpace: the container chosen by content, and a
// VMware .vmem's .vmss/.vmsn (or a .vmss's .vmem) found beside it by name.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { ImageError } from '../image/errors';
import { openByKind } from '../image/open';
import { openRaw } from '../image/raw';
import { SNIFF_BYTES, sniff } from '../image/sniff';
import type { PhysicalSpace } from '../image/types';
import { isVmwareMagic, openVmware } from '../image/vmware';
import { SourceError, type ByteSource } from '../source';
import { FileSource, type FileSourceOptions } from './file-source';

export interface OpenImageOptions extends FileSourceOptions {
  /** The .vmss/.vmsn for a .vmem, when it is not beside it under the same name. */
  readonly vmwareMetadataPath?: string;
  /** The .vmem for a .vmss/.vmsn whose memory is not embedded, when not beside it. */
  readonly vmwareMemoryPath?: string;
}

/**
 * Opens an image file. Throws `ImageError` (with a `kind`) when the file is missing, empty, a
 * directory, unreadable, not a memory image, or a container IRPscope does not read.
 */
export function openImage(path: string, options: OpenImageOptions = {}): PhysicalSpace {
  const source = openFile(path, options);
  const opened: ByteSource[] = [source];
  try {
    const kind = sniff(path, source.read(0, SNIFF_BYTES), source.size);
    if (kind === 'raw') {
      const metadataPath = options.vmwareMetadataPath ?? findBeside(path, ['.vmss', '.vmsn']);
      if (metadataPath !== undefined) {
        const metadata = openFile(metadataPath, options);
        opened.push(metadata);
        if (isVmwareMagic(metadata.read(0, 4))) return openVmware({ metadata, memory: source });
        metadata.close();
        return openRaw(source, [`${metadataPath} is not a VMware state file; ${path} read as raw`]);
      }
      const note = /\.vmem$/i.test(path)
        ? [
            `no .vmss/.vmsn beside ${nodePath.basename(path)}: read as raw (physical address = file offset), which is wrong if the VM had memory above a PCI hole`,
          ]
        : [];
      return openRaw(source, note);
    }
    if (kind === 'vmware') {
      const memoryPath = options.vmwareMemoryPath;
      if (memoryPath !== undefined) {
        const memory = openFile(memoryPath, options);
        opened.push(memory);
        return openVmware({ metadata: source, memory });
      }
      try {
        return openVmware({ metadata: source });
      } catch (error) {
        const beside = findBeside(path, ['.vmem']);
        if (!(error instanceof ImageError) || error.kind !== 'missing-companion' || beside === undefined)
          throw error;
        const memory = openFile(beside, options);
        opened.push(memory);
        return openVmware({ metadata: source, memory });
      }
    }
    return openByKind(source, kind);
  } catch (error) {
    for (const file of opened) file.close();
    throw error;
  }
}

function openFile(path: string, options: FileSourceOptions): FileSource {
  try {
    return FileSource.open(path, options);
  } catch (error) {
    if (error instanceof SourceError && error.kind !== 'closed')
      throw new ImageError(error.kind, error.message);
    throw error;
  }
}

/** `dir/name.ext` → the first existing `dir/name<suffix>` (either case of the suffix). */
function findBeside(path: string, suffixes: readonly string[]): string | undefined {
  const parsed = nodePath.parse(path);
  const stem = nodePath.join(parsed.dir, parsed.name);
  for (const suffix of suffixes) {
    for (const candidate of [stem + suffix, stem + suffix.toUpperCase()]) {
      if (candidate === path) continue;
      try {
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not there
      }
    }
  }
  return undefined;
}
