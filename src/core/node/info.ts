// `info`: open an image and find its kernel, as the ImageInfo document.

import { statSync } from 'node:fs';
import type { ImageInfo } from '../../common/model';
import { discoverKernel, type KernelContext } from '../kernel/discover';
import { establishLayouts } from '../layout';
import { openImage } from './open-image';
import { symbolFolder } from './profile/symbol-folder';

export interface InfoOptions {
  symbols?: string;
}

/**
 * Opens `path`, discovers its kernel, establishes its structure layouts and returns the context
 * (the caller closes `context.space`).
 */
export async function openKernel(path: string, options: InfoOptions = {}): Promise<KernelContext> {
  const space = openImage(path);
  try {
    const context = establishLayouts(
      await discoverKernel(space, {
        path,
        fileSize: statSync(path).size,
        symbols: symbolFolder(options.symbols),
      }),
    );
    context.info.bytesRead = space.bytesRead;
    return context;
  } catch (error) {
    space.close();
    throw error;
  }
}

export async function imageInfo(path: string, options: InfoOptions = {}): Promise<ImageInfo> {
  const context = await openKernel(path, options);
  try {
    return context.info;
  } finally {
    context.space.close();
  }
}
