// Entry points: open a file (or a source) as a PhysicalSpace, choosing the container by content.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { FileSource, SourceError, type ByteSource, type FileSourceOptions } from '../source';
import { openCrashDump } from './crashdump/open';
import { openElfCore } from './elf';
import { ImageError } from './errors';
import { openLime } from './lime';
import { openRaw } from './raw';
import { SNIFF_BYTES, sniff } from './sniff';
import type { PhysicalSpace } from './types';
import { isVmwareMagic, openVmware } from './vmware';

export interface OpenImageOptions extends FileSourceOptions {
  /** The .vmss/.vmsn for a .vmem, when it is not beside it under the same name. */
  readonly vmwareMetadataPath?: string;
  /** The .vmem for a .vmss/.vmsn whose memory is not embedded, when not beside it. */
  readonly vmwareMemoryPath?: string;
}

/** Files that travel with the main one (found by name by `openImage`, or given by a test). */
export interface Companions {
  readonly vmwareMetadata?: ByteSource;
  readonly vmwareMemory?: ByteSource;
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

/** Opens an image from a source already at hand (tests, live captures). */
export function openImageFromSource(source: ByteSource, companions: Companions = {}): PhysicalSpace {
  const kind = sniff(source.name, source.read(0, SNIFF_BYTES), source.size);
  if (kind === 'raw') {
    if (companions.vmwareMetadata !== undefined)
      return openVmware({ metadata: companions.vmwareMetadata, memory: source });
    return openRaw(source);
  }
  if (kind === 'vmware') return openVmware({ metadata: source, memory: companions.vmwareMemory });
  return openByKind(source, kind);
}

function openByKind(source: ByteSource, kind: 'crashdump' | 'elf' | 'lime'): PhysicalSpace {
  switch (kind) {
    case 'crashdump':
      return openCrashDump(source);
    case 'elf':
      return openElfCore(source);
    case 'lime':
      return openLime(source);
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
