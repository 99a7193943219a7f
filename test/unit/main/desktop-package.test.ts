// The desktop packages (electron-builder.yml, build/, npm run dist). No package can be built on
// this machine (no Electron binary, none of electron-builder's tools), so what can be checked is
// checked with electron-builder's own code: the configuration as electron-builder loads it, valid
// against its schema; every file it names present; its icon resolution taking our icons as they
// are. The icons are read back against the artwork, the CLI launchers are run in the layouts the
// packages install, and the Linux MIME types are read by the freedesktop database itself.

import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
} from 'node:fs';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AnalysisResult } from '../../../src/common/model';
import { imageForTest } from '../../support/images';
import { expectAnalysisMatchesTruth } from '../../support/truth';

const ROOT = resolve(import.meta.dirname, '../../..');
const BUILD = join(ROOT, 'build');
const fromBuilder = createRequire(createRequire(import.meta.url).resolve('app-builder-lib/package.json'));

interface FileAssociation {
  ext: string | string[];
  name?: string;
  description?: string;
  role?: string;
  rank?: string;
}
interface FileSet {
  from: string;
  to: string;
}
interface PlatformOptions {
  icon?: string;
  target?: string | string[];
  extraResources?: FileSet[];
  fileAssociations?: FileAssociation[];
  executableName?: string;
  mimeTypes?: string[];
}
interface Configuration {
  productName: string;
  publish?: unknown;
  asar?: boolean;
  electronFuses?: Record<string, boolean>;
  files: Array<{ filter: string[] }>;
  fileAssociations?: unknown;
  mac: PlatformOptions;
  win: PlatformOptions;
  linux: PlatformOptions;
  nsis: { include: string };
  deb: { fpm: string[] };
}
interface IconResult {
  icons: Array<{ file: string; size: number }>;
  isFallback: boolean;
}

const { getConfig, validateConfiguration } = fromBuilder('./out/util/config/config') as {
  getConfig(projectDir: string): Promise<Configuration>;
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { convertIcon } = fromBuilder('./out/util/iconConverter') as {
  convertIcon(options: {
    sources: string[];
    fallbackSources: string[];
    roots: string[];
    format: 'icns' | 'ico' | 'set';
    outDir: string;
  }): Promise<IconResult>;
};
const { DebugLogger } = fromBuilder('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
const { minimatch } = fromBuilder('minimatch') as { minimatch(path: string, pattern: string): boolean };

const IMAGE_EXTENSIONS = ['dmp', 'vmem', 'vmsn', 'vmss', 'lime', 'mem'];
const OPEN_WITH_ONLY = ['raw', 'elf'];

let config: Configuration;
let scratch: string;
beforeAll(async () => {
  config = await getConfig(ROOT);
  scratch = mkdtempSync(join(tmpdir(), 'irpscope-package-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const extensions = (association: FileAssociation): string[] => [association.ext].flat();
const buildFile = (path: string): string => resolve(ROOT, path);

describe('the configuration', () => {
  test("is valid for electron-builder's own schema, as electron-builder loads it", async () => {
    expect(config).toMatchObject({
      mac: expect.any(Object),
      win: expect.any(Object),
      linux: expect.any(Object),
    });
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    // The validator does refuse what electron-builder would refuse.
    const misspelt = { ...config, linux: { ...config.linux, mimeType: ['application/x-core'] } };
    await expect(validateConfiguration(misspelt, new DebugLogger(false))).rejects.toThrow(
      /configuration\.linux/,
    );
  });

  test('builds AppImage and .deb, NSIS and .dmg, and never publishes or updates', () => {
    expect([config.linux.target].flat()).toEqual(['AppImage', 'deb']);
    expect([config.win.target].flat()).toEqual(['nsis']);
    expect([config.mac.target].flat()).toEqual(['dmg']);
    expect(config.publish).toBeNull();
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, object>;
    for (const dependencies of [manifest.dependencies, manifest.devDependencies])
      expect(Object.keys(dependencies ?? {})).not.toContain('electron-updater');
  });

  test("flips Electron's fuses: no NODE_OPTIONS or --inspect; RunAsNode kept for the CLI", () => {
    expect(config.electronFuses).toEqual({
      runAsNode: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      resetAdHocDarwinSignature: true,
    });
  });

  test('names only files that exist: the build it packages, icons, launchers, installer parts', () => {
    // What the packaged app loads (package.json main, its preload and renderer, the CLI entry)
    // must be built and inside the packaged files (npm ci builds them through `prepare`).
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string };
    const patterns = config.files.flatMap((set) => set.filter);
    const loaded = [
      manifest.main,
      'out/preload/index.cjs', // src/main/index.ts
      'out/renderer/index.html', // src/main/index.ts, through app://
      'bin/irpscope.mjs', // the CLI launchers
      'out/node/cli.js', // bin/irpscope.mjs
    ];
    for (const file of loaded) {
      expect(existsSync(buildFile(file)), `${file} (run npm run build and npm run build:node)`).toBe(true);
      expect(
        patterns.some((pattern) => minimatch(file, pattern)),
        `${file} is in files`,
      ).toBe(true);
    }
    for (const pattern of patterns) {
      const folder = pattern.replace(/\/\*\*$/, '');
      expect(existsSync(buildFile(folder)), pattern).toBe(true);
    }

    for (const platform of [config.mac, config.win, config.linux]) {
      expect(existsSync(buildFile(platform.icon!)), platform.icon).toBe(true);
      for (const resource of platform.extraResources ?? [])
        expect(existsSync(buildFile(resource.from)), resource.from).toBe(true);
    }
    expect(existsSync(buildFile(config.nsis.include))).toBe(true);
    for (const mapping of config.deb.fpm) {
      const source = mapping.split('=')[0]!;
      expect(existsSync(buildFile(source)), source).toBe(true);
    }
  });

  test('electron-builder takes our icons as they are, for every platform', async () => {
    const roots = [BUILD, ROOT];
    const resolveIcon = (source: string, format: 'icns' | 'ico' | 'set') =>
      convertIcon({ sources: [source], fallbackSources: [], roots, format, outDir: join(scratch, format) });

    const mac = await resolveIcon(config.mac.icon!, 'icns');
    expect(mac.isFallback).toBe(false);
    expect(mac.icons.map((icon) => icon.file)).toEqual([buildFile(config.mac.icon!)]);

    const win = await resolveIcon(config.win.icon!, 'ico');
    expect(win.isFallback).toBe(false);
    expect(win.icons).toEqual([{ file: buildFile(config.win.icon!), size: 256 }]);

    const linux = await resolveIcon(config.linux.icon!, 'set');
    expect(linux.isFallback).toBe(false);
    expect(linux.icons.map((icon) => icon.size)).toEqual([16, 24, 32, 48, 64, 128, 256, 512, 1024]);
    for (const icon of linux.icons) {
      expect(dirname(icon.file)).toBe(buildFile(config.linux.icon!));
      expect(decodePng(readFileSync(icon.file)).width).toBe(icon.size);
    }
    expect(existsSync(join(scratch, 'icns')) || existsSync(join(scratch, 'ico'))).toBe(false);
  });
});

// ---- The icons against the artwork ------------------------------------------------------------

interface Pixels {
  width: number;
  height: number;
  /** RGBA at (x, y), y down. */
  at(x: number, y: number): number[];
}

/** An 8-bit RGBA PNG (what Chromium writes), decoded. */
function decodePng(png: Buffer): Pixels {
  expect(png.subarray(0, 8).toString('latin1')).toBe('\x89PNG\r\n\x1a\n');
  let offset = 8;
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect([body[8], body[9], body[12]]).toEqual([8, 6, 0]); // 8-bit, RGBA, not interlaced
    } else if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 4;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= 4 ? pixels[y * stride + i - 4]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i]! : 0;
      const c = i >= 4 && y > 0 ? pixels[(y - 1) * stride + i - 4]! : 0;
      const paeth = (): number => {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      };
      const predictor = [0, a, b, (a + b) >> 1, paeth()][filter]!;
      pixels[y * stride + i] = (x + predictor) & 0xff;
    }
  }
  return { width, height, at: (x, y) => [...pixels.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)] };
}

/** The artwork's colours and where each shows, in its 64-unit square (resources/icon.svg). */
function artworkSamples(): Array<{ what: string; x: number; y: number; rgba: number[] }> {
  const svg = readFileSync(join(ROOT, 'resources', 'icon.svg'), 'utf8');
  const colour = (pattern: RegExp): number[] => {
    const hex = pattern.exec(svg)?.[1];
    expect(hex, String(pattern)).toBeDefined();
    return [...Buffer.from(hex!, 'hex'), 255];
  };
  return [
    { what: 'the background', x: 56, y: 8, rgba: colour(/<rect[^>]*fill="#([0-9a-f]{6})"/) },
    { what: 'the lens ring', x: 28, y: 13, rgba: colour(/<circle[^>]*stroke="#([0-9a-f]{6})"/) },
    { what: 'the cross', x: 28, y: 28, rgba: colour(/<path d="M21 28[^"]*" stroke="#([0-9a-f]{6})"/) },
    { what: 'outside the rounded corner', x: 0.5, y: 0.5, rgba: [0, 0, 0, 0] },
  ];
}

/** Each sample of the artwork, placed in a `size` icon whose body is `body` pixels, centred. */
function expectArtwork(pixels: Pixels, size: number, body = size): void {
  expect([pixels.width, pixels.height]).toEqual([size, size]);
  const offset = (size - body) / 2;
  for (const { what, x, y, rgba } of artworkSamples()) {
    const actual = pixels.at(Math.floor(offset + (x * body) / 64), Math.floor(offset + (y * body) / 64));
    if (rgba[3] === 0) expect(actual[3], what).toBe(0);
    else
      actual.forEach((value, i) => expect(Math.abs(value - rgba[i]!), `${what}: ${actual}`).toBeLessThan(3));
  }
}

describe('the icons are the artwork', () => {
  test('Linux: each PNG, edge to edge', () => {
    for (const size of [32, 256, 1024])
      expectArtwork(decodePng(readFileSync(join(BUILD, 'icons', `${size}x${size}.png`))), size);
  });

  test('Windows: the .ico holds 16…256, BMP below 256 (rows the right way up), PNG at 256', () => {
    const ico = readFileSync(join(BUILD, 'icon.ico'));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    const sizes: number[] = [];
    for (let i = 0; i < ico.readUInt16LE(4); i++) {
      const entry = 6 + 16 * i;
      const size = ico[entry] || 256;
      const image = ico.subarray(
        ico.readUInt32LE(entry + 12),
        ico.readUInt32LE(entry + 12) + ico.readUInt32LE(entry + 8),
      );
      sizes.push(size);
      if (size === 256) {
        expectArtwork(decodePng(image), 256);
        continue;
      }
      expect([
        image.readUInt32LE(0),
        image.readInt32LE(4),
        image.readInt32LE(8),
        image.readUInt16LE(14),
      ]).toEqual([40, size, size * 2, 32]);
      const bitmap: Pixels = {
        width: size,
        height: size,
        at: (x, y) => {
          const at = 40 + ((size - 1 - y) * size + x) * 4;
          return [image[at + 2]!, image[at + 1]!, image[at]!, image[at + 3]!];
        },
      };
      if (size >= 32) expectArtwork(bitmap, size);
    }
    expect(sizes).toEqual([16, 20, 24, 32, 40, 48, 64, 128, 256]);
  });

  test("macOS: the .icns holds 16…1024, the artwork inset on Apple's grid", () => {
    const icns = readFileSync(join(BUILD, 'icon.icns'));
    expect(icns.toString('latin1', 0, 4)).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const entries = new Map<string, Buffer>();
    for (let offset = 8; offset < icns.length;) {
      const length = icns.readUInt32BE(offset + 4);
      entries.set(icns.toString('latin1', offset, offset + 4), icns.subarray(offset + 8, offset + length));
      offset += length;
    }
    // Apple's types: PNG data at @1x and @2x sizes, and the RLE RGB + mask pairs for 16 and 32.
    const pngTypes: Record<string, number> = {
      ic11: 32,
      ic12: 64,
      ic07: 128,
      ic13: 256,
      ic08: 256,
      ic14: 512,
      ic09: 512,
      ic10: 1024,
    };
    expect([...entries.keys()].sort()).toEqual(
      [...Object.keys(pngTypes), 'is32', 's8mk', 'il32', 'l8mk'].sort(),
    );
    for (const [type, size] of Object.entries(pngTypes))
      expectArtwork(decodePng(entries.get(type)!), size, (size * 824) / 1024);
    expect(entries.get('s8mk')!.length).toBe(16 * 16);
    expect(entries.get('l8mk')!.length).toBe(32 * 32);
  });
});

// ---- File associations ----------------------------------------------------------------------

describe('file associations', () => {
  test('macOS: the six image types by default, raw and ELF only under Open With', () => {
    const associations = config.mac.fileAssociations ?? [];
    const byRank = (rank: string) => associations.filter((a) => a.rank === rank).flatMap(extensions);
    expect(byRank('Default').sort()).toEqual([...IMAGE_EXTENSIONS].sort());
    expect(byRank('Alternate').sort()).toEqual([...OPEN_WITH_ONLY].sort());
    expect(associations.flatMap(extensions)).toHaveLength(IMAGE_EXTENSIONS.length + OPEN_WITH_ONLY.length);
    expect(config.fileAssociations).toBeUndefined(); // each platform says its own
  });

  test("Windows: the six registered as IRPscope's; raw and ELF joined to Open With only", () => {
    const associations = config.win.fileAssociations ?? [];
    expect(associations).toHaveLength(1);
    expect(extensions(associations[0]!).sort()).toEqual([...IMAGE_EXTENSIONS].sort());
    const progId = associations[0]!.name!;
    const installer = readFileSync(buildFile(config.nsis.include), 'utf8');
    const macro = (name: string) =>
      new RegExp(`!macro ${name}\\r?\\n([\\s\\S]*?)!macroend`).exec(installer)?.[1] ?? '';
    for (const ext of OPEN_WITH_ONLY) {
      const key = `"Software\\Classes\\.${ext}\\OpenWithProgids" "${progId}"`;
      expect(macro('customInstall')).toContain(`WriteRegNone SHELL_CONTEXT ${key}`);
      expect(macro('customUnInstall')).toContain(`DeleteRegValue SHELL_CONTEXT ${key}`);
    }
    // Nothing in it takes an extension's default (the unnamed value of Software\Classes\.ext).
    expect(installer).not.toMatch(/WriteRegStr[^\n]*\\\.(raw|elf)"\s+""/);
  });

  test('Linux: the .deb defines the six types; the desktop entry lists them and ELF cores', () => {
    const xml = readFileSync(join(BUILD, 'linux', 'irpscope-mime.xml'), 'utf8');
    const types = [...xml.matchAll(/<mime-type type="([^"]+)">/g)].map((match) => match[1]);
    const globs = [...xml.matchAll(/<glob pattern="\*\.([a-z]+)"\/>/g)].map((match) => match[1]);
    expect(globs.sort()).toEqual([...IMAGE_EXTENSIONS].sort());
    expect(config.linux.mimeTypes).toEqual([...types, 'application/x-core']);
    expect(config.linux.fileAssociations).toBeUndefined(); // electron-builder would write a second XML
    expect(config.deb.fpm).toContain('build/linux/irpscope-mime.xml=/usr/share/mime/packages/irpscope.xml');
  });

  const mimeTools = ['/usr/bin/update-mime-database', '/usr/bin/gio'].every((tool) => existsSync(tool));
  test.skipIf(!mimeTools)(
    'Linux: the freedesktop database, given our types, names each file by its content where extensions clash',
    () => {
      const data = join(scratch, 'xdg');
      mkdirSync(join(data, 'mime', 'packages'), { recursive: true });
      copyFileSync(join(BUILD, 'linux', 'irpscope-mime.xml'), join(data, 'mime', 'packages', 'irpscope.xml'));
      expect(spawnSync('update-mime-database', [join(data, 'mime')]).status).toBe(0);
      const page = Buffer.alloc(4096);
      const file = (name: string, header: Buffer): string => {
        const path = join(scratch, name);
        writeFileSync(path, Buffer.concat([header, page]));
        return path;
      };
      const elfCore = Buffer.alloc(64);
      elfCore.write('\x7fELF', 0, 'latin1');
      elfCore.writeUInt8(2, 4); // 64-bit
      elfCore.writeUInt8(1, 5); // little-endian
      elfCore.writeUInt16LE(4, 16); // ET_CORE
      const expected: Array<[string, string]> = [
        [file('kernel.dmp', Buffer.from('PAGEDU64')), 'application/x-windows-kernel-dump'],
        [file('capture.dmp', Buffer.from('d4c3b2a102000400', 'hex')), 'application/vnd.tcpdump.pcap'],
        [file('memory.vmem', Buffer.alloc(8)), 'application/x-vmware-vmem'],
        [file('suspended.vmss', Buffer.from('d2bed2be', 'hex')), 'application/x-vmware-vm-state'],
        [file('snapshot.vmsn', Buffer.from('d0bed2be', 'hex')), 'application/x-vmware-vm-state'],
        [file('capture.lime', Buffer.from('EMiL')), 'application/x-lime-memory-image'],
        [file('capture.mem', Buffer.alloc(8)), 'application/x-memory-image'],
        [file('qemu.elf', elfCore), 'application/x-core'],
      ];
      for (const [path, type] of expected) {
        const info = spawnSync('gio', ['info', '-a', 'standard::content-type', path], {
          encoding: 'utf8',
          env: { ...process.env, XDG_DATA_HOME: data, XDG_DATA_DIRS: '/usr/share' },
        });
        expect(info.stdout, path).toContain(`standard::content-type: ${type}\n`);
      }
    },
  );
});

// ---- The command line in the installed app ----------------------------------------------------

describe('the CLI launchers', () => {
  /** An installed layout: a stand-in Electron that runs Node only when asked to, and the app. */
  function install(electron: string, resources: string): string {
    mkdirSync(dirname(electron), { recursive: true });
    mkdirSync(join(resources, 'bin'), { recursive: true });
    writeFileSync(
      electron,
      `#!/bin/sh\n[ "$ELECTRON_RUN_AS_NODE" = 1 ] || { echo "started as the app" >&2; exit 97; }\nexec "${process.execPath}" "$@"\n`,
      { mode: 0o755 },
    );
    symlinkSync(ROOT, join(resources, 'app'));
    const launcher = join(resources, 'bin', 'irpscope');
    const [resource] = config.linux.extraResources ?? [];
    copyFileSync(buildFile(resource!.from), launcher);
    return launcher;
  }

  function expectCli(launcher: string): void {
    const help = spawnSync(launcher, ['--help'], { encoding: 'utf8' });
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^Usage: irpscope /);
    const missing = join(scratch, 'no such image.raw');
    const info = spawnSync(launcher, ['info', missing], { encoding: 'utf8' });
    expect(info.stderr).toBe(`irpscope: ${missing} does not exist\n`);
    expect(info.status).toBe(2);
  }

  test('both Unix launchers are executable, and what they run is in the package', () => {
    for (const platform of [config.linux, config.mac]) {
      const [resource] = platform.extraResources ?? [];
      expect(resource!.to).toBe('bin/irpscope');
      accessSync(buildFile(resource!.from), constants.X_OK);
    }
  });

  test('Linux: resources/bin/irpscope runs the CLI with the app beside it, also through a link', () => {
    const app = join(scratch, 'opt');
    const launcher = install(join(app, config.linux.executableName!), join(app, 'resources'));
    expectCli(launcher);
    mkdirSync(join(scratch, 'usr-bin'));
    symlinkSync('../opt/resources/bin/irpscope', join(scratch, 'usr-bin', 'irpscope'));
    expectCli(join(scratch, 'usr-bin', 'irpscope'));
  });

  test('macOS: Contents/Resources/bin/irpscope runs the CLI with the app bundle it is in', () => {
    const contents = join(scratch, `${config.productName}.app`, 'Contents');
    const launcher = install(join(contents, 'MacOS', config.productName), join(contents, 'Resources'));
    expectCli(launcher);
  });

  test('the .deb puts `irpscope` on the PATH, pointing at the launcher it installs', () => {
    const mapping = config.deb.fpm.find((entry) => entry.endsWith('=/usr/bin/irpscope'))!;
    const source = mapping.split('=')[0]!;
    accessSync(buildFile(source), constants.X_OK);
    // electron-builder installs a .deb's app in /opt/<productName> (LinuxTargetHelper installPrefix).
    expect(readFileSync(buildFile(source), 'utf8')).toContain(
      `exec /opt/${config.productName}/resources/bin/irpscope "$@"\n`,
    );
  });

  test("Windows: irpscope.cmd runs the app's executable as Node on the CLI", () => {
    const [resource] = config.win.extraResources ?? [];
    expect(resource!.to).toBe('bin/irpscope.cmd');
    const script = readFileSync(buildFile(resource!.from), 'latin1');
    expect(script.split('\r\n').at(-1)).toBe(''); // CRLF throughout, as cmd.exe expects
    expect(script.replace(/\r\n/g, '')).not.toContain('\n');
    expect(script).toContain('set ELECTRON_RUN_AS_NODE=1\r\n');
    expect(script).toContain(
      `"%~dp0..\\..\\${config.productName}.exe" "%~dp0..\\app\\bin\\irpscope.mjs" %*\r\n`,
    );
  });
});

describe('electron-builder packs it for Linux', () => {
  // The real electron-builder with our configuration, given a directory holding a stand-in for
  // Electron's binary (a script that is Node when run as Node; it has no fuses to flip, so that
  // step is left out). It packs the app as it would for any target; each Linux target is stopped
  // at electron-builder's own hook just before it runs fpm or the AppImage tool (which would be
  // downloaded), with what it would have given them.
  interface Packed {
    app: string;
    deb: { fpmArguments: string[]; desktopEntry: string };
    appImage: { desktop: string; desktopFileName: string };
  }
  let packed: Packed;
  beforeAll(async () => {
    const standIn = join(scratch, 'electron-dist');
    mkdirSync(standIn);
    writeFileSync(
      join(standIn, 'electron'),
      `#!/bin/sh\n[ "$ELECTRON_RUN_AS_NODE" = 1 ] || exit 97\nexec "${process.execPath}" "$@"\n`,
      { mode: 0o755 },
    );
    const electron = JSON.parse(readFileSync(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as {
      version: string;
    };
    const output = join(scratch, 'dist');
    const { electronFuses: _flippedOnlyInRealBinaries, ...packable } = config;
    const configuration = join(scratch, 'electron-builder.json');
    writeFileSync(
      configuration,
      JSON.stringify({
        ...packable,
        electronDist: standIn,
        electronVersion: electron.version,
        directories: { buildResources: 'build', output },
      }),
    );
    const { build, Platform } = createRequire(import.meta.url)('electron-builder') as {
      build(options: object): Promise<string[]>;
      Platform: { LINUX: { createTarget(targets: string[]): unknown } };
    };
    const seen: Partial<Packed> = { app: join(output, 'linux-unpacked') };
    await build({
      projectDir: ROOT,
      config: configuration,
      publish: 'never',
      targets: Platform.LINUX.createTarget(['deb', 'AppImage']),
      effectiveOptionComputed: async (options: unknown) => {
        if (Array.isArray(options)) {
          const [fpmArguments, desktopFile] = options as [string[], string];
          seen.deb = { fpmArguments, desktopEntry: readFileSync(desktopFile, 'utf8') };
        } else seen.appImage = options as Packed['appImage'];
        return true;
      },
    });
    expect(seen.deb).toBeDefined();
    expect(seen.appImage).toBeDefined();
    packed = seen as Packed;
  }, 300_000);

  test('the packed app runs its own CLI on the production dependencies it got: exactly the planted truth', () => {
    const { app } = packed;
    accessSync(join(app, config.linux.executableName!), constants.X_OK);
    const manifest = JSON.parse(readFileSync(join(app, 'resources/app/package.json'), 'utf8')) as {
      main: string;
    };
    for (const file of [manifest.main, 'out/preload/index.cjs', 'out/renderer/index.html', 'out/node/cli.js'])
      expect(existsSync(join(app, 'resources/app', file)), file).toBe(true);
    expect(existsSync(join(app, 'resources/app-update.yml'))).toBe(false);

    const { image, truth } = imageForTest({
      profile: 'win7-sp1-x86',
      scenario: 'infected',
      format: 'dmp-bitmap',
      size: 64 * 1024 * 1024,
      seed: 23,
      fill: 'zero',
    });
    const analysis = spawnSync(join(app, 'resources/bin/irpscope'), ['analyze', image, '--json'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(analysis.stderr).toBe('');
    expectAnalysisMatchesTruth(JSON.parse(analysis.stdout) as AnalysisResult, truth);
  });

  function desktopEntry(text: string): Map<string, string> {
    const lines = text.split('\n').filter((line) => line.includes('='));
    return new Map(
      lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }

  test('the .deb: the app in /opt, `irpscope` on the PATH, the MIME types, the icons, a menu entry that opens images', () => {
    const { fpmArguments, desktopEntry: text } = packed.deb;
    const executable = config.linux.executableName!;
    const install = new Map(
      fpmArguments
        .filter((arg) => arg.includes('=') && !arg.startsWith('-'))
        .map((arg) => arg.split('=').reverse() as [string, string]),
    );
    expect(install.get(`/opt/${config.productName}`)).toBe(join(packed.app, '/'));
    expect(install.get('/usr/bin/irpscope')).toBe('build/linux/irpscope-cli');
    expect(install.get('/usr/share/mime/packages/irpscope.xml')).toBe('build/linux/irpscope-mime.xml');
    for (const size of [16, 32, 48, 256, 512])
      expect(install.get(`/usr/share/icons/hicolor/${size}x${size}/apps/${executable}.png`)).toBe(
        join(BUILD, 'icons', `${size}x${size}.png`),
      );
    expect([...install.keys()]).toContain(`/usr/share/applications/${executable}.desktop`);
    // The metadata fpm requires is there (electron-builder refuses a .deb without it).
    expect(fpmArguments).toEqual(expect.arrayContaining(['--maintainer', '--url', '--name', 'irpscope']));

    const entry = desktopEntry(text);
    expect(entry.get('Exec')).toBe(`/opt/${config.productName}/${executable} %U`);
    expect(entry.get('Icon')).toBe(executable);
    expect(entry.get('StartupWMClass')).toBe(executable);
    expect(entry.get('MimeType')).toBe(`${config.linux.mimeTypes!.join(';')};`);
  });

  test('the AppImage: the same menu entry, started through AppRun', () => {
    expect(packed.appImage.desktopFileName).toBe(`${config.linux.executableName}.desktop`);
    const entry = desktopEntry(packed.appImage.desktop);
    expect(entry.get('Exec')).toBe('AppRun --no-sandbox %U');
    expect(entry.get('MimeType')).toBe(`${config.linux.mimeTypes!.join(';')};`);
    expect(entry.get('Icon')).toBe(config.linux.executableName);
  });
});

describe('npm run dist', () => {
  test('without an Electron binary it stops before any work, saying why in one line', () => {
    const noElectron = mkdtempSync(join(scratch, 'electron-'));
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'dist.mjs')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: noElectron },
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^npm run dist: cannot package without Electron's binary \([^\n]+\n$/);
    expect(run.stderr).toContain(noElectron);
  });
});
