// Extract a driver's or module's image from memory for a disassembler: the target named as an
// analyst names it (a driver object's name, a module's file name, or any address inside the
// image), found in the analysis result, and rebuilt as a PE file by pe-rebuild.ts.

import type { AnalysisResult, Driver, Module } from '../../common/model';
import type { KernelContext } from '../kernel/discover';
import { ExtractError, type ExtractedImage, type PageReader } from './pe-rebuild';

export { ExtractError, MAX_IMAGE_SIZE, rebuildPe } from './pe-rebuild';
export type { ExtractedImage, ExtractedSection, MissingRange, PageReader, RebuiltImage } from './pe-rebuild';

const PAGE = 0x1000;

export type ExtractTarget = { driver: string } | { module: string } | { address: bigint };

export interface ResolvedTarget {
  /** What was extracted, in words: "driver \Driver\Disk (disk.sys)". */
  label: string;
  /** A file name for the result: the module's, or the driver's with .sys. */
  fileName: string;
  base: bigint;
  size: number | null;
}

const lower = (text: string | null | undefined) => (text ?? '').toLowerCase();

function driverMatches(driver: Driver, wanted: string): boolean {
  const name = lower(wanted);
  return (
    lower(driver.name) === name ||
    lower(driver.objectName) === name ||
    lower(driver.name?.split('\\').pop()) === name ||
    driver.objectVa.toLowerCase() === name
  );
}

/** A file name that is safe anywhere: the name from the image is attacker-chosen. */
export function safeFileName(name: string, fallback: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 80);
  return cleaned.length > 0 ? cleaned : fallback;
}

function ofModule(module: Module, why: string): ResolvedTarget {
  return {
    label: why,
    fileName: safeFileName(module.name, `module-${module.base}.bin`),
    base: BigInt(module.base),
    size: module.size,
  };
}

/** Where the target's image is, from the analysis result. */
export function resolveTarget(result: AnalysisResult, target: ExtractTarget): ResolvedTarget {
  if ('driver' in target) {
    const found = result.drivers.filter((d) => driverMatches(d, target.driver));
    if (found.length === 0)
      throw new ExtractError(`no driver named ${JSON.stringify(target.driver)} in this image`);
    if (found.length > 1)
      throw new ExtractError(
        `${found.length} drivers match ${JSON.stringify(target.driver)}: give one by its object address (${found.map((d) => d.objectVa).join(', ')})`,
      );
    const driver = found[0]!;
    const start = BigInt(driver.start);
    const module = result.modules.find((m) => BigInt(m.base) === start);
    if (start === 0n)
      throw new ExtractError(`${driver.name ?? driver.objectVa} has no DriverStart: its image is not known`);
    const label = `driver ${driver.name ?? driver.objectVa}${module ? ` (${module.name})` : ''}`;
    const stem = driver.name?.split('\\').pop() ?? `driver-${driver.objectVa}`;
    return {
      label,
      fileName: module ? safeFileName(module.name, `${stem}.sys`) : safeFileName(`${stem}.sys`, 'driver.sys'),
      base: start,
      size: driver.size > 0 ? driver.size : (module?.size ?? null),
    };
  }
  if ('module' in target) {
    const found = result.modules.filter(
      (m) => lower(m.name) === lower(target.module) || lower(m.path) === lower(target.module),
    );
    if (found.length === 0)
      throw new ExtractError(`no module named ${JSON.stringify(target.module)} in this image`);
    const distinct = [...new Map(found.map((m) => [m.base, m])).values()];
    if (distinct.length > 1)
      throw new ExtractError(
        `${distinct.length} modules named ${JSON.stringify(target.module)}: give one by address (${distinct.map((m) => m.base).join(', ')})`,
      );
    return ofModule(distinct[0]!, `module ${distinct[0]!.name}`);
  }
  const address = target.address;
  const object = result.drivers.find((d) => BigInt(d.objectVa) === address);
  if (object) return resolveTarget(result, { driver: object.objectVa });
  const module = result.modules.find((m) => {
    const base = BigInt(m.base);
    return address >= base && address < base + BigInt(m.size);
  });
  if (module) return ofModule(module, `module ${module.name} (holding 0x${address.toString(16)})`);
  const driver = result.drivers.find((d) => {
    const start = BigInt(d.start);
    return start !== 0n && address >= start && address < start + BigInt(d.size);
  });
  if (driver) return resolveTarget(result, { driver: driver.objectVa });
  // No known image holds it: an image must start at the page itself (a PE header is needed).
  return {
    label: `the image at 0x${address.toString(16)}`,
    fileName: `image-${address.toString(16)}.bin`,
    base: address - (address % BigInt(PAGE)),
    size: null,
  };
}

/** Reads kernel virtual pages of the image's kernel space. */
export function pageReaderOf(context: KernelContext): PageReader {
  const memory = context.memory;
  return (va) => {
    if (!memory) return { status: 'unmapped' };
    const got = memory.tryBytes(va, PAGE);
    return 'bytes' in got ? got : { status: got.status };
  };
}

export interface Extraction extends ExtractedImage {
  label: string;
  fileName: string;
}
