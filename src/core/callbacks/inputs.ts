// What the callbacks stage reads and what it returns: a leaf that the stage's readers import, so
// that no reader imports the stage that calls it.

import type { CallbackKind, CallbackSection, Device, Driver, Finding, Module } from '../../common/model';
import type { KernelImageFacts } from '../kernel/discover';
import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import type { HandlerJudge } from '../verdicts/handlers';
import type { ModuleSet } from '../verdicts/module-set';
import type { ProcessRecord } from '../activity';

export interface CallbackInputs {
  memory: KernelMemory;
  kernel: KernelImageFacts;
  profile: LayoutProfile | null;
  build: number | null;
  modules: ModuleSet;
  /** The result's modules, for whether a routine's module is unlinked. */
  moduleList: readonly Module[];
  /** PsLoadedModuleList was read to its end. */
  moduleListComplete: boolean;
  /** The result's devices and drivers: a shutdown packet's routine is its device's driver's. */
  devices: readonly Device[];
  drivers: readonly Driver[];
  judge: HandlerJudge;
  /** The processes read, for the System process's threads. */
  processes: readonly ProcessRecord[];
  /** Why threads cannot be read in this image; null when they can. */
  threadsUnavailable: string | null;
  /** The decoded KDBG (for KiProcessorBlock), or null. */
  kdbg: Uint8Array | null;
}

export interface CallbackStage {
  section: CallbackSection;
  findings: Finding[];
  warnings: string[];
  /** Kinds this kernel does not have (object callbacks before Vista SP1): nothing was left unjudged. */
  absent: ReadonlySet<CallbackKind>;
}
