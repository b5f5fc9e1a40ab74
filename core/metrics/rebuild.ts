/**
 * `outreach metrics rebuild`: recompute the survey send, contract outcome and purchase cohort records (model.ts) from
 * the raw items (touchpoints, responses, contracts, customers), report the drift, and overwrite each drifted record
 * with what the raw items say — after a bug, a restore or a manual fix. The survey answer aggregates are not part of
 * it: `outreach surveys rebuild --campaign <id>` recomputes those from the responses.
 *
 * Safe while traffic runs, like core/surveys/rebuild-aggregates.ts: a record is overwritten only if its version is
 * still the one read (no increment reached it meanwhile), and never while an entity that counts in it has pending
 * changes (counters.ts) — those are reported, and running the rebuild again finishes them.
 *
 * Send records older than the touchpoints' retention are kept as they are: the touchpoints behind them have expired
 * (DynamoDB TTL), so a rebuild would count them as never sent.
 */
import { addCalendarDays } from '../contracts/renewal-offsets.ts';
import { utcDay } from '../surveys/responses.ts';
import type { SurveyKind } from '../surveys/scales.ts';
import {
  CountSettlementError,
  hasLiveLease,
  recordKeyText,
  sendChange,
  settlePendingCounts,
  type CountLease,
  type MetricsCounterStore,
  type PendingCountsStore,
  type RecordKey,
} from './counters.ts';
import {
  aggregateDrift,
  outcomeCounters,
  purchaseCounters,
  rebuildOutcomeAggregates,
  rebuildPurchaseCohorts,
  surveyAnsweredDelta,
  surveySentDelta,
  type Drift,
  type PurchaseHistory,
  type RecordedOutcome,
  type SurveySendFacts,
} from './model.ts';

// ---------------------------------------------------------------------------------------------------------------
// Ports

/** The entity tables whose items move metric counts (and carry `metricsPending` / `metricsLease`). */
export const ENTITY_TABLES = ['touchpoints', 'responses', 'contracts', 'customers'] as const;
export type EntityTable = (typeof ENTITY_TABLES)[number];

/** The metric bookkeeping of an entity item, as read. */
export interface EntityCounts {
  /** The records its pending changes (`metricsPending`) count in; empty when none are pending. */
  pending: RecordKey[];
  lease?: CountLease;
}

/** A touchpoint as the rebuild reads it (no personal data: ids, kinds, times). */
export interface RawTouchpoint extends EntityCounts {
  touchpointId: string;
  campaignId: string;
  kind: string;
  status: string;
  /** The campaign's survey scale, stored by the write that recorded the survey SENT. */
  surveyKind?: SurveyKind;
  sentAt?: string;
  /** Set on survey reminders (they answer their parent survey; they are not sends). */
  parentTouchpointId?: string;
}

export interface RawResponse extends EntityCounts {
  surveyId: string;
  campaignId: string;
  kind: SurveyKind;
  /** The survey touchpoint's `sentAt`, stored by the write that created the response (and counted its answer). */
  surveySentAt?: string;
}

export interface RawContract extends EntityCounts {
  contractId: string;
  /** One per term (by end date); empty while no term has ended. */
  outcomes: RecordedOutcome[];
}

export interface RawCustomer extends EntityCounts {
  customerId: string;
  purchases?: PurchaseHistory;
}

/**
 * The raw items, read in full (adapters/dynamodb-metrics-sources.ts: paginated Scans). An adapter may leave out items
 * that neither count nor hold pending changes (a touchpoint that is not a sent survey, a customer without purchases).
 */
export interface MetricsRawSources {
  /** The ids of the entities of `table` whose item holds pending counter changes. */
  pendingEntities(table: EntityTable): AsyncIterable<string>;
  touchpoints(): AsyncIterable<RawTouchpoint>;
  responses(): AsyncIterable<RawResponse>;
  contracts(): AsyncIterable<RawContract>;
  customers(): AsyncIterable<RawCustomer>;
}

/** A stored record with its version (incremented by every apply and replace). */
export interface StoredCountRecord {
  key: RecordKey;
  counters: Record<string, number>;
  version: number;
}

/** The records as the rebuild reads and replaces them (adapters/dynamodb-metrics.ts DynamoDbMetricsCounters). */
export interface MetricsRecordStore {
  /** Every record of a series, read consistently (sends: of every campaign in the directory). */
  listRecords(series: RecordKey['series']): Promise<StoredCountRecord[]>;
  /** Overwrites a record with exactly `counters` if its version is still `expectedVersion` (undefined: absent). */
  replaceRecord(key: RecordKey, counters: Record<string, number>, expectedVersion: number | undefined): Promise<boolean>;
  /** Puts a survey campaign in the directory the views list campaigns from (idempotent). */
  ensureCampaign(campaignId: string): Promise<void>;
}

export interface MetricsRebuildDeps {
  sources: MetricsRawSources;
  records: MetricsRecordStore;
  /** Applies settled changes (the same store as `records`, in DynamoDB). */
  counters: MetricsCounterStore;
  /** The pending counts of one entity table. */
  pending(table: EntityTable): PendingCountsStore;
}

export interface MetricsRebuildRequest {
  /** ISO-8601 instant: decides which leases are live and the retention cutoff. */
  now: string;
  /** Report only: settle nothing, write nothing. */
  dryRun?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Result

/**
 * Touchpoints expire 400 days after they end (adapters/dynamodb-touchpoints.ts, DynamoDB TTL). Send records of days
 * more than this many days before today are kept as stored: a few days short of the TTL, so no touchpoint of a
 * rebuilt day has expired yet (TTL deletes late, never early).
 */
export const SEND_REBUILD_DAYS = 395;

export type RebuiltRecordStatus =
  /** Drifted and overwritten with the expected counters. */
  | 'repaired'
  /** Drifted; not written (dry run). */
  | 'drift'
  /** An entity that counts in it has pending changes: left alone, run again. */
  | 'in-flight'
  /** Its version changed after it was read (an increment arrived): left alone, run again. */
  | 'changed';

export interface RebuiltRecord {
  key: RecordKey;
  /** `recordKeyText(key)`, e.g. `outcomes/2026-03-01`. */
  record: string;
  status: RebuiltRecordStatus;
  /** Counter → [stored, expected], the counters that differ (for `in-flight`: as read, which may be no drift at all). */
  counters: Record<string, [number, number]>;
  /** Why it was left alone (in-flight, changed). */
  reason?: string;
}

export interface MetricsRebuildResult {
  dryRun: boolean;
  /** Entities whose pending counts this run settled before reading (none in a dry run). */
  settled: number;
  /** Entities with pending counts it did not settle: another settler held their lease, or a dry run. */
  unsettled: number;
  /** Raw items that count: sent surveys, answered surveys, contract term outcomes, customers with a purchase. */
  read: { sends: number; answers: number; outcomes: number; customers: number };
  /** Stored and expected records compared (beyond-retention send records not included). */
  compared: number;
  /** Compared records whose counters matched. */
  unchanged: number;
  /** Every record with drift, or left alone; by `record`. */
  records: RebuiltRecord[];
  /** Send records of days before `retentionCutoff`: kept as stored (their touchpoints may have expired). */
  keptBeyondRetention: string[];
  /** The first day whose send records are rebuilt. */
  retentionCutoff: string;
  /** Counts of `records` by status. */
  repaired: number;
  drift: number;
  skipped: number;
}

/** Whether drift is left after the run: a dry run that found some, or records left alone. The CLI exits 1 then. */
export const driftRemains = (result: MetricsRebuildResult): boolean => result.drift > 0 || result.skipped > 0;

/** `sends/nps/2026-03-01/nps: sent 3 → 4, answered 1 → 2` (the stored value first). */
export function driftLine(record: Pick<RebuiltRecord, 'record' | 'counters'>): string {
  const changes = Object.entries(record.counters).map(([name, [stored, expected]]) => `${name} ${stored} → ${expected}`);
  return changes.length > 0 ? `${record.record}: ${changes.join(', ')}` : `${record.record}: no drift seen`;
}

// ---------------------------------------------------------------------------------------------------------------
// The rebuild

/** Thrown for a raw item the model cannot read (names the entity by its id, never by personal data). */
export class MetricsRebuildError extends Error {
  constructor(table: EntityTable, entityId: string, cause: unknown) {
    super(`${table} item ${entityId} cannot be counted: ${(cause as Error).message ?? String(cause)}`);
    this.name = 'MetricsRebuildError';
  }
}

interface Expected {
  key: RecordKey;
  counters: Record<string, number>;
}

/** The expected records, summed one entity contribution at a time (the raw tables need not fit in memory). */
class ExpectedRecords {
  readonly records = new Map<string, Expected>();

  add(key: RecordKey, counters: Record<string, number>): void {
    const id = recordKeyText(key);
    const record = this.records.get(id) ?? this.records.set(id, { key, counters: {} }).get(id)!;
    for (const [name, by] of Object.entries(counters)) record.counters[name] = (record.counters[name] ?? 0) + by;
  }
}

/**
 * A survey touchpoint whose send was counted: kind `survey`, recorded SENT (terminal) with its `surveyKind`, not a
 * reminder. Its contribution is `surveySentDelta` — exactly what the SENT write appended.
 */
export function surveySendOf(t: RawTouchpoint): SurveySendFacts | undefined {
  if (t.kind !== 'survey' || t.status !== 'SENT' || !t.surveyKind || !t.sentAt || t.parentTouchpointId !== undefined) return undefined;
  return { campaignId: t.campaignId, kind: t.surveyKind, sentAt: t.sentAt };
}

/** A response whose first answer was counted (it stores the survey's `surveySentAt`): `surveyAnsweredDelta` in that send's bucket. */
export function surveyAnswerOf(r: RawResponse): SurveySendFacts | undefined {
  return r.surveySentAt ? { campaignId: r.campaignId, kind: r.kind, sentAt: r.surveySentAt } : undefined;
}

/**
 * Primary course:
 *  1. Settle the pending counts of every entity that has some and whose lease is free or expired (crash recovery),
 *     so what the entities' own writes say is in the records before they are compared (not in a dry run).
 *  2. Read the stored records with their versions, then the raw items (in this order, so an increment between the
 *     two shows as a version change).
 *  3. Recompute every record from the raw items: sends from sent survey touchpoints and answered responses (the sum
 *     of `surveySentDelta` and `surveyAnsweredDelta`, which is `rebuildSendAggregates` over the touchpoints with
 *     "has a response", without holding that join in memory), outcomes with `rebuildOutcomeAggregates`, purchase
 *     cohorts with `rebuildPurchaseCohorts`.
 *  4. Compare (`aggregateDrift`) and overwrite each drifted record if its version is unchanged. Records that an
 *     entity with pending changes counts in are left alone (in flight), so are send records beyond the retention.
 */
export async function rebuildMetricRecords(request: MetricsRebuildRequest, deps: MetricsRebuildDeps): Promise<MetricsRebuildResult> {
  const dryRun = request.dryRun === true;
  const { now } = request;

  // 1. Settle.
  let settled = 0;
  let unsettled = 0;
  for (const table of ENTITY_TABLES) {
    const pending = deps.pending(table);
    for await (const entityId of deps.sources.pendingEntities(table)) {
      if (dryRun) {
        unsettled += 1;
        continue;
      }
      try {
        // Not settled here: another settler holds the lease (or just finished): the raw read shows what is still pending.
        if ((await settlePendingCounts(entityId, now, { pending, counters: deps.counters })) === 'settled') settled += 1;
        else unsettled += 1;
      } catch (error) {
        // Another settler took the entity over (lease lost): its records are reported in flight below if still pending.
        if (!(error instanceof CountSettlementError)) throw error;
        unsettled += 1;
      }
    }
  }

  // 2. Stored records first, then the raw items.
  const stored = new Map<string, StoredCountRecord>();
  for (const series of ['sends', 'outcomes', 'purchases'] as const) {
    for (const record of await deps.records.listRecords(series)) stored.set(recordKeyText(record.key), record);
  }

  const expected = new ExpectedRecords();
  const inFlight = new Map<string, string>();
  const read = { sends: 0, answers: 0, outcomes: 0, customers: 0 };
  const notePending = (entity: EntityCounts) => {
    if (entity.pending.length === 0) return;
    const reason = hasLiveLease(entity.lease, now)
      ? `pending counts being settled (lease until ${entity.lease!.until})`
      : dryRun
        ? 'pending counts not settled (dry run)'
        : 'pending counts arrived during the rebuild';
    for (const key of entity.pending) if (!inFlight.has(recordKeyText(key))) inFlight.set(recordKeyText(key), reason);
  };
  const counted = <T>(table: EntityTable, id: string, work: () => T): T => {
    try {
      return work();
    } catch (error) {
      throw new MetricsRebuildError(table, id, error);
    }
  };

  for await (const touchpoint of deps.sources.touchpoints()) {
    notePending(touchpoint);
    const send = surveySendOf(touchpoint);
    if (!send) continue;
    read.sends += 1;
    const change = counted('touchpoints', touchpoint.touchpointId, () => sendChange(surveySentDelta(send)));
    expected.add(change.record, change.counters);
  }
  for await (const response of deps.sources.responses()) {
    notePending(response);
    const answer = surveyAnswerOf(response);
    if (!answer) continue;
    read.answers += 1;
    const change = counted('responses', response.surveyId, () => sendChange(surveyAnsweredDelta(answer)));
    expected.add(change.record, change.counters);
  }
  for await (const contract of deps.sources.contracts()) {
    notePending(contract);
    read.outcomes += contract.outcomes.length;
    for (const day of counted('contracts', contract.contractId, () => rebuildOutcomeAggregates(contract.outcomes))) {
      expected.add({ series: 'outcomes', day: day.day }, outcomeCounters(day));
    }
  }
  for await (const customer of deps.sources.customers()) {
    notePending(customer);
    if (!customer.purchases) continue;
    read.customers += 1;
    const history = customer.purchases;
    for (const cohort of counted('customers', customer.customerId, () => rebuildPurchaseCohorts([history]))) {
      expected.add({ series: 'purchases', day: cohort.day }, purchaseCounters(cohort));
    }
  }

  // 3–4. Compare and repair.
  const retentionCutoff = addCalendarDays(utcDay(now), -SEND_REBUILD_DAYS);
  const beyondRetention = (key: RecordKey) => key.series === 'sends' && key.day < retentionCutoff;
  const keys = new Map<string, RecordKey>();
  for (const { key } of [...stored.values(), ...expected.records.values()]) keys.set(recordKeyText(key), key);
  const keptBeyondRetention = [...keys].filter(([, key]) => beyondRetention(key)).map(([id]) => id).sort();
  const compared = [...keys].filter(([, key]) => !beyondRetention(key)).sort(([a], [b]) => a.localeCompare(b));

  const asDriftInput = (records: Iterable<{ key: RecordKey; counters: Record<string, number> }>) =>
    [...records].filter((r) => !beyondRetention(r.key));
  const drifts = new Map<string, Drift>(
    aggregateDrift(asDriftInput(stored.values()), asDriftInput(expected.records.values()), (r) => recordKeyText(r.key), (r) => r.counters).map(
      (d) => [d.key, d],
    ),
  );

  if (!dryRun) {
    const campaigns = new Set([...expected.records.values()].flatMap(({ key }) => (key.series === 'sends' ? [key.campaignId] : [])));
    for (const campaignId of [...campaigns].sort()) await deps.records.ensureCampaign(campaignId);
  }

  const records: RebuiltRecord[] = [];
  let unchanged = 0;
  for (const [id, key] of compared) {
    const counters = drifts.get(id)?.counters ?? {};
    const reason = inFlight.get(id);
    if (reason !== undefined) {
      records.push({ key, record: id, status: 'in-flight', counters, reason });
      continue;
    }
    if (Object.keys(counters).length === 0) {
      unchanged += 1;
      continue;
    }
    if (dryRun) {
      records.push({ key, record: id, status: 'drift', counters });
      continue;
    }
    const before = stored.get(id);
    const replaced = await deps.records.replaceRecord(key, expected.records.get(id)?.counters ?? {}, before?.version);
    records.push(
      replaced
        ? { key, record: id, status: 'repaired', counters }
        : {
            key,
            record: id,
            status: 'changed',
            counters,
            reason: before ? 'it changed during the rebuild (an increment arrived)' : 'it was created during the rebuild',
          },
    );
  }

  const count = (...statuses: RebuiltRecordStatus[]) => records.filter((r) => statuses.includes(r.status)).length;
  return {
    dryRun,
    settled,
    unsettled,
    read,
    compared: compared.length,
    unchanged,
    records,
    keptBeyondRetention,
    retentionCutoff,
    repaired: count('repaired'),
    drift: count('drift'),
    skipped: count('in-flight', 'changed'),
  };
}
