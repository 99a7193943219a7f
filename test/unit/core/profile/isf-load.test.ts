// Loading ISF files (good and bad input) and finding them in symbol folders by PDB GUID/age.

import { xz } from '@napi-rs/lzma';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsfError, isfStruct } from '../../../../src/core/profile';
import { findIsfForPdb } from '../../../../src/core/node/profile/isf-find';
import { clearIsfCache, loadIsf } from '../../../../src/core/node/profile/isf-load';
import { ISF_KERNEL_DIR, ISF_SYMBOL_DIR, SHARED_ISFS } from './shared-isf';

const GUID = '0123456789ABCDEF0123456789ABCDEF';

/** The smallest file that passes validation: a 32-bit kernel table with one user type. */
function miniIsf(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    metadata: { windows: { pdb: { GUID, age: 2, database: 'ntkrnlpa.pdb', machine_type: 0x14c } } },
    base_types: { pointer: { kind: 'int', size: 4, signed: false, endian: 'little' } },
    user_types: { _DRIVER_OBJECT: { kind: 'struct', size: 0xa8, fields: {} } },
    enums: {},
    symbols: { PsLoadedModuleList: { address: 0x1234 } },
    ...overrides,
  });
}

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irpscope-isf-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadIsf', () => {
  it('reads plain, xz and gzip JSON and reports the PDB and architecture', async () => {
    await writeFile(file('plain.json'), miniIsf());
    await writeFile(file('packed.json.xz'), await xz.compress(miniIsf()));
    await writeFile(file('packed.json.gz'), await promisify(gzip)(miniIsf()));
    for (const name of ['plain.json', 'packed.json.xz', 'packed.json.gz']) {
      const isf = await loadIsf(file(name));
      expect(isf.pdb).toEqual({ name: 'ntkrnlpa.pdb', guid: GUID, age: 2, machineType: 0x14c });
      expect(isf.arch).toBe('x86');
      expect(isf.pointerSize).toBe(4);
      expect(isf.symbols['PsLoadedModuleList']?.address).toBe(0x1234);
    }
  });

  it('caches a parsed file by path and forgets failures', async () => {
    const path = file('cached.json');
    await writeFile(path, miniIsf());
    const first = await loadIsf(path);
    await writeFile(path, 'garbage');
    expect(await loadIsf(path)).toBe(first);
    clearIsfCache();
    await expect(loadIsf(path)).rejects.toThrow(IsfError);
    await writeFile(path, miniIsf());
    await expect(loadIsf(path)).resolves.toMatchObject({ arch: 'x86' });
  });

  it('treats inherited object keys as absent names', async () => {
    await writeFile(file('proto.json'), miniIsf());
    const isf = await loadIsf(file('proto.json'));
    expect(isfStruct(isf, 'constructor')).toBeUndefined();
    expect(isfStruct(isf, '_DRIVER_OBJECT')).toEqual({ size: 0xa8, fields: {} });
  });

  it('says clearly when a file is not JSON', async () => {
    await writeFile(file('text.json'), 'this is not a symbol table');
    await expect(loadIsf(file('text.json'))).rejects.toThrow(/text\.json: not a JSON symbol table/);
  });

  it('says clearly when JSON is not a Windows kernel symbol table', async () => {
    const cases: [string, string, RegExp][] = [
      ['array.json', '[1, 2, 3]', /not a Windows kernel symbol table: top level is not an object/],
      ['linux.json', miniIsf({ metadata: { linux: {} } }), /no metadata\.windows\.pdb/],
      [
        'user.json',
        miniIsf({ user_types: { _EPROCESS: { kind: 'struct', size: 8, fields: {} } } }),
        /no user_types\._DRIVER_OBJECT/,
      ],
      ['nosym.json', miniIsf({ symbols: undefined }), /no symbols/],
      [
        'guid.json',
        miniIsf({ metadata: { windows: { pdb: { GUID: 'xyz', age: 1, database: 'ntkrnlmp.pdb' } } } }),
        /GUID is missing/,
      ],
      [
        'machine.json',
        miniIsf({
          metadata: { windows: { pdb: { GUID, age: 1, database: 'ntkrnlmp.pdb', machine_type: 0x8664 } } },
        }),
        /machine type 0x8664 is not x86/,
      ],
    ];
    for (const [name, text, message] of cases) {
      await writeFile(file(name), text);
      await expect(loadIsf(file(name)), name).rejects.toThrow(message);
    }
  });

  it('says clearly when compressed data is truncated or not compressed at all', async () => {
    const whole = await readFile(SHARED_ISFS[0]?.file ?? '');
    await writeFile(file('cut.json.xz'), whole.subarray(0, 4096));
    await expect(loadIsf(file('cut.json.xz'))).rejects.toThrow(
      /cut\.json\.xz: corrupt or truncated compressed data/,
    );
    await writeFile(file('fake.json.xz'), miniIsf());
    await expect(loadIsf(file('fake.json.xz'))).rejects.toThrow(/not xz or gzip data despite its name/);
    await expect(loadIsf(file('missing.json.xz'))).rejects.toThrow(
      /missing\.json\.xz: cannot read symbol table/,
    );
  });
});

describe('findIsfForPdb', () => {
  it('finds every shared file in its Volatility 3 symbol folder by GUID and age', async () => {
    for (const shared of SHARED_ISFS) {
      expect(await findIsfForPdb(ISF_SYMBOL_DIR, 'ntkrnlmp.pdb', shared.guid, shared.age)).toBe(shared.file);
    }
  });

  it('accepts lower-case and braced GUIDs and a folder that already is the PDB folder', async () => {
    const shared = SHARED_ISFS[5];
    if (shared === undefined) throw new Error('no shared ISF');
    expect(await findIsfForPdb(ISF_SYMBOL_DIR, 'ntkrnlmp.pdb', shared.guid.toLowerCase(), 1)).toBe(
      shared.file,
    );
    const braced = `{${shared.guid.slice(0, 8)}-${shared.guid.slice(8, 12)}-${shared.guid.slice(12)}}`;
    expect(await findIsfForPdb(ISF_SYMBOL_DIR, 'ntkrnlmp.pdb', braced, 1)).toBe(shared.file);
    expect(await findIsfForPdb(ISF_KERNEL_DIR, 'ntkrnlmp.pdb', shared.guid, 1)).toBe(shared.file);
  });

  it('returns undefined for another age, another GUID or a missing folder', async () => {
    const shared = SHARED_ISFS[0];
    if (shared === undefined) throw new Error('no shared ISF');
    expect(await findIsfForPdb(ISF_SYMBOL_DIR, 'ntkrnlmp.pdb', shared.guid, 2)).toBeUndefined();
    expect(await findIsfForPdb(ISF_SYMBOL_DIR, 'ntkrnlmp.pdb', GUID, 1)).toBeUndefined();
    expect(await findIsfForPdb(file('no-such-folder'), 'ntkrnlmp.pdb', GUID, 1)).toBeUndefined();
  });

  it('ignores path tricks in the image-supplied PDB name and GUID', async () => {
    const shared = SHARED_ISFS[2];
    if (shared === undefined) throw new Error('no shared ISF');
    // A hostile RSDS record cannot steer the search outside the symbol folder.
    expect(await findIsfForPdb(ISF_KERNEL_DIR, '../../..', shared.guid, 1)).toBe(shared.file);
    expect(await findIsfForPdb(ISF_SYMBOL_DIR, 'ntkrnlmp.pdb', `../${shared.guid}`, 1)).toBeUndefined();
    expect(await findIsfForPdb(ISF_SYMBOL_DIR, 'ntkrnlmp.pdb', shared.guid, -1)).toBeUndefined();
  });

  it('finds files in a flat folder, in any nesting, and as plain .json, ignoring name case', async () => {
    const shared = SHARED_ISFS[1];
    if (shared === undefined) throw new Error('no shared ISF');
    const flat = file('flat');
    await mkdir(flat);
    await copyFile(shared.file, join(flat, `${shared.guid}-1.json.xz`));
    expect(await findIsfForPdb(flat, 'ntkrnlmp.pdb', shared.guid, 1)).toBe(
      join(flat, `${shared.guid}-1.json.xz`),
    );

    const nested = join(file('nested'), 'packs', 'win', 'x64');
    await mkdir(nested, { recursive: true });
    const lower = join(nested, `${GUID.toLowerCase()}-2.json`);
    await writeFile(lower, miniIsf());
    expect(await findIsfForPdb(file('nested'), 'ntkrnlpa.pdb', GUID, 2)).toBe(lower);
    expect(await findIsfForPdb(file('nested'), 'ntkrnlpa.pdb', GUID, 3)).toBeUndefined();
  });
});
