// What the analysis knows about each driver and device object before it becomes the result model.

import type { DriverView } from '../../common/model';
import type { DeviceObject } from '../objects/device';
import type { DirectoryEntry } from '../kernel/object-directory';
import type { DriverObject } from '../objects/driver';
import type { ObjectHeader } from '../kernel/object-header';

export interface DriverRecord {
  va: bigint;
  pa: number | null;
  object: DriverObject;
  header: ObjectHeader | null;
  views: Set<DriverView>;
  directory: string | null;
  freed: boolean;
}

export interface DeviceRecord {
  va: bigint;
  object: DeviceObject;
  header: ObjectHeader | null;
  name: string | null;
  nameStatus: string | null;
  /** Its entry in its object directory (named devices found there). */
  directoryEntry: DirectoryEntry | null;
}
