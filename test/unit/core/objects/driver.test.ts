// Whether bytes are a driver object is decided by typed problems, not by the wording of messages.

import { describe, expect, test } from 'vitest';
import {
  isPlausibleDriver,
  type DriverObject,
  type DriverObjectProblem,
} from '../../../../src/core/objects/driver';

function driver(problems: DriverObjectProblem[], type = 4): DriverObject {
  return {
    va: 0x84000000n,
    type,
    size: 0xa8,
    deviceObject: 0n,
    flags: 0,
    driverStart: 0x8b000000n,
    driverSize: 0x1000,
    driverSection: 0n,
    driverExtension: 0n,
    driverName: { text: '\\Driver\\x' },
    serviceKey: null,
    fastIoDispatch: 0n,
    fastIo: [],
    driverInit: 0n,
    driverStartIo: 0n,
    driverUnload: 0n,
    majorFunction: [],
    problems,
  } as DriverObject;
}

describe('isPlausibleDriver', () => {
  test('a wrong Type or Size, or a MajorFunction entry outside the kernel: not a driver object', () => {
    expect(isPlausibleDriver(driver([{ code: 'wrong-size', size: 0x10, expected: 0xa8 }]))).toBe(false);
    expect(isPlausibleDriver(driver([{ code: 'wrong-type', type: 3 }], 3))).toBe(false);
    expect(isPlausibleDriver(driver([{ code: 'major-function-not-kernel' }]))).toBe(false);
  });

  test('damage a real driver object can carry (a lost extension, no image) does not disqualify it', () => {
    expect(isPlausibleDriver(driver([]))).toBe(true);
    expect(
      isPlausibleDriver(
        driver([{ code: 'extension-unreadable' }, { code: 'no-image' }, { code: 'start-unaligned' }]),
      ),
    ).toBe(true);
  });
});
