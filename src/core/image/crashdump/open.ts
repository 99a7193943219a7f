// Windows kernel crash dumps (PAGEDUMP / PAGEDU64), spec §5.2: header facts as hints, then the
// physical layout by DumpType.

import type { ByteSource } from '../../source';
import { hex } from '../../../common/hex';
import { u32 } from '../../util/bytes';
import { ImageError } from '../errors';
import { RunSpace } from '../run-space';
import { RunTable, type RunTableBuilder } from '../run-table';
import type { FormatDetails, ImageHints, PhysicalSpace, TriageDump } from '../types';
import { hasSummarySignature, readSummaryHeader, scanBitmap, type SummaryHeader } from './bitmap';
import {
  DU64_MAGIC,
  DUMP_TYPE_NAMES,
  machineName,
  PAGE_SIZE,
  parseDumpHeader,
  type DumpHeader,
} from './header';
import { rdmpRuns } from './rdmp';
import { fullDumpRuns } from './run-list';
import { readTriage } from './triage';

export function openCrashDump(source: ByteSource): PhysicalSpace {
  const width = u32(source.read(4, 4), 0) === DU64_MAGIC ? 64 : 32;
  const headerSize = width === 64 ? 0x2000 : 0x1000;
  const headerBytes = source.read(0, headerSize);
  if (headerBytes.length < headerSize)
    throw new ImageError(
      'truncated',
      `${source.name}: ${width}-bit crash dump header cut short (${headerBytes.length} of ${headerSize} bytes)`,
    );
  const header = parseDumpHeader(headerBytes, width);
  const machine = checkMachine(source, header);
  const warnings: string[] = [];
  const hints = hintsFrom(header, machine);
  const typeName = DUMP_TYPE_NAMES[header.dumpType];
  const baseDetails: FormatDetails = {
    width,
    dumpType: header.dumpType,
    dumpTypeName: typeName,
    dataFile: source.name,
  };
  const what = `Windows crash dump (${width}-bit ${width === 64 ? 'PAGEDU64' : 'PAGEDUMP'})`;

  const memorySpace = (builder: RunTableBuilder, details: FormatDetails, label: string): PhysicalSpace => {
    const table = builder.build(source.size, warnings);
    if (table.count === 0)
      throw new ImageError(
        builder.count > 0 ? 'truncated' : 'corrupt',
        `${source.name}: ${label} crash dump holds no readable physical page${builder.count > 0 ? ' (every listed page lies past the end of the file)' : ''}`,
      );
    return new RunSpace({
      name: source.name,
      format: { id: 'crashdump', description: `${what}, ${label}`, holdsPhysicalMemory: true, details },
      table,
      data: source,
      hints,
      warnings,
    });
  };
  const noMemorySpace = (label: string, triage?: TriageDump): PhysicalSpace =>
    new RunSpace({
      name: source.name,
      format: {
        id: 'crashdump',
        description: `${what}, ${label}`,
        holdsPhysicalMemory: false,
        details: baseDetails,
      },
      table: RunTable.empty,
      data: source,
      hints,
      warnings,
      triage,
    });

  switch (header.dumpType) {
    case 1:
      return memorySpace(fullDumpRuns(header, headerBytes, warnings), baseDetails, 'full (DumpType 1)');
    case 5:
    case 6:
    case 2: {
      const summary = findSummary(source, header, warnings);
      if (typeof summary === 'string') {
        if (header.dumpType === 2)
          throw new ImageError(
            'unsupported-format',
            `${source.name}: kernel summary dump (DumpType 2) without a usable SDMP/FDMP bitmap header (${summary}); IRPscope cannot map it`,
          );
        throw new ImageError(
          'corrupt',
          `${source.name}: bitmap crash dump (DumpType ${header.dumpType}) with no usable bitmap header (${summary})`,
        );
      }
      const { header: bitmap, builder } = summary;
      return memorySpace(
        builder,
        { ...baseDetails, bitmapSignature: bitmap.signature, bitmapLayout: bitmap.layout },
        `${typeName} (DumpType ${header.dumpType}, ${bitmap.signature})`,
      );
    }
    case 8:
    case 9:
    case 10: {
      if (width === 32)
        throw new ImageError(
          'unsupported-format',
          `${source.name}: 32-bit crash dump with DumpType ${header.dumpType} is not a known layout`,
        );
      const { builder } = rdmpRuns(source, header.dumpType, warnings);
      return memorySpace(builder, baseDetails, `${typeName} (DumpType ${hex(header.dumpType)})`);
    }
    case 4: {
      warnings.push(
        'triage (mini kernel) dump: it holds no physical memory and no pool, so no driver or device objects can be recovered; header facts and the saved module list are available',
      );
      return noMemorySpace('triage / mini kernel (DumpType 4)', readTriage(source, header, warnings));
    }
    case 3:
      warnings.push('header-only dump (DumpType 3): it holds no memory');
      return noMemorySpace('header only (DumpType 3)');
    default:
      throw new ImageError(
        'unsupported-format',
        `${source.name}: crash dump with unknown DumpType ${hex(header.dumpType)}`,
      );
  }
}

function checkMachine(source: ByteSource, header: DumpHeader): 'x86' | 'x64' {
  const expected = header.width === 64 ? 'x64' : 'x86';
  const name = machineName(header.machineImageType);
  if (name === 'arm64' || name === 'arm' || name === 'ia64') {
    const build = header.build === undefined ? '' : `, build ${header.build}`;
    throw new ImageError(
      'unsupported-architecture',
      `${source.name}: this is an ${name.toUpperCase()} Windows crash dump${build}; IRPscope analyses x86/x64 images only`,
    );
  }
  if (name !== undefined && name !== expected)
    throw new ImageError(
      'corrupt',
      `${source.name}: ${header.width}-bit dump header claims machine type ${hex(header.machineImageType ?? 0)} (${name})`,
    );
  return expected;
}

function hintsFrom(header: DumpHeader, machine: 'x86' | 'x64'): ImageHints {
  const hints: ImageHints = {
    dtb: header.dtb,
    pfnDatabase: header.pfnDatabase,
    psLoadedModuleList: header.psLoadedModuleList,
    psActiveProcessHead: header.psActiveProcessHead,
    kdDebuggerDataBlock: header.kdDebuggerDataBlock,
    build: header.build,
    majorVersion: header.majorVersion,
    machine,
    machineImageType: header.machineImageType,
    paeEnabled: header.paeEnabled,
    bugCheck: header.bugCheck,
    dumpType: header.dumpType,
    processors: header.processors,
    systemTime: header.systemTime,
    comment: header.comment,
  };
  // Only what the header records: an absent fact is absent, not an undefined-valued key.
  return Object.fromEntries(Object.entries(hints).filter(([, value]) => value !== undefined)) as ImageHints;
}

/**
 * The bitmap header after the dump header. 64-bit: the verified layout. 32-bit: unverified, so
 * each candidate layout must validate and its set bits must equal its present-page count.
 */
function findSummary(
  source: ByteSource,
  header: DumpHeader,
  warnings: string[],
): { header: SummaryHeader; builder: RunTableBuilder } | string {
  const at = header.headerSize;
  if (!hasSummarySignature(source, at)) return `no SDMP/FDMP signature at ${hex(at)}`;
  const layouts = header.width === 64 ? (['summary64'] as const) : (['summary64', 'summary32'] as const);
  const reasons: string[] = [];
  for (const layout of layouts) {
    const summary = readSummaryHeader(source, at, layout);
    if (typeof summary === 'string') {
      reasons.push(`${layout}: ${summary}`);
      continue;
    }
    const scan = scanBitmap(source, summary);
    if (header.width === 32 && scan.setBits !== summary.presentPages && !scan.builder.full) {
      reasons.push(`${layout}: ${scan.setBits} set bits but ${summary.presentPages} pages said present`);
      continue;
    }
    if (scan.bitsScanned < summary.bits && !scan.builder.full)
      warnings.push(
        `the bitmap is cut short by the end of the file: ${scan.bitsScanned} of ${summary.bits} bits read`,
      );
    if (scan.setBits !== summary.presentPages && !scan.builder.full)
      warnings.push(
        `the bitmap has ${scan.setBits} set bits but the header says ${summary.presentPages} pages are present`,
      );
    if (summary.firstPage % PAGE_SIZE !== 0)
      warnings.push(`the first stored page is at ${hex(summary.firstPage)}, not page-aligned`);
    return { header: summary, builder: scan.builder };
  }
  return reasons.join('; ');
}
