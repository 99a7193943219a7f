// The backend's cases: before an image is analysed, its saved case is looked up and, when the
// file is the same one and the same engine made the result, the result is reused; otherwise the
// image is analysed (again, with the reason) and the case saved. Notes, annotations, the
// baseline pairing and the full SHA-256 (computed in the background) are kept in the case.
//
// A case whose SHA-256 was computed is hashed again in the background each time it is reopened:
// the quick identity (size, time, first and last MiB) cannot see a change in the middle of the
// file. A match records when it was verified; a mismatch drops the result and analyses the image
// again, saying why. A report states the hash with when it was computed and whether the file as
// it is now was verified to have it.

import type { AnalysisResult } from '../../common/model';
import type { AnnotationStatus, CaseView, ExtractionRecord } from '../../common/api';
import { CASE_SCHEMA, type CaseRecord } from './case-file';
import { identityChanges, quickIdentity, sha256File, type ImageIdentity } from '../../core/node/identity';
import { CaseStore, type CaseTransaction } from './store';

export interface Reuse {
  result: AnalysisResult | null;
  /** Why the result was reused, or why the image is analysed again (null: a first analysis). */
  note: string | null;
}

/** Whether the case's SHA-256 is known to be the file's as it is now. */
export type Sha256Check = 'verified' | 'not-verified' | 'mismatch';

/** The case as a report states it (src/core/report's ReportCase, and how far its hash can be trusted). */
export interface ReportedCase {
  imagePath: string;
  imageSize: number;
  sha256: string | null;
  /** When that SHA-256 was computed; null when not computed (or, for old cases, not recorded). */
  sha256ComputedAt: string | null;
  /** The last time the file was hashed again and matched. */
  sha256VerifiedAt: string | null;
  /** 'verified': hashed again since this case was opened, and the file looks unchanged since. */
  sha256Check: Sha256Check;
  analyzedAt: string | null;
  analyst: string;
  note: string;
  annotations: CaseRecord['annotations'];
  extractions: ExtractionRecord[];
}

interface Hashing {
  abort: AbortController;
  fraction: number;
}

interface Check {
  state: 'verified' | 'mismatch';
  sha256: string;
}

const now = () => new Date().toISOString();

export class CaseKeeper {
  readonly #store: CaseStore;
  /** The case of each image path with a saved analysis, as last read or written. */
  readonly #records = new Map<string, CaseRecord>();
  /** Identity taken when an analysis began: the case records the file that was analysed. */
  readonly #pending = new Map<string, ImageIdentity>();
  readonly #hashing = new Map<string, Hashing>();
  readonly #hashErrors = new Map<string, string>();
  /** What hashing the file found in this run (absent: nothing yet). */
  readonly #checks = new Map<string, Check>();
  /** Why the next analysis of a path happens, when this keeper asked for it. */
  readonly #againBecause = new Map<string, string>();

  constructor(
    folder: string,
    private readonly engine: string,
    /** A case changed (notes, hash progress): every session of that image is told. */
    private readonly changed: (path: string, view: CaseView) => void,
    /** The file is not the one its result describes: the image's sessions analyse it again. */
    private readonly analyseAgain: (path: string, note: string) => void,
  ) {
    this.#store = new CaseStore(folder);
  }

  /** Called before analysing `path`: the saved result when it can stand, else why not. */
  async reuse(path: string): Promise<Reuse> {
    let identity: ImageIdentity;
    try {
      identity = quickIdentity(path);
    } catch {
      return { result: null, note: null }; // the analysis will say why the file cannot be read
    }
    this.#pending.set(path, identity);
    const again = this.#againBecause.get(path);
    this.#againBecause.delete(path);
    let reuse: Reuse & { record: CaseRecord | null };
    try {
      reuse = await this.#store.transact(path, (transaction) => this.#lookUp(transaction, identity, again));
    } catch (error) {
      return {
        result: null,
        note: `its case could not be read (${(error as Error).message}): analysed again`,
      };
    }
    if (reuse.record) this.#records.set(path, reuse.record);
    if (reuse.result) {
      this.#pending.delete(path);
      if (reuse.record?.image.sha256) setImmediate(() => void this.startHash(path).catch(() => undefined));
    }
    return { result: reuse.result, note: reuse.note };
  }

  #lookUp(
    transaction: CaseTransaction,
    identity: ImageIdentity,
    again: string | undefined,
  ): Reuse & { record: CaseRecord | null } {
    const lookup = transaction.read();
    if (lookup.kind === 'none') return { result: null, note: null, record: null };
    if (lookup.kind === 'set-aside')
      return { result: null, note: `${lookup.reason}; analysed again`, record: null };
    const record = lookup.record;
    // A result that will not be reused goes at once: a case never offers (to Recent, to another
    // workbench) a result of a file that is not there any more, whatever becomes of this analysis.
    const withoutResult = (next: CaseRecord, note: string) => {
      transaction.write(next);
      return { result: null, note, record: next };
    };
    const changes = identityChanges(record.image, identity);
    if (changes.length > 0)
      return withoutResult(
        {
          ...record,
          result: null,
          image: { ...identity, sha256: null, sha256ComputedAt: null, sha256VerifiedAt: null },
        },
        `the image changed since its analysis of ${record.analyzedAt} (${changes.join(', ')}): analysed again`,
      );
    if (record.result === null)
      return {
        result: null,
        note: again ?? 'its case holds no result (its last analysis did not finish): analysed again',
        record,
      };
    if (record.engine !== this.engine)
      return withoutResult(
        { ...record, result: null },
        `its case was analysed by another engine (${record.engine}): analysed again`,
      );
    let result: AnalysisResult;
    try {
      result = transaction.readResult(record);
    } catch (error) {
      const reason = transaction.setAside(
        `its saved result cannot be used (${(error as Error).message.slice(0, 300)})`,
      );
      return { result: null, note: `${reason}; analysed again`, record: null };
    }
    const opened = { ...record, openedAt: now() };
    transaction.write(opened);
    return { result, note: `reopened from its case (analysed ${record.analyzedAt})`, record: opened };
  }

  /** Saves a finished analysis; the case's notes and pairing, as they are on disk now, carry over. */
  async analysed(path: string, result: AnalysisResult): Promise<void> {
    const identity = this.#pending.get(path);
    if (!identity) return;
    this.#pending.delete(path);
    const previous = this.#records.get(path) ?? null;
    try {
      const record = await this.#store.transact(path, (transaction) => {
        const lookup = transaction.read();
        const kept = lookup.kind === 'found' ? lookup.record : previous;
        const at = now();
        const next: CaseRecord = {
          schema: CASE_SCHEMA,
          id: transaction.id,
          image: { ...identity, sha256: null, sha256ComputedAt: null, sha256VerifiedAt: null },
          engine: this.engine,
          analyzedAt: at,
          openedAt: at,
          result: transaction.writeResult(result),
          baseline: kept?.baseline ?? null,
          analyst: kept?.analyst ?? '',
          note: kept?.note ?? '',
          annotations: kept?.annotations ?? {},
          extractions: kept?.extractions ?? [],
        };
        transaction.write(next);
        return next;
      });
      this.#records.set(path, record);
      this.#checks.delete(path);
      this.changed(path, this.view(path)!);
    } catch {
      // A case that cannot be saved (a full disk) costs the next reopen an analysis, nothing more.
    }
  }

  view(path: string): CaseView | null {
    const record = this.#records.get(path);
    if (!record) return null;
    const hashing = this.#hashing.get(path);
    return {
      id: record.id,
      image: {
        path: record.image.path,
        size: record.image.size,
        modified: new Date(record.image.mtimeMs).toISOString(),
        sha256: record.image.sha256,
        sha256ComputedAt: record.image.sha256ComputedAt,
        sha256VerifiedAt: record.image.sha256VerifiedAt,
        sha256Check: this.#checkOf(path, record),
        hashing: hashing ? { fraction: hashing.fraction } : null,
        hashError: this.#hashErrors.get(path) ?? null,
      },
      analyzedAt: record.analyzedAt,
      engine: record.engine,
      baseline: record.baseline,
      analyst: record.analyst,
      note: record.note,
      annotations: structuredClone(record.annotations),
      extractions: structuredClone(record.extractions),
    };
  }

  /** The view after reading case.json again (another workbench may have written it since). */
  refreshed(path: string): CaseView | null {
    if (this.#records.has(path)) {
      const onDisk = this.#store.peek(path);
      if (onDisk) this.#records.set(path, onDisk);
    }
    return this.view(path);
  }

  /** The case for a report, its hash's check brought up to date with the file as it is now. */
  reported(path: string): ReportedCase | null {
    const record = this.#records.get(path);
    if (!record) return null;
    const check = this.#checks.get(path);
    if (check?.state === 'verified') {
      let unchanged: boolean;
      try {
        unchanged = identityChanges(record.image, quickIdentity(path)).length === 0;
      } catch {
        unchanged = false;
      }
      if (!unchanged) this.#checks.delete(path);
    }
    return {
      imagePath: record.image.path,
      imageSize: record.image.size,
      sha256: record.image.sha256,
      sha256ComputedAt: record.image.sha256ComputedAt,
      sha256VerifiedAt: record.image.sha256VerifiedAt,
      sha256Check: this.#checkOf(path, record),
      analyzedAt: record.analyzedAt,
      analyst: record.analyst,
      note: record.note,
      annotations: structuredClone(record.annotations),
      extractions: structuredClone(record.extractions),
    };
  }

  record(path: string): CaseRecord | null {
    return this.#records.get(path) ?? null;
  }

  /** Images with a result in the data folder, the most recently opened first. */
  recent(): string[] {
    return this.#store
      .listWithResults()
      .sort((a, b) => b.openedAt.localeCompare(a.openedAt) || a.image.path.localeCompare(b.image.path))
      .map((record) => record.image.path);
  }

  annotate(path: string, target: string, status: AnnotationStatus | null, note: string): Promise<CaseView> {
    return this.#update(path, (record) => {
      const annotations = { ...record.annotations };
      if (status === null && note.trim() === '') delete annotations[target];
      else annotations[target] = { status, note, updatedAt: now() };
      return { ...record, annotations };
    });
  }

  update(path: string, change: { analyst?: string; note?: string }): Promise<CaseView> {
    return this.#update(path, (record) => ({
      ...record,
      ...(change.analyst !== undefined ? { analyst: change.analyst } : {}),
      ...(change.note !== undefined ? { note: change.note } : {}),
    }));
  }

  /** Records a driver or module image saved from this image (the latest 200 are kept). */
  extracted(path: string, extraction: ExtractionRecord): Promise<CaseView> {
    return this.#update(path, (record) => ({
      ...record,
      extractions: [...record.extractions, extraction].slice(-200),
    }));
  }

  /** Remembers which image was compared with this one as its baseline. */
  async pairBaseline(path: string, baselinePath: string): Promise<void> {
    const record = this.#records.get(path);
    if (!record || record.baseline?.path === baselinePath) return;
    await this.#update(path, (r) =>
      r.baseline?.path === baselinePath ? r : { ...r, baseline: { path: baselinePath } },
    );
  }

  /**
   * Computes the image's full SHA-256 in the background, or, when the case has one, computes it
   * again to verify the file still has it.
   */
  async startHash(path: string): Promise<CaseView> {
    const record = this.#records.get(path);
    if (!record) throw new Error('the image has no case yet (its analysis is not done)');
    if (this.#hashing.has(path) || this.#checkOf(path, record) === 'verified') return this.view(path)!;
    const job: Hashing = { abort: new AbortController(), fraction: 0 };
    this.#hashing.set(path, job);
    this.#hashErrors.delete(path);
    let lastEmit = 0;
    sha256File(path, {
      signal: job.abort.signal,
      onProgress: (fraction) => {
        job.fraction = fraction;
        const at = Date.now();
        if (at - lastEmit > 250) {
          lastEmit = at;
          this.changed(path, this.view(path)!);
        }
      },
    })
      .then(
        (sha256) => this.#hashed(path, record.image, sha256),
        (error: Error) => {
          if (error.name !== 'AbortError') this.#hashErrors.set(path, error.message);
        },
      )
      .catch((error: Error) => this.#hashErrors.set(path, error.message))
      .finally(() => {
        this.#hashing.delete(path);
        if (this.#records.has(path)) this.changed(path, this.view(path)!);
      });
    return this.view(path)!;
  }

  cancelHash(path: string): CaseView | null {
    this.#hashing.get(path)?.abort.abort();
    return this.view(path);
  }

  dispose(): void {
    for (const job of this.#hashing.values()) job.abort.abort();
  }

  /** The file at `path`, with the quick identity `hashedFile` when hashing began, hashed to `sha256`. */
  async #hashed(path: string, hashedFile: ImageIdentity, sha256: string): Promise<void> {
    let unchanged: boolean;
    try {
      unchanged = identityChanges(hashedFile, quickIdentity(path)).length === 0;
    } catch {
      unchanged = false;
    }
    if (!unchanged) {
      this.#hashErrors.set(path, 'the image changed while it was hashed');
      return;
    }
    const at = now();
    let mismatch: string | null = null;
    const record = await this.#store.transact(path, (transaction) => {
      const lookup = transaction.read();
      if (lookup.kind !== 'found' || identityChanges(lookup.record.image, hashedFile).length > 0) return null; // the case describes another file now: this hash is not its
      const image = lookup.record.image;
      let next: CaseRecord;
      if (image.sha256 === null)
        next = { ...lookup.record, image: { ...image, sha256, sha256ComputedAt: at, sha256VerifiedAt: at } };
      else if (image.sha256 === sha256)
        next = { ...lookup.record, image: { ...image, sha256VerifiedAt: at } };
      else {
        mismatch = `the file's SHA-256 changed since ${image.sha256VerifiedAt ?? image.sha256ComputedAt ?? 'it was computed'}: analysed again`;
        next = {
          ...lookup.record,
          result: null,
          image: { ...image, sha256: null, sha256ComputedAt: null, sha256VerifiedAt: null },
        };
      }
      transaction.write(next);
      return next;
    });
    if (!record) {
      this.#hashErrors.set(path, 'the case was analysed again while the image was hashed');
      return;
    }
    this.#records.set(path, record);
    this.#checks.set(path, { state: mismatch ? 'mismatch' : 'verified', sha256 });
    if (mismatch) {
      this.#againBecause.set(path, mismatch);
      this.analyseAgain(path, mismatch);
    }
  }

  #checkOf(path: string, record: CaseRecord): Sha256Check {
    const check = this.#checks.get(path);
    if (check?.state === 'mismatch') return 'mismatch';
    return check && check.sha256 === record.image.sha256 ? 'verified' : 'not-verified';
  }

  async #update(path: string, change: (record: CaseRecord) => CaseRecord): Promise<CaseView> {
    if (!this.#records.has(path)) throw new Error('the image has no case yet (its analysis is not done)');
    const record = await this.#store.transact(path, (transaction) => {
      const lookup = transaction.read();
      if (lookup.kind === 'set-aside') throw new Error(lookup.reason);
      if (lookup.kind === 'none')
        throw new Error(
          'its case is gone from the data folder (removed by another workbench?): open the image again',
        );
      const next = change(lookup.record);
      if (next !== lookup.record) transaction.write(next);
      return next;
    });
    this.#records.set(path, record);
    const view = this.view(path)!;
    this.changed(path, view);
    return view;
  }
}
