// Captures through the hypervisors' own command-line tools, where they are installed:
//   libvirt     virsh dump --memory-only --format elf DOMAIN FILE   (an ELF core, like QEMU's;
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
import { basename, delimiter, dirname, join } from 'node:path';
import { OutputError, externalTemp } from '../util/atomic-file';
import { CaptureError } from './errors';
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

export async function captureWithTool(options: ToolCaptureOptions): Promise<CaptureResult> {
  const command = TOOL_COMMANDS[options.tool];
  const executable = findExecutable(command, options.env);
  if (!executable)
    throw new CaptureError('tool-missing', `cannot capture ${options.vm}: ${INSTALL_HINT[options.tool]}`);
  const report = options.onProgress ?? (() => undefined);
  const started = performance.now();
  if (options.tool === 'vmware') return snapshotVmware(executable, options, report, started);
  let target: ReturnType<typeof externalTemp>;
  try {
    target = externalTemp(options.out);
  } catch (error) {
    throw error instanceof OutputError ? new CaptureError('output', error.message) : error;
  }
  try {
    report({ stage: 'dumping', completed: 0, total: 0, detail: options.vm });
    const args =
      options.tool === 'libvirt'
        ? ['dump', '--memory-only', '--format', 'elf', '--verbose', options.vm, target.temp]
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
    if (statSync(target.temp).size === 0) throw new CaptureError('dump-failed', `${command} wrote nothing`);
    report({ stage: 'finishing', completed: 100, total: 100 });
    try {
      target.commit();
    } catch (error) {
      throw error instanceof OutputError ? new CaptureError('output', error.message) : error;
    }
    const totalMs = Math.round(performance.now() - started);
    return {
      tool: options.tool,
      source: options.vm,
      vm: { name: options.vm, memoryBytes: null, stateBefore: 'unknown', software: command },
      file: options.out,
      bytes: statSync(options.out).size,
      wasRunning: true,
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
  const folder = dirname(options.vm);
  const before = new Set(listSnapshots(folder));
  const name = `irpscope-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  report({ stage: 'dumping', completed: 0, total: 0, detail: basename(options.vm) });
  const result = await run(executable, ['-T', vmrunType(), 'snapshot', options.vm, name], {
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
  const totalMs = Math.round(performance.now() - started);
  return {
    tool: 'vmware',
    source: options.vm,
    vm: { name: basename(options.vm, '.vmx'), memoryBytes: null, stateBefore: 'running', software: 'vmrun' },
    file,
    bytes: statSync(file).size + (exists(memory) ? statSync(memory).size : 0),
    wasRunning: true,
    pausedMs: null,
    dumpMs: totalMs,
    totalMs,
    format: `VMware snapshot ${name} (${basename(file)}${exists(memory) ? ` + ${basename(memory)}` : ', memory inside'})`,
  };
}

function listSnapshots(folder: string): string[] {
  try {
    return readdirSync(folder).filter((f) => /\.vmsn$/i.test(f));
  } catch {
    throw new CaptureError('bad-target', `${folder}: the VM's folder cannot be read`);
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
