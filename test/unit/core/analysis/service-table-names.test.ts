// The documented service tables: one per build and size, checked against the real kernels' symbol
// tables in ../shared/isf (every service a table names is a routine of that kernel) and against
// service numbers the kernels' own code and public write-ups agree on.

import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  documentedServiceNames,
  documentedTables,
  type ServiceArch,
} from '../../../../src/core/analysis/service-table-names';
import { loadIsf } from '../../../../src/core/node/profile/isf-load';
import { SHARED_ISFS } from '../profile/shared-isf';

const numberOf = (arch: ServiceArch, build: number, limit: number, name: string) => {
  const naming = documentedServiceNames(arch, build, limit);
  if (!naming.found) throw new Error(naming.why);
  return naming.table.names.indexOf(name);
};

describe('documented service tables', () => {
  test.each(['x86', 'x64'] as const)('%s: every table names each service once', (arch) => {
    for (const table of documentedTables(arch)) {
      expect(new Set(table.names).size, table.source).toBe(table.names.length);
      expect(
        table.names.every((n) => /^Nt[A-Za-z0-9]+$/.test(n)),
        table.source,
      ).toBe(true);
    }
  });

  test('the size of the table picks between the tables of one build', () => {
    // Server 2003 x86: 295 services before SP1, 296 from SP1 on.
    expect(documentedServiceNames('x86', 3790, 295).found).toBe(true);
    expect(documentedServiceNames('x86', 3790, 296).found).toBe(true);
    // Windows 10 2004 … 22H2 report 19041 … 19045 over one kernel line with 471 or 473 services.
    expect(numberOf('x64', 19045, 471, 'NtQuerySystemInformation')).toBe(0x36);
    expect(numberOf('x64', 19041, 473, 'NtCopyFileChunk')).toBeGreaterThan(0);
    expect(numberOf('x64', 19041, 471, 'NtCopyFileChunk')).toBe(-1);
  });

  test('a build with no table of that size, or none at all, says why instead of guessing', () => {
    const otherSize = documentedServiceNames('x86', 7601, 402);
    expect(otherSize).toEqual({
      found: false,
      why: "the tables documented for x86 build 7601 have 401 services, this kernel's has 402",
    });
    expect(documentedServiceNames('x64', 12345, 450)).toEqual({
      found: false,
      why: 'no service table is documented for x64 build 12345',
    });
    expect(documentedServiceNames('x64', null, 450).found).toBe(false);
  });

  test('the numbers of the I/O services on Windows 7 x86 and x64', () => {
    expect(numberOf('x86', 7601, 401, 'NtQuerySystemInformation')).toBe(0x105);
    expect(numberOf('x86', 7601, 401, 'NtWriteFile')).toBe(0x18c);
    expect(numberOf('x64', 7601, 401, 'NtWriteFile')).toBe(0x5);
    expect(numberOf('x64', 7601, 401, 'NtCreateFile')).toBe(0x52);
  });

  // The ISF files are Microsoft's symbols of eight real x64 kernels: the table picked for each
  // build must name only routines that kernel has; where the kernel's table is one service
  // shorter than the release's later column, the variant before that update is the one picked.
  const isfs = SHARED_ISFS.filter((isf) => existsSync(isf.file));
  test.skipIf(isfs.length === 0).each(isfs.map((isf) => [isf.version, isf] as const))(
    'every service of the table for %s is a routine in that kernel',
    async (_version, isf) => {
      const symbols = (await loadIsf(isf.file)).symbols;
      const fitting = documentedTables('x64').filter(
        (t) => t.builds.includes(isf.build) && t.names.every((name) => symbols[name] !== undefined),
      );
      expect(fitting.length, `a table of ${isf.build} whose services are all in the kernel`).toBeGreaterThan(
        0,
      );
      for (const table of fitting)
        expect(documentedServiceNames('x64', isf.build, table.names.length)).toEqual({ found: true, table });
    },
  );
});
