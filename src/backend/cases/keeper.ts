// The backend's cases: before an image is analysed, its saved case is looked up and, when the
// file is the same one and the same engine made the result, the result is reused; otherwise the
// image is analysed (again, with the reason) and the case saved. Notes, annotations, the
// baseline pairing and the full SHA-256 (computed in the background) are kept in the case.

import type { AnalysisResult } from '../../common/model';
import type { AnnotationStatus, CaseView, ExtractionRecord } from '../../common/api';
import { identityChanges, quickIdentity, sha256File, type ImageIdentity } from './identity';
import { CaseStore, type CaseRecord } from './store';

export interface Reuse {
  result: AnalysisResult | null;
  /** Why the result was reused, or why the image is analysed again (null: a first analysis). */
  note: string | null;
}

interface Hashing {
  abort: AbortController;
  fraction: number;
}

export class CaseKeeper {
  readonly #store: CaseStore;
  /** The case of each image path with a saved analysis. */
  readonly #records = new Map<string, CaseRecord>();
  /** Identity taken when an analysis began: the case records the file that was analysed. */
  readonly #pending = new Map<string, ImageIdentity>();
  readonly #hashing = new Map<string, Hashing>();
  readonly #hashErrors = new Map<string, string>();

  constructor(
    folder: string,
    private readonly engine: string,
    /** A case changed (notes, hash progress): every session of that image is told. */
    private readonly changed: (path: string, view: CaseView) => void,
  ) {
    this.#store = new CaseStore(folder);
  }

  /** Called before analysing `path`: the saved result when it can stand, else why not. */
  reuse(path: string): Reuse {
    let identity: ImageIdentity;
    try {
      identity = quickIdentity(path);
    } catch {
      return { result: null, note: null }; // the analysis will say why the file cannot be read
    }
    this.#pending.set(path, identity);
    let lookup;
    try {
      lookup = this.#store.load(path);
    } catch (error) {
      return {
        result: null,
        note: `its case could not be read (${(error as Error).message}): analysed again`,
      };
    }
    if (lookup.kind === 'none') return { result: null, note: null };
    if (lookup.kind === 'set-aside') return { result: null, note: `${lookup.reason}; analysed again` };
    const { record, result } = lookup;
    const changes = identityChanges(record.image, identity);
    if (changes.length > 0) {
      // The notes stay (they are about this image path), the result does not.
      this.#records.set(path, { ...record, image: { ...identity, sha256: null } });
      return {
        result: null,
        note: `the image changed since its analysis of ${record.analyzedAt} (${changes.join(', ')}): analysed again`,
      };
    }
    if (record.engine !== this.engine) {
      this.#records.set(path, record);
      return {
        result: null,
        note: `its case was analysed by another engine (${record.engine}): analysed again`,
      };
    }
    this.#records.set(path, record);
    this.#pending.delete(path);
    return { result, note: `reopened from its case (analysed ${record.analyzedAt})` };
  }

  /** Saves a finished analysis; the case's notes and pairing carry over. */
  analysed(path: string, result: AnalysisResult): void {
    const identity = this.#pending.get(path);
    if (!identity) return;
    this.#pending.delete(path);
    const previous = this.#records.get(path);
    try {
      const record = this.#store.saveAnalysis(path, identity, this.engine, result, previous);
      this.#records.set(path, record);
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
        hashing: hashing ? { fraction: hashing.fraction } : null,
        hashError: this.#hashErrors.get(path) ?? null,
      },
      analyzedAt: record.analyzedAt,
      engine: record.engine,
      baseline: record.baseline,
      analyst: record.analyst,
      note: record.note,
      annotations: structuredClone(record.annotations),
      extractions: structuredClone(record.extractions ?? []),
    };
  }

  record(path: string): CaseRecord | null {
    return this.#records.get(path) ?? null;
  }

  annotate(path: string, target: string, status: AnnotationStatus | null, note: string): CaseView {
    return this.#update(path, (record) => CaseStore.annotate(record, target, status, note));
  }

  update(path: string, change: { analyst?: string; note?: string }): CaseView {
    return this.#update(path, (record) => ({
      ...record,
      ...(change.analyst !== undefined ? { analyst: change.analyst } : {}),
      ...(change.note !== undefined ? { note: change.note } : {}),
    }));
  }

  /** Records a driver or module image saved from this image (the latest 200 are kept). */
  extracted(path: string, extraction: ExtractionRecord): CaseView {
    return this.#update(path, (record) => ({
      ...record,
      extractions: [...(record.extractions ?? []), extraction].slice(-200),
    }));
  }

  /** Remembers which image was compared with this one as its baseline. */
  pairBaseline(path: string, baselinePath: string): void {
    const record = this.#records.get(path);
    if (!record || record.baseline?.path === baselinePath) return;
    this.#update(path, (r) => ({ ...r, baseline: { path: baselinePath } }));
  }

  startHash(path: string): CaseView {
    const record = this.#records.get(path);
    if (!record) throw new Error('the image has no case yet (its analysis is not done)');
    if (record.image.sha256 || this.#hashing.has(path)) return this.view(path)!;
    const job: Hashing = { abort: new AbortController(), fraction: 0 };
    this.#hashing.set(path, job);
    this.#hashErrors.delete(path);
    let lastEmit = 0;
    sha256File(path, {
      signal: job.abort.signal,
      onProgress: (fraction) => {
        job.fraction = fraction;
        const now = Date.now();
        if (now - lastEmit > 250) {
          lastEmit = now;
          this.changed(path, this.view(path)!);
        }
      },
    }).then(
      (sha256) => {
        this.#hashing.delete(path);
        // Only if the file is still the one the case describes.
        const current = this.#records.get(path);
        let same: boolean;
        try {
          same = !!current && identityChanges(current.image, quickIdentity(path)).length === 0;
        } catch {
          same = false;
        }
        if (same) this.#update(path, (r) => ({ ...r, image: { ...r.image, sha256 } }));
        else {
          this.#hashErrors.set(path, 'the image changed while it was hashed');
          this.changed(path, this.view(path)!);
        }
      },
      (error: Error) => {
        this.#hashing.delete(path);
        if (error.name !== 'AbortError') this.#hashErrors.set(path, error.message);
        if (this.#records.has(path)) this.changed(path, this.view(path)!);
      },
    );
    return this.view(path)!;
  }

  cancelHash(path: string): CaseView | null {
    this.#hashing.get(path)?.abort.abort();
    return this.view(path);
  }

  dispose(): void {
    for (const job of this.#hashing.values()) job.abort.abort();
  }

  #update(path: string, change: (record: CaseRecord) => CaseRecord): CaseView {
    const record = this.#records.get(path);
    if (!record) throw new Error('the image has no case yet (its analysis is not done)');
    const next = change(record);
    this.#store.write(next);
    this.#records.set(path, next);
    const view = this.view(path)!;
    this.changed(path, view);
    return view;
  }
}
