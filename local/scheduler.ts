/**
 * EventBridge Scheduler, locally: runs SCHEDULES against the local clock. Each target receives
 * `{ "scheduledTime": ISO }`, as in AWS.
 *
 * - Real-time / accelerated clock: a ticker fires every schedule at each of its fire times as the clock passes them.
 * - Advance (`advance(P3D)`): firing rate(1 minute) 4,320 times would be slow and pointless, so the clock jumps from
 *   one interesting instant to the next — the first minute boundary at or after the earliest pending due time, or
 *   the next fire time of any schedule that is not minutely — fires every schedule due at that instant, waits until
 *   all work it started has settled, and repeats until the target; then the clock is set to the target.
 */
import type { ScheduleSpec } from '../core/topology.ts';
import type { LocalClock } from './clock.ts';
import { firesEveryMinute, nextFireAtOrAfter, parseScheduleExpression, type ScheduleExpression } from './schedule-expression.ts';
import type { WorkTracker } from './work-tracker.ts';

export interface Firing {
  schedule: string;
  target: string;
  scheduledTime: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface AdvanceSummary {
  from: string;
  to: string;
  /** The instants the clock stopped at, with what fired there. */
  stops: Array<{ at: string; firings: Firing[] }>;
}

/** The earliest `dueAt` (epoch ms) of a pending touchpoint with `dueKey > afterDueKey`, and its dueKey. */
export type PendingDueProbe = (afterDueKey?: string) => Promise<{ dueMs: number; dueKey: string } | undefined>;

export interface LocalSchedulerOptions {
  schedules: readonly ScheduleSpec[];
  clock: LocalClock;
  tracker: WorkTracker;
  /** Invokes the schedule's target with `{ scheduledTime }` (asynchronously, with retries); resolves when it ended. */
  fire: (schedule: ScheduleSpec, scheduledTime: string) => Promise<Omit<Firing, 'schedule' | 'target' | 'scheduledTime'>>;
  earliestPendingDue: PendingDueProbe;
  log?: (line: string) => void;
}

interface ParsedSchedule {
  spec: ScheduleSpec;
  expression: ScheduleExpression;
  /** Minutely schedules (the dispatcher) and recovery sweeps only fire, when jumping, where something is due. */
  polling: boolean;
}

const MINUTE = 60_000;
/** A touchpoint still pending after this many firings at or after its due time is skipped when jumping. */
const STUCK_AFTER = 3;

export class LocalScheduler {
  private readonly schedules: ParsedSchedule[];
  /** Every fire time up to and including this instant has been fired (or deliberately skipped). */
  private firedThrough: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> = Promise.resolve();
  private advancing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LocalSchedulerOptions) {
    this.schedules = options.schedules.map((spec) => {
      const expression = parseScheduleExpression(spec.expression);
      return { spec, expression, polling: firesEveryMinute(expression) || spec.recovery === true };
    });
    this.firedThrough = options.clock.nowMs() - 1;
  }

  /** Starts ticking with the clock (no-op for a manual clock, which only moves when advanced). */
  start(): void {
    this.running = true;
    this.firedThrough = Math.max(this.firedThrough, this.options.clock.nowMs() - 1);
    this.armTimer();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** Advances the clock by `ms`, firing what falls due on the way. Concurrent calls run one after the other. */
  advance(ms: number): Promise<AdvanceSummary> {
    const run = this.advancing.then(() => this.advanceTo(this.options.clock.nowMs() + ms));
    this.advancing = run.catch(() => undefined);
    return run;
  }

  private async advanceTo(target: number): Promise<AdvanceSummary> {
    const { clock, tracker } = this.options;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    clock.pause();
    const from = clock.nowIso();
    const stops: AdvanceSummary['stops'] = [];
    try {
      await tracker.idle();
      let skipThroughDueKey: string | undefined;
      let stuck: { dueKey: string; firings: number } | undefined;
      for (;;) {
        const pending = await this.options.earliestPendingDue(skipThroughDueKey);
        const at = this.nextInstant(this.firedThrough + 1, pending?.dueMs);
        if (at === undefined || at > target) break;
        // An instant the ticker had not reached yet may lie just behind the clock: fire it with its own scheduled
        // time, as Scheduler does, without moving the clock back.
        if (at > clock.nowMs()) clock.setTo(at);
        this.firedThrough = at;
        const firings = await this.fireAt(at);
        stops.push({ at: new Date(at).toISOString(), firings });
        await tracker.idle();
        if (pending && pending.dueMs <= at) {
          stuck = stuck?.dueKey === pending.dueKey ? { dueKey: pending.dueKey, firings: stuck.firings + 1 } : { dueKey: pending.dueKey, firings: 1 };
          if (stuck.firings >= STUCK_AFTER) {
            this.options.log?.(`⚠ touchpoint ${pending.dueKey} is still pending after ${stuck.firings} dispatches; skipping it while jumping`);
            skipThroughDueKey = pending.dueKey;
          }
        }
      }
      clock.setTo(Math.max(target, clock.nowMs()));
      this.firedThrough = Math.max(this.firedThrough, target);
    } finally {
      clock.resume();
      this.armTimer();
    }
    return { from, to: clock.nowIso(), stops };
  }

  /** The next instant >= `lowest` worth stopping at: any non-polling fire time, or a polling one where work is due. */
  private nextInstant(lowest: number, pendingDueMs: number | undefined): number | undefined {
    let best: number | undefined;
    for (const s of this.schedules) {
      const from = s.polling ? (pendingDueMs === undefined ? undefined : Math.max(lowest, pendingDueMs)) : lowest;
      if (from === undefined) continue;
      const at = nextFireAtOrAfter(s.expression, from);
      if (at !== undefined && (best === undefined || at < best)) best = at;
    }
    return best;
  }

  /** Fires every schedule whose fire times include `at`; waits for the targets (not the work they start). */
  private async fireAt(at: number): Promise<Firing[]> {
    const scheduledTime = new Date(at).toISOString();
    const due = this.schedules.filter((s) => nextFireAtOrAfter(s.expression, at) === at);
    return Promise.all(
      due.map(async (s) => {
        const outcome = await this.options.fire(s.spec, scheduledTime);
        return { schedule: s.spec.name, target: s.spec.target, scheduledTime, ...outcome };
      }),
    );
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { clock } = this.options;
    if (!this.running || clock.speed === 0) return;
    const next = this.nextTick();
    if (next === undefined) return;
    const delay = Math.min(clock.realDelayUntil(next), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.ticking = this.tick(next).catch((error: unknown) => this.options.log?.(`scheduler tick failed: ${String(error)}`));
    }, delay);
  }

  /** The next fire time after what was fired; when far behind (a fast clock), polling-only instants are skipped. */
  private nextTick(): number | undefined {
    const all = this.schedules.map((s) => nextFireAtOrAfter(s.expression, this.firedThrough + 1)).filter((t): t is number => t !== undefined);
    if (all.length === 0) return undefined;
    let next = Math.min(...all);
    const now = this.options.clock.nowMs();
    if (now - next > 2 * MINUTE) {
      const nonPolling = this.schedules
        .filter((s) => !s.polling)
        .map((s) => nextFireAtOrAfter(s.expression, this.firedThrough + 1))
        .filter((t): t is number => t !== undefined);
      const latestPolling = Math.floor(now / MINUTE) * MINUTE;
      if (nonPolling.every((t) => t > latestPolling)) next = latestPolling;
    }
    return next;
  }

  private async tick(at: number): Promise<void> {
    if (!this.running) return;
    this.firedThrough = at;
    await this.fireAt(at);
    this.armTimer();
  }
}
