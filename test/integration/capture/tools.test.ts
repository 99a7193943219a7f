// Captures through virsh, VBoxManage and vmrun. Those tools (and a hypervisor behind them) are
// not on this machine, so each is stood in for by a small script on PATH that logs its arguments
// and answers as the real tool does (its documented output), writing a builder image where the
// real one writes the VM's memory. What is tested is ours: the command lines, the parsing of
// their lists and progress, the file put in place whole (or nothing on failure), and the image
// opened afterwards analysing to the ground truth.

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { analyzeImage } from '../../../src/core/node/analyze';
import {
  CaptureError,
  captureWithTool,
  toolStatus,
  type CaptureProgress,
} from '../../../src/core/node/capture';
import { parseVBoxList, parseVirshList, parseVmrunList } from '../../../src/core/node/capture/tools';
import { findQmpSockets } from '../../../src/core/node/capture';
import { renderCaptureTargets } from '../../../src/cli/render-capture';
import { imageForSuite } from '../../support/images';
import { expectAnalysisMatchesTruth } from '../../support/truth';

const work = mkdtempSync(join(tmpdir(), 'irpscope-tools-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A control character or bidirectional override that a terminal would act on (a newline is fine). */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

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
      /^dump --memory-only --format elf --verbose -- win10-lab \/.*\/\.win10\.elf\.\d+\.[0-9a-f]{8}\.tmp$/,
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

  /** A stand-in virsh whose dominfo says 64 MiB and whose dump does `dump` with the file as $last. */
  function virsh(bin: string, dump: string): NodeJS.ProcessEnv {
    tool(
      bin,
      'virsh',
      `case "$1" in
  dominfo) printf 'Id:             3\\nName:           lab\\nState:          running\\nMax memory:     65536 KiB\\nUsed memory:    65536 KiB\\n';;
  dump) for last; do :; done; ${dump};;
esac`,
    );
    return { PATH: `${bin}:${process.env.PATH}` };
  }

  test('virsh: a relative --out reaches virsh absolute, after --, and the image lands at --out', async () => {
    const bin = mkdtempSync(join(work, 'virsh-rel-'));
    const env = virsh(bin, `cp "${elf.image}" "$last"`);
    const out = relative(process.cwd(), join(bin, 'relative.elf'));
    const result = await captureWithTool({ tool: 'libvirt', vm: 'lab', out, env });
    expect(calls(bin, 'virsh').find((c) => c.startsWith('dump'))).toMatch(
      new RegExp(
        `^dump --memory-only --format elf --verbose -- lab ${bin}/\\.relative\\.elf\\.\\d+\\.[0-9a-f]{8}\\.tmp$`,
      ),
    );
    expect(result.file).toBe(join(bin, 'relative.elf'));
    expect(statSync(join(bin, 'relative.elf')).size).toBe(statSync(elf.image).size);
    expect(result.vm).toMatchObject({ memoryBytes: 64 << 20, stateBefore: 'running' });
  });

  test.each([
    ['wrote nothing', ': > "$last"', /the file holds 0 bytes/],
    ['removed the file', 'rm -f "$last"', /its file is not there/],
    [
      'wrote less than the memory',
      `head -c 1048576 "${elf.image}" > "$last"`,
      /holds 1048576 bytes, fewer than the 67108864 bytes/,
    ],
  ])('virsh says it dumped but %s: a failure, and the older file stays', async (_what, dump, reason) => {
    const bin = mkdtempSync(join(work, 'virsh-short-'));
    const env = virsh(bin, dump);
    const out = join(bin, 'old.elf');
    writeFileSync(out, 'older capture');
    const error = await captureWithTool({ tool: 'libvirt', vm: 'lab', out, env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaptureError);
    expect((error as CaptureError).kind).toBe('dump-failed');
    expect((error as Error).message).toMatch(reason);
    expect(readFileSync(out, 'utf8')).toBe('older capture');
    expect(readdirSync(bin).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test.each([
    ['libvirt', 'virsh', '--help', /starts with "-"/],
    ['libvirt', 'virsh', 'lab\u001b[2J', /control or invisible characters/],
    ['virtualbox', 'VBoxManage', '-x', /starts with "-".*UUID/],
    ['virtualbox', 'VBoxManage', 'Win\u202e7', /control or invisible characters/],
    ['vmware', 'vmrun', '/vms/lab\u0007/lab.vmx', /control or invisible characters/],
  ] as const)('%s (%s): the VM %j is refused before the tool runs', async (kind, command, vm, reason) => {
    const bin = mkdtempSync(join(work, 'names-'));
    tool(bin, command, 'exit 0');
    const error = await captureWithTool({
      tool: kind,
      vm,
      out: join(bin, 'x.elf'),
      env: { PATH: `${bin}:${process.env.PATH}` },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaptureError);
    expect((error as CaptureError).kind).toBe('bad-target');
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).not.toMatch(RAW_CONTROL);
    expect(existsSync(join(bin, `${command}.log`))).toBe(false);
  });

  test('an --out that is a FIFO is refused before the tool runs', async () => {
    const bin = mkdtempSync(join(work, 'virsh-fifo-'));
    const env = virsh(bin, `cp "${elf.image}" "$last"`);
    spawnSync('mkfifo', [join(bin, 'pipe')]);
    const error = await captureWithTool({ tool: 'libvirt', vm: 'lab', out: join(bin, 'pipe'), env }).catch(
      (e: unknown) => e,
    );
    expect((error as CaptureError).kind).toBe('output');
    expect((error as Error).message).toMatch(/is not a regular file but a FIFO/);
    expect(existsSync(join(bin, 'virsh.log'))).toBe(false);
  });

  test('VBoxManage: a relative --out reaches it absolute, and a core smaller than the VM’s memory fails', async () => {
    const bin = mkdtempSync(join(work, 'vbox-short-'));
    tool(
      bin,
      'VBoxManage',
      `case "$1" in
  showvminfo) printf 'name="lab"\\nmemory=64\\nVMState="running"\\n';;
  debugvm) head -c 1048576 "${elf.image}" > "\${4#--filename=}";;
esac`,
    );
    const out = relative(process.cwd(), join(bin, 'lab.elf'));
    const error = await captureWithTool({
      tool: 'virtualbox',
      vm: 'lab',
      out,
      env: { PATH: `${bin}:${process.env.PATH}` },
    }).catch((e: unknown) => e);
    expect(calls(bin, 'VBoxManage').at(-1)).toMatch(new RegExp(`^debugvm lab dumpvmcore --filename=${bin}/`));
    expect((error as CaptureError).kind).toBe('dump-failed');
    expect((error as Error).message).toMatch(/holds 1048576 bytes, fewer than the 67108864 bytes/);
    expect(existsSync(join(bin, 'lab.elf'))).toBe(false);
  });

  test('vmrun: a relative .vmx reaches it absolute, and an empty snapshot state is a failure', async () => {
    const bin = mkdtempSync(join(work, 'vmrun-empty-'));
    const vmFolder = mkdtempSync(join(work, 'vm-empty-'));
    writeFileSync(join(vmFolder, 'lab.vmx'), 'config.version = "8"\n');
    tool(bin, 'vmrun', `case "$3" in snapshot) : > "${vmFolder}/lab-Snapshot1.vmsn";; esac`);
    const error = await captureWithTool({
      tool: 'vmware',
      vm: relative(process.cwd(), join(vmFolder, 'lab.vmx')),
      out: '',
      env: { PATH: `${bin}:${process.env.PATH}` },
    }).catch((e: unknown) => e);
    expect(calls(bin, 'vmrun').at(-1)).toMatch(
      new RegExp(`^-T (ws|fusion) snapshot ${vmFolder}/lab.vmx irpscope-`),
    );
    expect((error as CaptureError).kind).toBe('dump-failed');
    expect((error as Error).message).toMatch(/holds 0 bytes/);
  });

  test('names from the tools’ lists and their error lines are shown neutralised', async () => {
    const bin = mkdtempSync(join(work, 'hostile-'));
    tool(
      bin,
      'virsh',
      `printf ' Id   Name        State\\n-----------------------------\\n 3    lab\\033]0;pwned\\007   running\\n'`,
    );
    tool(bin, 'VBoxManage', `printf 'error: \\033[2Jgone\\n' >&2; exit 1`);
    const tools = await toolStatus({ PATH: bin });
    expect(tools[0]!.vms[0]!.name).toBe('lab\u001b]0;pwned\u0007');
    const text = renderCaptureTargets(await findQmpSockets([], 100, []), tools, []);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain('lab\\u001b]0;pwned\\u0007');
    expect(text).toContain('VBoxManage list vms: error: \\u001b[2Jgone');
  });
});
