import { DateTime } from 'luxon';
import type { TouchpointRepository, WorkflowStarter, DueTouchpoint, TouchpointTransition } from '../ports.ts';
import { executionNameFor } from '../touchpoint-id.ts';
import { addDuration, toUtcIso } from '../schedule.ts';
import { UNCONFIRMED_WINDOW } from './record-touchpoint-outcome.ts';

/**
 * Grants workflow starts at the send-rate budget. Shared by every shard of one run, so the run as a whole never starts
 * more than the budget allows in any second. Measured in real time (a rate limit, like SES's own), not in the time
 * the run was scheduled for.
 */
export interface StartPacer {
  /** Resolves true once one more start is allowed; false when the run's time is up (the rest waits a minute). */
  take(): Promise<boolean>;
}

export interface DispatchDeps {
  touchpoints: TouchpointRepository;
  workflows: WorkflowStarter;
  shards: number;
  pacer: StartPacer;
  /**
   * How long a claimed touchpoint keeps its place in the due index. Longer than a workflow may run (5 minutes), so
   * when it comes due again its execution has surely ended.
   */
  leaseMinutes?: number;
  /** Items read per query page. */
  pageSize?: number;
  /** Rows of one page handled at once, per shard (claim + start are network round trips). */
  concurrency?: number;
  /** Measures what is left due after the run (its size and the oldest's age), for the metrics and the alarm. */
  backlog?: (now: string) => Promise<Backlog | undefined>;
}

export interface Backlog {
  /** PENDING touchpoints due at or before the run's time and not started. */
  due: number;
  oldestDueAgeSeconds: number;
}

/**
 * Sends per second dispatch may start: `share` of the account's SES maximum send rate, at most `cap`. The rest of SES's
 * rate is left for other senders in the account (and for our own retries).
 */
export function sendRateBudget(options: { maxSendRate: number; share: number; cap?: number }): number {
  if (!(options.maxSendRate > 0)) throw new Error(`the SES maximum send rate must be above 0, got ${options.maxSendRate}`);
  if (!(options.share > 0 && options.share <= 1)) throw new Error(`the send-rate share must be in (0, 1], got ${options.share}`);
  const budget = options.maxSendRate * options.share;
  return options.cap !== undefined ? Math.min(budget, options.cap) : budget;
}

export interface DispatchResult {
  started: number;
  /** Leases that ran out on DISPATCHED (the workflow ended without an outcome): started again, generation + 1. */
  redispatched: number;
  /** Leases that ran out on SENDING (the send step stopped without an answer): now UNCONFIRMED. */
  unconfirmed: number;
  /** UNCONFIRMED sends no SES Send event settled by their deadline: sent again, generation + 1. */
  resent: number;
  /** Budgets spent (a workflow that never records, a send never confirmed twice): recorded FAILED with the reason. */
  failed: number;
  /** Claimed by another dispatcher, cancelled or settled meanwhile. */
  skipped: number;
  /** Due rows left for the next run because the send-rate budget of this one was spent. */
  deferredByBudget: boolean;
  errors: number;
  /** Touchpoints whose dispatch threw, with the error, for the handler to log. */
  failures: Array<{ touchpointId: string; error: string }>;
  /** What is left due after the run (when `backlog` is given). */
  backlog?: Backlog;
}

/** A workflow that keeps ending without an outcome is started this many times again, then recorded FAILED. */
export const MAX_REDISPATCHES = 3;
/** An UNCONFIRMED send no SES event settled is sent again this many times, then recorded FAILED (never a third email). */
export const MAX_UNCONFIRMED_RESENDS = 1;

/**
 * Starts one workflow per due touchpoint, at most at the send-rate budget.
 *
 * Primary course:
 *  1. For every shard of the due index (in parallel), read the touchpoints due at or before `now`, earliest first.
 *  2. For each, take a start from the pacer (the run's share of the SES sending rate), then claim it (conditional:
 *     PENDING + generation → DISPATCHED with a lease) and start its workflow.
 *
 * Rows whose lease or deadline ran out are settled here too, each by a conditional write:
 *  - DISPATCHED: the workflow ended without an outcome and nothing was sent (the send step never claimed it): started
 *    again with generation + 1, at most MAX_REDISPATCHES times, then FAILED.
 *  - SENDING: the send step stopped without an answer, so the email may have gone: UNCONFIRMED, for SES's Send event
 *    to settle within UNCONFIRMED_WINDOW.
 *  - UNCONFIRMED past its deadline: no Send event came, so SES most likely never accepted it: sent again with
 *    generation + 1, at most MAX_UNCONFIRMED_RESENDS times, then FAILED. (A lost SES event costs one duplicate.)
 */
export async function dispatchDueTouchpoints(now: string, deps: DispatchDeps): Promise<DispatchResult> {
  const result: DispatchResult = {
    started: 0,
    redispatched: 0,
    unconfirmed: 0,
    resent: 0,
    failed: 0,
    skipped: 0,
    deferredByBudget: false,
    errors: 0,
    failures: [],
  };
  const shards = Array.from({ length: deps.shards }, (_, shard) => shard);
  await Promise.all(shards.map((shard) => dispatchShard(shard, toUtcIso(now), deps, result)));
  if (deps.backlog) {
    const backlog = await deps.backlog(toUtcIso(now));
    if (backlog) result.backlog = backlog;
  }
  return result;
}

async function dispatchShard(shard: number, now: string, deps: DispatchDeps, result: DispatchResult): Promise<void> {
  const pageSize = deps.pageSize ?? 100;
  const concurrency = deps.concurrency ?? 16;
  const leaseUntil = toUtcIso(DateTime.fromISO(now, { zone: 'utc' }).plus({ minutes: deps.leaseMinutes ?? 15 }));
  for (;;) {
    const due = await deps.touchpoints.listDue(shard, now, pageSize);
    if (due.length === 0) return;
    let progressed = false;
    let budgetSpent = false;
    const queue = [...due];
    const worker = async () => {
      for (let item = queue.shift(); item !== undefined && !budgetSpent; item = queue.shift()) {
        try {
          const outcome = await handleRow(item, now, leaseUntil, deps);
          if (outcome === 'budget') {
            budgetSpent = true;
            result.deferredByBudget = true;
            return;
          }
          if (outcome === 'skipped') result.skipped += 1;
          else {
            result[outcome] += 1;
            progressed = true;
          }
        } catch (error) {
          // The lease brings the item back; one bad item must not stop the others.
          result.errors += 1;
          result.failures.push({ touchpointId: item.touchpointId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
    // Every handled row left the query's range (a claim moves its key past `now`); a page that changed nothing would
    // be read again as it is.
    if (budgetSpent || due.length < pageSize || !progressed) return;
  }
}

type RowOutcome = 'started' | 'redispatched' | 'unconfirmed' | 'resent' | 'failed' | 'skipped' | 'budget';

async function handleRow(item: DueTouchpoint, now: string, leaseUntil: string, deps: DispatchDeps): Promise<RowOutcome> {
  const transition: TouchpointTransition = { touchpointId: item.touchpointId, generation: item.generation, at: now };
  switch (item.status) {
    case 'PENDING': {
      if (!(await deps.pacer.take())) return 'budget';
      if (!(await deps.touchpoints.claimForDispatch({ ...transition, from: 'PENDING', leaseUntil }))) return 'skipped';
      await start(item.kind, item.touchpointId, item.generation, deps);
      return 'started';
    }
    case 'SENDING': {
      const reason = 'unconfirmed: the send step stopped without an answer';
      const marked = await deps.touchpoints.markUnconfirmed({ ...transition, until: addDuration(now, UNCONFIRMED_WINDOW), reason });
      return marked ? 'unconfirmed' : 'skipped';
    }
    case 'DISPATCHED':
    case 'UNCONFIRMED': {
      const stored = await deps.touchpoints.get(item.touchpointId);
      if (stored?.status !== item.status || stored.generation !== item.generation) return 'skipped';
      const redispatching = item.status === 'DISPATCHED';
      const count = redispatching ? (stored.redispatches ?? 0) : (stored.unconfirmedResends ?? 0);
      if (count >= (redispatching ? MAX_REDISPATCHES : MAX_UNCONFIRMED_RESENDS)) {
        const reason = redispatching
          ? `the workflow ended without an outcome ${count + 1} times`
          : `no SES Send event confirmed the send within ${UNCONFIRMED_WINDOW} after ${count + 1} attempts; it may have been delivered`;
        return (await deps.touchpoints.complete({ ...transition, status: 'FAILED', reason })) ? 'failed' : 'skipped';
      }
      if (!(await deps.pacer.take())) return 'budget';
      const redispatch = redispatching ? 'redispatches' : 'unconfirmedResends';
      if (!(await deps.touchpoints.claimForDispatch({ ...transition, from: item.status, leaseUntil, redispatch }))) return 'skipped';
      await start(item.kind, item.touchpointId, item.generation + 1, deps);
      return redispatching ? 'redispatched' : 'resent';
    }
    default:
      // Not in the due index by design (ended ones leave it); a stale row is left for its own writer.
      return 'skipped';
  }
}

async function start(kind: DueTouchpoint['kind'], touchpointId: string, generation: number, deps: DispatchDeps): Promise<void> {
  // Express workflows do not deduplicate names; the name only helps an operator find the execution. The send step's
  // claim is what makes a second run harmless.
  await deps.workflows.start(kind, executionNameFor(touchpointId, generation), { touchpointId, generation });
}
