import { DateTime } from 'luxon';
import type { TouchpointRepository, WorkflowStarter } from '../ports.ts';
import { executionNameFor } from '../touchpoint-id.ts';
import { toUtcIso } from '../schedule.ts';

export interface DispatchDeps {
  touchpoints: TouchpointRepository;
  workflows: WorkflowStarter;
  shards: number;
  /**
   * How long a claimed touchpoint keeps its place in the due index. Longer than a workflow may run (5 minutes), so
   * when it comes due again its execution has surely ended: if that execution recorded nothing, the touchpoint fails.
   */
  leaseMinutes?: number;
  /** Items read per query page and the most handled per shard per run (the rest waits for the next minute). */
  pageSize?: number;
  maxPerShard?: number;
}

export interface DispatchResult {
  started: number;
  alreadyStarted: number;
  /** Lease expired and the workflow had ended without an outcome. */
  abandoned: number;
  /** Claimed by another dispatcher, cancelled or rescheduled meanwhile. */
  skipped: number;
  errors: number;
  /** Touchpoints whose dispatch threw, with the error, for the handler to log. */
  failures: Array<{ touchpointId: string; error: string }>;
}

/**
 * Starts one workflow per due touchpoint.
 *
 * Primary course:
 *  1. For every shard of the due index (in parallel), read the touchpoints due at or before `now`.
 *  2. Claim each PENDING one (conditional write: PENDING + generation → DISPATCHED with a lease).
 *  3. Start its workflow under the name `<touchpointId>-g<generation>`; a name that exists means it already ran.
 *
 * A DISPATCHED touchpoint whose lease ran out is started again under the same name: if the start was lost it runs
 * now; if the execution exists it has ended without recording an outcome, and the touchpoint is marked FAILED.
 */
export async function dispatchDueTouchpoints(now: string, deps: DispatchDeps): Promise<DispatchResult> {
  const result: DispatchResult = { started: 0, alreadyStarted: 0, abandoned: 0, skipped: 0, errors: 0, failures: [] };
  const shards = Array.from({ length: deps.shards }, (_, shard) => shard);
  await Promise.all(shards.map((shard) => dispatchShard(shard, toUtcIso(now), deps, result)));
  return result;
}

async function dispatchShard(shard: number, now: string, deps: DispatchDeps, result: DispatchResult): Promise<void> {
  const pageSize = deps.pageSize ?? 50;
  const maxPerShard = deps.maxPerShard ?? 500;
  const leaseUntil = toUtcIso(DateTime.fromISO(now, { zone: 'utc' }).plus({ minutes: deps.leaseMinutes ?? 15 }));
  let handled = 0;
  while (handled < maxPerShard) {
    const due = await deps.touchpoints.listDue(shard, now, Math.min(pageSize, maxPerShard - handled));
    if (due.length === 0) return;
    handled += due.length;
    let progressed = false;
    for (const item of due) {
      const transition = { touchpointId: item.touchpointId, generation: item.generation, at: now };
      try {
        // Claiming (or renewing an expired lease) moves the item's due key past `now`, so it leaves this query.
        if (!(await deps.touchpoints.claimForDispatch({ ...transition, from: item.status, leaseUntil }))) {
          result.skipped += 1;
          continue;
        }
        progressed = true;
        const name = executionNameFor(item.touchpointId, item.generation);
        const input = { touchpointId: item.touchpointId, generation: item.generation };
        const outcome = await deps.workflows.start(item.kind, name, input);
        if (outcome === 'started') result.started += 1;
        else if (item.status === 'PENDING') result.alreadyStarted += 1;
        else {
          await deps.touchpoints.complete({ ...transition, status: 'FAILED', reason: 'workflow ended without an outcome' });
          result.abandoned += 1;
        }
      } catch (error) {
        // The lease brings the item back; one bad item must not stop the others.
        result.errors += 1;
        result.failures.push({ touchpointId: item.touchpointId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
    }
    if (due.length < pageSize || !progressed) return;
  }
}
