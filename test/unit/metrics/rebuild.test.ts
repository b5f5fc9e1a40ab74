/**
 * The metrics rebuild (core/metrics/rebuild.ts) over in-memory entities that move their counts the way the use cases
 * do (state write + pending changes in one step, then settle — or a crash at any point), with the counter and
 * pending-counts fakes of fake-counters.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  countersOf,
  numberChanges,
  outcomeChanges,
  purchaseChanges,
  recordKeyText,
  sendChange,
  settlePendingCounts,
  type CounterChange,
  type RecordKey,
} from '../../../core/metrics/counters.ts';
import {
  recordOutcome,
  recordPurchase,
  surveyAnsweredDelta,
  surveySentDelta,
  type PurchaseHistory,
  type PurchaseRef,
  type RecordedOutcome,
} from '../../../core/metrics/model.ts';
import {
  driftLine,
  driftRemains,
  ENTITY_TABLES,
  MetricsRebuildError,
  rebuildMetricRecords,
  SEND_REBUILD_DAYS,
  surveySendOf,
  type EntityCounts,
  type EntityTable,
  type MetricsRawSources,
  type MetricsRebuildResult,
  type MetricsRecordStore,
  type RawContract,
  type RawCustomer,
  type RawResponse,
  type RawTouchpoint,
  type StoredCountRecord,
} from '../../../core/metrics/rebuild.ts';
import type { SurveyKind } from '../../../core/surveys/scales.ts';
import { InMemoryMetricsCounters, InMemoryPendingCounts } from './fake-counters.ts';
import { fold, generateWorld, prng, shuffledEvents } from './world.ts';

/** The counter fake plus what the rebuild needs: versions, conditional replace, the campaign directory. */
class InMemoryMetricRecords extends InMemoryMetricsCounters implements MetricsRecordStore {
  readonly campaigns = new Set<string>();
  readonly replaced: string[] = [];

  async listRecords(series: RecordKey['series']): Promise<StoredCountRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.key.series === series)
      .map((r) => ({ key: r.key, counters: { ...r.counters }, version: r.version }));
  }

  async replaceRecord(key: RecordKey, counters: Record<string, number>, expectedVersion: number | undefined): Promise<boolean> {
    const id = recordKeyText(key);
    if (this.records.get(id)?.version !== expectedVersion) return false;
    const kept = Object.fromEntries(Object.entries(counters).filter(([, n]) => n !== 0));
    this.records.set(id, { key, counters: kept, markers: new Set(), version: (expectedVersion ?? 0) + 1 });
    this.replaced.push(id);
    return true;
  }

  async ensureCampaign(campaignId: string): Promise<void> {
    this.campaigns.add(campaignId);
  }

  /** Sets a record's counters as a bug or a manual edit would (version + 1, like any write). */
  corrupt(key: RecordKey, counters: Record<string, number>): void {
    const id = recordKeyText(key);
    const current = this.records.get(id);
    this.records.set(id, { key, counters, markers: current?.markers ?? new Set(), version: (current?.version ?? 0) + 1 });
  }

  drop(key: RecordKey): void {
    this.records.delete(recordKeyText(key));
  }

  /** Every record's non-zero counters, by key text (records with none left out). */
  snapshot(): Record<string, Record<string, number>> {
    return nonZeroRecords([...this.records.entries()].map(([id, r]) => [id, r.counters]));
  }
}

function nonZeroRecords(entries: Iterable<[string, Record<string, number>]>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [id, counters] of entries) {
    const kept = Object.fromEntries(Object.entries(counters).filter(([, n]) => n !== 0).sort(([a], [b]) => a.localeCompare(b)));
    if (Object.keys(kept).length > 0) out[id] = kept;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * How a write ends: `settled` (the writer settles right after its state write), `crash` (the writer dies after the
 * state write: the changes stay pending, no lease), `crash-mid-settle` (dies after applying the first change, holding
 * a lease until `leaseUntil`).
 */
type Ending = 'settled' | 'crash' | 'crash-mid-settle';

const SETTLED_AT = '2027-04-01T00:00:00.000Z';
/** The rebuild's now: after every lease the tests leave behind unless they say otherwise. */
const NOW = '2027-04-10T12:00:00.000Z';

/** Entities (touchpoints, responses, contracts, customers) that append their counter changes as the adapters do. */
class Entities {
  readonly records = new InMemoryMetricRecords();
  readonly pending: Record<EntityTable, InMemoryPendingCounts> = {
    touchpoints: new InMemoryPendingCounts(),
    responses: new InMemoryPendingCounts(),
    contracts: new InMemoryPendingCounts(),
    customers: new InMemoryPendingCounts(),
  };
  readonly touchpoints = new Map<string, Omit<RawTouchpoint, keyof EntityCounts>>();
  readonly responses = new Map<string, Omit<RawResponse, keyof EntityCounts>>();
  readonly contracts = new Map<string, RecordedOutcome[]>();
  readonly customers = new Map<string, PurchaseHistory>();
  /** Runs before the raw read of a table (a concurrent writer). */
  readonly beforeRead: Partial<Record<EntityTable, () => Promise<void>>> = {};
  private tokens = 0;

  private async write(table: EntityTable, entityId: string, parts: Array<Omit<CounterChange, 'id'>>, ending: Ending, leaseUntil?: string) {
    this.tokens += 1;
    const changes = numberChanges(`w${this.tokens}`, parts);
    this.pending[table].append(entityId, changes);
    if (ending === 'settled') {
      await settlePendingCounts(entityId, SETTLED_AT, { pending: this.pending[table], counters: this.records, newToken: () => `s${this.tokens}` });
    } else if (ending === 'crash-mid-settle') {
      const claimed = await this.pending[table].claim(entityId, { token: `dead${this.tokens}`, until: leaseUntil ?? SETTLED_AT }, '2027-01-01T00:00:00.000Z');
      if (claimed?.[0]) await this.records.apply(claimed[0]);
    }
  }

  /** A survey touchpoint recorded SENT (surveyKind stored, the sends change appended in the same write). */
  async sent(touchpointId: string, campaignId: string, kind: SurveyKind, sentAt: string, ending: Ending = 'settled', leaseUntil?: string) {
    this.touchpoints.set(touchpointId, { touchpointId, campaignId, kind: 'survey', status: 'SENT', surveyKind: kind, sentAt });
    await this.write('touchpoints', touchpointId, [sendChange(surveySentDelta({ campaignId, kind, sentAt }))], ending, leaseUntil);
  }

  /** The first answer: the response stores its survey's sentAt and appends the answered change. Later clicks count nothing here. */
  async answered(surveyId: string, ending: Ending = 'settled', leaseUntil?: string) {
    if (this.responses.has(surveyId)) return;
    const t = this.touchpoints.get(surveyId)!;
    const facts = { campaignId: t.campaignId, kind: t.surveyKind!, sentAt: t.sentAt! };
    this.responses.set(surveyId, { surveyId, campaignId: facts.campaignId, kind: facts.kind, surveySentAt: facts.sentAt });
    await this.write('responses', surveyId, [sendChange(surveyAnsweredDelta(facts))], ending, leaseUntil);
  }

  async outcome(contractId: string, outcome: RecordedOutcome, ending: Ending = 'settled', leaseUntil?: string) {
    const { history, increments } = recordOutcome(this.contracts.get(contractId) ?? [], outcome);
    this.contracts.set(contractId, history);
    await this.write('contracts', contractId, outcomeChanges(increments), ending, leaseUntil);
  }

  async purchase(customerId: string, order: PurchaseRef, ending: Ending = 'settled', leaseUntil?: string) {
    const { history, increments, changed } = recordPurchase(this.customers.get(customerId), order);
    if (!changed) return;
    this.customers.set(customerId, history);
    await this.write('customers', customerId, purchaseChanges(increments), ending, leaseUntil);
  }

  private counts(table: EntityTable, id: string): EntityCounts {
    const lease = this.pending[table].leases.get(id);
    return { pending: (this.pending[table].pending.get(id) ?? []).map((c) => c.record), ...(lease ? { lease } : {}) };
  }

  sources(): MetricsRawSources {
    const self = this;
    async function* each<T>(table: EntityTable | undefined, items: () => Iterable<T>): AsyncIterable<T> {
      if (table) await self.beforeRead[table]?.();
      yield* items();
    }
    return {
      pendingEntities: (table) => each(undefined, () => this.pending[table].entities()),
      touchpoints: () => each('touchpoints', () => [...this.touchpoints.values()].map((t): RawTouchpoint => ({ ...t, ...this.counts('touchpoints', t.touchpointId) }))),
      responses: () => each('responses', () => [...this.responses.values()].map((r): RawResponse => ({ ...r, ...this.counts('responses', r.surveyId) }))),
      contracts: () =>
        each('contracts', () => [...this.contracts].map(([contractId, outcomes]): RawContract => ({ contractId, outcomes, ...this.counts('contracts', contractId) }))),
      customers: () =>
        each('customers', () => [...this.customers].map(([customerId, purchases]): RawCustomer => ({ customerId, purchases, ...this.counts('customers', customerId) }))),
    };
  }

  rebuild(request: { now?: string; dryRun?: boolean } = {}): Promise<MetricsRebuildResult> {
    return rebuildMetricRecords(
      { now: request.now ?? NOW, ...(request.dryRun ? { dryRun: true } : {}) },
      { sources: this.sources(), records: this.records, counters: this.records, pending: (table) => this.pending[table] },
    );
  }

  /** Nothing pending anywhere. */
  pendingEntities(): string[] {
    return ENTITY_TABLES.flatMap((table) => this.pending[table].entities().map((id) => `${table}/${id}`)).sort();
  }
}

const outcome = (endDate: string, result: 'RENEWED' | 'CHURNED', at: string, npsSegment: RecordedOutcome['npsSegment']): RecordedOutcome => ({
  result,
  at,
  endDate,
  remindersSent: 1,
  npsSegment,
});

/** A small world, every write settled: two campaigns, answers, two contracts (one late renewal), three customers. */
async function consistentWorld(): Promise<Entities> {
  const e = new Entities();
  await e.sent('tp-1', 'nps-after-purchase', 'nps', '2027-03-01T10:00:00.000Z');
  await e.sent('tp-2', 'nps-after-purchase', 'nps', '2027-03-01T23:59:59.000Z');
  await e.sent('tp-3', 'nps-after-purchase', 'nps', '2027-03-02T00:00:00.000Z');
  await e.sent('tp-4', 'csat-support', 'csat', '2027-03-02T08:00:00.000Z');
  await e.answered('tp-1');
  await e.answered('tp-3');
  await e.answered('tp-4');
  await e.outcome('k-1', outcome('2027-02-28', 'CHURNED', '2027-03-01T01:00:00.000Z', 'detractor'));
  await e.outcome('k-1', outcome('2027-02-28', 'RENEWED', '2027-03-03T09:00:00.000Z', 'detractor')); // late renewal moves it
  await e.outcome('k-2', outcome('2027-03-05', 'RENEWED', '2027-03-06T09:00:00.000Z', 'promoter'));
  await e.purchase('c-1', { orderId: 'o-1', at: '2027-03-01T10:00:00.000Z' });
  await e.purchase('c-1', { orderId: 'o-2', at: '2027-03-11T10:00:00.000Z' });
  await e.purchase('c-2', { orderId: 'o-3', at: '2027-03-01T12:00:00.000Z' });
  await e.purchase('c-3', { orderId: 'o-5', at: '2027-03-04T12:00:00.000Z' });
  await e.purchase('c-3', { orderId: 'o-4', at: '2027-03-02T12:00:00.000Z' }); // arrives late, earlier: moves the cohort
  return e;
}

const SEND_0301: RecordKey = { series: 'sends', campaignId: 'nps-after-purchase', day: '2027-03-01', kind: 'nps' };
const SEND_0302: RecordKey = { series: 'sends', campaignId: 'nps-after-purchase', day: '2027-03-02', kind: 'nps' };
const OUTCOMES_0303: RecordKey = { series: 'outcomes', day: '2027-03-03' };
const PURCHASES_0301: RecordKey = { series: 'purchases', day: '2027-03-01' };
const PURCHASES_0302: RecordKey = { series: 'purchases', day: '2027-03-02' };

describe('rebuildMetricRecords', () => {
  it('finds no drift when every count was settled, and writes nothing', async () => {
    const e = await consistentWorld();
    const before = e.records.snapshot();
    expect(before).toEqual({
      'outcomes/2027-03-03': { renewed_detractor: 1 },
      'outcomes/2027-03-06': { renewed_promoter: 1 },
      'purchases/2027-03-01': { customers: 2, repeat_10: 1 },
      'purchases/2027-03-02': { customers: 1, repeat_2: 1 },
      'sends/csat-support/2027-03-02/csat': { answered: 1, sent: 1 },
      'sends/nps-after-purchase/2027-03-01/nps': { answered: 1, sent: 2 },
      'sends/nps-after-purchase/2027-03-02/nps': { answered: 1, sent: 1 },
    });

    const result = await e.rebuild();

    // The churn moved off 03-01 and the cohort off 03-04 leave zero records behind: compared, no drift.
    expect(result).toMatchObject({ settled: 0, unsettled: 0, read: { sends: 4, answers: 3, outcomes: 2, customers: 3 }, records: [], skipped: 0 });
    expect(result.compared).toBe(9);
    expect(result.unchanged).toBe(9);
    expect(driftRemains(result)).toBe(false);
    expect(e.records.replaced).toEqual([]);
    expect(e.records.snapshot()).toEqual(before);
    expect([...e.records.campaigns].sort()).toEqual(['csat-support', 'nps-after-purchase']);
  });

  it('reports a lost increment, a doubled one, a missing and an extra record as `stored → expected`, and repairs them', async () => {
    const e = await consistentWorld();
    const expected = e.records.snapshot();
    e.records.corrupt(SEND_0301, { sent: 1, answered: 1 }); // a lost send
    e.records.corrupt(OUTCOMES_0303, { renewed_detractor: 2 }); // doubled
    e.records.drop(PURCHASES_0302); // missing
    e.records.corrupt({ series: 'purchases', day: '2027-03-20' }, { customers: 1 }); // nothing behind it

    const dry = await e.rebuild({ dryRun: true });
    const lines = dry.records.map((r) => `${r.status} ${driftLine(r)}`);
    expect(lines).toEqual([
      'drift outcomes/2027-03-03: renewed_detractor 2 → 1',
      'drift purchases/2027-03-02: customers 0 → 1, repeat_2 0 → 1',
      'drift purchases/2027-03-20: customers 1 → 0',
      'drift sends/nps-after-purchase/2027-03-01/nps: sent 1 → 2',
    ]);
    expect(dry).toMatchObject({ dryRun: true, drift: 4, repaired: 0, skipped: 0 });
    expect(driftRemains(dry)).toBe(true);
    expect(e.records.replaced).toEqual([]);
    expect(e.records.campaigns.size).toBe(0); // a dry run writes nothing, not even the directory

    const run = await e.rebuild();
    expect(run.records.map((r) => `${r.status} ${r.record}`)).toEqual([
      'repaired outcomes/2027-03-03',
      'repaired purchases/2027-03-02',
      'repaired purchases/2027-03-20',
      'repaired sends/nps-after-purchase/2027-03-01/nps',
    ]);
    expect(run).toMatchObject({ repaired: 4, drift: 0, skipped: 0 });
    expect(driftRemains(run)).toBe(false);
    expect(e.records.snapshot()).toEqual(expected);

    const again = await e.rebuild();
    expect(again.records).toEqual([]);
  });

  it('settles pending counts whose lease expired (a crashed settler) before comparing, counting each change once', async () => {
    const e = await consistentWorld();
    // Crashed after its state write, before settling: nothing applied, no lease.
    await e.sent('tp-5', 'nps-after-purchase', 'nps', '2027-03-02T09:00:00.000Z', 'crash');
    // Crashed mid-settle: the first change applied (with its marker), lease expired by NOW.
    await e.purchase('c-2', { orderId: 'o-9', at: '2027-03-01T09:00:00.000Z' }, 'crash-mid-settle', '2027-04-01T00:00:00.000Z');
    expect(e.pendingEntities()).toEqual(['customers/c-2', 'touchpoints/tp-5']);

    const result = await e.rebuild();

    expect(result).toMatchObject({ settled: 2, unsettled: 0, records: [], skipped: 0 });
    expect(e.pendingEntities()).toEqual([]);
    expect(e.records.markers()).toEqual([]);
    expect(e.records.snapshot()).toMatchObject({
      'sends/nps-after-purchase/2027-03-02/nps': { answered: 1, sent: 2 },
      // c-2's first purchase moved earlier on the same day: a repeat the same day (0 days).
      'purchases/2027-03-01': { customers: 2, repeat_0: 1, repeat_10: 1 },
    });
    expect(e.records.replaced).toEqual([]);
  });

  it('leaves alone the records an entity still settling (live lease) counts in, and says to run again', async () => {
    const e = await consistentWorld();
    await e.sent('tp-6', 'nps-after-purchase', 'nps', '2027-03-01T11:00:00.000Z', 'crash-mid-settle', '2027-04-10T12:05:00.000Z');
    await e.outcome('k-3', outcome('2027-03-01', 'CHURNED', '2027-03-03T02:00:00.000Z', 'none'), 'crash');
    e.records.corrupt(OUTCOMES_0303, { renewed_detractor: 5 });
    e.records.corrupt(PURCHASES_0301, { customers: 7, repeat_10: 1 });

    const result = await e.rebuild();

    expect(result.settled).toBe(1); // k-3: its lease was free
    expect(result.unsettled).toBe(1); // tp-6: leased until after NOW
    expect(result.records.map((r) => `${r.status} ${r.record}${r.reason ? ` (${r.reason})` : ''}`)).toEqual([
      'repaired outcomes/2027-03-03',
      'repaired purchases/2027-03-01',
      'in-flight sends/nps-after-purchase/2027-03-01/nps (pending counts being settled (lease until 2027-04-10T12:05:00.000Z))',
    ]);
    expect(driftRemains(result)).toBe(true);
    expect(e.records.snapshot()['outcomes/2027-03-03']).toEqual({ churned_none: 1, renewed_detractor: 1 });
    // tp-6's send was applied before the crash: the in-flight record was not touched.
    expect(e.records.snapshot()['sends/nps-after-purchase/2027-03-01/nps']).toEqual({ answered: 1, sent: 3 });
    expect(e.records.replaced).not.toContain('sends/nps-after-purchase/2027-03-01/nps');

    // Once the lease is over, the next run settles tp-6 (its change is marked: not applied twice) and finds no drift.
    const later = await e.rebuild({ now: '2027-04-10T12:06:00.000Z' });
    expect(later).toMatchObject({ settled: 1, records: [], skipped: 0 });
    expect(e.records.snapshot()['sends/nps-after-purchase/2027-03-01/nps']).toEqual({ answered: 1, sent: 3 });
  });

  it('in a dry run settles nothing and reports the records of pending counts as not settled', async () => {
    const e = await consistentWorld();
    await e.answered('tp-2', 'crash');
    const before = e.records.snapshot();

    const dry = await e.rebuild({ dryRun: true });

    expect(dry).toMatchObject({ settled: 0, unsettled: 1, drift: 0, skipped: 1 });
    expect(dry.records).toEqual([
      {
        key: SEND_0301,
        record: 'sends/nps-after-purchase/2027-03-01/nps',
        status: 'in-flight',
        counters: { answered: [1, 2] },
        reason: 'pending counts not settled (dry run)',
      },
    ]);
    expect(e.pendingEntities()).toEqual(['responses/tp-2']);
    expect(e.records.snapshot()).toEqual(before);
  });

  it('skips a record whose version changed after it was read, and one created meanwhile', async () => {
    const e = await consistentWorld();
    e.records.corrupt(PURCHASES_0301, { customers: 9 });
    e.records.corrupt(SEND_0302, { sent: 4 });
    // While the touchpoints are being read, a purchase lands on 03-01 (an increment) and one on a new day.
    e.beforeRead.touchpoints = async () => {
      e.beforeRead.touchpoints = undefined;
      await e.purchase('c-7', { orderId: 'o-70', at: '2027-03-01T20:00:00.000Z' });
      await e.purchase('c-8', { orderId: 'o-80', at: '2027-03-25T20:00:00.000Z' });
    };

    const result = await e.rebuild();

    expect(result.records.map((r) => `${r.status} ${driftLine(r)} (${r.reason ?? ''})`)).toEqual([
      'changed purchases/2027-03-01: customers 9 → 3, repeat_10 0 → 1 (it changed during the rebuild (an increment arrived))',
      'changed purchases/2027-03-25: customers 0 → 1 (it was created during the rebuild)',
      'repaired sends/nps-after-purchase/2027-03-02/nps: answered 0 → 1, sent 4 → 1 ()',
    ]);
    expect(result).toMatchObject({ repaired: 1, skipped: 2 });
    expect(driftRemains(result)).toBe(true);
    expect(e.records.snapshot()['purchases/2027-03-01']).toEqual({ customers: 10 }); // left as the increment made it

    const again = await e.rebuild();
    expect(again.records.map((r) => `${r.status} ${r.record}`)).toEqual(['repaired purchases/2027-03-01']);
    expect(e.records.snapshot()['purchases/2027-03-01']).toEqual({ customers: 3, repeat_10: 1 });
    expect((await e.rebuild()).records).toEqual([]);
  });

  it(`keeps send records older than ${SEND_REBUILD_DAYS} days (their touchpoints may have expired), and rebuilds the rest`, async () => {
    const e = await consistentWorld();
    const old: RecordKey = { series: 'sends', campaignId: 'nps-after-purchase', day: '2026-03-10', kind: 'nps' };
    const edge: RecordKey = { series: 'sends', campaignId: 'nps-after-purchase', day: '2026-03-11', kind: 'nps' };
    e.records.corrupt(old, { sent: 40, answered: 12 }); // its touchpoints expired
    e.records.corrupt(edge, { sent: 3 }); // the first day still rebuilt: nothing behind it
    // An old answer still points at the old day (responses do not expire): not counted in, not repaired.
    e.responses.set('tp-old', { surveyId: 'tp-old', campaignId: 'nps-after-purchase', kind: 'nps', surveySentAt: '2026-03-10T10:00:00.000Z' });

    const result = await e.rebuild();

    expect(result.retentionCutoff).toBe('2026-03-11');
    expect(result.keptBeyondRetention).toEqual(['sends/nps-after-purchase/2026-03-10/nps']);
    expect(result.records.map((r) => `${r.status} ${driftLine(r)}`)).toEqual(['repaired sends/nps-after-purchase/2026-03-11/nps: sent 3 → 0']);
    expect(driftRemains(result)).toBe(false);
    expect(e.records.snapshot()['sends/nps-after-purchase/2026-03-10/nps']).toEqual({ answered: 12, sent: 40 });
  });

  it('names the entity whose raw item cannot be counted', async () => {
    const e = await consistentWorld();
    e.contracts.set('k-bad', [outcome('2027-03-01', 'RENEWED', 'not a time', 'none')]);
    await expect(e.rebuild()).rejects.toThrow(new MetricsRebuildError('contracts', 'k-bad', new RangeError('not an ISO-8601 instant: not a time')));
  });

  it('counts only sent surveys: not reminders, not other touchpoints, not a survey that was never sent', () => {
    const base = { touchpointId: 't', campaignId: 'c', kind: 'survey', status: 'SENT', surveyKind: 'nps' as const, sentAt: '2027-03-01T00:00:00Z', pending: [] };
    expect(surveySendOf(base)).toEqual({ campaignId: 'c', kind: 'nps', sentAt: '2027-03-01T00:00:00Z' });
    expect(surveySendOf({ ...base, parentTouchpointId: 'p' })).toBeUndefined();
    expect(surveySendOf({ ...base, kind: 'check-in' })).toBeUndefined();
    expect(surveySendOf({ ...base, status: 'FAILED' })).toBeUndefined();
    const { surveyKind: _k, ...unsent } = base;
    expect(surveySendOf(unsent)).toBeUndefined();
  });

  it('repairs whatever crashes and bugs left in a generated world to exactly what the increments add up to', async () => {
    for (const seed of [11, 29]) {
      const world = generateWorld(seed, { customers: 40, surveys: 160, contracts: 40 });
      const events = shuffledEvents(world, seed + 1);
      const folded = fold(world, events);
      const rng = prng(seed + 2);
      const e = new Entities();
      const ending = (): Ending => {
        const r = rng();
        return r < 0.1 ? 'crash' : r < 0.2 ? 'crash-mid-settle' : 'settled';
      };
      const surveys = new Map(world.surveys.map((s) => [s.surveyId, s]));
      for (const event of events) {
        if (event.type === 'sent') {
          const s = surveys.get(event.surveyId)!;
          if (!e.touchpoints.has(s.surveyId)) await e.sent(s.surveyId, s.campaignId, s.kind, s.sentAt, ending());
        } else if (event.type === 'click') await e.answered(event.surveyId, ending());
        else if (event.type === 'outcome') await e.outcome(event.contractId, event.outcome, ending());
        else await e.purchase(event.purchase.customerId, { orderId: event.purchase.orderId, at: event.purchase.at }, ending());
      }
      // And some bugs: a few records set to nonsense, a few dropped.
      const ids = [...e.records.records.values()].map((r) => r.key);
      for (const key of ids.filter(() => rng() < 0.15)) e.records.corrupt(key, { ...e.records.records.get(recordKeyText(key))!.counters, sent: 99 });
      for (const key of ids.filter(() => rng() < 0.05)) e.records.drop(key);

      const result = await e.rebuild();

      expect(result.skipped).toBe(0);
      expect(result.repaired).toBeGreaterThan(0);
      expect(e.pendingEntities()).toEqual([]);
      const fromFold = nonZeroRecords([
        ...folded.sends.map((s): [string, Record<string, number>] => [
          recordKeyText({ series: 'sends', campaignId: s.campaignId, day: s.day, kind: s.kind }),
          countersOf({ series: 'sends', value: s }),
        ]),
        ...folded.outcomes.map((o): [string, Record<string, number>] => [`outcomes/${o.day}`, countersOf({ series: 'outcomes', value: o })]),
        ...folded.purchases.map((p): [string, Record<string, number>] => [`purchases/${p.day}`, countersOf({ series: 'purchases', value: p })]),
      ]);
      expect(e.records.snapshot()).toEqual(fromFold);
      expect((await e.rebuild()).records).toEqual([]);
      expect([...e.records.campaigns].sort()).toEqual([...new Set(folded.sends.map((s) => s.campaignId))].sort());
    }
  });
});
