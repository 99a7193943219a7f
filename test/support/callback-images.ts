// The images the engine's tests of callbacks and timers build: raw, 64 MiB, seed 31, free memory
// filled with noise, on the layouts a test names; each test says only what it varies.

import { X86_PROFILES, type BuildImageOptions } from '../../src/builder/index';
import { imageForTest, isfFiles, type TestImage } from './images';

export type Layout = Pick<BuildImageOptions, 'isf' | 'profile'>;

type VariedOptions = Omit<BuildImageOptions, 'out' | 'format' | 'size' | 'seed' | 'fill'>;

/** Every shared ISF build (x64) and every x86 profile. */
export function everyLayout(): Array<{ label: string } & Layout> {
  return [...isfFiles(), ...X86_PROFILES.map((profile) => ({ label: profile, profile }))];
}

/** One layout of each architecture: the first shared ISF build and Windows XP SP3 x86. */
export function oneLayoutPerArch(): Array<{ label: string } & Layout> {
  return [
    { label: 'x64', isf: isfFiles()[0]!.isf },
    { label: 'xp-sp3-x86', profile: 'xp-sp3-x86' },
  ];
}

/** The image for the running test (removed when it finishes, as imageForTest's are). */
export function callbackTestImage(options: VariedOptions): TestImage {
  return imageForTest({ format: 'raw', size: 64 * 1024 * 1024, seed: 31, fill: 'random', ...options });
}
