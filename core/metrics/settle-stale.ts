/**
 * The recovery sweep of the pending counts (counters.ts): finishes the counts of entities whose settler stopped after
 * the state write (a crash, a timeout). Without it such counts wait for the entity's next write, and a sent survey
 * touchpoint or an ended contract may never be written again. Responses are not swept here: their own settlement
 * sweep settles their counts (core/surveys/settle-response.ts).
 */
import { subtractDuration, toUtcIso } from '../schedule.ts';
import { COUNT_LEASE, settlePendingCounts, type CountSettler, type StalePendingCounts } from './counters.ts';

/** Beyond the longest lease, so that a settler still inside its lease is never raced for nothing. */
export const STALE_PENDING_GRACE = 'PT1M';

/** The settler's own (counters, real-time clock, lease, tokens), and the entity tables to sweep. */
export interface StaleSweepDeps extends Omit<CountSettler, 'pending'> {
  /** The pending counts of each entity table to sweep, by table name (the name keys the result). */
  stores: Readonly<Record<string, StalePendingCounts>>;
}

export interface StaleSweepCounts {
  /** Settled by this sweep. */
  settled: number;
  /** Left alone: another settler holds the lease (or took the changes since the listing). */
  busy: number;
  /** Listed with no pending changes left: taken off the listing. */
  unlisted: number;
  /** Failed (see StalePendingCountsError). */
  failed: number;
}

export class StalePendingCountsError extends Error {
  constructor(
    readonly counts: Readonly<Record<string, StaleSweepCounts>>,
    readonly failures: ReadonlyArray<{ table: string; entityId?: string; error: unknown }>,
  ) {
    const first = failures[0]?.error;
    super(
      `${failures.length} stale pending count settlement(s) failed` +
        (first !== undefined ? `; first: ${first instanceof Error ? first.message : String(first)}` : ''),
    );
    this.name = 'StalePendingCountsError';
  }
}

/**
 * Settles the pending counts of entities listed as pending since before `now − COUNT_LEASE − STALE_PENDING_GRACE`,
 * up to `limit` per table.
 *
 * Primary course, per table:
 *  1. List the entities pending since before that time (their writer's lease, if it took one, has run out).
 *  2. Settle each one (settlePendingCounts: the same lease and markers as the writer, so never counted twice).
 *  3. One with nothing left to settle but still listed is taken off the listing, so it does not crowd out others.
 * A failure on one entity does not stop the others; the sweep throws StalePendingCountsError at the end.
 */
export async function settleStalePendingCounts(
  request: { now: string; limit: number },
  deps: StaleSweepDeps,
): Promise<Record<string, StaleSweepCounts>> {
  const now = toUtcIso(request.now);
  const olderThan = subtractDuration(subtractDuration(now, COUNT_LEASE), STALE_PENDING_GRACE);
  const { stores, ...settler } = deps;
  const counts: Record<string, StaleSweepCounts> = {};
  const failures: Array<{ table: string; entityId?: string; error: unknown }> = [];
  for (const [table, store] of Object.entries(stores)) {
    const mine: StaleSweepCounts = { settled: 0, busy: 0, unlisted: 0, failed: 0 };
    counts[table] = mine;
    let entityIds: string[];
    try {
      entityIds = await store.listStale(olderThan, request.limit);
    } catch (error) {
      mine.failed += 1;
      failures.push({ table, error });
      continue;
    }
    for (const entityId of entityIds) {
      try {
        if ((await settlePendingCounts(entityId, now, { ...settler, pending: store })) === 'settled') mine.settled += 1;
        else if (await store.unlist(entityId)) mine.unlisted += 1;
        else mine.busy += 1;
      } catch (error) {
        mine.failed += 1;
        failures.push({ table, entityId, error });
      }
    }
  }
  if (failures.length > 0) throw new StalePendingCountsError(counts, failures);
  return counts;
}
