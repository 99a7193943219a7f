// The documented name of every system service, by number, for the kernel's build and the size of
// its table. A build number alone does not fix the table: updates add services (Windows 10's
// 2004 line reports 19041 … 19045 with 471 or 473 services; NtCopyFileChunk came to Server 2022
// and Windows 11 21H2 in an update), and every service after an added one moves up a number. So
// a table is taken only when it has exactly as many services as the kernel's descriptor says.

import { DOCUMENTED_SERVICES } from './service-table-data';

export type ServiceArch = keyof typeof DOCUMENTED_SERVICES;

export interface DocumentedTable {
  /** The releases (j00ru/windows-syscalls column headings) with this table, and any variant. */
  source: string;
  builds: readonly number[];
  /** Service names in number order. */
  names: readonly string[];
}

/**
 * Tables a release had before an update added services to it. The ISF files of 20348.288 and
 * 22000.318 (../shared/isf) have no NtCopyFileChunk symbol, and the table's place in the kernel
 * leaves room for one service fewer than j00ru's later column counts. Services past the fixed
 * head of the x64 table are numbered in name order, so without the added one the rest keep their
 * order and each after it is one number lower.
 */
const BEFORE_UPDATES: ReadonlyArray<{ arch: ServiceArch; release: string; without: string[] }> = [
  { arch: 'x64', release: 'Windows 11 and Server (Server 2022)', without: ['NtCopyFileChunk'] },
  { arch: 'x64', release: 'Windows 11 and Server (11 21H2)', without: ['NtCopyFileChunk'] },
];

function decode(arch: ServiceArch): DocumentedTable[] {
  const { names, tables } = DOCUMENTED_SERVICES[arch];
  const decoded = tables.map((table) => {
    const order: string[] = [];
    for (let at = 0; at < table.order.length; at += 2)
      order.push(names[Number.parseInt(table.order.slice(at, at + 2), 36)]!);
    return {
      source: table.releases.join(', '),
      builds: table.builds,
      names: order,
      releases: table.releases,
    };
  });
  const variants = BEFORE_UPDATES.filter((v) => v.arch === arch).flatMap((variant) => {
    const base = decoded.find((t) => t.releases.includes(variant.release));
    if (!base) return [];
    return [
      {
        source: `${variant.release} before the update that added ${variant.without.join(', ')}`,
        builds: base.builds,
        names: base.names.filter((name) => !variant.without.includes(name)),
      },
    ];
  });
  return [...decoded.map(({ source, builds, names }) => ({ source, builds, names })), ...variants];
}

const cache = new Map<ServiceArch, DocumentedTable[]>();

/** Every documented table for the architecture (decoded once). */
export function documentedTables(arch: ServiceArch): readonly DocumentedTable[] {
  let tables = cache.get(arch);
  if (!tables) cache.set(arch, (tables = decode(arch)));
  return tables;
}

export type ServiceNaming = { found: true; table: DocumentedTable } | { found: false; why: string };

/** The documented table of `build` with exactly `limit` services, or why there is none. */
export function documentedServiceNames(
  arch: ServiceArch,
  build: number | null,
  limit: number,
): ServiceNaming {
  if (build === null) return { found: false, why: 'the kernel build is not known' };
  const ofBuild = documentedTables(arch).filter((t) => t.builds.includes(build));
  if (ofBuild.length === 0)
    return { found: false, why: `no service table is documented for ${arch} build ${build}` };
  const table = ofBuild.find((t) => t.names.length === limit);
  if (table) return { found: true, table };
  const counts = [...new Set(ofBuild.map((t) => t.names.length))].sort((a, b) => a - b);
  return {
    found: false,
    why: `the tables documented for ${arch} build ${build} have ${counts.join(' or ')} services, this kernel's has ${limit}`,
  };
}
