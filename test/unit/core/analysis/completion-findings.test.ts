// Which completion routines of pending IRPs are hooks. The builder plants one kind (code in pool
// with no driver above); the rest of the rule is checked here on requests made to measure.

import { describe, expect, it } from 'vitest';
import type { HandlerVerdict } from '../../../../src/common/findings';
import type { Handler, Hex, Irp, IrpStackLocation } from '../../../../src/common/model';
import { buildFindings } from '../../../../src/core/analysis/findings';

function routine(verdict: HandlerVerdict, module: string | null): Handler {
  return {
    index: 1,
    name: 'CompletionRoutine',
    address: '0xfffff80012345670',
    module,
    offset: module ? '0x5670' : null,
    symbol: null,
    verdict,
    ...(verdict === 'inline-patched' ? { target: { address: '0xffffa00000001000', module: null } } : {}),
  };
}

function pendingRead(completion: Handler, setBy: Hex | null): Irp {
  const location = (index: number, current: boolean): IrpStackLocation => ({
    index,
    current,
    major: 3,
    majorName: 'IRP_MJ_READ',
    minor: 0,
    control: 0xe1,
    device: `0xffffa0000000${index}000`,
    deviceName: current ? '\\Device\\KeyboardClass0' : null,
    driver: null,
    driverName: null,
    fileObject: null,
    parameters: 'Length 0x78',
    completion: current ? completion : null,
    completionSetBy: current ? setBy : null,
  });
  return {
    address: '0xffffa00000009000',
    foundBy: ['pool-scan'],
    size: 0x2b0,
    stackCount: 2,
    currentLocation: 2,
    flags: 0x170,
    flagNames: [],
    requestorMode: 'kernel',
    cancel: false,
    systemBuffer: null,
    userBuffer: null,
    thread: null,
    tid: 1368,
    pid: 432,
    processName: 'csrss.exe',
    fileObject: null,
    fileName: null,
    fileDevice: null,
    major: 3,
    majorName: 'IRP_MJ_READ',
    device: '0xffffa00000001000',
    driver: null,
    stack: [location(1, true), location(0, false)],
  };
}

function completionFindings(irp: Irp, moduleListWalk: 'complete' | 'partial' = 'complete') {
  return buildFindings({
    serviceTable: null,
    drivers: [],
    devices: [],
    modules: [],
    processes: [],
    irps: [irp],
    directoryWalk: 'complete',
    moduleListWalk,
    unreadableDrivers: new Set(),
  }).filter((f) => f.kind === 'completion-hook');
}

describe('completion-hook findings', () => {
  it('code in no module is critical whoever set it, high when the module list is incomplete', () => {
    for (const setBy of [null, '0xffffa00000007000'] as const) {
      const [finding] = completionFindings(pendingRead(routine('no-module', null), setBy));
      expect(finding?.severity).toBe('critical');
      expect(finding?.subject).toBe('\\Device\\KeyboardClass0');
      expect(finding?.evidence.addresses).toEqual(['0xffffa00000009000', '0xfffff80012345670']);
      expect(finding?.explanation).toContain('csrss.exe (PID 432, TID 1368)');
    }
    const [partial] = completionFindings(pendingRead(routine('no-module', null), null), 'partial');
    expect(partial?.severity).toBe('high');
    expect(partial?.explanation).toContain('PsLoadedModuleList could not be read completely');
  });

  it('another module than its setter’s is a hook; with no driver above it is the allocator’s', () => {
    const [hooked] = completionFindings(
      pendingRead(routine('other-module', 'evil.sys'), '0xffffa00000007000'),
    );
    expect(hooked?.severity).toBe('high');
    expect(hooked?.evidence.driver).toBe('0xffffa00000007000');
    expect(completionFindings(pendingRead(routine('other-module', 'evil.sys'), null))).toEqual([]);
  });

  it('a routine that jumps out of its module is a hook; its own, the kernel’s or a delegate’s are not', () => {
    const [patched] = completionFindings(pendingRead(routine('inline-patched', 'kbdclass.sys'), null));
    expect(patched?.severity).toBe('high');
    expect(patched?.evidence.addresses).toContain('0xffffa00000001000');
    for (const verdict of ['own-image', 'kernel', 'kernel-default', 'delegated'] as const)
      expect(completionFindings(pendingRead(routine(verdict, 'kbdclass.sys'), '0xffffa00000007000'))).toEqual(
        [],
      );
  });
});
