// Cases in the data folder (never beside the image, which is only ever read): one folder per
// image path, holding case.json (the image's identity and full SHA-256 with when it was computed
// and last verified, the engine that analysed it, the baseline it was compared with, the
// analyst's notes) and the analysis result under a name made from its hash.
//
// Several workbenches — other windows, other processes — may share the data folder. Every change
// to a case happens in a transaction: under the case's lock file (lock.ts), case.json is read
// again, the change is made to what is there now (so another writer's marks are kept), written
// whole (temporary file, flush, rename: a writer killed at any point leaves the previous case
// readable), and only then are result files that case.json no longer names removed. A case file
// that does not pass its schema (case-file.ts) is set aside — its folder renamed with the
// reason — and the image is analysed as a new one.

import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AnalysisResult } from '../../common/model';
import { ensureFolder, writeFileAtomic } from '../../core/node/util/atomic-file';
import {
  CaseFileRejection,
  MAX_CASE_FILE,
  MAX_RESULT_FILE,
  RESULT_FILE,
  parseCaseFile,
  type CaseRecord,
} from './case-file';
import { withLock } from './lock';

export { CASE_SCHEMA, type CaseRecord } from './case-file';

export type CaseLookup =
  { kind: 'none' } | { kind: 'found'; record: CaseRecord } | { kind: 'set-aside'; reason: string };

export function caseId(imagePath: string): string {
  return createHash('sha256').update(imagePath).digest('hex').slice(0, 20);
}

/** What may be done to one case while its lock is held. */
export interface CaseTransaction {
  readonly id: string;
  /** case.json as it is now; a damaged one is set aside here, and the lookup says why. */
  read(): CaseLookup;
  /** The result case.json names, checked whole; throws CaseFileRejection when it cannot be used. */
  readResult(record: CaseRecord): AnalysisResult;
  /** Writes a result file (named by its content's hash) and returns its name. */
  writeResult(result: AnalysisResult): string;
  /** Writes case.json, then removes the result files it does not name. */
  write(record: CaseRecord): void;
  /** Moves the case folder out of the way; says so in words (with the reason given). */
  setAside(reason: string): string;
}

export class CaseStore {
  constructor(readonly folder: string) {}

  /** Runs `work` on the case of the image at `path` under its lock (any process waits its turn). */
  async transact<T>(path: string, work: (transaction: CaseTransaction) => T | Promise<T>): Promise<T> {
    const id = caseId(path);
    ensureFolder(this.folder);
    return withLock(join(this.folder, `${id}.lock`), () => work(this.transaction(path, id)));
  }

  /** The case.json of `path` as it is now, without the lock (it is only ever replaced whole); null if none or unusable. */
  peek(path: string): CaseRecord | null {
    const id = caseId(path);
    try {
      const record = this.readRecord(join(this.folder, id, 'case.json'), path, id);
      return typeof record === 'string' ? null : record;
    } catch {
      return null;
    }
  }

  /** Every readable case whose image has a result (the damaged ones are left for their next open). */
  listWithResults(): CaseRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.folder);
    } catch {
      return [];
    }
    const found: CaseRecord[] = [];
    for (const id of names.filter((name) => /^[0-9a-f]{20}$/.test(name))) {
      const file = join(this.folder, id, 'case.json');
      try {
        const record = this.readRecord(file, null, id);
        if (
          typeof record !== 'string' &&
          record.result !== null &&
          existsSync(join(this.folder, id, record.result))
        )
          found.push(record);
      } catch {
        // Gone between the listing and the read.
      }
    }
    return found;
  }

  private transaction(path: string, id: string): CaseTransaction {
    const folder = join(this.folder, id);
    const caseFile = join(folder, 'case.json');
    const transaction: CaseTransaction = {
      id,
      read: () => {
        if (!existsSync(caseFile)) return { kind: 'none' };
        let record: CaseRecord | string;
        try {
          record = this.readRecord(caseFile, path, id);
        } catch (error) {
          record = `case.json cannot be read (${(error as Error).message.slice(0, 120)})`;
        }
        if (typeof record === 'string') return { kind: 'set-aside', reason: transaction.setAside(record) };
        return { kind: 'found', record };
      },
      readResult: (record) => {
        if (record.result === null) throw new CaseFileRejection('the case holds no result');
        const bytes = readCapped(join(folder, record.result), MAX_RESULT_FILE);
        if (createHash('sha256').update(bytes).digest('hex').slice(0, 16) !== record.result.slice(7, 23))
          throw new CaseFileRejection('its content does not match its name');
        const file = parseCaseFile(bytes);
        if (file.kind !== 'result') throw new CaseFileRejection('it holds a case, not a result');
        return file.result;
      },
      writeResult: (result) => {
        const text = JSON.stringify(result);
        const name = `result-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`;
        ensureFolder(folder);
        writeFileAtomic(join(folder, name), text);
        return name;
      },
      write: (record) => {
        ensureFolder(folder);
        writeFileAtomic(caseFile, `${JSON.stringify(record, null, 2)}\n`);
        // Only files no case.json names go, and only under the lock: every reader of a result
        // reads it under this same lock, right after reading the case.json that names it.
        for (const name of readdirSync(folder))
          if (RESULT_FILE.test(name) && name !== record.result) rmSync(join(folder, name), { force: true });
      },
      setAside: (reason) => {
        const to = join(this.folder, `${id}.set-aside-${Date.now()}`);
        try {
          renameSync(folder, existsSync(to) ? `${to}-${process.pid}` : to);
          return `its case folder could not be used — ${reason} — and was set aside as ${to}`;
        } catch {
          return `its case folder could not be used — ${reason}`;
        }
      },
    };
    return transaction;
  }

  /** The case.json at `file`, checked, or why it cannot be used; throws when it cannot be read at all. */
  private readRecord(file: string, path: string | null, id: string): CaseRecord | string {
    let parsed;
    try {
      parsed = parseCaseFile(readCapped(file, MAX_CASE_FILE));
    } catch (error) {
      if (!(error instanceof CaseFileRejection)) throw error;
      if (error.reason.startsWith('not JSON')) return `case.json cannot be read (${error.reason})`;
      if (error.reason.startsWith('it was written by')) return error.reason;
      return `case.json is damaged (${error.reason})`;
    }
    if (parsed.kind !== 'case') return 'case.json holds a result, not a case';
    const record = parsed.record;
    if (record.id !== id || (path !== null && record.image.path !== path) || caseId(record.image.path) !== id)
      return 'case.json belongs to another image';
    return record;
  }
}

/** The whole file, refused unread above `limit` bytes. */
function readCapped(file: string, limit: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > limit) throw new CaseFileRejection(`it is too large (${size} bytes; at most ${limit})`);
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, bytes, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return bytes.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
