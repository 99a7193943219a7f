// Captures through virsh, VBoxManage and vmrun. Those tools (and a hypervisor behind them) are
// not on this machine, so each is stood in for by a small script on PATH that logs its arguments
// and answers as the real tool does (its documented output), writing a builder image where the
// real one writes the VM's memory. What is tested is ours: the command lines, the parsing of
// their lists and progress, the file put in place whole (or nothing on failure), and the image
// opened afterwards analysing to the ground truth.

import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { analyzeImage } from '../../../src/core/analyze';
import { CaptureError, captureWithTool, toolStatus, type CaptureProgress } from '../../../src/core/capture';
import { parseVBoxList, parseVirshList, parseVmrunList } from '../../../src/core/capture/tools';
import { imageForSuite } from '../../support/images';
import { expectAnalysisMatchesTruth } from '../../support/truth';

const work = mkdtempSync(join(tmpdir(), 'irpscope-tools-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tool(bin: string, name: string, script: string): void {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\necho "$@" >> "${join(bin, `${name}.log`)}"\n${script}\n`);
  chmodSync(path, 0o755);
}

function calls(bin: string, name: string): string[] {
  return readFileSync(join(bin, `${name}.log`), 'utf8')
    .trim()
    .split('\n');
}

describe('capture through the hypervisors’ tools', () => {
  const elf = imageForSuite({
    profile: 'xp-sp3-x86',
    format: 'elf',
    scenario: 'infected',
    size: 64 << 20,
    seed: 'tools',
  });
  const vmware = imageForSuite({
    profile: 'xp-sp3-x86',
    format: 'vmware',
    scenario: 'infected',
    size: 64 << 20,
    seed: 'tools',
  });

  test('their list outputs are read', () => {
    expect(
      parseVirshList(
        ' Id   Name        State\n-----------------------------\n 3    win10-lab   running\n -    xp-clean    shut off\n',
      ),
    ).toEqual([
      { tool: 'libvirt', id: 'win10-lab', name: 'win10-lab', state: 'running' },
      { tool: 'libvirt', id: 'xp-clean', name: 'xp-clean', state: 'shut off' },
    ]);
    expect(parseVBoxList('"Win 7 lab" {0f8a1c2e-1111-2222-3333-444455556666}\n')).toEqual([
      { name: 'Win 7 lab', uuid: '0f8a1c2e-1111-2222-3333-444455556666' },
    ]);
    expect(parseVmrunList('Total running VMs: 1\n/vms/win7/win7.vmx\n')).toEqual([
      { tool: 'vmware', id: '/vms/win7/win7.vmx', name: 'win7', state: 'running' },
    ]);
  });

  test('with no tool on PATH, each is named as missing, and a capture says which to install', async () => {
    const empty = mkdtempSync(join(work, 'empty-'));
    const status = await toolStatus({ PATH: empty });
    expect(status.map((s) => [s.tool, s.path, s.missing])).toEqual([
      ['libvirt', null, 'virsh (libvirt-clients) is not installed'],
      ['virtualbox', null, 'VBoxManage (VirtualBox) is not installed'],
      ['vmware', null, 'vmrun (VMware Workstation, Fusion or the VIX API) is not installed'],
    ]);
    await expect(
      captureWithTool({ tool: 'libvirt', vm: 'win10-lab', out: join(empty, 'x.elf'), env: { PATH: empty } }),
    ).rejects.toThrow('cannot capture win10-lab: virsh (libvirt-clients) is not installed');
  });

  test('virsh: the domains are listed; dump --memory-only writes an ELF core that analyses to the truth', async () => {
    const bin = mkdtempSync(join(work, 'virsh-'));
    tool(
      bin,
      'virsh',
      `case "$1" in
  list) printf ' Id   Name        State\\n-----------------------------\\n 3    win10-lab   running\\n';;
  dump) for last; do :; done; echo "Dump: [ 50 %]" >&2; cp "${elf.image}" "$last"; echo "Dump: [100 %]" >&2;;
esac`,
    );
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const status = await toolStatus(env);
    expect(status[0]).toMatchObject({
      tool: 'libvirt',
      path: join(bin, 'virsh'),
      vms: [{ id: 'win10-lab', state: 'running' }],
    });
    const out = join(bin, 'win10.elf');
    const progress: CaptureProgress[] = [];
    const result = await captureWithTool({
      tool: 'libvirt',
      vm: 'win10-lab',
      out,
      env,
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ tool: 'libvirt', file: out, source: 'win10-lab' });
    const dump = calls(bin, 'virsh').find((c) => c.startsWith('dump'))!;
    expect(dump).toMatch(
      /^dump --memory-only --format elf --verbose win10-lab .*\/\.win10\.elf\.\d+\.[0-9a-f]{8}\.tmp$/,
    );
    expect(progress.some((p) => p.stage === 'dumping' && p.completed === 50 && p.total === 100)).toBe(true);
    expectAnalysisMatchesTruth(await analyzeImage(out), elf.truth);
    expect(readdirSync(bin).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('virsh failing: its own error line, and the older file stays', async () => {
    const bin = mkdtempSync(join(work, 'virsh-fail-'));
    tool(bin, 'virsh', `echo "error: failed to get domain 'nope'" >&2; exit 1`);
    const out = join(bin, 'old.elf');
    writeFileSync(out, 'older capture');
    const error = await captureWithTool({ tool: 'libvirt', vm: 'nope', out, env: { PATH: bin } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CaptureError);
    expect((error as Error).message).toBe("virsh failed: error: failed to get domain 'nope'");
    expect(readFileSync(out, 'utf8')).toBe('older capture');
    expect(readdirSync(bin).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('VBoxManage: running VMs are marked; debugvm dumpvmcore --filename writes the core', async () => {
    const bin = mkdtempSync(join(work, 'vbox-'));
    tool(
      bin,
      'VBoxManage',
      `case "$1 $2" in
  "list vms") printf '"Win 7 lab" {0f8a1c2e-1111-2222-3333-444455556666}\\n"Old XP" {aaaaaaaa-1111-2222-3333-444455556666}\\n';;
  "list runningvms") printf '"Win 7 lab" {0f8a1c2e-1111-2222-3333-444455556666}\\n';;
  debugvm*) cp "${elf.image}" "\${4#--filename=}";;
esac`,
    );
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const status = (await toolStatus(env))[1]!;
    expect(status.vms.map((v) => [v.name, v.state])).toEqual([
      ['Win 7 lab', 'running'],
      ['Old XP', 'not running'],
    ]);
    const out = join(bin, 'win7.elf');
    await captureWithTool({ tool: 'virtualbox', vm: '0f8a1c2e-1111-2222-3333-444455556666', out, env });
    expect(calls(bin, 'VBoxManage').at(-1)).toMatch(
      /^debugvm 0f8a1c2e-1111-2222-3333-444455556666 dumpvmcore --filename=.*\/\.win7\.elf\.\d+\.[0-9a-f]{8}\.tmp$/,
    );
    expectAnalysisMatchesTruth(await analyzeImage(out), elf.truth);
  });

  test('vmrun: a snapshot is taken and its .vmsn (with the .vmem beside it) is the image', async () => {
    const bin = mkdtempSync(join(work, 'vmrun-'));
    const vmFolder = mkdtempSync(join(work, 'vm-'));
    const vmx = join(vmFolder, 'win7.vmx');
    writeFileSync(vmx, 'config.version = "8"\n');
    const vmss = vmware.files.find((f) => f.endsWith('.vmss'))!;
    tool(
      bin,
      'vmrun',
      `case "$3" in
  list) printf 'Total running VMs: 1\\n${vmx}\\n';;
  snapshot) cp "${vmss}" "${vmFolder}/win7-Snapshot1.vmsn"; cp "${vmware.image}" "${vmFolder}/win7-Snapshot1.vmem";;
esac`,
    );
    const env = { PATH: `${bin}:${process.env.PATH}` };
    expect((await toolStatus(env))[2]!.vms).toEqual([
      { tool: 'vmware', id: vmx, name: 'win7', state: 'running' },
    ]);
    const result = await captureWithTool({ tool: 'vmware', vm: vmx, out: '', env });
    expect(result.file).toBe(join(vmFolder, 'win7-Snapshot1.vmsn'));
    expect(calls(bin, 'vmrun').at(-1)).toMatch(new RegExp(`^-T (ws|fusion) snapshot ${vmx} irpscope-`));
    expectAnalysisMatchesTruth(await analyzeImage(result.file), vmware.truth);
  });
});
