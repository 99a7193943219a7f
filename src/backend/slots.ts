// At most N analyses run at once (N: the machine's cores by default); the others wait in order.
// Each analysis already scans on every core, so more at once would only make them all slower,
// take memory for each worker, and starve the process that answers the UI.

export type Release = () => void;

export class AnalysisSlots {
  private running = 0;
  private readonly waiting: Array<{ grant: (release: Release) => void; owner: object }> = [];

  constructor(readonly limit: number) {}

  /** Resolves with a release function when a slot is free. */
  acquire(owner: object): Promise<Release> {
    return new Promise((grant) => {
      this.waiting.push({ grant, owner });
      this.pump();
    });
  }

  /** A waiter that no longer wants its slot (cancelled or closed while queued). */
  withdraw(owner: object): void {
    const at = this.waiting.findIndex((w) => w.owner === owner);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  /** How many wait before `owner`, or -1 when it is not waiting. */
  position(owner: object): number {
    return this.waiting.findIndex((w) => w.owner === owner);
  }

  get active(): number {
    return this.running;
  }

  private pump(): void {
    while (this.running < this.limit && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.running++;
      let released = false;
      next.grant(() => {
        if (released) return;
        released = true;
        this.running--;
        this.pump();
      });
    }
  }
}
