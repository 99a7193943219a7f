// What an analyst must look at, each with a severity, one sentence and its evidence. One finding
// per kind and subject (a driver, device or module), listing every handler concerned.

import type { FindingKind, Severity } from '../../common/findings';
import { compareFindings, isSuspiciousVerdict } from '../../common/findings';
import type {
  Device,
  Hex,
  Driver,
  Finding,
  Handler,
  Irp,
  Module,
  Process,
  ServiceTable,
} from '../../common/model';

/** How much of a kernel list or directory could be read: judging absence from it needs all of it. */
export type Completeness = 'complete' | 'partial' | 'none';

export interface FindingInputs {
  serviceTable: ServiceTable | null;
  drivers: Driver[];
  devices: Device[];
  modules: Module[];
  processes: Process[];
  irps: Irp[];
  /** \Driver and \FileSystem: "hidden" cannot be judged without them, only suspected when partial. */
  directoryWalk: Completeness;
  /** PsLoadedModuleList: a driver whose image is in no module is only suspect when it is incomplete. */
  moduleListWalk: Completeness;
  /** Driver objects (ids) that devices name but whose memory the image does not hold. */
  unreadableDrivers: ReadonlySet<string>;
}

const PARTIAL_DIRECTORY =
  ' The object directories could not be read completely in this image, so it may be listed in the part that could not be read.';
const PARTIAL_MODULE_LIST =
  ' PsLoadedModuleList could not be read completely in this image, so the module may be one whose loader entry was lost.';

/** Markup and control characters (C0, DEL) never appear in a legitimate driver or device name. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const HOSTILE_CHARACTER = /[\x00-\x1f\x7f<>"'`]/;

function hostile(text: string): boolean {
  return HOSTILE_CHARACTER.test(text);
}
const SYSTEM_PATH = /^(\\SystemRoot\\|\\Windows\\|\\WINDOWS\\|\\\?\?\\C:\\Windows\\System32\\)|^[^\\]*$/i;

export function displayName(driver: Driver): string {
  return (
    driver.name ?? (driver.objectName ? `${driver.directory ?? ''}\\${driver.objectName}` : driver.objectVa)
  );
}

function describeHandlers(handlers: Handler[]): string {
  return handlers.map((h) => `${h.name} → ${h.module ? `${h.module}+${h.offset}` : h.address}`).join('; ');
}

function finding(
  kind: FindingKind,
  severity: Severity,
  subject: string,
  explanation: string,
  evidence: Finding['evidence'],
): Finding {
  return { id: '', severity, kind, subject, explanation, evidence };
}

const plural = (count: number, one: string, many: string) => (count > 1 ? many : one);

export function buildFindings(inputs: FindingInputs): Finding[] {
  const liveDrivers = inputs.drivers.filter((d) => d.state === 'live');
  // Families in a fixed order: the sort below is stable, so ties keep it.
  const findings = [
    ...liveDrivers.flatMap((driver) => driverFindings(driver, inputs)),
    ...hostileNameFindings(inputs.drivers),
    ...unlinkedModuleFindings(inputs.modules),
    ...foreignFilterFindings(inputs, hookDestinations(liveDrivers)),
    ...serviceTableFindings(inputs.serviceTable),
    ...hiddenProcessFindings(inputs.processes),
    ...completionHookFindings(inputs),
    ...staleDriverFindings(inputs.drivers),
  ];
  findings.sort(compareFindings);
  findings.forEach((finding, i) => (finding.id = `F${String(i + 1).padStart(3, '0')}`));
  return findings;
}

/** What one live driver's own object shows: its tables' verdicts, its place in the directories and the module list. */
function driverFindings(driver: Driver, inputs: FindingInputs): Finding[] {
  return [
    ...irpTableFindings(driver, inputs.moduleListWalk),
    ...fastIoFindings(driver),
    ...placementFindings(driver, inputs),
  ];
}

function irpTableFindings(driver: Driver, moduleListWalk: Completeness): Finding[] {
  const name = displayName(driver);
  const majors = driver.irp.concat(driver.callbacks);
  const findings: Finding[] = [];
  const foreign = majors.filter((h) => h.verdict === 'other-module');
  if (foreign.length) {
    findings.push(
      finding(
        'irp-hook',
        'high',
        name,
        `${foreign.length} IRP handler${plural(foreign.length, '', 's')} of ${name} point${plural(foreign.length, 's', '')} into ${[...new Set(foreign.map((h) => h.module))].join(', ')}, not into its own image.`,
        {
          driver: driver.id,
          handlers: foreign.map(handlerEvidence),
          modules: [...new Set(foreign.map((h) => h.module!))],
          detail: describeHandlers(foreign),
        },
      ),
    );
  }
  const nowhere = majors.filter((h) => h.verdict === 'no-module');
  if (nowhere.length) {
    const partial = moduleListWalk !== 'complete';
    findings.push(
      finding(
        'irp-no-module',
        partial ? 'high' : 'critical',
        name,
        `${nowhere.length} IRP handler${plural(nowhere.length, '', 's')} of ${name} point${plural(nowhere.length, 's', '')} to code in no loaded module (pool or unmapped memory).${partial ? PARTIAL_MODULE_LIST : ''}`,
        {
          driver: driver.id,
          handlers: nowhere.map(handlerEvidence),
          addresses: nowhere.map((h) => h.address),
          ...(nowhere[0]?.disassembly ? { disassembly: nowhere[0].disassembly } : {}),
        },
      ),
    );
  }
  const patched = majors.filter((h) => h.verdict === 'inline-patched');
  if (patched.length) {
    const targets = [...new Set(patched.map((h) => h.target?.module ?? h.target?.address ?? '?'))];
    findings.push(
      finding(
        'inline-hook',
        'critical',
        name,
        `The dispatch routine${plural(patched.length, '', 's')} of ${name} begin${plural(patched.length, 's', '')} with a jump to ${targets.join(', ')}: the code was patched in memory.`,
        {
          driver: driver.id,
          handlers: patched.map(handlerEvidence),
          addresses: patched.flatMap((h) => [h.address, h.target?.address ?? h.address]),
          ...(patched[0]?.disassembly ? { disassembly: patched[0].disassembly } : {}),
        },
      ),
    );
  }
  return findings;
}

function fastIoFindings(driver: Driver): Finding[] {
  const fastIo = driver.fastIo.filter((h) => isSuspiciousVerdict(h.verdict));
  if (!fastIo.length) return [];
  const name = displayName(driver);
  return [
    finding(
      'fastio-hook',
      'high',
      name,
      `${fastIo.length} FastIo entr${plural(fastIo.length, 'y', 'ies')} of ${name} point${plural(fastIo.length, 's', '')} outside its image and the kernel.`,
      {
        driver: driver.id,
        handlers: fastIo.map(handlerEvidence),
        detail: describeHandlers(fastIo),
      },
    ),
  ];
}

/** A driver missing from the object directories, or whose image range is in no module. */
function placementFindings(driver: Driver, inputs: FindingInputs): Finding[] {
  const name = displayName(driver);
  const findings: Finding[] = [];
  if (inputs.directoryWalk !== 'none' && !driver.foundBy.includes('directory')) {
    const partial = inputs.directoryWalk === 'partial';
    findings.push(
      finding(
        'hidden-driver',
        partial ? 'medium' : 'critical',
        name,
        `${name} exists in memory (found by ${driver.foundBy.join(', ')}) but is not in the \\Driver or \\FileSystem object directory.${partial ? PARTIAL_DIRECTORY : ''}`,
        {
          driver: driver.id,
          addresses: [driver.objectVa],
          detail: `found by ${driver.foundBy.join(', ')}`,
        },
      ),
    );
  }
  const builtin = driver.flagNames.includes('DRVO_BUILTIN_DRIVER');
  if (!builtin && driver.start !== '0x0' && driver.module === null) {
    const partial = inputs.moduleListWalk !== 'complete';
    findings.push(
      finding(
        'orphan-driver',
        partial ? 'medium' : 'high',
        name,
        `The image range of ${name} (${driver.start}, ${driver.size} bytes) matches no loaded module, listed or scanned.${partial ? PARTIAL_MODULE_LIST : ''}`,
        {
          driver: driver.id,
          addresses: [driver.start],
        },
      ),
    );
  }
  return findings;
}

/** Modules that live drivers' hooks lead into: a filter owned by one of them is suspect. */
function hookDestinations(liveDrivers: Driver[]): Set<string> {
  const destinations = new Set<string>();
  for (const driver of liveDrivers) {
    for (const h of driver.irp.concat(driver.callbacks)) {
      if (h.verdict === 'other-module' && h.module) destinations.add(h.module);
      if (h.verdict === 'inline-patched' && h.target?.module) destinations.add(h.target.module);
    }
    for (const h of driver.fastIo) if (h.verdict === 'other-module' && h.module) destinations.add(h.module);
  }
  return destinations;
}

/** Hostile names, on live drivers and on the freed objects of unloaded ones alike. */
function hostileNameFindings(drivers: Driver[]): Finding[] {
  return drivers
    .filter((driver) => hostile(driver.name ?? '') || hostile(driver.objectName ?? ''))
    .map((driver) =>
      finding(
        'suspicious-name',
        'medium',
        displayName(driver),
        `The name of the ${driver.state === 'freed' ? 'freed ' : ''}driver object at ${driver.objectVa} contains markup or control characters, which no legitimate driver uses.`,
        {
          driver: driver.id,
          detail: JSON.stringify(driver.name ?? driver.objectName),
        },
      ),
    );
}

function unlinkedModuleFindings(modules: Module[]): Finding[] {
  return modules
    .filter((module) => module.unlinked)
    .map((module) =>
      finding(
        'unlinked-module',
        'high',
        module.name,
        `The loader entry of ${module.name} was found ${module.foundBy.includes('pool-scan') ? 'in pool memory' : "through its driver object's DriverSection"} but is not on PsLoadedModuleList: it was unlinked to hide the module.`,
        {
          modules: [module.name],
          addresses: [module.base, ...(module.ldrEntry ? [module.ldrEntry] : [])],
          detail: module.path ?? undefined,
        },
      ),
    );
}

/**
 * Why the owner of a filter is suspect (hidden, unbacked, loaded from outside the system folders,
 * or the destination of hooks), or null. A reason is only a suspicion when the image lacks what
 * would confirm it (damaged or truncated).
 */
function suspiciousOwner(
  driverId: string,
  driver: Driver | undefined,
  inputs: FindingInputs,
  destinations: ReadonlySet<string>,
): { reason: string; certain: boolean } | null {
  // Driver objects live in nonpaged pool: one the image lacks was lost with the image, not hidden.
  if (!driver) return { reason: 'an unknown driver', certain: !inputs.unreadableDrivers.has(driverId) };
  if (inputs.directoryWalk !== 'none' && !driver.foundBy.includes('directory'))
    return { reason: 'a hidden driver', certain: inputs.directoryWalk === 'complete' };
  if (driver.module === null && !driver.flagNames.includes('DRVO_BUILTIN_DRIVER'))
    return { reason: 'a driver with no loaded image', certain: inputs.moduleListWalk === 'complete' };
  const module = inputs.modules.find((m) => m.name === driver.module);
  if (module?.path && !SYSTEM_PATH.test(module.path))
    return { reason: `a driver loaded from ${module.path}`, certain: true };
  if (driver.module && destinations.has(driver.module))
    return { reason: "a driver that other drivers' hooks point into", certain: true };
  return null;
}

/** Filters attached to another driver's stack by a suspicious driver, one finding per stack. */
function foreignFilterFindings(inputs: FindingInputs, destinations: ReadonlySet<string>): Finding[] {
  const devicesById = new Map(inputs.devices.map((d) => [d.id, d]));
  const driversById = new Map(inputs.drivers.map((d) => [d.id, d]));
  const reported = new Set<string>();
  const findings: Finding[] = [];
  for (const device of inputs.devices) {
    if (!device.attachedTo) continue;
    const below = devicesById.get(device.attachedTo);
    if (!below || below.driver === device.driver) continue;
    const owner = driversById.get(device.driver);
    const suspicion = suspiciousOwner(device.driver, owner, inputs, destinations);
    if (!suspicion) continue;
    // Name the stack by its nearest named device below the filter.
    let named: Device | undefined = below;
    for (let guard = 0; named && !named.name && guard < 64; guard++)
      named = named.attachedTo ? devicesById.get(named.attachedTo) : undefined;
    const subject = named?.name ?? below.id;
    if (reported.has(subject)) continue;
    reported.add(subject);
    findings.push(
      finding(
        'foreign-filter',
        suspicion.certain ? 'high' : 'medium',
        subject,
        `A device of ${owner ? displayName(owner) : device.driver} (${suspicion.reason}) is attached on top of ${subject}: every request to it passes through that driver first.${suspicion.certain ? '' : ' This image could not be read completely, so that may be an artefact of the missing parts.'}`,
        {
          device: device.id,
          driver: device.driver,
          addresses: [device.objectVa],
        },
      ),
    );
  }
  return findings;
}

function serviceTableFindings(serviceTable: ServiceTable | null): Finding[] {
  const findings: Finding[] = [];
  for (const entry of serviceTable?.entries ?? []) {
    const where = entry.module ? `${entry.module}+${entry.offset}` : `${entry.address} (in no module)`;
    const service = `${entry.name} (service 0x${entry.index.toString(16)})`;
    const evidence = {
      addresses: [entry.address, ...(entry.target ? [entry.target.address] : [])],
      handlers: [handlerEvidence(entry)],
      ...(entry.disassembly ? { disassembly: entry.disassembly } : {}),
    };
    if (entry.verdict === 'other-module' || entry.verdict === 'no-module')
      findings.push(
        finding(
          'ssdt-hook',
          'critical',
          entry.name,
          `The system-service table sends ${service} to ${where}, outside the kernel: every call of it from user mode runs that code instead.`,
          evidence,
        ),
      );
    else if (entry.verdict === 'inline-patched')
      findings.push(
        finding(
          'ssdt-inline',
          'critical',
          entry.name,
          `The code the system-service table runs for ${service}, at ${where}, jumps at once to ${entry.target!.address} (${entry.target!.module ?? 'in no module'}): every call of it from user mode is diverted.`,
          evidence,
        ),
      );
  }
  return findings;
}

function hiddenProcessFindings(processes: Process[]): Finding[] {
  return processes
    .filter((p) => p.hidden)
    .map((process) => {
      const threads = process.threads.length;
      return finding(
        'hidden-process',
        'critical',
        process.name,
        `Process ${process.name} (PID ${process.pid}) is alive in pool memory with ${threads} thread${threads === 1 ? '' : 's'} but missing from PsActiveProcessHead: it was unlinked to hide it from every tool that walks the process list.`,
        {
          addresses: [process.objectVa],
          detail: `EPROCESS ${process.objectVa}, parent PID ${process.parentPid}, found by ${process.foundBy.join(', ')}`,
        },
      );
    });
}

function completionHookFindings(inputs: FindingInputs): Finding[] {
  const findings: Finding[] = [];
  for (const irp of inputs.irps) {
    for (const location of irp.stack) {
      const routine = location.completion;
      if (!routine || !completionHooked(routine, location.completionSetBy)) continue;
      findings.push(completionHookFinding(irp, location, routine, inputs));
    }
  }
  return findings;
}

function completionHookFinding(
  irp: Irp,
  location: Irp['stack'][number],
  routine: Handler,
  inputs: FindingInputs,
): Finding {
  const where = routine.module ? `${routine.module}+${routine.offset}` : `${routine.address} (in no module)`;
  const device = location.deviceName ?? location.device ?? 'an unknown device';
  const issuer =
    irp.processName !== null ? ` issued by ${irp.processName} (PID ${irp.pid}, TID ${irp.tid})` : '';
  const setter = location.completionSetBy
    ? (inputs.drivers.find((d) => d.id === location.completionSetBy) ?? null)
    : null;
  const partial = routine.verdict === 'no-module' && inputs.moduleListWalk !== 'complete';
  const why =
    routine.verdict === 'no-module'
      ? 'code in no loaded module'
      : routine.verdict === 'inline-patched'
        ? `code that jumps at once to ${routine.target?.address ?? '?'} (${routine.target?.module ?? 'in no module'})`
        : `another module than that of ${setter ? displayName(setter) : location.completionSetBy}, which set it`;
  return finding(
    'completion-hook',
    routine.verdict === 'no-module' && !partial ? 'critical' : 'high',
    device,
    `The ${irp.majorName} request ${irp.address}${issuer}, waiting at ${device}, will call a completion routine at ${where} when it completes: ${why}. That code sees what the request returns (keystrokes or mouse input, for a raw-input read) before the caller does.${partial ? PARTIAL_MODULE_LIST : ''}`,
    {
      ...(location.device ? { device: location.device } : {}),
      ...(location.completionSetBy ? { driver: location.completionSetBy } : {}),
      handlers: [handlerEvidence(routine)],
      addresses: [irp.address, routine.address, ...(routine.target ? [routine.target.address] : [])],
      ...(routine.disassembly ? { disassembly: routine.disassembly } : {}),
      detail: `IRP ${irp.address}, stack location ${location.index}, ${location.majorName}, set by ${setter ? displayName(setter) : (location.completionSetBy ?? 'whoever allocated the IRP (no driver is above it)')}`,
    },
  );
}

function staleDriverFindings(drivers: Driver[]): Finding[] {
  return drivers
    .filter((d) => d.state === 'freed')
    .map((driver) =>
      finding(
        'stale-driver',
        'info',
        displayName(driver),
        `A driver object of ${displayName(driver)} remains in a freed pool block: the driver was loaded and unloaded.`,
        {
          driver: driver.id,
          addresses: [driver.objectVa],
        },
      ),
    );
}

/**
 * A completion routine is judged against the driver that set it (the one a location up). Code in
 * no module, or code that jumps out of its module, is a hook whoever set it; another module is a
 * hook only when a driver above set it: with none above, whoever allocated the IRP did, which is
 * any driver that builds its own requests.
 */
function completionHooked(routine: Handler, setBy: string | null): boolean {
  if (routine.verdict === 'no-module' || routine.verdict === 'inline-patched') return true;
  return routine.verdict === 'other-module' && setBy !== null;
}

function handlerEvidence(h: Handler): {
  name: string;
  address: Hex;
  module: string | null;
  verdict: Handler['verdict'];
} {
  return { name: h.name, address: h.address, module: h.module, verdict: h.verdict };
}
