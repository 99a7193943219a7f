// The flow graphs the workbench draws, built from the real engine's results on the builder's
// images (recorded once: test/support/engine-recordings.ts) and checked against the builder's truth.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildImage } from '../../../src/builder/index';
import { analyzeImage } from '../../../src/core/node/analyze';
import { buildFlow, buildIrpFlow, operationOfMajor } from '../../../src/common/flow';
import type { AnalysisResult, Device } from '../../../src/common/model';
import { analyse, buildTestImages, type TestImages } from './images';

let images: TestImages;
let infected: AnalysisResult;
let clean: AnalysisResult;

beforeAll(async () => {
  images = buildTestImages();
  infected = await analyse(images.infected);
  clean = await analyse(images.clean);
});
afterAll(() => images.remove());

function diskDevice(result: AnalysisResult): Device {
  const device =
    result.devices.find((d) => d.driverName === '\\Driver\\Disk' && d.links.length > 0) ??
    result.devices.find((d) => d.driverName === '\\Driver\\Disk' && d.name !== null);
  if (!device) throw new Error('no disk device');
  return device;
}

describe("flow graph, from the real engine's results", () => {
  test('follows user API, ntdll, system service, I/O manager, then the stack from the top down', () => {
    const device = diskDevice(infected);
    const graph = buildFlow(infected, device.id, 'DeviceIoControl');
    const kinds = graph.nodes.map((n) => n.kind);
    expect(kinds.slice(0, 4)).toEqual(['api', 'ntdll', 'syscall', 'io-manager']);
    expect(graph.nodes[0]!.label).toBe('kernel32!DeviceIoControl');
    expect(graph.nodes[1]!.label).toBe('ntdll!NtDeviceIoControlFile');
    const deviceNodes = graph.nodes.filter((n) => n.kind === 'device').map((n) => n.id);
    expect(deviceNodes).toEqual([...device.stack].reverse().map((id) => `device:${id}`));
    // Each edge joins existing nodes.
    const ids = new Set(graph.nodes.map((n) => n.id));
    for (const edge of graph.edges) expect(ids.has(edge.from) && ids.has(edge.to)).toBe(true);
  });

  test('marks the hooked dispatch routine of \\Driver\\Disk and the rootkit module it runs in', () => {
    const graph = buildFlow(infected, diskDevice(infected).id, 'DeviceIoControl');
    const dispatch = graph.nodes.find(
      (n) => n.kind === 'dispatch' && n.label === 'Disk IRP_MJ_DEVICE_CONTROL',
    );
    expect(dispatch?.findings.length).toBeGreaterThan(0);
    expect(dispatch?.target?.view).toBe('hex');
    const moduleNode = graph.nodes.find((n) => n.kind === 'module' && n.label === images.rootkitModule);
    expect(moduleNode).toBeDefined();
    expect(graph.edges.find((e) => e.from === dispatch!.id && e.to === moduleNode!.id)?.suspicious).toBe(
      true,
    );
  });

  test('the same path in the clean image carries no finding', () => {
    const graph = buildFlow(clean, diskDevice(clean).id, 'DeviceIoControl');
    expect(graph.nodes.every((n) => n.findings.length === 0)).toBe(true);
    expect(graph.edges.every((e) => !e.suspicious)).toBe(true);
  });

  test('an unhooked operation on the infected disk is not marked', () => {
    const graph = buildFlow(infected, diskDevice(infected).id, 'ReadFile');
    const dispatch = graph.nodes.find((n) => n.kind === 'dispatch' && n.label === 'Disk IRP_MJ_READ');
    expect(dispatch?.findings).toEqual([]);
  });

  test('every inline-patched routine a user operation reaches gets an edge to where its patch jumps', () => {
    // The builder's truth: which dispatch routines the rootkit patched (Ntfs and AFD), and that
    // each patch jumps into the rootkit's module.
    const patched = images.infectedTruth.irp.filter(
      (h) => h.verdict === 'inline-patched' && operationOfMajor(h.index) !== null,
    );
    expect(new Set(patched.map((h) => h.driver))).toEqual(new Set(['\\FileSystem\\Ntfs', '\\Driver\\AFD']));
    for (const handler of patched) {
      const what = `${handler.driver} ${handler.name}`;
      const driver = infected.drivers.find((d) => d.name === handler.driver)!;
      const device = infected.devices.find((d) => d.driver === driver.id);
      expect(device, what).toBeDefined();
      const graph = buildFlow(infected, device!.id, operationOfMajor(handler.index)!);
      const dispatch = graph.nodes.find((n) => n.id === `dispatch:${driver.id}`);
      expect(dispatch?.label, what).toBe(`${handler.driver.replace(/^\\\w+\\/, '')} ${handler.name}`);
      expect(dispatch!.findings.length, what).toBeGreaterThan(0);
      const patch = graph.edges.filter((e) => e.from === dispatch!.id && e.label?.startsWith('patched'));
      expect(
        patch.map((e) => [e.to, e.suspicious]),
        what,
      ).toEqual([[`module:${images.rootkitModule.toLowerCase()}`, true]]);
    }
  });

  test('an unknown device is refused', () => {
    expect(() => buildFlow(infected, '0xdead', 'ReadFile')).toThrow(/no device/);
  });
});

describe("the system-service hop, from the real engine's results", () => {
  test('comes from the service table: the entry, where it sends the call, and a patch when there is one', async () => {
    // Clean: NtDeviceIoControlFile is service 0x6b on Windows 7 SP1 x86 (j00ru's table), in the kernel.
    const plain = buildFlow(clean, diskDevice(clean).id, 'DeviceIoControl').nodes.find(
      (n) => n.id === 'syscall',
    )!;
    expect(plain.detail).toMatch(/^service 0x6b → 0x[0-9a-f]+ · ntkrnlmp\.exe\+0x[0-9a-f]+ · own-image$/);
    expect(plain.findings).toEqual([]);

    const { image, truth } = buildImage({
      profile: 'win7-sp1-x86',
      format: 'raw',
      scenario: 'infected',
      infections: ['ssdtInline'],
      size: 64 * 1024 * 1024,
      seed: 1,
      fill: 'zero',
      out: join(images.folder, 'ssdt'),
    });
    const result = await analyzeImage(image);
    const graph = buildFlow(result, diskDevice(result).id, 'WriteFile');
    const hop = graph.nodes.find((n) => n.id === 'syscall')!;
    expect(hop.detail).toMatch(/^service 0x18c → .* · inline-patched$/);
    const finding = result.findings.find((f) => f.kind === 'ssdt-inline' && f.subject === 'NtWriteFile')!;
    expect(hop.findings).toEqual([finding.id]);
    const rootkit = truth.modules.find((m) => m.path.includes('\\Temp\\'))!.name; // dropped in a user-writable folder
    const edge = graph.edges.find((e) => e.from === 'syscall' && e.to === `module:${rootkit.toLowerCase()}`)!;
    expect(edge.label).toMatch(/^patched: jumps to 0x/);
    expect(edge.suspicious).toBe(true);
  });
});

describe("the flow from a pending IRP, from the real engine's results", () => {
  const keyboardRead = (result: AnalysisResult) => {
    const keyboard = result.devices.find((d) => d.name === '\\Device\\KeyboardClass0')!;
    return result.irps.find((i) => i.fileDevice === keyboard.id && i.majorName === 'IRP_MJ_READ')!;
  };

  test("starts at the issuing process and thread and goes through the keylogger's filter", () => {
    const result = infected;
    const irp = keyboardRead(result);
    expect(irp.processName).toBe('csrss.exe');
    const graph = buildIrpFlow(result, irp.address);
    expect(graph.irp).toBe(irp.address);
    expect(graph.operation).toBe('ReadFile');
    expect(graph.nodes.slice(0, 4).map((n) => n.kind)).toEqual(['process', 'thread', 'syscall', 'irp']);
    expect(graph.nodes[0]!.label).toBe(`csrss.exe (PID ${irp.pid})`);
    expect(graph.nodes[2]!.label).toBe('nt!NtReadFile');
    // Every stack location in use, top first: the rootkit's unnamed filter, then the class device where it waits.
    const devices = graph.nodes.filter((n) => n.kind === 'device').map((n) => n.id);
    expect(devices).toEqual(irp.stack.map((s) => `device:${s.device}`));
    const filter = result.devices.find((d) => d.id === irp.stack[0]!.device)!;
    expect(filter.name).toBeNull();
    expect(result.findings.some((f) => f.kind === 'foreign-filter' && f.evidence.device)).toBe(true);
    expect(graph.nodes.find((n) => n.id === `device:${irp.device}`)!.detail).toMatch(/waits here/);
    // The filter asked to see the keystrokes on their way back: its completion routine runs in the rootkit.
    const completion = graph.nodes.find((n) => n.kind === 'completion')!;
    expect(completion.detail).toContain(images.rootkitModule);
    expect(completion.findings.length).toBeGreaterThan(0);
    const edge = graph.edges.find((e) => e.from === completion.id)!;
    expect(edge.to).toBe(`module:${images.rootkitModule.toLowerCase()}`);
    expect(edge.suspicious).toBe(true);
    for (const e of graph.edges)
      expect(graph.nodes.some((n) => n.id === e.from) && graph.nodes.some((n) => n.id === e.to)).toBe(true);
  });

  test('the same request on the clean boot carries no finding', () => {
    const result = clean;
    const graph = buildIrpFlow(result, keyboardRead(result).address);
    expect(graph.nodes.filter((n) => n.kind === 'device')).toHaveLength(1);
    expect(graph.nodes.some((n) => n.kind === 'completion')).toBe(false);
    expect(graph.nodes.every((n) => n.findings.length === 0)).toBe(true);
  });

  test('an unknown IRP is refused', () => {
    expect(() => buildIrpFlow(infected, '0xdead')).toThrow(/no IRP/);
  });
});
