/**
 * The local stack's clock. Handlers never read a clock: they take "now" from the event that started them (EventBridge
 * `time`, Scheduler's `scheduledTime`, `$$.Execution.StartTime`, API Gateway `timeEpoch`), and every one of those is
 * stamped from this clock. So the whole system can run in real time, faster than real time, or stand still and jump.
 */
import { Duration } from 'luxon';

export type ClockMode = 'real' | 'accelerated' | 'manual';

export interface LocalClockOptions {
  /** Virtual time at start (default: the real time). */
  start?: Date;
  /** Virtual seconds per real second: 1 = real time, N > 1 accelerated, 0 = manual (moves only when advanced). */
  speed?: number;
  /** The real clock, injectable for tests. */
  realNow?: () => number;
}

export class LocalClock {
  readonly speed: number;
  private readonly realNow: () => number;
  /** Virtual time at `anchorReal`; the clock runs from there at `speed` unless paused. */
  private anchorVirtual: number;
  private anchorReal: number;
  private paused = false;

  constructor(options: LocalClockOptions = {}) {
    const speed = options.speed ?? 1;
    if (!Number.isFinite(speed) || speed < 0) throw new RangeError(`clock speed must be a number >= 0, got ${speed}`);
    this.speed = speed;
    this.realNow = options.realNow ?? Date.now;
    this.anchorReal = this.realNow();
    this.anchorVirtual = options.start?.getTime() ?? this.anchorReal;
  }

  get mode(): ClockMode {
    if (this.speed === 0) return 'manual';
    return this.speed === 1 ? 'real' : 'accelerated';
  }

  nowMs(): number {
    if (this.paused || this.speed === 0) return this.anchorVirtual;
    return Math.floor(this.anchorVirtual + (this.realNow() - this.anchorReal) * this.speed);
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  nowIso(): string {
    return this.now().toISOString();
  }

  /** Moves the clock forward to `targetMs`. Time never runs backwards: every "now" a handler saw stays in the past. */
  setTo(targetMs: number): void {
    const current = this.nowMs();
    if (targetMs < current) {
      throw new RangeError(`the clock only moves forward: ${new Date(targetMs).toISOString()} is before ${new Date(current).toISOString()}`);
    }
    this.anchorVirtual = targetMs;
    this.anchorReal = this.realNow();
  }

  /** Freezes the clock (while an advance jumps through time) without losing the current reading. */
  pause(): void {
    if (this.paused) return;
    this.anchorVirtual = this.nowMs();
    this.anchorReal = this.realNow();
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.anchorReal = this.realNow();
    this.paused = false;
  }

  /** Real milliseconds until the clock reads `virtualMs` (Infinity when it stands still). */
  realDelayUntil(virtualMs: number): number {
    const ahead = virtualMs - this.nowMs();
    if (ahead <= 0) return 0;
    if (this.paused || this.speed === 0) return Number.POSITIVE_INFINITY;
    return Math.ceil(ahead / this.speed);
  }

  describe(): { now: string; mode: ClockMode; speed: number } {
    return { now: this.nowIso(), mode: this.mode, speed: this.speed };
  }
}

/** Parses an ISO-8601 duration ("P3D", "PT90M", "P1DT2H") into milliseconds; calendar units use UTC days. */
export function parseIsoDuration(text: string): number {
  const duration = Duration.fromISO(text);
  if (!duration.isValid) throw new RangeError(`"${text}" is not an ISO-8601 duration (examples: P3D, PT2H, PT90M)`);
  const ms = duration.toMillis();
  if (ms < 0) throw new RangeError(`"${text}" is negative; the clock only moves forward`);
  return ms;
}
