// The path a user-mode request takes through the kernel, as recovered from one image: the Win32
// call, its ntdll stub and system service, the I/O manager, the symbolic link user mode names,
// then every device of the stack from the top down with the dispatch routine its driver runs for
// the operation's IRP_MJ code and the module that routine lives in. Pure: the backend serves it,
// the tests check it, anything else may draw it.

import type { FlowEdge, FlowGraph, FlowNode, UserOperation } from './api';
import { severityRank } from './findings';
import type { AnalysisResult, Device, Driver, Finding, Handler } from './model';
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

/** What each kind of node is, as the diagram's small caption says it. */
export const FLOW_KIND_LABELS: Readonly<Record<FlowNode['kind'], string>> = {
  api: 'user API',
  ntdll: 'ntdll stub',
  syscall: 'system service',
  'io-manager': 'I/O manager',
  'symbolic-link': 'symbolic link',
  device: 'device',
  dispatch: 'dispatch routine',
  module: 'module',
};

const SUSPICIOUS_VERDICTS = new Set(['other-module', 'no-module', 'inline-patched']);

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
  const devices = new Map(result.devices.map((d) => [d.id, d]));
  const drivers = new Map(result.drivers.map((d) => [d.id, d]));
  const device = devices.get(deviceId) ?? result.devices.find((d) => d.name === deviceId);
  if (!device) throw new Error(`no device ${deviceId} in this image`);
  const index = new FindingIndex(result.findings);
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  const nodeIds = new Set<string>();
  const addNode = (node: FlowNode): void => {
    if (nodeIds.has(node.id)) return;
    nodeIds.add(node.id);
    nodes.push(node);
  };
  const suspicious = (id: string): boolean => nodes.find((n) => n.id === id)!.findings.length > 0;
  const addEdge = (from: string, to: string, label: string | null, forceSuspicious = false): void => {
    edges.push({ id: `${from}->${to}`, from, to, label, suspicious: forceSuspicious || suspicious(to) });
  };

  const link = device.links[0] ?? null;
  const userName = link ? `\\\\.\\${link.replace(/^\\GLOBAL\?\?\\/i, '')}` : (device.name ?? device.objectVa);
  addNode({
    id: 'api',
    kind: 'api',
    label: facts.api,
    detail: operation === 'CreateFile' ? `opens "${userName}"` : `on a handle to "${userName}"`,
    findings: [],
    target: null,
  });
  addNode({
    id: 'ntdll',
    kind: 'ntdll',
    label: `ntdll!${facts.service}`,
    detail: 'system call stub',
    findings: [],
    target: null,
  });
  // The service hop from memory: the table entry of this service, where it sends the call, and
  // whether that code is the kernel's own.
  const service = result.serviceTable?.entries.find((e) => e.name === facts.service) ?? null;
  const serviceFindings = service
    ? index.about(facts.service).filter((f) => f.kind === 'ssdt-hook' || f.kind === 'ssdt-inline')
    : [];
  addNode({
    id: 'syscall',
    kind: 'syscall',
    label: `nt!${facts.service}`,
    detail: service
      ? `service 0x${service.index.toString(16)} → ${service.address} · ${service.module ?? 'no module'}${service.offset ? `+${service.offset}` : ''} · ${service.verdict}`
      : result.serviceTable
        ? 'system service (not named in this build’s table)'
        : 'system service (the service table was not found)',
    findings: ids(serviceFindings),
    target: service ? { view: 'hex', address: service.address } : null,
  });
  addNode({
    id: 'io',
    kind: 'io-manager',
    label: 'I/O manager',
    detail: facts.ioManager,
    findings: [],
    target: null,
  });
  addEdge('api', 'ntdll', null);
  addEdge('ntdll', 'syscall', 'syscall');
  addEdge('syscall', 'io', null);
  if (service && SUSPICIOUS_VERDICTS.has(service.verdict)) {
    const hooked = service.target ?? { address: service.address, module: service.module };
    const hookNode = addModuleNode(addNode, result, index, hooked.module, hooked.address);
    addEdge(
      'syscall',
      hookNode,
      service.target ? `patched: jumps to ${service.target.address}` : 'service table entry',
      true,
    );
  }

  let previous = 'io';
  if (link) {
    const others = device.links.length > 1 ? `; also ${device.links.slice(1).join(', ')}` : '';
    addNode({
      id: 'link',
      kind: 'symbolic-link',
      label: link,
      detail: `→ ${device.name ?? device.objectVa}${others}`,
      findings: [],
      target: { view: 'devices', id: device.id },
    });
    addEdge('io', 'link', 'object manager lookup');
    previous = 'link';
  }

  // The stack is stored bottom first; an IRP enters at the top.
  const stack = (device.stack.length > 0 ? device.stack : [device.id])
    .map((id) => devices.get(id))
    .filter((d): d is Device => !!d);
  const layers = [...stack].reverse();
  layers.forEach((layer, position) => {
    const driver = drivers.get(layer.driver) ?? result.drivers.find((d) => d.name === layer.driverName);
    const deviceNode = `device:${layer.id}`;
    addNode({
      id: deviceNode,
      kind: 'device',
      label: displayDeviceName(layer),
      detail: `${driver?.name ?? layer.driverName ?? layer.driver} · FILE_DEVICE_${layer.typeName}${layer.id === device.id ? ' · named device' : ''}`,
      findings: ids(unique([...index.device(layer), ...(driver ? index.driver(driver) : [])])),
      target: { view: 'devices', id: layer.id },
    });
    addEdge(previous, deviceNode, position === 0 ? `IRP ${facts.majorName}` : 'IoCallDriver (lower device)');
    previous = deviceNode;

    const handler = driver?.irp.find((h) => h.index === facts.major);
    if (!driver || !handler) return;
    const dispatchNode = `dispatch:${driver.id}`;
    const handlerFindings = index.handler(driver, handler);
    addNode({
      id: dispatchNode,
      kind: 'dispatch',
      label: `${shortDriverName(driver)} ${facts.majorName}`,
      detail: `${handler.address} · ${handler.module ?? 'no module'}${handler.offset ? `+${handler.offset}` : ''} · ${handler.verdict}`,
      findings: ids(handlerFindings),
      target: { view: 'hex', address: handler.address },
    });
    addEdge(deviceNode, dispatchNode, 'MajorFunction', SUSPICIOUS_VERDICTS.has(handler.verdict));

    const moduleNode = addModuleNode(addNode, result, index, handler.module, handler.address);
    addEdge(dispatchNode, moduleNode, 'runs in', SUSPICIOUS_VERDICTS.has(handler.verdict));
    if (handler.target) {
      const targetNode = addModuleNode(addNode, result, index, handler.target.module, handler.target.address);
      addEdge(dispatchNode, targetNode, `patched: jumps to ${handler.target.address}`, true);
    }
  });

  return { device: device.id, operation, nodes, edges };
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
  address: string,
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
