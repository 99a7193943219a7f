// A device's symbolic links: those whose target names it (case-insensitively), and none whose
// target is unreadable. A nameless device (most filter devices have no name) once collected every
// link whose target could not be read, because both sides compared as undefined.

import { describe, expect, test } from 'vitest';
import type { SymbolicLink } from '../../../../src/common/model';
import { linksByTarget, toDevice } from '../../../../src/core/analysis/to-model';
import type { DeviceRecord } from '../../../../src/core/analysis/records';

function device(va: bigint, name: string | null): DeviceRecord {
  return {
    va,
    name,
    nameStatus: null,
    header: null,
    directoryEntry: null,
    object: {
      va,
      type: 3,
      size: 0x150,
      referenceCount: 1,
      driverObject: 0xffff_8000_0000_1000n,
      nextDevice: 0n,
      attachedDevice: 0n,
      flags: 0,
      characteristics: 0,
      deviceType: 7,
      stackSize: 1,
      deviceExtension: 0n,
      deviceObjectExtension: 0n,
      attachedTo: null,
      problems: [],
    },
  };
}

function link(name: string | null, target: string | null): SymbolicLink {
  return {
    name,
    nameStatus: null,
    nameHash: null,
    target,
    targetStatus: target === null ? 'paged out' : null,
    objectVa: '0xffff800000002000',
    device: null,
  };
}

describe('toDevice links', () => {
  const links = linksByTarget([
    link('\\GLOBAL??\\C:', '\\Device\\HarddiskVolume2'),
    link('\\GLOBAL??\\Volume{1}', '\\device\\harddiskvolume2'),
    link('\\GLOBAL??\\Lost', null),
    link(null, '\\Device\\HarddiskVolume2'),
  ]);

  test("a named device lists the readable links that name it, whatever the target's case", () => {
    const named = device(0xffff_8000_0000_3000n, '\\Device\\HarddiskVolume2');
    const model = toDevice(named, new Map(), new Map([[named.va, named]]), links);
    expect(model.links).toEqual(['\\GLOBAL??\\C:', '\\GLOBAL??\\Volume{1}']);
  });

  test('a nameless device lists no link, not those whose target is unreadable', () => {
    const nameless = device(0xffff_8000_0000_4000n, null);
    const model = toDevice(nameless, new Map(), new Map([[nameless.va, nameless]]), links);
    expect(model.links).toEqual([]);
  });
});
