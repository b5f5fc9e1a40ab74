/**
 * The recovery sweep of the pending counts (core/metrics/settle-stale.ts) with in-memory fakes: a touchpoint, a
 * contract and a customer whose writer stopped after the state write are counted by the sweep once they have been
 * pending longer than any lease plus the grace — exactly once, also when the stopped settler applied some changes —
 * and never while a settler's lease runs.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parseContractEvent } from '../../../core/contracts/contract-events.ts';
import { applyContractEvent } from '../../../core/contracts/sweep-renewals.ts';
import { parseCommerceEvent } from '../../../core/events.ts';
import type { CounterChange, MetricsCounterStore } from '../../../core/metrics/counters.ts';
import { emptySegmentCounts, rebuildPurchaseCohorts, type PurchaseHistory } from '../../../core/metrics/model.ts';
import { StalePendingCountsError, settleStalePendingCounts } from '../../../core/metrics/settle-stale.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { addDuration } from '../../../core/schedule.ts';
import { ingestCommerceEvent } from '../../../core/use-cases/ingest-commerce-event.ts';
import { recordTouchpointOutcome } from '../../../core/use-cases/record-touchpoint-outcome.ts';
import { InMemoryContractCustomers, InMemoryContracts, contractEnvelope, startedDetail } from '../contracts/fakes.ts';
import { InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, checkInCampaign, purchaseEvent } from '../fakes.ts';
import { InMemoryMetricsCounters, InMemoryPendingCounts } from './fake-counters.ts';

const WRITTEN = '2026-03-01T10:00:00.000Z';
/** COUNT_LEASE (PT6M) + STALE_PENDING_GRACE (PT1M) after the write, and the instant before. */
const STALE = '2026-03-01T10:07:00.000Z';
const NOT_YET_STALE = '2026-03-01T10:06:59.999Z';

/** Passes the first `applies` applies through, then fails every call: a settler that stopped there. */
function stoppingAfter(counters: InMemoryMetricsCounters, applies: number): MetricsCounterStore {
  let left = applies;
  return {
    async apply(change: CounterChange) {
      if (left <= 0) throw new Error('settler stopped');
      left -= 1;
      return counters.apply(change);
    },
    async release() {
      throw new Error('settler stopped');
    },
  };
}

let writeTime: string;
let counters: InMemoryMetricsCounters;
let pending: { touchpoints: InMemoryPendingCounts; contracts: InMemoryPendingCounts; customers: InMemoryPendingCounts };

beforeEach(() => {
  writeTime = WRITTEN;
  counters = new InMemoryMetricsCounters();
  // The entity fakes append without a time; the adapters list the entity at the write's time: the clock follows it.
  const clock = () => writeTime;
  pending = {
    touchpoints: new InMemoryPendingCounts({ clock }),
    contracts: new InMemoryPendingCounts({ clock }),
    customers: new InMemoryPendingCounts({ clock }),
  };
});

const sweep = (now: string, limit = 100) => settleStalePendingCounts({ now, limit }, { stores: pending, counters });
const none = { settled: 0, busy: 0, unlisted: 0, failed: 0 };

/** Nothing pending, listed or in flight anywhere. */
function expectAllSettled() {
  for (const store of Object.values(pending)) {
    expect(store.entities()).toEqual([]);
    expect(store.listed()).toEqual([]);
  }
  expect(counters.markers()).toEqual([]);
}

// ---------------------------------------------------------------------------------------------------------------
// Entities written through their use cases, with a settler that stops

const touchpoints = () => new InMemoryTouchpoints(4, pending.touchpoints);

async function dispatchedSurvey(store: InMemoryTouchpoints, touchpointId: string): Promise<void> {
  const touchpoint: Touchpoint = {
    touchpointId,
    campaignId: 'nps-after-purchase',
    kind: 'survey',
    customerId: 'cust-1',
    dueAt: WRITTEN,
    status: 'DISPATCHED',
    generation: 0,
    context: {},
    createdAt: WRITTEN,
    updatedAt: WRITTEN,
  };
  await store.create(touchpoint);
}

/** Records the survey SENT at `writeTime`; its settler stops after `applies` applies (the SENT write is done). */
async function sendSurvey(store: InMemoryTouchpoints, touchpointId: string, applies = 0): Promise<void> {
  await dispatchedSurvey(store, touchpointId);
  const request = {
    touchpointId,
    generation: 0,
    now: writeTime,
    outcome: 'SENT' as const,
    messageId: `m-${touchpointId}`,
    survey: { surveyId: touchpointId, reminder: false, scale: 'nps' as const },
  };
  await expect(recordTouchpointOutcome(request, { touchpoints: store, metrics: { pending: pending.touchpoints, counters: stoppingAfter(counters, applies) } })).rejects.toThrow(
    'settler stopped',
  );
}

const sentRecord = (sent: number) => ({ campaignId: 'nps-after-purchase', day: '2026-03-01', kind: 'nps', sent, answered: 0 });

describe('settleStalePendingCounts', () => {
  it('counts a sent survey whose settler stopped after the SENT write, once pending longer than the lease and the grace', async () => {
    // Prepare
    const store = touchpoints();
    await sendSurvey(store, 'tp-1');
    expect(pending.touchpoints.entities()).toEqual(['tp-1']);

    // Act
    const early = await sweep(NOT_YET_STALE);
    const countedEarly = counters.sends();
    const due = await sweep(STALE);

    // Assess
    expect(early).toEqual({ touchpoints: none, contracts: none, customers: none });
    expect(countedEarly).toEqual([]);
    expect(due).toEqual({ touchpoints: { ...none, settled: 1 }, contracts: none, customers: none });
    expect(counters.sends()).toEqual([sentRecord(1)]);
    expect((await store.get('tp-1'))?.status).toBe('SENT');
    expectAllSettled();
  });

  it('counts a contract outcome whose settler stopped after the outcome write', async () => {
    // Prepare
    const contracts = new InMemoryContracts(pending.contracts);
    const customers = new InMemoryContractCustomers();
    const deps = { contracts, customers, touchpoints: new InMemoryTouchpoints(), metrics: { pending: pending.contracts, counters } };
    const event = (type: string, detail: Record<string, unknown>) => parseContractEvent(contractEnvelope(type, detail));
    await applyContractEvent(event('Contract Started', startedDetail()), deps);
    writeTime = '2027-03-06T07:00:00.000Z';
    const cancelled = event('Contract Cancelled', { contractId: 'ctr-1', customerId: 'cust-1', occurredAt: writeTime });

    await expect(applyContractEvent(cancelled, { ...deps, metrics: { pending: pending.contracts, counters: stoppingAfter(counters, 0) } })).rejects.toThrow(
      'settler stopped',
    );

    // Act
    const early = await sweep(addDuration(writeTime, 'PT6M59.999S'));
    const due = await sweep(addDuration(writeTime, 'PT7M'));

    // Assess
    expect(early.contracts).toEqual(none);
    expect(due.contracts).toEqual({ ...none, settled: 1 });
    expect(counters.outcomes()).toEqual([{ day: '2027-03-06', renewed: emptySegmentCounts(), churned: { ...emptySegmentCounts(), none: 1 } }]);
    expect((await contracts.get('ctr-1'))?.status).toBe('CANCELLED');
    expectAllSettled();
  });

  it('counts each change of a customer once when the stopped settler had applied some of them', async () => {
    // Prepare: o-2 counted normally; then the earlier o-1 moves the cohort (two records change) and its settler
    // stops after applying the first change.
    const customers = new InMemoryCustomers(pending.customers);
    const purchase = (orderId: string, at: string) =>
      parseCommerceEvent(purchaseEvent({ customerId: 'c-1', orderId, purchasedAt: at }, { id: `evt-${orderId}`, time: at }));
    const deps = (store: MetricsCounterStore) => ({
      customers,
      touchpoints: new InMemoryTouchpoints(),
      campaigns: new StaticCampaigns([checkInCampaign()]),
      metrics: { pending: pending.customers, counters: store, clock: () => writeTime },
    });
    await ingestCommerceEvent(purchase('o-2', '2026-03-10T10:00:00Z'), deps(counters));
    writeTime = '2026-03-05T10:00:00.000Z';
    await expect(ingestCommerceEvent(purchase('o-1', writeTime), deps(stoppingAfter(counters, 1)))).rejects.toThrow('settler stopped');
    expect(pending.customers.pending.get('c-1')).toHaveLength(2);
    const appliedBefore = counters.applied.length;

    // Act
    const due = await sweep(addDuration(writeTime, 'PT7M'));

    // Assess: the first change found its marker (already), the second was applied; the counts equal the rebuild.
    expect(due.customers).toEqual({ ...none, settled: 1 });
    expect(counters.applied.slice(appliedBefore).map((a) => a.result)).toEqual(['already', 'applied']);
    const history = (await customers.get('c-1'))?.purchases as PurchaseHistory;
    expect(counters.purchases()).toEqual(rebuildPurchaseCohorts([history]));
    expect(counters.purchases()).toEqual([{ day: '2026-03-05', customers: 1, repeatAfterDays: { '5': 1 } }]);
    expectAllSettled();
  });

  it('leaves an entity alone while a settler holds its lease, and settles it once the lease has run out', async () => {
    // Prepare: pending since an old write; a live settler claimed it later, with a lease running until 10:20.
    const store = touchpoints();
    await sendSurvey(store, 'tp-1');
    expect(await pending.touchpoints.claim('tp-1', { token: 'live', until: '2026-03-01T10:20:00.000Z' }, '2026-03-01T10:10:00.000Z')).toHaveLength(1);

    // Act
    const during = await sweep('2026-03-01T10:19:59.999Z');
    const after = await sweep('2026-03-01T10:20:00.000Z');

    // Assess
    expect(during.touchpoints).toEqual({ ...none, busy: 1 });
    expect(after.touchpoints).toEqual({ ...none, settled: 1 });
    expect(counters.sends()).toEqual([sentRecord(1)]);
    expectAllSettled();
  });

  it('takes an entity listed with nothing pending off the listing', async () => {
    // Prepare: a settler stopped between emptying the list and releasing it (DynamoDB: two writes).
    pending.touchpoints.since.set('tp-emptied', WRITTEN);

    // Act
    const result = await sweep(STALE);

    // Assess
    expect(result.touchpoints).toEqual({ ...none, unlisted: 1 });
    expect(pending.touchpoints.listed()).toEqual([]);
    expect(counters.applied).toEqual([]);
  });

  it('settles the oldest first, up to `limit` per table', async () => {
    // Prepare
    const store = touchpoints();
    for (const [id, at] of [['tp-c', '2026-03-01T10:02:00.000Z'], ['tp-a', '2026-03-01T10:00:00.000Z'], ['tp-b', '2026-03-01T10:01:00.000Z']] as const) {
      writeTime = at;
      await sendSurvey(store, id);
    }

    // Act
    const result = await sweep('2026-03-01T10:30:00.000Z', 2);

    // Assess
    expect(result.touchpoints).toEqual({ ...none, settled: 2 });
    expect(pending.touchpoints.entities()).toEqual(['tp-c']);
    expect(counters.sends()).toEqual([sentRecord(2)]);
  });

  it('settles the other entities when one fails, then throws naming the failure; the next sweep finishes it', async () => {
    // Prepare
    const store = touchpoints();
    await sendSurvey(store, 'tp-1');
    await sendSurvey(store, 'tp-2');
    const failing = pending.touchpoints.pending.get('tp-1')![0]!.id;
    const flaky: MetricsCounterStore = {
      apply: async (change) => {
        if (change.id === failing) throw new Error('throttled');
        return counters.apply(change);
      },
      release: (change) => counters.release(change),
    };

    // Act
    const error = await settleStalePendingCounts({ now: STALE, limit: 100 }, { stores: pending, counters: flaky }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(StalePendingCountsError);
    const failure = error as StalePendingCountsError;
    expect(failure.counts.touchpoints).toEqual({ ...none, settled: 1, failed: 1 });
    expect(failure.failures.map((f) => [f.table, f.entityId, (f.error as Error).message])).toEqual([['touchpoints', 'tp-1', 'throttled']]);
    expect(pending.touchpoints.entities()).toEqual(['tp-1']);
    expect(counters.sends()).toEqual([sentRecord(1)]);

    // The failed sweep's lease (PT6M from 10:07) runs out; the next sweep counts tp-1.
    expect((await sweep('2026-03-01T10:13:00.000Z')).touchpoints).toEqual({ ...none, settled: 1 });
    expect(counters.sends()).toEqual([sentRecord(2)]);
    expectAllSettled();
  });
});
