// What paired an object of one image with its counterpart in the other, and what one side could
// not tell: typed facts, as the comparison finds them. Prose is made from them only where they
// are shown (the CLI, the reports, the workbench), by the one phrasebook below.

import { visibleText } from './visible-text';

/** Which image a fact is about. */
export type DiffSideName = 'baseline' | 'image';

export type PairingFact =
  /** The same name; where each side read it (DriverName or the object directory entry). */
  | { fact: 'name'; name: string; sources?: string[] }
  | { fact: 'service-key'; key: string }
  /** The same image file: its name and what its PE headers say. */
  | { fact: 'image'; module: string; size: number; timeDateStamp: number | null; checksum: number | null }
  /** The same IRP table as module+offset of every entry. */
  | { fact: 'irp-table' }
  /** A device by its driver, type and characteristics (its name unknown or numbered). */
  | { fact: 'driver-and-type'; driver: string; deviceType: string; characteristics: number }
  /** The further stage of device pairing that decided (its place in the stack, …). */
  | { fact: 'device-stage'; stage: string }
  | { fact: 'service-number'; index: number; build: number | null }
  | { fact: 'module-size'; size: number }
  | { fact: 'module-timestamp'; timeDateStamp: number };

export type UnknownFact =
  | { fact: 'driver-name'; side: DiffSideName; status: string | null }
  | { fact: 'service-key'; side: DiffSideName }
  | { fact: 'directory-listing'; side: DiffSideName }
  | { fact: 'fastio-table'; side: DiffSideName }
  | { fact: 'device-name'; side: DiffSideName; status: string }
  | { fact: 'numbered-name'; side: DiffSideName; name: string }
  | { fact: 'pe-headers'; side: DiffSideName; module: string }
  | { fact: 'link-name'; side: DiffSideName }
  | { fact: 'link-target'; side: DiffSideName }
  | { fact: 'link-device'; side: DiffSideName }
  | { fact: 'blind-links'; side: DiffSideName; count: number };

const hexNumber = (value: number) => `0x${value.toString(16)}`;
const where = (side: DiffSideName) => (side === 'baseline' ? 'in the baseline' : 'in this image');

/** One pairing fact in words ("service key AFD", "image disk.sys (0x1000 bytes, …)"). */
export function pairingText(f: PairingFact): string {
  switch (f.fact) {
    case 'name': {
      const sources = f.sources ?? [];
      const how =
        sources.length === 0
          ? ''
          : new Set(sources).size === 1
            ? ` (${sources[0]})`
            : ` (${sources.join(' / ')})`;
      return `name ${f.name}${how}`;
    }
    case 'service-key':
      return `service key ${f.key}`;
    case 'image': {
      const parts = [`${hexNumber(f.size)} bytes`];
      if (f.timeDateStamp !== null) parts.push(`timestamp ${hexNumber(f.timeDateStamp)}`);
      if (f.checksum !== null && f.checksum !== 0) parts.push(`checksum ${hexNumber(f.checksum)}`);
      return `image ${f.module} (${parts.join(', ')})`;
    }
    case 'irp-table':
      return 'IRP table (module+offset of every entry)';
    case 'driver-and-type':
      return `driver ${f.driver}, FILE_DEVICE_${f.deviceType}, characteristics ${hexNumber(f.characteristics)}`;
    case 'device-stage':
      return f.stage;
    case 'service-number':
      return `service number ${hexNumber(f.index)} in build ${f.build ?? '?'}`;
    case 'module-size':
      return `size ${hexNumber(f.size)}`;
    case 'module-timestamp':
      return `timestamp ${hexNumber(f.timeDateStamp)}`;
  }
}

/** One fact a side could not tell, in words ("service key unreadable in the baseline"). */
export function unknownText(f: UnknownFact): string {
  switch (f.fact) {
    case 'driver-name':
      return `driver name unknown ${where(f.side)} (${f.status ?? 'no name'}; no object name)`;
    case 'service-key':
      return `service key unreadable ${where(f.side)}`;
    case 'directory-listing':
      return `whether it is listed in \\Driver or \\FileSystem is unknown ${where(f.side)} (the object directories could not be read)`;
    case 'fastio-table':
      return `FastIo table unreadable ${where(f.side)}`;
    case 'device-name':
      return `name ${f.status} ${where(f.side)}`;
    case 'numbered-name':
      return `${f.name} ${where(f.side)} is numbered at boot, not an identity`;
    case 'pe-headers':
      return `PE headers of ${f.module} not in memory ${where(f.side)}`;
    case 'link-name':
      return `name unreadable ${where(f.side)}`;
    case 'link-target':
      return `target unreadable ${where(f.side)}`;
    case 'link-device':
      return `the device it names cannot be identified ${where(f.side)}`;
    case 'blind-links':
      return `${f.count} link${f.count === 1 ? '' : 's'} ${where(f.side)} ${f.count === 1 ? 'has' : 'have'} neither a readable name nor target: this may be one of them`;
  }
}

/** The facts as one line for a terminal, a CSV cell or a report paragraph (image strings made visible). */
export function pairingLine(facts: readonly PairingFact[]): string {
  return visibleText(facts.map(pairingText).join('; '));
}

export function unknownLine(facts: readonly UnknownFact[]): string {
  return visibleText(facts.map(unknownText).join('; '));
}
