// irpscope: the command line of the workbench's engine.
//   irpscope info <image> [--json] [--symbols DIR]

import { Command } from 'commander';
import { imageInfo } from '../core/info';
import { ImageError } from '../core/image';
import { renderInfo } from './render-info';

const EXIT_UNSUPPORTED = 2;

function fail(error: unknown): never {
  if (error instanceof ImageError) {
    process.stderr.write(`irpscope: ${error.message}\n`);
    process.exit(EXIT_UNSUPPORTED);
  }
  process.stderr.write(`irpscope: internal error: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
}

const program = new Command('irpscope')
  .description('Windows kernel rootkit forensics: drivers, devices and IRP handlers from memory images')
  .showHelpAfterError(false);

program
  .command('info')
  .description('identify an image: container, architecture, DTB, kernel, build, KDBG, module list')
  .argument('<image>', 'memory image (raw, crash dump, VMware .vmem/.vmss, ELF core, LiME)')
  .option('--json', 'print the versioned JSON document (schema irpscope-info/1)')
  .option('--symbols <dir>', 'Volatility 3 symbol directory (ISF files), used when the kernel PDB matches')
  .action(async (image: string, options: { json?: boolean; symbols?: string }) => {
    try {
      const info = await imageInfo(image, { symbols: options.symbols });
      process.stdout.write(options.json ? `${JSON.stringify(info, null, 2)}\n` : renderInfo(info));
    } catch (error) {
      fail(error);
    }
  });

await program.parseAsync();
