import type { StartPacer } from '../core/use-cases/dispatch-due-touchpoints.ts';

export interface RatePacerOptions {
  /** Starts allowed per second on average. */
  perSecond: number;
  /** Real milliseconds after which `take()` answers false (the run's window; the next run carries on). */
  windowMs: number;
  /** Starts allowed at once (the bucket size): one second's worth by default, as SES's own rate allows. */
  burst?: number;
  /** Real time in milliseconds; `Date.now` by default. */
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A token bucket in real time: `burst` starts at once, then `perSecond`, until the window closes. Waiters are served
 * in arrival order, so every shard of a run gets its turn.
 */
export class RatePacer implements StartPacer {
  private readonly nowMs: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly burst: number;
  private readonly deadline: number;
  private tokens: number;
  private refilledAt: number;
  private tail: Promise<unknown> = Promise.resolve();
  granted = 0;

  constructor(private readonly options: RatePacerOptions) {
    if (!(options.perSecond > 0)) throw new Error(`the send rate must be above 0 per second, got ${options.perSecond}`);
    this.nowMs = options.nowMs ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.burst = Math.max(1, options.burst ?? Math.floor(options.perSecond));
    this.tokens = this.burst;
    this.refilledAt = this.nowMs();
    this.deadline = this.refilledAt + options.windowMs;
  }

  take(): Promise<boolean> {
    const turn = this.tail.then(() => this.next());
    this.tail = turn;
    return turn;
  }

  private async next(): Promise<boolean> {
    for (;;) {
      const now = this.nowMs();
      if (now >= this.deadline) return false;
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.options.perSecond);
      this.refilledAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        this.granted += 1;
        return true;
      }
      const wait = Math.ceil(((1 - this.tokens) / this.options.perSecond) * 1000);
      if (now + wait >= this.deadline) return false;
      await this.sleep(wait);
    }
  }
}
