// The results folder: per fleet, one folder per job holding the full analysis (the document
// `irpscope analyze --json` prints), the comparison (`irpscope diff --json`) and the job's
// summary, each written whole or not at all. Any worker on any machine writes there; a report or
// the workbench can be made from the folder alone.
//
//   <results>/<fleet>/hosts/<job id>/{analysis.json, diff.json, summary.json}
//   <results>/<fleet>/baselines/<job id>/{analysis.json, summary.json}

import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OutputError, ensureFolder, writeFileAtomic } from '../core/node/util/atomic-file';
import { FleetError } from './errors';
import {
  FLEET_NAME,
  baselineSummarySchema,
  hostSummarySchema,
  type BaselineSummary,
  type HostSummary,
} from './types';

export type JobFolderKind = 'hosts' | 'baselines';

export class ResultsFolder {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /**
   * Creates the folder if needed and proves it takes a file (written and removed), so a folder
   * that cannot be written is said before any job is taken, not after an analysis.
   */
  check(): void {
    try {
      if (existsSync(this.root) && !statSync(this.root).isDirectory())
        throw new FleetError(`cannot write results to ${this.root}: it is not a folder`);
      ensureFolder(this.root);
      const probe = join(this.root, `.irpscope-write-check-${process.pid}`);
      writeFileAtomic(probe, 'irpscope\n');
      rmSync(probe, { force: true });
    } catch (error) {
      if (error instanceof FleetError) throw error;
      const reason =
        error instanceof OutputError ? error.message.replace(/^cannot write [^:]*: /, '') : error;
      throw new FleetError(`cannot write results to ${this.root}: ${String(reason)}`);
    }
  }

  /** A job's folder relative to the fleet's: "hosts/h-…". */
  static jobFolder(kind: JobFolderKind, jobId: string): string {
    return `${kind}/${jobId}`;
  }

  fleetFolder(fleet: string): string {
    if (!FLEET_NAME.test(fleet)) throw new FleetError(`not a fleet name: ${JSON.stringify(fleet)}`);
    return join(this.root, fleet);
  }

  /** Writes `name` in the job's folder (made if needed); returns its path relative to the fleet's folder. */
  writeJobFile(fleet: string, kind: JobFolderKind, jobId: string, name: string, data: string): string {
    const relative = `${ResultsFolder.jobFolder(kind, jobId)}/${name}`;
    const folder = join(this.fleetFolder(fleet), kind, jobId);
    ensureFolder(folder);
    writeFileAtomic(join(folder, name), data);
    return relative;
  }

  readJson(fleet: string, relative: string): unknown {
    return JSON.parse(readFileSync(join(this.fleetFolder(fleet), relative), 'utf8'));
  }

  /** Fleets with a folder here. */
  fleets(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && FLEET_NAME.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  /**
   * The summaries in a fleet's folder. A summary that does not parse or does not fit its schema
   * is skipped with the reason: disks and other writers are not trusted.
   */
  readSummaries(fleet: string): { hosts: HostSummary[]; baselines: BaselineSummary[]; skipped: string[] } {
    const skipped: string[] = [];
    const read = <T>(kind: JobFolderKind, parse: (value: unknown) => T): T[] => {
      const folder = join(this.fleetFolder(fleet), kind);
      if (!existsSync(folder)) return [];
      const found: T[] = [];
      for (const id of readdirSync(folder).sort()) {
        const file = join(folder, id, 'summary.json');
        if (!existsSync(file)) continue;
        try {
          found.push(parse(JSON.parse(readFileSync(file, 'utf8'))));
        } catch (error) {
          skipped.push(`${kind}/${id}/summary.json: ${(error as Error).message.split('\n')[0]}`);
        }
      }
      return found;
    };
    return {
      hosts: read('hosts', (v) => hostSummarySchema.parse(v)),
      baselines: read('baselines', (v) => baselineSummarySchema.parse(v)),
      skipped,
    };
  }
}
