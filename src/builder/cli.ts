// npm run --silent build-image -- --isf <file.json.xz> | --profile <name> [--build <n>] [--future]
//   --format <f> --scenario clean|infected --size <n[M|G]> --seed <n> [--boot <n>] --out <dir>
//   [--fill random|zero]

import { Command, Option } from 'commander';
import {
  BuildError,
  FORMATS,
  INFECTIONS,
  X86_PROFILES,
  buildImage,
  parseSize,
  type Infection,
} from './index';

const program = new Command('build-image')
  .description('Write a realistic Windows kernel memory image with its ground truth (truth.json).')
  .addOption(new Option('--isf <file>', 'Volatility 3 ISF symbol table of an x64 kernel (.json or .json.xz)'))
  .addOption(new Option('--profile <name>', `x86 kernel from the fact sheets: ${X86_PROFILES.join(', ')}`))
  .addOption(
    new Option(
      '--build <number>',
      'the build the image claims: names an ISF whose PDB and layout do not settle its build; with an ISF of another build, lays out that ISF under this build number and a synthetic PDB GUID; with --future, the future build',
    ).argParser((v) => (/^\d+$/.test(v) ? Number.parseInt(v, 10) : Number.NaN)),
  )
  .addOption(
    new Option(
      '--future',
      'a kernel no layout table describes: x64, build 26100 from the 22000 ISF with EPROCESS/ETHREAD/KTHREAD fields moved; x86, a later update of the profile with the same moves (truth.json: layout)',
    ),
  )
  .addOption(new Option('--format <format>', 'container format').choices([...FORMATS]).default('raw'))
  .addOption(
    new Option('--scenario <scenario>', 'clean system or infected by a rootkit')
      .choices(['clean', 'infected'])
      .default('clean'),
  )
  .addOption(
    new Option(
      '--infections <list>',
      `with --scenario infected, plant only these (default: all): ${INFECTIONS.join(', ')}`,
    ),
  )
  .addOption(new Option('--size <size>', 'physical memory size, 64M to 16G').default('256M'))
  .addOption(new Option('--seed <seed>', 'seed: the same arguments give byte-identical files').default('1'))
  .addOption(
    new Option(
      '--boot <n>',
      'boot of the same system: new addresses, paged-out pages, device numbering and transient devices',
    )
      .default(1)
      .argParser((v) => (/^\d+$/.test(v) ? Number.parseInt(v, 10) : Number.NaN)),
  )
  .addOption(
    new Option('--fill <fill>', 'content of unused memory').choices(['random', 'zero']).default('random'),
  )
  .addOption(
    new Option('--no-low-stub', 'x64: omit the PROCESSOR_START_BLOCK in low memory (as on many VMs)'),
  )
  .requiredOption('--out <dir>', 'output folder')
  .showHelpAfterError(false)
  .configureOutput({
    outputError: (text, write) => write(`build-image: ${text.replace(/^error: /, '').trim()}\n`),
  })
  .exitOverride();

try {
  program.parse();
  const o = program.opts<{
    isf?: string;
    profile?: string;
    build?: number;
    future?: boolean;
    format: (typeof FORMATS)[number];
    scenario: 'clean' | 'infected';
    infections?: string;
    size: string;
    seed: string;
    boot: number;
    fill: 'random' | 'zero';
    lowStub: boolean;
    out: string;
  }>();
  const started = Date.now();
  const result = buildImage({
    isf: o.isf,
    profile: o.profile,
    build: o.build,
    future: o.future,
    format: o.format,
    scenario: o.scenario,
    infections: o.infections?.split(',').map((s) => s.trim()) as Infection[] | undefined,
    size: parseSize(o.size),
    seed: o.seed,
    boot: o.boot,
    fill: o.fill,
    lowStub: o.lowStub,
    out: o.out,
  });
  const t = result.truth;
  process.stderr.write(
    `build-image: ${t.version.name} ${t.arch}${t.paging === 'pae' ? ' PAE' : ''}, ${t.generator.scenario}, boot ${t.boot.number}, ` +
      `${t.drivers.length} drivers, ${t.drivers.reduce((n, d) => n + d.devices.length, 0)} devices, ` +
      `${t.modules.length} modules, ${t.findings.length} findings planted, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  for (const file of result.files) process.stdout.write(`${file}\n`);
} catch (error) {
  if (error instanceof BuildError) {
    process.stderr.write(`build-image: ${error.message}\n`);
    process.exit(2);
  }
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    process.exit(code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : 2);
  }
  process.stderr.write(`build-image: internal error: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
}
