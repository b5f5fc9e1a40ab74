/**
 * aws-local-stepfunctions, prepared for the local stack:
 * - `Promise.withResolvers` is polyfilled (the engine needs Node 22; this machine may run Node 20). Local runtime only.
 * - `$$.Execution.StartTime` comes from the local clock. The engine stamps it with `new Date()` in the synchronous
 *   part of `run()`, so `run()` is wrapped to read `Date` as the execution's start time for exactly that
 *   synchronous section (nested Map/Parallel runs included). Handlers take "now" from that field, so this is what lets
 *   the clock run fast or jump.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import './promise-with-resolvers.ts';

/** Runs `fn` synchronously with `new Date()` and `Date.now()` reading `fixedMs`; restores the real Date after. */
export function withFixedNow<T>(fixedMs: number, fn: () => T): T {
  const RealDate = globalThis.Date;
  class FixedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(fixedMs);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return fixedMs;
    }
  }
  globalThis.Date = FixedDate as DateConstructor;
  try {
    return fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

const PATCHED = Symbol.for('outreach.local.startTimeFromContext');
type RunFn = StateMachine['run'];
const proto = StateMachine.prototype as unknown as { run: RunFn; [PATCHED]?: true };
if (!proto[PATCHED]) {
  const originalRun = proto.run;
  proto.run = function runAtContextStartTime(this: StateMachine, input, options) {
    const startTime = (options?.context as { Execution?: { StartTime?: unknown } } | undefined)?.Execution?.StartTime;
    const startMs = typeof startTime === 'string' ? Date.parse(startTime) : Number.NaN;
    if (Number.isNaN(startMs)) return originalRun.call(this, input, options);
    return withFixedNow(startMs, () => originalRun.call(this, input, options));
  };
  proto[PATCHED] = true;
}

export { StateMachine };
export { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError } from 'aws-local-stepfunctions';
export type { StateMachineDefinition, RunOptions } from 'aws-local-stepfunctions';
