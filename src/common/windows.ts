// Names of Windows kernel constants that cross every boundary (engine, builder, views, reports).
// Sources: ../shared/spec/windows-memory.md §1.3 (IRP_MJ_*), §1.5 (FAST_IO_DISPATCH order),
// §1.6 (FILE_DEVICE_*, DO_*, characteristics), §1.2 (DRVO_*).

export const IRP_MJ_NAMES = [
  'IRP_MJ_CREATE',
  'IRP_MJ_CREATE_NAMED_PIPE',
  'IRP_MJ_CLOSE',
  'IRP_MJ_READ',
  'IRP_MJ_WRITE',
  'IRP_MJ_QUERY_INFORMATION',
  'IRP_MJ_SET_INFORMATION',
  'IRP_MJ_QUERY_EA',
  'IRP_MJ_SET_EA',
  'IRP_MJ_FLUSH_BUFFERS',
  'IRP_MJ_QUERY_VOLUME_INFORMATION',
  'IRP_MJ_SET_VOLUME_INFORMATION',
  'IRP_MJ_DIRECTORY_CONTROL',
  'IRP_MJ_FILE_SYSTEM_CONTROL',
  'IRP_MJ_DEVICE_CONTROL',
  'IRP_MJ_INTERNAL_DEVICE_CONTROL',
  'IRP_MJ_SHUTDOWN',
  'IRP_MJ_LOCK_CONTROL',
  'IRP_MJ_CLEANUP',
  'IRP_MJ_CREATE_MAILSLOT',
  'IRP_MJ_QUERY_SECURITY',
  'IRP_MJ_SET_SECURITY',
  'IRP_MJ_POWER',
  'IRP_MJ_SYSTEM_CONTROL',
  'IRP_MJ_DEVICE_CHANGE',
  'IRP_MJ_QUERY_QUOTA',
  'IRP_MJ_SET_QUOTA',
  'IRP_MJ_PNP',
] as const;

export type IrpMajorName = (typeof IRP_MJ_NAMES)[number];
export const IRP_MJ_COUNT = IRP_MJ_NAMES.length;

export const IRP_MJ = Object.fromEntries(IRP_MJ_NAMES.map((name, index) => [name, index])) as Record<
  IrpMajorName,
  number
>;

/** FAST_IO_DISPATCH pointers in structure order; slot k (1-based) follows SizeOfFastIoDispatch. */
export const FAST_IO_NAMES = [
  'FastIoCheckIfPossible',
  'FastIoRead',
  'FastIoWrite',
  'FastIoQueryBasicInfo',
  'FastIoQueryStandardInfo',
  'FastIoLock',
  'FastIoUnlockSingle',
  'FastIoUnlockAll',
  'FastIoUnlockAllByKey',
  'FastIoDeviceControl',
  'AcquireFileForNtCreateSection',
  'ReleaseFileForNtCreateSection',
  'FastIoDetachDevice',
  'FastIoQueryNetworkOpenInfo',
  'AcquireForModWrite',
  'MdlRead',
  'MdlReadComplete',
  'PrepareMdlWrite',
  'MdlWriteComplete',
  'FastIoReadCompressed',
  'FastIoWriteCompressed',
  'MdlReadCompleteCompressed',
  'MdlWriteCompleteCompressed',
  'FastIoQueryOpen',
  'ReleaseForModWrite',
  'AcquireForCcFlush',
  'ReleaseForCcFlush',
] as const;

export type FastIoName = (typeof FAST_IO_NAMES)[number];

export const FILE_DEVICE_NAMES: Readonly<Record<number, string>> = {
  0x01: 'BEEP',
  0x02: 'CD_ROM',
  0x03: 'CD_ROM_FILE_SYSTEM',
  0x04: 'CONTROLLER',
  0x05: 'DATALINK',
  0x06: 'DFS',
  0x07: 'DISK',
  0x08: 'DISK_FILE_SYSTEM',
  0x09: 'FILE_SYSTEM',
  0x0a: 'INPORT_PORT',
  0x0b: 'KEYBOARD',
  0x0c: 'MAILSLOT',
  0x0d: 'MIDI_IN',
  0x0e: 'MIDI_OUT',
  0x0f: 'MOUSE',
  0x10: 'MULTI_UNC_PROVIDER',
  0x11: 'NAMED_PIPE',
  0x12: 'NETWORK',
  0x13: 'NETWORK_BROWSER',
  0x14: 'NETWORK_FILE_SYSTEM',
  0x15: 'NULL',
  0x16: 'PARALLEL_PORT',
  0x17: 'PHYSICAL_NETCARD',
  0x18: 'PRINTER',
  0x19: 'SCANNER',
  0x1a: 'SERIAL_MOUSE_PORT',
  0x1b: 'SERIAL_PORT',
  0x1c: 'SCREEN',
  0x1d: 'SOUND',
  0x1e: 'STREAMS',
  0x1f: 'TAPE',
  0x20: 'TAPE_FILE_SYSTEM',
  0x21: 'TRANSPORT',
  0x22: 'UNKNOWN',
  0x23: 'VIDEO',
  0x24: 'VIRTUAL_DISK',
  0x25: 'WAVE_IN',
  0x26: 'WAVE_OUT',
  0x27: '8042_PORT',
  0x28: 'NETWORK_REDIRECTOR',
  0x29: 'BATTERY',
  0x2a: 'BUS_EXTENDER',
  0x2b: 'MODEM',
  0x2c: 'VDM',
  0x2d: 'MASS_STORAGE',
  0x2e: 'SMB',
  0x2f: 'KS',
  0x30: 'CHANGER',
  0x31: 'SMARTCARD',
  0x32: 'ACPI',
  0x33: 'DVD',
  0x34: 'FULLSCREEN_VIDEO',
  0x35: 'DFS_FILE_SYSTEM',
  0x36: 'DFS_VOLUME',
  0x37: 'SERENUM',
  0x38: 'TERMSRV',
  0x39: 'KSEC',
  0x3a: 'FIPS',
  0x3b: 'INFINIBAND',
  0x3e: 'VMBUS',
  0x3f: 'CRYPT_PROVIDER',
  0x40: 'WPD',
  0x41: 'BLUETOOTH',
  0x42: 'MT_COMPOSITE',
  0x43: 'MT_TRANSPORT',
  0x44: 'BIOMETRIC',
  0x45: 'PMI',
  0x46: 'EHSTOR',
  0x47: 'DEVAPI',
  0x48: 'GPIO',
  0x49: 'USBEX',
  0x50: 'CONSOLE',
  0x51: 'NFP',
  0x52: 'SYSENV',
  0x53: 'VIRTUAL_BLOCK',
  0x54: 'POINT_OF_SERVICE',
  0x55: 'STORAGE_REPLICATION',
  0x56: 'TRUST_ENV',
  0x57: 'UCM',
  0x58: 'UCMTCPCI',
  0x59: 'PERSISTENT_MEMORY',
  0x5a: 'NVDIMM',
  0x5b: 'HOLOGRAPHIC',
  0x5c: 'SDFXHCI',
  0x5d: 'UCMUCSI',
};

/** FILE_DEVICE_* name for a DeviceType code; unknown codes read "UNKNOWN" as in Volatility's devicetree. */
export function deviceTypeName(code: number): string {
  return FILE_DEVICE_NAMES[code] ?? 'UNKNOWN';
}

export const FILE_DEVICE = Object.fromEntries(
  Object.entries(FILE_DEVICE_NAMES).map(([code, name]) => [name, Number(code)]),
) as Readonly<Record<string, number>>;

export const DO_FLAGS: Readonly<Record<string, number>> = {
  DO_UNLOAD_PENDING: 0x1,
  DO_VERIFY_VOLUME: 0x2,
  DO_BUFFERED_IO: 0x4,
  DO_EXCLUSIVE: 0x8,
  DO_DIRECT_IO: 0x10,
  DO_MAP_IO_BUFFER: 0x20,
  DO_DEVICE_HAS_NAME: 0x40,
  DO_DEVICE_INITIALIZING: 0x80,
  DO_SYSTEM_BOOT_PARTITION: 0x100,
  DO_LONG_TERM_REQUESTS: 0x200,
  DO_NEVER_LAST_DEVICE: 0x400,
  DO_SHUTDOWN_REGISTERED: 0x800,
  DO_BUS_ENUMERATED_DEVICE: 0x1000,
  DO_POWER_PAGABLE: 0x2000,
  DO_POWER_INRUSH: 0x4000,
  DO_LOW_PRIORITY_FILESYSTEM: 0x10000,
  DO_SUPPORTS_TRANSACTIONS: 0x40000,
  DO_FORCE_NEITHER_IO: 0x80000,
  DO_VOLUME_DEVICE_OBJECT: 0x100000,
  DO_SYSTEM_SYSTEM_PARTITION: 0x200000,
  DO_SYSTEM_CRITICAL_PARTITION: 0x400000,
  DO_DISALLOW_EXECUTE: 0x800000,
};

export const DRVO_FLAGS: Readonly<Record<string, number>> = {
  DRVO_UNLOAD_INVOKED: 0x1,
  DRVO_LEGACY_DRIVER: 0x2,
  DRVO_BUILTIN_DRIVER: 0x4,
  DRVO_REINIT_REGISTERED: 0x8,
  DRVO_INITIALIZED: 0x10,
  DRVO_BOOTREINIT_REGISTERED: 0x20,
  DRVO_LEGACY_RESOURCES: 0x40,
};

export const FILE_CHARACTERISTICS: Readonly<Record<string, number>> = {
  FILE_REMOVABLE_MEDIA: 0x1,
  FILE_READ_ONLY_DEVICE: 0x2,
  FILE_FLOPPY_DISKETTE: 0x4,
  FILE_REMOTE_DEVICE: 0x10,
  FILE_AUTOGENERATED_DEVICE_NAME: 0x80,
  FILE_DEVICE_SECURE_OPEN: 0x100,
};

/** Each table's bits lowest first, sorted once: flagNames runs for every driver and device. */
const sortedBits = new WeakMap<Readonly<Record<string, number>>, Array<[string, number]>>();

/** Names of the bits set in `value` according to `table`, lowest bit first; unknown bits as hex. */
export function flagNames(value: number, table: Readonly<Record<string, number>>): string[] {
  let bits = sortedBits.get(table);
  if (bits === undefined) {
    bits = Object.entries(table).sort((a, b) => a[1] - b[1]);
    sortedBits.set(table, bits);
  }
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [name, bit] of bits) {
    if ((rest & bit) !== 0) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names;
}
