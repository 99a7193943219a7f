// The path a user-mode request takes through the kernel, as recovered from one image: the Win32
// call, its ntdll stub and system service, the I/O manager, the symbolic link user mode names,
// then every device of the stack from the top down with the dispatch routine its driver runs for
// the operation's IRP_MJ code and the module that routine lives in. Pure: the backend serves it,
// the tests check it, anything else may draw it.

import type { FlowEdge, FlowGraph, FlowNode, UserOperation } from './api';
import { isSuspiciousVerdict, severityRank } from './findings';
import type { AnalysisResult, Device, Driver, Finding, Handler, Hex, Irp } from './model';
import { IRP_MJ } from './windows';

interface OperationFacts {
  api: string;
  service: string;
  major: number;
  majorName: string;
  ioManager: string;
}

export const OPERATIONS: Readonly<Record<UserOperation, OperationFacts>> = {
  CreateFile: {
    api: 'kernel32!CreateFileW',
    service: 'NtCreateFile',
    major: IRP_MJ.IRP_MJ_CREATE,
    majorName: 'IRP_MJ_CREATE',
    ioManager: 'IopParseDevice builds the IRP, IoCallDriver sends it to the top of the stack',
  },
  ReadFile: {
    api: 'kernel32!ReadFile',
    service: 'NtReadFile',
    major: IRP_MJ.IRP_MJ_READ,
    majorName: 'IRP_MJ_READ',
    ioManager: 'IopSynchronousServiceTail: IoCallDriver to the top of the stack',
  },
  WriteFile: {
    api: 'kernel32!WriteFile',
    service: 'NtWriteFile',
    major: IRP_MJ.IRP_MJ_WRITE,
    majorName: 'IRP_MJ_WRITE',
    ioManager: 'IopSynchronousServiceTail: IoCallDriver to the top of the stack',
  },
  DeviceIoControl: {
    api: 'kernel32!DeviceIoControl',
    service: 'NtDeviceIoControlFile',
    major: IRP_MJ.IRP_MJ_DEVICE_CONTROL,
    majorName: 'IRP_MJ_DEVICE_CONTROL',
    ioManager: 'IopXxxControlFile: IoCallDriver to the top of the stack',
  },
};

export const USER_OPERATIONS = Object.keys(OPERATIONS) as UserOperation[];

/** The user operation whose IRP has major function `major`, if any. */
export function operationOfMajor(major: number): UserOperation | null {
  return USER_OPERATIONS.find((op) => OPERATIONS[op].major === major) ?? null;
}

/** What each kind of node is, as the diagram's small caption says it. */
export const FLOW_KIND_LABELS: Readonly<Record<FlowNode['kind'], string>> = {
  api: 'user API',
  process: 'process',
  thread: 'thread',
  irp: 'pending IRP',
  completion: 'completion routine',
  ntdll: 'ntdll stub',
  syscall: 'system service',
  'io-manager': 'I/O manager',
  'symbolic-link': 'symbolic link',
  device: 'device',
  dispatch: 'dispatch routine',
  module: 'module',
};

/** Findings that concern a driver, a device or a handler, looked up by name, id or address. */
export class FindingIndex {
  private readonly bySubject = new Map<string, Finding[]>();
  private readonly byAddress = new Map<string, Finding[]>();

  constructor(findings: readonly Finding[]) {
    for (const finding of findings) {
      const subjects = new Set([finding.subject, finding.evidence.driver, finding.evidence.device]);
      for (const subject of subjects) if (subject) push(this.bySubject, subject, finding);
      for (const address of finding.evidence.addresses ?? [])
        push(this.byAddress, address.toLowerCase(), finding);
      for (const handler of finding.evidence.handlers ?? []) {
        push(this.byAddress, handler.address.toLowerCase(), finding);
      }
    }
  }

  about(subject: string | null | undefined): Finding[] {
    return subject ? (this.bySubject.get(subject) ?? []) : [];
  }

  at(address: string | null | undefined): Finding[] {
    return address ? (this.byAddress.get(address.toLowerCase()) ?? []) : [];
  }

  /** Findings about a handler: those citing its address, or naming it among the driver's hooked entries. */
  handler(driver: Driver, handler: Handler): Finding[] {
    const cited = this.at(handler.address).filter(
      (f) => !f.evidence.driver || f.evidence.driver === driver.name || f.subject === driver.name,
    );
    const named = this.about(driver.name).filter((f) =>
      f.evidence.handlers?.some((h) => h.name === handler.name),
    );
    return unique([...cited, ...named]);
  }

  /** Findings about a driver as a whole (hidden, hostile name, no module...), not about one handler. */
  driver(driver: Driver): Finding[] {
    return this.about(driver.name).filter((f) => !f.evidence.handlers || f.evidence.handlers.length === 0);
  }

  device(device: Device): Finding[] {
    return unique([...this.about(device.name), ...this.about(device.id), ...this.at(device.objectVa)]);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function unique(findings: Finding[]): Finding[] {
  return [...new Set(findings)].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
}

const ids = (findings: Finding[]): string[] => findings.map((f) => f.id);

export function displayDeviceName(device: Device): string {
  return device.name ?? `(unnamed ${device.typeName.toLowerCase()} device)`;
}

/**
 * The flow graph for `deviceId` (a Device id) and `operation`. Throws when the device is unknown.
 * Each layer of the stack gets a device node, a dispatch node and its module node; inline patches
 * add an edge to the module the patch jumps to.
 */
export function buildFlow(result: AnalysisResult, deviceId: string, operation: UserOperation): FlowGraph {
  const facts = OPERATIONS[operation];
  const device = findDevice(result, deviceId);
  const graph = new GraphBuilder(result);

  const link = device.links[0] ?? null;
  const userName = link ? `\\\\.\\${link.replace(/^\\GLOBAL\?\?\\/i, '')}` : (device.name ?? device.objectVa);
  graph.addNode({
    id: 'api',
    kind: 'api',
    label: facts.api,
    detail: operation === 'CreateFile' ? `opens "${userName}"` : `on a handle to "${userName}"`,
    findings: [],
    target: null,
  });
  graph.addNode({
    id: 'ntdll',
    kind: 'ntdll',
    label: `ntdll!${facts.service}`,
    detail: 'system call stub',
    findings: [],
    target: null,
  });
  graph.addEdge('api', 'ntdll', null);
  graph.addServiceHop('ntdll', facts.service, 'syscall');
  graph.addNode({
    id: 'io',
    kind: 'io-manager',
    label: 'I/O manager',
    detail: facts.ioManager,
    findings: [],
    target: null,
  });
  graph.addEdge('syscall', 'io', null);

  let previous = 'io';
  if (link) {
    const others = device.links.length > 1 ? `; also ${device.links.slice(1).join(', ')}` : '';
    graph.addNode({
      id: 'link',
      kind: 'symbolic-link',
      label: link,
      detail: `→ ${device.name ?? device.objectVa}${others}`,
      findings: [],
      target: { view: 'devices', id: device.id },
    });
    graph.addEdge('io', 'link', 'object manager lookup');
    previous = 'link';
  }

  // The stack is stored bottom first; an IRP enters at the top.
  const stack = (device.stack.length > 0 ? device.stack : [device.id])
    .map((id) => graph.devices.get(id))
    .filter((d): d is Device => !!d);
  [...stack].reverse().forEach((layer, position) => {
    const deviceNode = graph.addLayer(
      layer,
      facts.major,
      facts.majorName,
      layer.id === device.id ? ' · named device' : '',
    );
    graph.addEdge(
      previous,
      deviceNode,
      position === 0 ? `IRP ${facts.majorName}` : 'IoCallDriver (lower device)',
    );
    previous = deviceNode;
  });
  return { device: device.id, operation, irp: null, nodes: graph.nodes, edges: graph.edges };
}

/** The system service each IRP major function is requested through (when one is). */
const SERVICE_OF_MAJOR: Readonly<Partial<Record<number, string>>> = {
  [IRP_MJ.IRP_MJ_CREATE]: 'NtCreateFile',
  [IRP_MJ.IRP_MJ_READ]: 'NtReadFile',
  [IRP_MJ.IRP_MJ_WRITE]: 'NtWriteFile',
  [IRP_MJ.IRP_MJ_DEVICE_CONTROL]: 'NtDeviceIoControlFile',
  [IRP_MJ.IRP_MJ_FILE_SYSTEM_CONTROL]: 'NtFsControlFile',
  [IRP_MJ.IRP_MJ_FLUSH_BUFFERS]: 'NtFlushBuffersFile',
  [IRP_MJ.IRP_MJ_QUERY_INFORMATION]: 'NtQueryInformationFile',
  [IRP_MJ.IRP_MJ_SET_INFORMATION]: 'NtSetInformationFile',
  [IRP_MJ.IRP_MJ_DIRECTORY_CONTROL]: 'NtQueryDirectoryFile',
  [IRP_MJ.IRP_MJ_LOCK_CONTROL]: 'NtLockFile',
};

/**
 * The path of one request still in flight, from memory end to end: the process and thread that
 * issued it, the system service it came through, the IRP, then each device whose stack location
 * it holds (top first) with the dispatch routine its driver runs and the module of that code,
 * and every completion routine a driver above asked for. Throws when the IRP is unknown.
 */
export function buildIrpFlow(result: AnalysisResult, irpAddress: string): FlowGraph {
  const wanted = BigInt(irpAddress);
  const irp = result.irps.find((i) => BigInt(i.address) === wanted);
  if (!irp) throw new Error(`no IRP ${irpAddress} in this image`);
  const graph = new GraphBuilder(result);
  const process = result.processes.find((p) => p.pid === irp.pid && irp.pid !== null) ?? null;
  const thread = result.threads.find((t) => t.objectVa === irp.thread) ?? null;
  const processFindings = process ? graph.index.at(process.objectVa) : [];
  graph.addNode({
    id: 'process',
    kind: 'process',
    label: process
      ? `${process.name} (PID ${process.pid})`
      : irp.pid !== null
        ? `PID ${irp.pid}`
        : '(unknown process)',
    detail: process
      ? `EPROCESS ${process.objectVa}${process.hidden ? ' · hidden from the process list' : ''}`
      : 'the issuing thread names no process this image lists',
    findings: ids(processFindings),
    target: process ? { view: 'activity', id: process.objectVa } : null,
  });
  graph.addNode({
    id: 'thread',
    kind: 'thread',
    label: irp.tid !== null ? `thread ${irp.tid}` : '(no thread)',
    detail: thread
      ? `ETHREAD ${thread.objectVa} · starts at ${thread.startModule ?? thread.startAddress}`
      : irp.thread
        ? `Tail.Overlay.Thread ${irp.thread}`
        : 'the IRP names no thread (allocated by a driver)',
    findings: [],
    target: thread ? { view: 'hex', address: thread.objectVa } : null,
  });
  graph.addEdge('process', 'thread', null);
  let previous = 'thread';
  const service = SERVICE_OF_MAJOR[irp.major];
  if (service && irp.thread) {
    graph.addServiceHop(
      'thread',
      service,
      irp.requestorMode === 'user' ? 'syscall' : 'Zw call (kernel mode)',
    );
    previous = 'syscall';
  }
  const file = irp.fileDevice ? graph.devices.get(irp.fileDevice) : undefined;
  const fileText = file ? `${displayDeviceName(file)}${irp.fileName ?? ''}` : (irp.fileName ?? null);
  graph.addNode({
    id: 'irp',
    kind: 'irp',
    label: `${irp.majorName} · IRP ${irp.address}`,
    detail: [
      `${irp.stackCount} stack location${irp.stackCount === 1 ? '' : 's'}, ${irpWaitsIn(irp)}`,
      fileText ? `file ${fileText}` : null,
      irp.stack.find((s) => s.current)?.parameters ?? null,
      irp.requestorMode === 'user' ? 'from user mode' : 'from kernel mode',
    ]
      .filter(Boolean)
      .join(' · '),
    findings: [],
    target: { view: 'activity', id: `irp:${irp.address}` },
  });
  graph.addEdge(previous, 'irp', 'IoCallDriver');
  previous = 'irp';
  irp.stack.forEach((location, position) => {
    const layer = location.device ? graph.devices.get(location.device) : undefined;
    let deviceNode: string;
    if (layer) {
      const note = location.current ? ' · the request waits here' : ' · passed the request down';
      deviceNode = graph.addLayer(layer, location.major, location.majorName, note);
    } else {
      deviceNode = `device:${location.device ?? position}`;
      graph.addNode({
        id: deviceNode,
        kind: 'device',
        label: location.deviceName ?? location.device ?? '(no device)',
        detail: 'a device object this analysis did not find',
        findings: [],
        target: location.device ? { view: 'hex', address: location.device } : null,
      });
    }
    graph.addEdge(
      previous,
      deviceNode,
      position === 0 ? `stack location ${location.index} (top)` : `stack location ${location.index}`,
    );
    previous = deviceNode;
    if (location.completion) {
      const setter = location.completionSetBy ? graph.drivers.get(location.completionSetBy) : undefined;
      const above = irp.stack[position - 1]?.device;
      const setterDevice = above ? graph.devices.get(above) : undefined;
      const completion = location.completion;
      const completionNode = `completion:${location.index}`;
      const suspicious = isSuspiciousVerdict(completion.verdict);
      graph.addNode({
        id: completionNode,
        kind: 'completion',
        label: `CompletionRoutine of ${setter ? shortDriverName(setter) : 'the driver above'}`,
        detail: `${completion.address} · ${completion.module ?? 'no module'}${completion.offset ? `+${completion.offset}` : ''} · ${completion.verdict}`,
        // The driver above set it from its device on this stack: that device's findings are its too.
        findings: ids(
          unique([
            ...graph.index.at(completion.address),
            ...(setter ? graph.index.driver(setter) : []),
            ...(setterDevice ? graph.index.device(setterDevice) : []),
          ]),
        ),
        target: { view: 'hex', address: completion.address },
      });
      graph.addEdge(deviceNode, completionNode, 'on completion', suspicious);
      const moduleNode = addModuleNode(
        graph.addNode,
        result,
        graph.index,
        completion.module,
        completion.address,
      );
      graph.addEdge(completionNode, moduleNode, 'runs in', suspicious);
    }
  });
  const operation = operationOfMajor(irp.major);
  return { device: irp.device ?? '', operation, irp: irp.address, nodes: graph.nodes, edges: graph.edges };
}

function findDevice(result: AnalysisResult, deviceId: string): Device {
  const device =
    result.devices.find((d) => d.id === deviceId) ?? result.devices.find((d) => d.name === deviceId);
  if (!device) throw new Error(`no device ${deviceId} in this image`);
  return device;
}

/** Nodes and edges of one diagram, with the layers every flow shares. */
class GraphBuilder {
  readonly nodes: FlowNode[] = [];
  readonly edges: FlowEdge[] = [];
  readonly index: FindingIndex;
  readonly devices: Map<string, Device>;
  readonly drivers: Map<string, Driver>;
  private readonly nodeIds = new Set<string>();

  constructor(private readonly result: AnalysisResult) {
    this.index = new FindingIndex(result.findings);
    this.devices = new Map(result.devices.map((d) => [d.id, d]));
    this.drivers = new Map(result.drivers.map((d) => [d.id, d]));
  }

  readonly addNode = (node: FlowNode): void => {
    if (this.nodeIds.has(node.id)) return;
    this.nodeIds.add(node.id);
    this.nodes.push(node);
  };

  addEdge(from: string, to: string, label: string | null, forceSuspicious = false): void {
    const suspicious = this.nodes.find((n) => n.id === to)!.findings.length > 0;
    this.edges.push({ id: `${from}->${to}`, from, to, label, suspicious: forceSuspicious || suspicious });
  }

  /**
   * The service hop from memory: the table entry of `service`, where it sends the call, and
   * whether that code is the kernel's own (node id 'syscall').
   */
  addServiceHop(from: string, serviceName: string, edgeLabel: string): void {
    const { result, index } = this;
    const service = result.serviceTable?.entries.find((e) => e.name === serviceName) ?? null;
    const serviceFindings = service
      ? index.about(serviceName).filter((f) => f.kind === 'ssdt-hook' || f.kind === 'ssdt-inline')
      : [];
    this.addNode({
      id: 'syscall',
      kind: 'syscall',
      label: `nt!${serviceName}`,
      detail: service
        ? `service 0x${service.index.toString(16)} → ${service.address} · ${service.module ?? 'no module'}${service.offset ? `+${service.offset}` : ''} · ${service.verdict}`
        : result.serviceTable
          ? 'system service (not named in this build’s table)'
          : 'system service (the service table was not found)',
      findings: ids(serviceFindings),
      target: service ? { view: 'hex', address: service.address } : null,
    });
    this.addEdge(from, 'syscall', edgeLabel);
    if (service && isSuspiciousVerdict(service.verdict)) {
      const hooked = service.target ?? { address: service.address, module: service.module };
      const hookNode = addModuleNode(this.addNode, result, index, hooked.module, hooked.address);
      this.addEdge(
        'syscall',
        hookNode,
        service.target ? `patched: jumps to ${service.target.address}` : 'service table entry',
        true,
      );
    }
  }

  /** A device of the stack, the dispatch routine its driver runs for `major`, and that code's module. */
  addLayer(layer: Device, major: number, majorName: string, note: string): string {
    const { result, index } = this;
    const driver = this.drivers.get(layer.driver) ?? result.drivers.find((d) => d.name === layer.driverName);
    const deviceNode = `device:${layer.id}`;
    this.addNode({
      id: deviceNode,
      kind: 'device',
      label: displayDeviceName(layer),
      detail: `${driver?.name ?? layer.driverName ?? layer.driver} · FILE_DEVICE_${layer.typeName}${note}`,
      findings: ids(unique([...index.device(layer), ...(driver ? index.driver(driver) : [])])),
      target: { view: 'devices', id: layer.id },
    });
    const handler = driver?.irp.find((h) => h.index === major);
    if (!driver || !handler) return deviceNode;
    const dispatchNode = `dispatch:${driver.id}`;
    this.addNode({
      id: dispatchNode,
      kind: 'dispatch',
      label: `${shortDriverName(driver)} ${majorName}`,
      detail: `${handler.address} · ${handler.module ?? 'no module'}${handler.offset ? `+${handler.offset}` : ''} · ${handler.verdict}`,
      findings: ids(index.handler(driver, handler)),
      target: { view: 'hex', address: handler.address },
    });
    this.addEdge(deviceNode, dispatchNode, 'MajorFunction', isSuspiciousVerdict(handler.verdict));
    const moduleNode = addModuleNode(this.addNode, result, index, handler.module, handler.address);
    this.addEdge(dispatchNode, moduleNode, 'runs in', isSuspiciousVerdict(handler.verdict));
    if (handler.target) {
      const targetNode = addModuleNode(
        this.addNode,
        result,
        index,
        handler.target.module,
        handler.target.address,
      );
      this.addEdge(dispatchNode, targetNode, `patched: jumps to ${handler.target.address}`, true);
    }
    return deviceNode;
  }
}

/**
 * Where a pending request waits, with its locations numbered as every view numbers them: from 0,
 * so the location the IRP's CurrentLocation (counted from 1) names is #CurrentLocation - 1.
 */
export function irpWaitsIn(irp: Pick<Irp, 'stack' | 'stackCount' | 'currentLocation'>): string {
  const current = irp.stack.find((location) => location.current);
  if (current) return `waits in location #${current.index}`;
  if (irp.currentLocation > irp.stackCount) return 'not yet sent to a driver (no current location)';
  return `waits in location #${irp.currentLocation - 1}, which could not be read`;
}

function shortDriverName(driver: Driver): string {
  const name = driver.name ?? driver.objectName ?? driver.objectVa;
  return name.replace(/^\\(Driver|FileSystem)\\/, '');
}

function addModuleNode(
  addNode: (node: FlowNode) => void,
  result: AnalysisResult,
  index: FindingIndex,
  moduleName: string | null,
  address: Hex,
): string {
  if (!moduleName) {
    const id = `nomodule:${address}`;
    addNode({
      id,
      kind: 'module',
      label: '(no module)',
      detail: `${address} lies in no loaded module`,
      findings: ids(index.at(address)),
      target: { view: 'hex', address },
    });
    return id;
  }
  const module = result.modules.find((m) => m.name.toLowerCase() === moduleName.toLowerCase());
  const id = `module:${moduleName.toLowerCase()}`;
  addNode({
    id,
    kind: 'module',
    label: moduleName,
    detail: module
      ? `${module.base} · ${module.size.toString(16)}h bytes${module.unlinked ? ' · unlinked' : ''}`
      : null,
    findings: ids(index.about(moduleName)),
    target: { view: 'modules', id: moduleName },
  });
  return id;
}
