// Captures through the hypervisors' own command-line tools, where they are installed:
//   libvirt     virsh dump --memory-only --format elf -- DOMAIN FILE (an ELF core, like QEMU's;
//               the domain is paused for the dump unless --live)
//   VirtualBox  VBoxManage debugvm VM dumpvmcore --filename=FILE    (an ELF core with VBCORE notes)
//   VMware      vmrun -T ws|fusion snapshot VMX NAME                (a .vmsn with its .vmem beside it
//               in the VM's folder; the image is the snapshot's state file)
// Each produces a file the existing containers open. A tool that is not on PATH is reported by
// name, so that the workbench can say what to install.
// virsh: https://libvirt.org/manpages/virsh.html (dump, list); VBoxManage: VirtualBox manual
// "VBoxManage debugvm"; vmrun: VMware "Using vmrun to Control Virtual Machines".

import { spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { hasHiddenCharacters, visibleText } from '../../../common/visible-text';
import { CaptureError } from './errors';
import { incompleteDump, prepareOutput } from './output';
import type {
  CaptureProgress,
  CaptureResult,
  CaptureToolKind as ToolKind,
  CaptureToolStatus as ToolStatus,
  CaptureToolVm as ToolVm,
} from './types';

export const TOOL_COMMANDS: Readonly<Record<ToolKind, string>> = {
  libvirt: 'virsh',
  virtualbox: 'VBoxManage',
  vmware: 'vmrun',
};

/** Finds an executable on PATH (with Windows' extensions where they apply). */
export function findExecutable(command: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    if (!folder) continue;
    for (const extension of extensions) {
      const candidate = join(folder, command + extension);
      try {
        if (!statSync(candidate).isFile()) continue;
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

const INSTALL_HINT: Readonly<Record<ToolKind, string>> = {
  libvirt: 'virsh (libvirt-clients) is not installed',
  virtualbox: 'VBoxManage (VirtualBox) is not installed',
  vmware: 'vmrun (VMware Workstation, Fusion or the VIX API) is not installed',
};

interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  executable: string,
  args: string[],
  options: { signal?: AbortSignal; timeoutMs?: number; onStderr?: (text: string) => void } = {},
): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    let stdout = '';
    let stderr = '';
    const limit = 1 << 20;
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < limit) stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (stderr.length < limit) stderr += text;
      options.onStderr?.(text);
    });
    const timer = options.timeoutMs
      ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs).unref()
      : null;
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (error.name === 'AbortError') reject(new CaptureError('cancelled', 'cancelled'));
      else
        reject(
          new CaptureError('tool-failed', `${basename(executable)} could not be started: ${error.message}`),
        );
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ''
  ).slice(0, 300);
}

/** libvirt's `virsh list --all`: " Id   Name   State" then a rule, then rows. */
export function parseVirshList(text: string): ToolVm[] {
  const vms: ToolVm[] = [];
  for (const line of text.split('\n').slice(2)) {
    const match = /^\s*(\d+|-)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (match) vms.push({ tool: 'libvirt', id: match[2]!, name: match[2]!, state: match[3]! });
  }
  return vms;
}

/** VBoxManage's `list vms` / `list runningvms`: `"name" {uuid}` per line. */
export function parseVBoxList(text: string): Array<{ name: string; uuid: string }> {
  const out: Array<{ name: string; uuid: string }> = [];
  for (const line of text.split('\n')) {
    const match = /^"(.*)"\s+\{([0-9a-f-]+)\}\s*$/i.exec(line.trim());
    if (match) out.push({ name: match[1]!, uuid: match[2]! });
  }
  return out;
}

/** vmrun's `list`: "Total running VMs: N" then one .vmx path per line. */
export function parseVmrunList(text: string): ToolVm[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => /\.vmx$/i.test(l))
    .map((vmx) => ({ tool: 'vmware' as const, id: vmx, name: basename(vmx, '.vmx'), state: 'running' }));
}

function vmrunType(): string {
  return process.platform === 'darwin' ? 'fusion' : 'ws';
}

/** Which tools are present and the VMs each knows. */
export async function toolStatus(env: NodeJS.ProcessEnv = process.env): Promise<ToolStatus[]> {
  const out: ToolStatus[] = [];
  for (const tool of ['libvirt', 'virtualbox', 'vmware'] as const) {
    const command = TOOL_COMMANDS[tool];
    const path = findExecutable(command, env);
    const status: ToolStatus = {
      tool,
      command,
      path,
      missing: path ? null : INSTALL_HINT[tool],
      vms: [],
      problem: null,
    };
    if (path) {
      try {
        status.vms = await listVms(tool, path);
      } catch (error) {
        status.problem = (error as Error).message;
      }
    }
    out.push(status);
  }
  return out;
}

async function listVms(tool: ToolKind, path: string): Promise<ToolVm[]> {
  const timeoutMs = 10_000;
  if (tool === 'libvirt') {
    const result = await run(path, ['list', '--all'], { timeoutMs });
    if (result.code !== 0)
      throw new CaptureError(
        'tool-failed',
        `virsh list: ${firstLine(result.stderr) || `exit ${result.code}`}`,
      );
    return parseVirshList(result.stdout);
  }
  if (tool === 'virtualbox') {
    const all = await run(path, ['list', 'vms'], { timeoutMs });
    if (all.code !== 0)
      throw new CaptureError(
        'tool-failed',
        `VBoxManage list vms: ${firstLine(all.stderr) || `exit ${all.code}`}`,
      );
    const running = await run(path, ['list', 'runningvms'], { timeoutMs });
    const up = new Set(parseVBoxList(running.stdout).map((v) => v.uuid));
    return parseVBoxList(all.stdout).map((v) => ({
      tool: 'virtualbox' as const,
      id: v.uuid,
      name: v.name,
      state: up.has(v.uuid) ? 'running' : 'not running',
    }));
  }
  const result = await run(path, ['-T', vmrunType(), 'list'], { timeoutMs });
  if (result.code !== 0)
    throw new CaptureError(
      'tool-failed',
      `vmrun list: ${firstLine(result.stdout + result.stderr) || `exit ${result.code}`}`,
    );
  return parseVmrunList(result.stdout);
}

export interface ToolCaptureOptions {
  tool: ToolKind;
  /** Domain, VM name or UUID, or .vmx path. */
  vm: string;
  /** Where the image goes (libvirt, VirtualBox). VMware keeps its snapshot in the VM's folder. */
  out: string;
  onProgress?: (progress: CaptureProgress) => void;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

const WHAT_THE_VM_IS: Readonly<Record<ToolKind, string>> = {
  libvirt: 'a domain name',
  virtualbox: 'a VM name',
  vmware: 'a .vmx path',
};

const INSTEAD: Readonly<Record<ToolKind, string>> = {
  libvirt: '; name the domain by its UUID or id instead',
  virtualbox: '; name the VM by its UUID instead',
  vmware: '',
};

/**
 * A VM name handed to a tool as an argument: one that starts with "-" would be read as an option
 * (where the tool has `--`, it is passed after it too), and control or invisible characters have
 * no place in one — both are refused with the reason, before the tool runs.
 */
export function checkVmName(tool: ToolKind, vm: string): void {
  const what = WHAT_THE_VM_IS[tool];
  if (vm.trim() === '') throw new CaptureError('bad-target', `no VM given: ${what} is needed`);
  if (hasHiddenCharacters(vm))
    throw new CaptureError(
      'bad-target',
      `${visibleText(vm)}: ${what} with control or invisible characters is refused${INSTEAD[tool]}`,
    );
  if (tool !== 'vmware' && vm.startsWith('-'))
    throw new CaptureError(
      'bad-target',
      `${vm}: ${what} that starts with "-" would be read by ${TOOL_COMMANDS[tool]} as an option${INSTEAD[tool]}`,
    );
}

/** What the tool says of the VM before the dump: its memory (the dump's lower bound) and state. */
interface VmFacts {
  memoryBytes: number | null;
  state: string | null;
}

/** `virsh dominfo`: "Used memory:    65536 KiB", "State:          running". */
export function parseVirshDominfo(text: string): VmFacts {
  const memory = /^Used memory:\s+(\d+) KiB\s*$/m.exec(text);
  const state = /^State:\s+(.+?)\s*$/m.exec(text);
  const kib = memory ? Number(memory[1]) : NaN;
  return {
    memoryBytes: Number.isSafeInteger(kib * 1024) ? kib * 1024 : null,
    state: state ? state[1]! : null,
  };
}

/** `VBoxManage showvminfo --machinereadable`: memory=2048 (MiB), VMState="running". */
export function parseVBoxInfo(text: string): VmFacts {
  const memory = /^memory=(\d+)\s*$/m.exec(text);
  const state = /^VMState="(.*)"\s*$/m.exec(text);
  const mib = memory ? Number(memory[1]) : NaN;
  return {
    memoryBytes: Number.isSafeInteger(mib * 1024 * 1024) ? mib * 1024 * 1024 : null,
    state: state ? state[1]! : null,
  };
}

/** The VM's memory and state as the tool reports them; unknown when it does not say. */
async function vmFacts(tool: 'libvirt' | 'virtualbox', executable: string, vm: string): Promise<VmFacts> {
  const args = tool === 'libvirt' ? ['dominfo', '--', vm] : ['showvminfo', vm, '--machinereadable'];
  const result = await run(executable, args, { timeoutMs: 10_000 }).catch(() => null);
  if (!result || result.code !== 0) return { memoryBytes: null, state: null };
  return tool === 'libvirt' ? parseVirshDominfo(result.stdout) : parseVBoxInfo(result.stdout);
}

export async function captureWithTool(options: ToolCaptureOptions): Promise<CaptureResult> {
  const command = TOOL_COMMANDS[options.tool];
  checkVmName(options.tool, options.vm);
  const executable = findExecutable(command, options.env);
  if (!executable)
    throw new CaptureError('tool-missing', `cannot capture ${options.vm}: ${INSTALL_HINT[options.tool]}`);
  const report = options.onProgress ?? (() => undefined);
  const started = performance.now();
  if (options.tool === 'vmware') return snapshotVmware(executable, options, report, started);
  // Checked and created before the tool runs: a path that cannot take the image is refused first.
  const target = prepareOutput(options.out);
  try {
    const facts = await vmFacts(options.tool, executable, options.vm);
    report({ stage: 'dumping', completed: 0, total: 0, detail: options.vm });
    const args =
      options.tool === 'libvirt'
        ? ['dump', '--memory-only', '--format', 'elf', '--verbose', '--', options.vm, target.temp]
        : ['debugvm', options.vm, 'dumpvmcore', `--filename=${target.temp}`];
    const result = await run(executable, args, {
      signal: options.signal,
      onStderr: (text) => {
        // virsh --verbose: "Dump: [ 42 %]"
        const percent = /\[\s*(\d+(?:\.\d+)?)\s*%\]/.exec(text);
        if (percent)
          report({ stage: 'dumping', completed: Number(percent[1]), total: 100, detail: options.vm });
      },
    });
    if (result.code !== 0)
      throw new CaptureError(
        'tool-failed',
        `${command} failed: ${firstLine(result.stderr) || firstLine(result.stdout) || `exit ${result.code}`}`,
      );
    const bytes = target.size();
    const incomplete = incompleteDump(command, bytes, facts.memoryBytes);
    if (incomplete) throw incomplete;
    report({ stage: 'finishing', completed: 100, total: 100 });
    target.commit();
    const totalMs = Math.round(performance.now() - started);
    return {
      tool: options.tool,
      source: options.vm,
      vm: {
        name: options.vm,
        memoryBytes: facts.memoryBytes,
        stateBefore: facts.state ?? 'unknown',
        software: command,
      },
      file: target.path,
      bytes: bytes ?? 0,
      wasRunning: facts.state === null || facts.state === 'running',
      pausedMs: null,
      dumpMs: totalMs,
      totalMs,
      format:
        options.tool === 'libvirt'
          ? 'ELF core (virsh dump --memory-only)'
          : 'ELF core (VirtualBox dumpvmcore)',
    };
  } catch (error) {
    target.discard();
    throw error;
  }
}

/** vmrun snapshot: the newest .vmsn in the VM's folder after the call is this snapshot's. */
async function snapshotVmware(
  executable: string,
  options: ToolCaptureOptions,
  report: (progress: CaptureProgress) => void,
  started: number,
): Promise<CaptureResult> {
  // vmrun runs in our working folder, but VMware's service may not: the .vmx is given whole.
  const vmx = resolve(options.vm);
  const folder = dirname(vmx);
  const before = new Set(listSnapshots(folder));
  const name = `irpscope-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  report({ stage: 'dumping', completed: 0, total: 0, detail: basename(vmx) });
  const result = await run(executable, ['-T', vmrunType(), 'snapshot', vmx, name], {
    signal: options.signal,
  });
  if (result.code !== 0)
    throw new CaptureError(
      'tool-failed',
      `vmrun snapshot failed: ${firstLine(result.stdout + result.stderr) || `exit ${result.code}`}`,
    );
  const created = listSnapshots(folder).filter((f) => !before.has(f));
  const state = created.sort(
    (a, b) => statSync(join(folder, b)).mtimeMs - statSync(join(folder, a)).mtimeMs,
  )[0];
  if (!state)
    throw new CaptureError(
      'dump-failed',
      `vmrun made snapshot ${name} but no new .vmsn appeared in ${folder}`,
    );
  const file = join(folder, state);
  const memory = file.replace(/\.vmsn$/i, '.vmem');
  const stateBytes = sizeOf(file);
  const memoryBytes = sizeOf(memory);
  const incomplete =
    incompleteDump('vmrun', stateBytes, null) ??
    (memoryBytes === null ? null : incompleteDump('vmrun', memoryBytes, null));
  if (incomplete) throw incomplete;
  const totalMs = Math.round(performance.now() - started);
  return {
    tool: 'vmware',
    source: vmx,
    vm: { name: basename(vmx, '.vmx'), memoryBytes: null, stateBefore: 'running', software: 'vmrun' },
    file,
    bytes: (stateBytes ?? 0) + (memoryBytes ?? 0),
    wasRunning: true,
    pausedMs: null,
    dumpMs: totalMs,
    totalMs,
    format: `VMware snapshot ${name} (${basename(file)}${memoryBytes !== null ? ` + ${basename(memory)}` : ', memory inside'})`,
  };
}

function listSnapshots(folder: string): string[] {
  try {
    return readdirSync(folder).filter((f) => /\.vmsn$/i.test(f));
  } catch {
    throw new CaptureError('bad-target', `${folder}: the VM's folder cannot be read`);
  }
}

function sizeOf(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}
