/**
 * How the metric records (model.ts) are kept up to date exactly once without transactions: the **pending counts**
 * pattern, one implementation for every entity that moves a count (a survey touchpoint sent, a response first
 * answered, a contract term's outcome, a customer's purchases).
 *
 * 1. The entity's own conditional state write (SENT, a new response, an outcome, a new purchase history) also appends
 *    the counter changes it causes to a list on the entity item, `metricsPending` (`list_append` in the same
 *    UpdateExpression): the state and the work it implies are one write, so neither exists without the other, and a
 *    re-delivered event whose state write fails (nothing new) appends nothing.
 * 2. Whoever wrote it then settles the entity (settlePendingCounts): takes the entity's short lease
 *    (`metricsLease`, a conditional write: no lease or an expired one), applies each change to its record with an
 *    `ADD` that also sets a marker named after the change id, only if that marker is absent (so a change applied
 *    before a crash is not applied twice), removes the applied changes from the entity (only while holding the
 *    lease; releases it when the list is empty), and finally removes the markers (nobody will apply those ids again:
 *    they are off the entity).
 * 3. A crash anywhere leaves pending changes on the entity and at most some markers: the next write to the same
 *    entity settles them once the lease has expired, so does the recovery sweep (settle-stale.ts, every 5 minutes)
 *    and so does `outreach metrics rebuild` (which also reports and repairs any drift). A writer that finds the lease
 *    held appends its changes and leaves: the holder settles the list until it is empty before it releases the lease
 *    (its release is conditional on an empty list).
 *
 * Change ids are unique (a random token per state write, plus the index), so a marker never stands for two changes.
 * Markers exist only while a change is in flight, so a day's record does not grow with its traffic.
 */
import { randomUUID } from 'node:crypto';
import { addDuration, toUtcIso } from '../schedule.ts';
import type { SurveyKind } from '../surveys/scales.ts';
import {
  outcomeCounters,
  purchaseCounters,
  sendCounters,
  type ContractOutcomeAggregate,
  type OutcomeIncrement,
  type PurchaseCohortAggregate,
  type PurchaseIncrement,
  type SurveySendAggregate,
  type SurveySendDelta,
} from './model.ts';

/** Which per-day record a change counts in. */
export type RecordKey =
  | { series: 'sends'; campaignId: string; day: string; kind: SurveyKind }
  | { series: 'outcomes'; day: string }
  | { series: 'purchases'; day: string };

/** One change of one record: counter name (as model.ts's `…Counters` name them) → signed increment. */
export interface CounterChange {
  /** Unique: `<token>:<index>`. Names the record's in-flight marker. */
  id: string;
  record: RecordKey;
  counters: Record<string, number>;
}

/** A lease on an entity's pending counts. */
export interface CountLease {
  token: string;
  /** ISO-8601; after this instant another settler may take over. */
  until: string;
}

/**
 * How long a settler holds an entity unless it says otherwise (CountSettler.lease): longer than the longest run of any
 * function that writes counts (the renewal sweep, 5 minutes), so a live settler never loses it. Functions with a short
 * timeout pass a shorter lease, so that a Lambda retry a minute or two after a crash finds the entity free again;
 * otherwise the entity's next write or the recovery sweep (settle-stale.ts) finishes the work.
 */
export const COUNT_LEASE = 'PT6M';

/** The records the metric counts live in (DynamoDB: the metrics table). */
export interface MetricsCounterStore {
  /**
   * `ADD` the change's counters to its record (creating it) and set the marker `change.id`, only if that marker is
   * absent. `applied`: done now; `already`: the marker was there (applied before, by a settler that crashed).
   */
  apply(change: CounterChange): Promise<'applied' | 'already'>;
  /** Removes the change's marker from its record (a no-op when absent). */
  release(change: CounterChange): Promise<void>;
}

/** The pending counts of the entities of one table (the same adapter for every table: see adapters/). */
export interface PendingCountsStore {
  /**
   * Takes the lease of the entity with key `entityId` if it has pending changes and no lease running at `now`.
   * Returns the pending changes (oldest first) once the lease is taken; undefined otherwise (nothing to do, or busy).
   */
  claim(entityId: string, lease: CountLease, now: string): Promise<CounterChange[] | undefined>;
  /**
   * Removes the first `count` pending changes (the ones applied), while the lease `token` is held. If none are left,
   * also releases the lease. Returns the changes that are still pending (appended meanwhile; the lease is still held
   * then), or `lost` when the lease is not ours any more (nothing removed).
   */
  complete(entityId: string, token: string, count: number): Promise<{ remaining: CounterChange[] } | 'lost'>;
}

/**
 * The pending counts of a table whose entities can be found by how long they have been pending, for the recovery sweep
 * (settle-stale.ts): a settler that stopped after the state write leaves its entity listed until someone settles it.
 */
export interface StalePendingCounts extends PendingCountsStore {
  /**
   * Up to `limit` entities that have had pending changes since `olderThan` (ISO-8601) or earlier, oldest first: since
   * the first state write that appended to an empty list. A recent listing may be missing (an eventually consistent
   * index); a just-settled entity may still show.
   */
  listStale(olderThan: string, limit: number): Promise<string[]>;
  /**
   * Takes the entity off that listing if it has no pending changes (a settler stopped between emptying the list and
   * releasing it; or the list was removed another way). True when it did; false when it was not listed or has changes.
   */
  unlist(entityId: string): Promise<boolean>;
}

export class CountSettlementError extends Error {
  constructor(entityId: string, reason: string) {
    super(`pending metric counts of ${entityId} could not be settled: ${reason}`);
    this.name = 'CountSettlementError';
  }
}

/** `settled`: this call applied the pending changes; `none`: there were none; `busy`: another settler holds the lease. */
export type CountSettleOutcome = 'settled' | 'none' | 'busy';

/** Appends to pending lists at most this many rounds per settle (a bound against an endless stream of appends). */
const MAX_ROUNDS = 20;

/** What a use case that moves counts needs to settle them: the entity table's pending counts and the records. */
export interface CountSettler {
  pending: PendingCountsStore;
  counters: MetricsCounterStore;
  /**
   * Real time (ISO-8601) for the lease, which is a mutual exclusion in real time. The handlers pass the system clock:
   * an event's own time can be hours old (a retried or late event), and a lease measured in it would look expired to a
   * settler running on a fresher event while its holder is still applying. Without it (tests, tools) the lease is
   * taken and checked at the `now` given to settlePendingCounts.
   */
  clock?: () => string;
  /** How long the lease runs; at least the settler's function timeout. Default COUNT_LEASE. */
  lease?: string;
  /** Lease tokens; random by default. */
  newToken?: () => string;
}

/** The system clock, for CountSettler.clock in handlers and tools. */
export const systemClock = (): string => new Date().toISOString();

/**
 * Settles the pending counts of one entity (step 2 above). Safe to call at any time, by anyone, any number of times.
 */
export async function settlePendingCounts(entityId: string, now: string, deps: CountSettler): Promise<CountSettleOutcome> {
  const at = toUtcIso(deps.clock ? deps.clock() : now);
  const token = (deps.newToken ?? randomUUID)();
  let changes = await deps.pending.claim(entityId, { token, until: addDuration(at, deps.lease ?? COUNT_LEASE) }, at);
  if (!changes) return 'none';
  const released: CounterChange[] = [];
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    for (const change of changes) await deps.counters.apply(change);
    const outcome = await deps.pending.complete(entityId, token, changes.length);
    if (outcome === 'lost') throw new CountSettlementError(entityId, 'the lease was lost');
    released.push(...changes);
    if (outcome.remaining.length === 0) {
      for (const change of released) await deps.counters.release(change);
      return 'settled';
    }
    changes = outcome.remaining;
  }
  throw new CountSettlementError(entityId, `changes kept arriving for ${MAX_ROUNDS} rounds`);
}

/** Whether a lease is still running at `now` (for fakes and for the rebuild's in-flight report). */
export const hasLiveLease = (lease: CountLease | undefined, now: string): boolean => lease !== undefined && lease.until > toUtcIso(now);

// ---------------------------------------------------------------------------------------------------------------
// Building changes from the model's increments

/** Changes with ids `<token>:<i>`, dropping changes whose counters are all zero. */
export function numberChanges(token: string, parts: ReadonlyArray<Omit<CounterChange, 'id'>>): CounterChange[] {
  return parts
    .map((part) => ({ ...part, counters: Object.fromEntries(Object.entries(part.counters).filter(([, n]) => n !== 0)) }))
    .filter((part) => Object.keys(part.counters).length > 0)
    .map((part, i) => ({ id: `${token}:${i}`, ...part }));
}

/** The change of a survey send delta (surveySentDelta / surveyAnsweredDelta). */
export function sendChange(delta: SurveySendDelta): Omit<CounterChange, 'id'> {
  return {
    record: { series: 'sends', campaignId: delta.campaignId, day: delta.day, kind: delta.kind },
    counters: { sent: delta.sent, answered: delta.answered },
  };
}

/** The changes of recordOutcome's increments, one per day. */
export function outcomeChanges(increments: readonly OutcomeIncrement[]): Array<Omit<CounterChange, 'id'>> {
  const byDay = new Map<string, Record<string, number>>();
  for (const i of increments) {
    const counters = byDay.get(i.day) ?? byDay.set(i.day, {}).get(i.day)!;
    const name = `${i.result === 'RENEWED' ? 'renewed' : 'churned'}_${i.segment}`;
    counters[name] = (counters[name] ?? 0) + i.by;
  }
  return [...byDay].map(([day, counters]) => ({ record: { series: 'outcomes', day }, counters }));
}

/** The changes of recordPurchase's increments, one per day. */
export function purchaseChanges(increments: readonly PurchaseIncrement[]): Array<Omit<CounterChange, 'id'>> {
  return increments.map((i) => ({
    record: { series: 'purchases', day: i.day },
    counters: {
      customers: i.customers,
      ...Object.fromEntries(Object.entries(i.repeatAfterDays).map(([d, n]) => [`repeat_${d}`, n])),
    },
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Records from stored counters (the reading side) and back

/** A record key as text, for maps, reports and drift: `sends/<campaignId>/<day>/<kind>`, `outcomes/<day>`, `purchases/<day>`. */
export function recordKeyText(key: RecordKey): string {
  return key.series === 'sends' ? `sends/${key.campaignId}/${key.day}/${key.kind}` : `${key.series}/${key.day}`;
}

export function sendRecordOf(key: Extract<RecordKey, { series: 'sends' }>, counters: Record<string, number>): SurveySendAggregate {
  return { campaignId: key.campaignId, day: key.day, kind: key.kind, sent: counters.sent ?? 0, answered: counters.answered ?? 0 };
}

export function outcomeRecordOf(day: string, counters: Record<string, number>): ContractOutcomeAggregate {
  const segments = (result: 'renewed' | 'churned') => ({
    promoter: counters[`${result}_promoter`] ?? 0,
    passive: counters[`${result}_passive`] ?? 0,
    detractor: counters[`${result}_detractor`] ?? 0,
    none: counters[`${result}_none`] ?? 0,
  });
  return { day, renewed: segments('renewed'), churned: segments('churned') };
}

export function purchaseRecordOf(day: string, counters: Record<string, number>): PurchaseCohortAggregate {
  const repeatAfterDays: Record<string, number> = {};
  for (const [name, n] of Object.entries(counters)) {
    const match = /^repeat_(\d+)$/.exec(name);
    if (match && n !== 0) repeatAfterDays[match[1]!] = n;
  }
  return { day, customers: counters.customers ?? 0, repeatAfterDays };
}

/** The counters a record stores (zero counters left out): what a rebuild writes and what drift compares. */
export function countersOf(
  record: { series: 'sends'; value: SurveySendAggregate } | { series: 'outcomes'; value: ContractOutcomeAggregate } | { series: 'purchases'; value: PurchaseCohortAggregate },
): Record<string, number> {
  if (record.series === 'sends') return sendCounters(record.value);
  if (record.series === 'outcomes') return outcomeCounters(record.value);
  return purchaseCounters(record.value);
}
