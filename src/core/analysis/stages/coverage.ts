// What each part of the analysis could read, stated next to its count everywhere it is shown. A
// part is 'partial' when a route to it could not be read to its end or a judgement about it
// (hidden, unlinked) could not be made, 'unavailable' when nothing of it could be read.

import type { Coverage, CoveredPart } from '../../../common/model';
import type { ActivityRecords } from '../../activity';
import type { Completeness } from '../findings';
import type { DirectoryView } from './directory-view';
import type { ObjectGraph } from './driver-merge';
import type { ModuleListView } from './module-view';

type Parts = Record<CoveredPart, Coverage>;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function coverage(missing: string[], unavailable = false): Coverage {
  return { state: unavailable ? 'unavailable' : missing.length ? 'partial' : 'complete', missing };
}

/** Every part unavailable for one reason (no layouts, no memory). */
export function nothingReadable(reason: string, modules?: Coverage): Parts {
  const none = (): Coverage => ({ state: 'unavailable', missing: [reason] });
  return {
    drivers: none(),
    devices: none(),
    modules: modules ?? none(),
    links: none(),
    services: none(),
    processes: none(),
    threads: none(),
    irps: none(),
    findings: none(),
  };
}

export interface CoverageInputs {
  directoryView: DirectoryView;
  moduleList: ModuleListView;
  graph: ObjectGraph;
  activity: ActivityRecords;
  processListFound: boolean;
  /** Why the service table is missing (null: it was read), and how many entries were unreadable. */
  serviceTable: { missing: string | null; unreadable: string | null };
  /** The callback kinds whose kernel array or list was not found ("process notify", …). */
  callbacksNotFound: string[];
}

export function coverageOf(inputs: CoverageInputs): Parts {
  const { directoryView, moduleList, graph, activity } = inputs;
  const drivers: string[] = [];
  if (directoryView.walk !== 'complete')
    drivers.push(
      `${directoryView.gaps.join('; ') || 'the object directories could not be read'}: drivers come from the other views, and ${directoryView.walk === 'none' ? 'none can be judged hidden' : 'a driver off the directories is only suspected hidden'}`,
    );
  if (graph.unreadableDrivers.size)
    drivers.push(
      `${plural(graph.unreadableDrivers.size, 'driver object')} named by devices ${graph.unreadableDrivers.size === 1 ? 'is' : 'are'} not in the image`,
    );
  const devices: string[] = [];
  if (graph.unreadableDevices)
    devices.push(
      `${plural(graph.unreadableDevices, 'device object')} named by driver chains or device stacks ${graph.unreadableDevices === 1 ? 'is' : 'are'} not in the image`,
    );
  if (graph.deviceLimitReached) devices.push('the device limit was reached: further devices were not read');

  const modules = moduleListGap(moduleList.walk);
  const links: string[] = [];
  if (!directoryView.linkDirectory) links.push('the \\GLOBAL?? object directory was not found');
  else if (!directoryView.linkDirectory.complete) links.push('\\GLOBAL?? could not be read to its end');

  const services: string[] = [];
  if (inputs.serviceTable.missing) services.push(inputs.serviceTable.missing);
  else if (inputs.serviceTable.unreadable) services.push(inputs.serviceTable.unreadable);

  const processes: string[] = [];
  if (activity.processesUnavailable) processes.push(activity.processesUnavailable);
  else if (!inputs.processListFound)
    processes.push(
      'PsActiveProcessHead was not found: processes come from the pool scan only, and none can be judged hidden',
    );
  else if (!activity.processListComplete)
    processes.push(
      `the process list could not be read to its end (${activity.processGaps.slice(0, 3).join('; ')}): a process off it is not judged hidden`,
    );
  const threads = activity.threadsUnavailable
    ? [activity.threadsUnavailable]
    : summarise(activity.threadGaps);
  const irps = activity.threadsUnavailable
    ? [`IRPs come from the pool scan only, and their threads are not named: ${activity.threadsUnavailable}`]
    : summarise(activity.irpGaps);

  const findings: string[] = [];
  if (directoryView.walk === 'none')
    findings.push('hidden drivers cannot be judged: the \\Driver directory was not read');
  else if (directoryView.walk === 'partial')
    findings.push('hidden drivers are only suspected: the object directories were read in part');
  if (moduleList.walk !== 'complete')
    findings.push(
      `unlinked modules cannot be judged: PsLoadedModuleList ${moduleList.walk === 'none' ? 'was not found' : 'could not be read to its end'}`,
    );
  if (activity.processesUnavailable)
    findings.push(`hidden processes cannot be judged: ${activity.processesUnavailable}`);
  else if (!inputs.processListFound || !activity.processListComplete)
    findings.push('hidden processes cannot be judged: the process list was not read to its end');
  if (inputs.serviceTable.missing)
    findings.push('system-service hooks cannot be judged: the service table was not found');
  if (inputs.callbacksNotFound.length > 0)
    findings.push(
      `${inputs.callbacksNotFound.join(', ')} routines cannot be judged: where the kernel keeps them was not found or could not be read (each kind's coverage says why)`,
    );

  return {
    drivers: coverage(drivers),
    devices: coverage(devices),
    modules: coverage(modules),
    links: coverage(links, !directoryView.linkDirectory),
    services: coverage(services, inputs.serviceTable.missing !== null),
    processes: coverage(processes, activity.processesUnavailable !== null),
    threads: coverage(threads, activity.threadsUnavailable !== null),
    irps: coverage(irps),
    findings: coverage(findings),
  };
}

function moduleListGap(walk: Completeness): string[] {
  if (walk === 'complete') return [];
  return [
    walk === 'none'
      ? 'PsLoadedModuleList was not found: modules come from the loader-entry scan and driver objects only, and none can be judged unlinked'
      : 'PsLoadedModuleList could not be read to its end: a module off it is not judged unlinked',
  ];
}

/** At most three reasons, and how many more. */
function summarise(gaps: string[]): string[] {
  if (gaps.length <= 3) return gaps;
  return [...gaps.slice(0, 3), `and ${gaps.length - 3} more`];
}
