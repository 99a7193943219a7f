// Raw / padded images: physical address = file offset (spec §5.1). The fallback container.

import type { ByteSource } from '../source';
import { RunSpace } from './run-space';
import { RunTableBuilder } from './run-table';
import type { PhysicalSpace } from './types';

export function openRaw(source: ByteSource, inheritedWarnings: readonly string[] = []): PhysicalSpace {
  const warnings = [...inheritedWarnings];
  if (source.size % 0x1000 !== 0)
    warnings.push(
      `the file size ${source.size} is not a whole number of 4 KiB pages; the last page is partial`,
    );
  const builder = new RunTableBuilder();
  builder.add(0, source.size, 0);
  return new RunSpace({
    name: source.name,
    format: {
      id: 'raw',
      description: 'raw memory image (physical address = file offset)',
      holdsPhysicalMemory: true,
      details: { dataFile: source.name },
    },
    table: builder.build(source.size, warnings),
    data: source,
    warnings,
  });
}
