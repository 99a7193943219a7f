#!/usr/bin/env node
// Makes the desktop packages' icons in build/ from the project's artwork (resources/icon.svg):
//   build/icons/NxN.png  Linux (hicolor sizes 16…1024), the artwork edge to edge;
//   build/icon.ico       Windows, 16…256: BMP images below 256 (what every reader of .ico takes,
//                        NSIS's installer icon included), PNG at 256;
//   build/icon.icns      macOS, 16…1024: the artwork inset on Apple's icon grid (an 824-pixel
//                        body on a 1024 canvas), as the Dock and Finder expect.
// Debian's Chromium rasterises the SVG, so nothing but the browser the project already uses is
// needed offline; the .ico and .icns containers are written here (each is a directory of images).
// Run it after changing the artwork and commit what it writes:  node scripts/make-icons.mjs

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const artwork = readFileSync(join(root, 'resources', 'icon.svg'), 'utf8');

const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const WINDOWS_SIZES = [16, 20, 24, 32, 40, 48, 64, 128, 256];
/** ICNS image types holding PNG data, by pixel size (several types share a size: @1x and @2x). */
const ICNS_PNG_TYPES = [
  ['ic11', 32],
  ['ic12', 64],
  ['ic07', 128],
  ['ic13', 256],
  ['ic08', 256],
  ['ic14', 512],
  ['ic09', 512],
  ['ic10', 1024],
];
/** The oldest ICNS types, read by every macOS release: RLE-packed RGB plus an 8-bit mask. */
const ICNS_LEGACY_TYPES = [
  ['is32', 's8mk', 16],
  ['il32', 'l8mk', 32],
];

/** The artwork as an SVG document of `size` pixels; `inset` leaves Apple's margin around it. */
function artworkAt(size, inset) {
  const content = artwork.replace(/^<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '');
  const viewBox = /viewBox="([^"]+)"/.exec(artwork)?.[1];
  if (!viewBox) throw new Error('resources/icon.svg has no viewBox');
  const body = inset ? (size * 824) / 1024 : size;
  const offset = (size - body) / 2;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">` +
    `<svg x="${offset}" y="${offset}" width="${body}" height="${body}" viewBox="${viewBox}">${content}</svg></svg>`
  );
}

/* global Image, document -- inside page.evaluate, which runs in the browser */

/** Renders each document in Chromium: its PNG and its RGBA pixels (not premultiplied). */
async function rasterise(documents) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    return await page.evaluate(async (svgs) => {
      const results = [];
      for (const { svg, size } of svgs) {
        const image = new Image();
        image.src = `data:image/svg+xml;base64,${btoa(svg)}`;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = size;
        canvas.height = size;
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0, size, size);
        const rgba = context.getImageData(0, 0, size, size).data;
        let binary = '';
        for (let i = 0; i < rgba.length; i += 0x8000)
          binary += String.fromCharCode(...rgba.subarray(i, i + 0x8000));
        results.push({ png: canvas.toDataURL('image/png').split(',')[1], rgba: btoa(binary) });
      }
      return results;
    }, documents);
  } finally {
    await browser.close();
  }
}

async function render(sizes, inset) {
  const unique = [...new Set(sizes)];
  const rendered = await rasterise(unique.map((size) => ({ svg: artworkAt(size, inset), size })));
  return new Map(
    unique.map((size, i) => [
      size,
      { png: Buffer.from(rendered[i].png, 'base64'), rgba: Buffer.from(rendered[i].rgba, 'base64') },
    ]),
  );
}

/** A 32-bit BMP as .ico stores it: BITMAPINFOHEADER, BGRA rows bottom-up, then the AND mask. */
function icoBitmap(size, rgba) {
  const maskRow = Math.ceil(size / 32) * 4;
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8); // colour and mask, one above the other
  header.writeUInt16LE(1, 12);
  header.writeUInt16LE(32, 14);
  header.writeUInt32LE(size * size * 4 + maskRow * size, 20);
  const pixels = Buffer.alloc(size * size * 4);
  const mask = Buffer.alloc(maskRow * size);
  for (let y = 0; y < size; y++) {
    const row = size - 1 - y;
    for (let x = 0; x < size; x++) {
      const from = (y * size + x) * 4;
      const to = (row * size + x) * 4;
      pixels[to] = rgba[from + 2];
      pixels[to + 1] = rgba[from + 1];
      pixels[to + 2] = rgba[from];
      pixels[to + 3] = rgba[from + 3];
      if (rgba[from + 3] === 0) mask[row * maskRow + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  return Buffer.concat([header, pixels, mask]);
}

function ico(images) {
  const directory = Buffer.alloc(6 + 16 * images.length);
  directory.writeUInt16LE(1, 2);
  directory.writeUInt16LE(images.length, 4);
  let offset = directory.length;
  images.forEach(({ size, data }, i) => {
    const entry = 6 + 16 * i;
    directory.writeUInt8(size >= 256 ? 0 : size, entry);
    directory.writeUInt8(size >= 256 ? 0 : size, entry + 1);
    directory.writeUInt16LE(1, entry + 4);
    directory.writeUInt16LE(32, entry + 6);
    directory.writeUInt32LE(data.length, entry + 8);
    directory.writeUInt32LE(offset, entry + 12);
    offset += data.length;
  });
  return Buffer.concat([directory, ...images.map((image) => image.data)]);
}

/** Apple's PackBits variant for is32/il32: runs of 3…130 as 0x80+(n-3), literals of 1…128 as n-1. */
function packBits(bytes) {
  const out = [];
  let literal = [];
  const flush = () => {
    for (let i = 0; i < literal.length; i += 128) {
      const chunk = literal.slice(i, i + 128);
      out.push(chunk.length - 1, ...chunk);
    }
    literal = [];
  };
  for (let i = 0; i < bytes.length;) {
    let run = 1;
    while (i + run < bytes.length && bytes[i + run] === bytes[i] && run < 130) run++;
    if (run >= 3) {
      flush();
      out.push(0x80 + run - 3, bytes[i]);
    } else {
      literal.push(...bytes.slice(i, i + run));
    }
    i += run;
  }
  flush();
  return Buffer.from(out);
}

function icnsLegacy(size, rgba) {
  const channel = (c) => Array.from({ length: size * size }, (_, i) => rgba[i * 4 + c]);
  const rgb = Buffer.concat([packBits(channel(0)), packBits(channel(1)), packBits(channel(2))]);
  return { rgb, mask: Buffer.from(channel(3)) };
}

function icns(entries) {
  const chunks = entries.map(([type, data]) => {
    const header = Buffer.alloc(8);
    header.write(type, 0, 'latin1');
    header.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([header, data]);
  });
  const header = Buffer.alloc(8);
  header.write('icns', 0, 'latin1');
  header.writeUInt32BE(8 + chunks.reduce((n, chunk) => n + chunk.length, 0), 4);
  return Buffer.concat([header, ...chunks]);
}

const build = join(root, 'build');
mkdirSync(join(build, 'icons'), { recursive: true });

const edgeToEdge = await render([...LINUX_SIZES, ...WINDOWS_SIZES], false);
for (const size of LINUX_SIZES)
  writeFileSync(join(build, 'icons', `${size}x${size}.png`), edgeToEdge.get(size).png);
writeFileSync(
  join(build, 'icon.ico'),
  ico(
    WINDOWS_SIZES.map((size) => {
      const image = edgeToEdge.get(size);
      return { size, data: size >= 256 ? image.png : icoBitmap(size, image.rgba) };
    }),
  ),
);

const inset = await render([...ICNS_PNG_TYPES.map(([, size]) => size), 16, 32], true);
const legacy = ICNS_LEGACY_TYPES.flatMap(([rgbType, maskType, size]) => {
  const { rgb, mask } = icnsLegacy(size, inset.get(size).rgba);
  return [
    [rgbType, rgb],
    [maskType, mask],
  ];
});
writeFileSync(
  join(build, 'icon.icns'),
  icns([...legacy, ...ICNS_PNG_TYPES.map(([type, size]) => [type, inset.get(size).png])]),
);
process.stdout.write(
  `build/icons: ${LINUX_SIZES.join(', ')} px; build/icon.ico: ${WINDOWS_SIZES.join(', ')} px; build/icon.icns: 16…1024 px\n`,
);
