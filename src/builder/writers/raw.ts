// Raw image: physical address = file offset, holes zero-filled (spec §5.1).

import type { BuiltSystem } from '../windows/system';
import { ImageFile, writePhysicalRange } from './stream';

export function writeRaw(system: BuiltSystem, path: string, sparse: boolean): void {
  const file = new ImageFile(path, sparse);
  writePhysicalRange(file, system.phys, system.noise, 0, system.phys.maxAddress, 0);
  file.close();
}
