/**
 * Counts the asynchronous work in flight (event deliveries, workflow executions, scheduled invocations) so the
 * scheduler can "wait until everything a firing started has settled" before jumping the clock again.
 */
export class WorkTracker {
  private readonly pending = new Set<Promise<unknown>>();

  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves once nothing is in flight, including work started by work that was in flight. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
      // Let callbacks queued by the settled work (an HTTP response being read, a follow-up start) run first.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Like idle(), but gives up after `ms`; resolves true when idle. */
  async idleWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.idle().then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
