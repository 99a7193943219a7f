// irpscope: the command line of the workbench's engine.
//   irpscope info <image> [--json] [--symbols DIR]
//   irpscope analyze <image> [--json | --table NAME] [--csv DIR] [--symbols DIR]
//   irpscope diff <baseline> <image> [--json] [--symbols DIR]
//   irpscope report <image> [--baseline IMAGE] [--format html|pdf|json|csv] [--out FILE|DIR/]
//                   [--analyst NAME] [--note TEXT] [--no-hash] [--symbols DIR]
//   irpscope capture (--qmp SOCKET | --virsh DOMAIN | --vbox VM | --vmrun VMX) --out FILE
//                    [--analyze | --baseline IMAGE] [--json] [--symbols DIR];  capture --list [--dir DIR...]
//   irpscope extract <image> (--driver NAME | --module NAME | --address VA) [--out FILE] [--json]
//   irpscope serve [image...] [--port N] [--symbols DIR] [--no-demo]
//   irpscope worker --redis URL [--concurrency N] [--results DIR] [--path-map FROM=TO]...
//   irpscope fleet submit|status|report|run ... (src/cli/fleet-commands.ts)

import { Command, InvalidArgumentError, Option } from 'commander';
import { packageVersion } from '../core/node/util/package-version';
import type * as CommandsModule from './commands';
import { registerFleetCommands } from './fleet-commands';
import { TABLES } from './table-names';

// Each command's work is loaded when it runs: --version and --help load commander alone.
const commands = () => import('./commands');

type Commands = typeof CommandsModule;

/** A command's action: its code is loaded when it runs. */
function run<K extends keyof Commands>(name: K) {
  return async (...args: Parameters<Commands[K]>): Promise<void> => {
    const command = (await commands())[name] as (...given: Parameters<Commands[K]>) => Promise<void>;
    await command(...args);
  };
}

const VERSION = packageVersion(import.meta.url);

// Output piped into a program that stops reading early (head, less) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command('irpscope')
  .description('Windows kernel rootkit forensics: drivers, devices and IRP handlers from memory images')
  .version(VERSION, '-V, --version', 'print the version of IRPscope')
  .showHelpAfterError(false);

program
  .command('info')
  .description('identify an image: container, architecture, DTB, kernel, build, KDBG, module list')
  .argument('<image>', 'memory image (raw, crash dump, VMware .vmem/.vmss, ELF core, LiME)')
  .option('--json', 'print the versioned JSON document (schema irpscope-info/1)')
  .option('--symbols <dir>', 'Volatility 3 symbol directory (ISF files), used when the kernel PDB matches')
  .action(run('infoCommand'));

program
  .command('analyze')
  .description('recover drivers, devices, IRP handlers and modules, judge every handler, and list findings')
  .argument('<image>', 'memory image')
  .option('--json', 'print the versioned JSON document (schema irpscope-analysis/4)')
  .addOption(new Option('--table <name>', 'print one table').choices([...TABLES]))
  .option('--csv <dir>', 'write every table as a CSV file into <dir>')
  .option('--symbols <dir>', 'Volatility 3 symbol directory (ISF files), used when the kernel PDB matches')
  .action(run('analyzeCommand'));

program
  .command('diff')
  .description(
    'compare an image with a clean baseline of the same system (another boot is fine); exit 0: no differences, 1: differences, 2: error',
  )
  .argument('<baseline>', 'memory image of the clean system')
  .argument('<image>', 'memory image to examine')
  .option('--json', 'print the comparison as JSON')
  .option('--symbols <dir>', 'Volatility 3 symbol directory (ISF files), used when the kernel PDB matches')
  .action(run('diffCommand'));

program
  .command('report')
  .description(
    'write a report of one image (HTML by default; PDF printed by an installed Chromium), with the baseline comparison if given',
  )
  .argument('<image>', 'memory image')
  .option('--baseline <image>', 'memory image of the clean system, compared in the report')
  .addOption(
    new Option('--format <format>', 'report format').choices(['html', 'pdf', 'json', 'csv']).default('html'),
  )
  .option(
    '--out <file>',
    'where to write it (default: irpscope-<image>.<format> here, .zip for csv; - for stdout); for csv, a new folder ending in / takes the files themselves',
  )
  .option('--analyst <name>', 'the analyst named in the report')
  .option('--note <text>', 'case notes for the report header')
  .option('--no-hash', "do not compute the image's and the baseline's SHA-256 for the report header")
  .option('--symbols <dir>', 'Volatility 3 symbol directory (ISF files), used when the kernel PDB matches')
  .action(run('reportCommand'));

/** "fffff803`12345678", "0x8a292140", "8a292140h", "8a292140". */
function parseVirtualAddress(text: string): bigint {
  const digits = text.trim().replace(/`/g, '').replace(/^0x/i, '').replace(/h$/i, '');
  if (!/^[0-9a-f]{1,16}$/i.test(digits))
    throw new InvalidArgumentError('a hexadecimal address, e.g. 0xfffff80312345678');
  return BigInt(`0x${digits}`);
}

program
  .command('extract')
  .description(
    "write a driver's or module's image from memory as a PE file for a disassembler (sections laid back to file alignment, absent pages zero-filled and listed)",
  )
  .argument('<image>', 'memory image')
  .option('--driver <name>', 'a driver object: \\Driver\\Name, its short name, or its object address')
  .option('--module <name>', 'a loaded module by file name (e.g. disk.sys), hidden or unlinked ones too')
  .option('--address <va>', 'any address inside the image (a hook target, a handler)', parseVirtualAddress)
  .option('--out <file>', 'where to write it (default: the module name here)')
  .option('--json', 'print what was written as JSON instead of text')
  .option('--symbols <dir>', 'Volatility 3 symbol directory (ISF files), used when the kernel PDB matches')
  .action(run('extractCommand'));

program
  .command('capture')
  .description(
    'capture the memory of a running VM (QEMU over QMP, or through virsh, VBoxManage or vmrun) and optionally analyse it or compare it with a baseline; --list shows what can be captured',
  )
  .option('--qmp <socket>', 'QEMU QMP socket: a unix socket path or host:port on this machine')
  .option('--virsh <domain>', 'a libvirt domain (virsh dump --memory-only)')
  .option('--vbox <vm>', 'a VirtualBox VM name or UUID (VBoxManage debugvm dumpvmcore)')
  .option('--vmrun <vmx>', 'a VMware VM (.vmx): a snapshot is taken and its .vmsn/.vmem opened')
  .option('--out <file>', 'where the image goes (an ELF core): a regular file, or nothing there yet')
  .option('--analyze', 'analyse the captured image and print its summary')
  .option('--baseline <image>', 'compare the captured image with this clean image (exit 1 when they differ)')
  .option('--json', 'print the capture (and analysis or comparison) as JSON')
  .option('--symbols <dir>', 'Volatility 3 symbol directory (ISF files), used when the kernel PDB matches')
  .option('--list', 'list reachable QMP sockets and the VMs virsh, VBoxManage and vmrun know')
  .option('--dir <folder...>', "with --list: folders to search for QMP sockets (besides libvirt's)")
  .action(run('captureCommand'));

program
  .command('serve')
  .description('serve the workbench to a browser on 127.0.0.1 (web mode); with no image, the demo case')
  .argument('[images...]', 'memory images to open')
  .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', parsePort)
  .option('--symbols <dir>', 'Volatility 3 symbol directory (ISF files), used when the kernel PDB matches')
  .option('--no-demo', 'with no image given, start empty instead of opening the demo case')
  .action(run('serveCommand'));

registerFleetCommands(program);

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('not a port number');
  return port;
}

await program.parseAsync();
