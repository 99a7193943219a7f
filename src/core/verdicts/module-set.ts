// The loaded modules as address ranges: from PsLoadedModuleList and from the MmLd pool scan.
// Owner lookup is a binary search over sorted bases (Volatility 2's find_module, spec §4.5).

export interface KnownModule {
  name: string;
  path: string | null;
  base: bigint;
  size: number;
  entryVa: bigint | null;
  listed: boolean;
  scanned: boolean;
  /** Named by a driver object's DriverSection. */
  fromDriver: boolean;
}

const KERNEL_IMAGES = new Set([
  'ntoskrnl.exe',
  'ntkrnlpa.exe',
  'ntkrnlmp.exe',
  'ntkrpamp.exe',
  'hal.dll',
  'halmacpi.dll',
  'halacpi.dll',
  'halaacpi.dll',
  'halapic.dll',
]);

/** Port, class and framework modules that fill their clients' IRP tables (spec §4.5 item 3). */
const DELEGATES = new Set([
  'wdf01000.sys',
  'wdfldr.sys',
  'storport.sys',
  'scsiport.sys',
  'ataport.sys',
  'classpnp.sys',
  'ndis.sys',
  'ks.sys',
  'portcls.sys',
  'videoprt.sys',
  'hidclass.sys',
  'dxgkrnl.sys',
  'usbport.sys',
  'pciidex.sys',
  'tdi.sys',
  'usbd.sys',
  'ucx01000.sys',
  'drmk.sys',
  'battc.sys',
  'wmilib.sys',
  'netio.sys',
  'fltmgr.sys',
]);

export class ModuleSet {
  readonly modules: KnownModule[];
  private readonly sorted: KnownModule[];

  constructor(modules: KnownModule[]) {
    this.modules = modules;
    this.sorted = [...modules]
      .filter((m) => m.size > 0)
      .sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  }

  owner(address: bigint): KnownModule | null {
    let low = 0;
    let high = this.sorted.length - 1;
    let candidate: KnownModule | null = null;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const module = this.sorted[mid]!;
      if (module.base <= address) {
        candidate = module;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    if (!candidate || address >= candidate.base + BigInt(candidate.size)) return null;
    return candidate;
  }

  static isKernel(module: KnownModule): boolean {
    return KERNEL_IMAGES.has(module.name.toLowerCase());
  }

  static isDelegate(module: KnownModule): boolean {
    return DELEGATES.has(module.name.toLowerCase());
  }
}
