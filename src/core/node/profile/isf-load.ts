// Reading ISF files: `.json`, `.json.xz` or `.json.gz`, decompressed, checked by parseIsf, and
// parsed once per path.

import { xz } from '@napi-rs/lzma';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { IsfError, parseIsf, type IsfFile } from '../../profile/isf';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const GZIP_MAGIC = [0x1f, 0x8b];

const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

async function decompress(bytes: Uint8Array, path: string): Promise<Uint8Array> {
  try {
    if (startsWith(bytes, XZ_MAGIC)) return await xz.decompress(bytes);
    if (startsWith(bytes, GZIP_MAGIC)) return await promisify(gunzip)(bytes);
  } catch (error) {
    throw new IsfError(`${path}: corrupt or truncated compressed data (${(error as Error).message})`);
  }
  if (/\.(xz|gz)$/i.test(path)) throw new IsfError(`${path}: not xz or gzip data despite its name`);
  return bytes;
}

async function readIsf(path: string): Promise<IsfFile> {
  let raw: Uint8Array;
  try {
    raw = await readFile(path);
  } catch (error) {
    throw new IsfError(`${path}: cannot read symbol table (${(error as Error).message})`);
  }
  const bytes = await decompress(raw, path);
  return parseIsf(new TextDecoder('utf-8').decode(bytes), path);
}

const cache = new Map<string, Promise<IsfFile>>();

/**
 * Loads and validates an ISF file. Parsed files are cached by absolute path (a symbol file is
 * immutable once named by its GUID); a failed load is not cached.
 */
export function loadIsf(path: string): Promise<IsfFile> {
  const key = resolve(path);
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = readIsf(key);
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

export function clearIsfCache(): void {
  cache.clear();
}
