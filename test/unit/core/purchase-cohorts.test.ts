/**
 * Purchase cohorts (repeat-purchase rate) counted by ingestCommerceEvent, exactly once: the customer's two earliest
 * orders written together with the cohort changes they cause, settled into the per-day records.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseCommerceEvent } from '../../../core/events.ts';
import type { CounterChange, CountLease } from '../../../core/metrics/counters.ts';
import { rebuildPurchaseCohorts, type PurchaseHistory } from '../../../core/metrics/model.ts';
import { ingestCommerceEvent, type IngestDeps } from '../../../core/use-cases/ingest-commerce-event.ts';
import { InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, checkInCampaign, purchaseEvent } from '../fakes.ts';
import { InMemoryMetricsCounters, InMemoryPendingCounts } from '../metrics/fake-counters.ts';

const purchase = (orderId: string, at: string, customerId = 'c-1') =>
  parseCommerceEvent(purchaseEvent({ customerId, orderId, purchasedAt: at }, { id: `evt-${orderId}`, time: at }));

let pending: InMemoryPendingCounts;
let counters: InMemoryMetricsCounters;
let customers: InMemoryCustomers;
let deps: IngestDeps & { customers: InMemoryCustomers };
/** Real time as the settle's lease sees it (not the events' times). */
let clock: string;

beforeEach(() => {
  pending = new InMemoryPendingCounts();
  counters = new InMemoryMetricsCounters();
  customers = new InMemoryCustomers(pending);
  clock = '2026-07-01T08:00:00.000Z';
  deps = {
    customers,
    touchpoints: new InMemoryTouchpoints(),
    campaigns: new StaticCampaigns([checkInCampaign()]),
    metrics: { pending, counters, clock: () => clock },
  };
});

const historyOf = async (customerId = 'c-1') => (await customers.get(customerId))?.purchases;
/** The stored counts equal what a rebuild from the customers' histories yields, and nothing is left in flight. */
const expectCountsOfHistories = async (customerIds: string[]) => {
  const histories = (await Promise.all(customerIds.map((id) => historyOf(id)))).filter((h): h is PurchaseHistory => h !== undefined);
  expect(counters.purchases()).toEqual(rebuildPurchaseCohorts(histories));
  expect(pending.entities()).toEqual([]);
  expect(counters.markers()).toEqual([]);
};

describe('ingestCommerceEvent: purchase cohorts', () => {
  it("counts a first purchase as one customer of its UTC day's cohort", async () => {
    await ingestCommerceEvent(purchase('o-1', '2026-03-01T23:30:00Z'), deps);

    expect(await historyOf()).toEqual({ first: { orderId: 'o-1', at: '2026-03-01T23:30:00.000Z' } });
    expect(counters.purchases()).toEqual([{ day: '2026-03-01', customers: 1, repeatAfterDays: {} }]);
    expect(pending.entities()).toEqual([]);
    expect(counters.markers()).toEqual([]);
  });

  it('counts a second purchase d days later as repeat_d of the first purchase cohort, and a third changes nothing', async () => {
    await ingestCommerceEvent(purchase('o-1', '2026-03-01T10:00:00Z'), deps);
    await ingestCommerceEvent(purchase('o-2', '2026-03-15T09:00:00Z'), deps);

    expect(counters.purchases()).toEqual([{ day: '2026-03-01', customers: 1, repeatAfterDays: { '14': 1 } }]);
    expect(counters.records.get('purchases/2026-03-01')?.counters).toEqual({ customers: 1, repeat_14: 1 });
    const appliedBefore = counters.applied.length;

    await ingestCommerceEvent(purchase('o-3', '2026-03-20T09:00:00Z'), deps);

    expect(counters.applied.length).toBe(appliedBefore);
    expect(counters.purchases()).toEqual([{ day: '2026-03-01', customers: 1, repeatAfterDays: { '14': 1 } }]);
    expect((await customers.get('c-1'))?.orderIds).toEqual(['o-1', 'o-2', 'o-3']);
    await expectCountsOfHistories(['c-1']);
  });

  it('counts a re-delivered order once', async () => {
    const event = purchase('o-1', '2026-03-01T10:00:00Z');

    await ingestCommerceEvent(event, deps);
    await ingestCommerceEvent(event, deps);
    await ingestCommerceEvent(event, deps);

    expect(counters.purchases()).toEqual([{ day: '2026-03-01', customers: 1, repeatAfterDays: {} }]);
    expect(counters.applied.map((a) => a.result)).toEqual(['applied']);
  });

  it('moves the customer to the earlier cohort when an earlier order arrives late', async () => {
    await ingestCommerceEvent(purchase('o-2', '2026-03-10T10:00:00Z'), deps);
    expect(counters.purchases()).toEqual([{ day: '2026-03-10', customers: 1, repeatAfterDays: {} }]);

    await ingestCommerceEvent(purchase('o-1', '2026-03-01T10:00:00Z'), deps);

    expect(await historyOf()).toEqual({
      first: { orderId: 'o-1', at: '2026-03-01T10:00:00.000Z' },
      second: { orderId: 'o-2', at: '2026-03-10T10:00:00.000Z' },
    });
    expect(counters.purchases()).toEqual([{ day: '2026-03-01', customers: 1, repeatAfterDays: { '9': 1 } }]);
    expect(counters.records.get('purchases/2026-03-10')?.counters).toEqual({ customers: 0 });
    await expectCountsOfHistories(['c-1']);
  });

  it('does not undo a purchase on a refund or a cancellation', async () => {
    await ingestCommerceEvent(purchase('o-1', '2026-03-01T10:00:00Z'), deps);
    const order = (type: string, detail: Record<string, unknown>) =>
      parseCommerceEvent({ ...purchaseEvent(), id: `evt-${type}`, 'detail-type': type, time: '2026-03-02T10:00:00Z', detail: { orderId: 'o-1', customerId: 'c-1', ...detail } });

    await ingestCommerceEvent(order('Order Refunded', { refundedAt: '2026-03-02T10:00:00Z' }), deps);
    await ingestCommerceEvent(order('Order Cancelled', { cancelledAt: '2026-03-02T10:00:00Z' }), deps);

    expect(await historyOf()).toEqual({ first: { orderId: 'o-1', at: '2026-03-01T10:00:00.000Z' } });
    expect(counters.purchases()).toEqual([{ day: '2026-03-01', customers: 1, repeatAfterDays: {} }]);
  });

  it('neither loses nor doubles a count when two purchases of a new customer are ingested at once', async () => {
    const writes = vi.spyOn(customers, 'replacePurchaseHistory');

    await Promise.all([
      ingestCommerceEvent(purchase('o-2', '2026-03-05T10:00:00Z'), deps),
      ingestCommerceEvent(purchase('o-1', '2026-03-01T10:00:00Z'), deps),
    ]);

    // Both read "no history"; one write lost and was retried on the history the other wrote.
    expect(await Promise.all(writes.mock.results.map((r) => r.value))).toEqual([true, false, true]);
    expect(await historyOf()).toEqual({
      first: { orderId: 'o-1', at: '2026-03-01T10:00:00.000Z' },
      second: { orderId: 'o-2', at: '2026-03-05T10:00:00.000Z' },
    });
    expect(counters.purchases()).toEqual([{ day: '2026-03-01', customers: 1, repeatAfterDays: { '4': 1 } }]);
    await expectCountsOfHistories(['c-1']);
  });

  // c-2's orders are months apart: measured in event time, the later one's settle would take over the earlier one's
  // lease while it still settles.
  it('counts many concurrent purchases of several customers exactly as the rebuild of their final histories', async () => {
    const orders = [
      ['c-1', 'o-11', '2026-03-03T10:00:00Z'],
      ['c-1', 'o-12', '2026-03-01T10:00:00Z'],
      ['c-1', 'o-13', '2026-03-02T10:00:00Z'],
      ['c-2', 'o-21', '2026-03-04T10:00:00Z'],
      ['c-2', 'o-22', '2026-06-30T10:00:00Z'],
      ['c-3', 'o-31', '2026-03-01T12:00:00Z'],
    ] as const;

    await Promise.all([...orders, ...orders].map(([customerId, orderId, at]) => ingestCommerceEvent(purchase(orderId, at, customerId), deps)));

    expect(await historyOf('c-1')).toEqual({
      first: { orderId: 'o-12', at: '2026-03-01T10:00:00.000Z' },
      second: { orderId: 'o-13', at: '2026-03-02T10:00:00.000Z' },
    });
    expect(counters.purchases()).toEqual([
      { day: '2026-03-01', customers: 2, repeatAfterDays: { '1': 1 } },
      { day: '2026-03-04', customers: 1, repeatAfterDays: { '118': 1 } },
    ]);
    await expectCountsOfHistories(['c-1', 'c-2', 'c-3']);
  });

  it('finishes the count on the retry of an event whose invocation crashed between the write and the settle', async () => {
    const crashing = Object.assign(Object.create(pending) as InMemoryPendingCounts, {
      claim: async (): Promise<CounterChange[] | undefined> => {
        throw new Error('crash before the settle');
      },
    });
    const event = purchase('o-1', '2026-03-01T10:00:00Z');

    await expect(ingestCommerceEvent(event, { ...deps, metrics: { ...deps.metrics!, pending: crashing } })).rejects.toThrow(/crash/);
    expect(pending.entities()).toEqual(['c-1']);
    expect(counters.purchases()).toEqual([]);

    await ingestCommerceEvent(event, deps);

    expect(counters.purchases()).toEqual([{ day: '2026-03-01', customers: 1, repeatAfterDays: {} }]);
    await expectCountsOfHistories(['c-1']);
  });

  it('finishes a settle that crashed holding the lease on a retry once the lease has run out', async () => {
    const crashing = Object.assign(Object.create(counters) as InMemoryMetricsCounters, {
      apply: async (): Promise<'applied'> => {
        throw new Error('crash in the settle');
      },
    });
    const event = purchase('o-1', '2026-03-01T10:00:00Z');
    await expect(ingestCommerceEvent(event, { ...deps, metrics: { ...deps.metrics!, counters: crashing } })).rejects.toThrow(/crash/);
    const lease: CountLease | undefined = pending.leases.get('c-1');
    expect(lease?.until).toBe('2026-07-01T08:06:00.000Z'); // the clock's time, not the event's

    // A retry while the lease runs leaves the changes to its holder (here: nobody, it crashed).
    clock = '2026-07-01T08:05:59.000Z';
    await ingestCommerceEvent(event, deps);
    expect(counters.purchases()).toEqual([]);

    clock = '2026-07-01T08:06:00.000Z';
    await ingestCommerceEvent(event, deps);

    expect(counters.purchases()).toEqual([{ day: '2026-03-01', customers: 1, repeatAfterDays: {} }]);
    await expectCountsOfHistories(['c-1']);
  });

  it('appends the changes under the write token, and plans touchpoints as before', async () => {
    const withToken = { ...deps, metrics: undefined, newToken: () => 'tok' };

    const result = await ingestCommerceEvent(purchase('o-1', '2026-03-01T10:00:00Z'), withToken);

    expect(result.touchpointsCreated).toHaveLength(1);
    expect(pending.pending.get('c-1')).toEqual([{ id: 'tok:0', record: { series: 'purchases', day: '2026-03-01' }, counters: { customers: 1 } }]);
  });
});
