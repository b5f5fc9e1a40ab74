/** Trigger filters (SKU, segment), send windows and stop conditions (refund, cancellation) through the use cases. */
import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../../core/campaigns/schema.ts';
import { parseCommerceEvent } from '../../../core/events.ts';
import { nextSendTime } from '../../../core/schedule.ts';
import { checkEligibility } from '../../../core/use-cases/check-eligibility.ts';
import { ingestCommerceEvent, qualifies } from '../../../core/use-cases/ingest-commerce-event.ts';
import { InMemoryAnswers, InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, checkInCampaign, purchaseEvent, StaticContracts } from '../fakes.ts';

const noTiming = (overrides: Partial<Campaign> = {}) =>
  checkInCampaign({ quietHours: undefined, frequencyCap: undefined, ...overrides });

const purchase = (detail: Record<string, unknown> = {}) => {
  const event = parseCommerceEvent(purchaseEvent(detail));
  if (event.type !== 'Purchase Completed') throw new Error('not a purchase');
  return event.detail;
};

const orderEvent = (type: 'Order Refunded' | 'Order Cancelled', orderId = 'o-100') =>
  parseCommerceEvent({
    version: '0',
    id: `evt-${type}`,
    'detail-type': type,
    source: 'outreach.commerce',
    account: '123456789012',
    time: '2026-11-21T09:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail:
      type === 'Order Refunded'
        ? { orderId, customerId: 'c-1', refundedAt: '2026-11-21T09:00:00Z' }
        : { orderId, customerId: 'c-1', cancelledAt: '2026-11-21T09:00:00Z', reason: 'changed mind' },
  });

describe('trigger filters', () => {
  const items = [
    { sku: 'MUG-BLUE', name: 'Mug', quantity: 1, unitPrice: 12 },
    { sku: 'TEA-7', name: 'Tea', quantity: 2, unitPrice: 4 },
  ];

  it('matches SKUs exactly or by a prefix ending in *', () => {
    const p = purchase({ items });
    expect(qualifies(noTiming({ trigger: { event: 'Purchase Completed', skus: ['TEA-7'] } }), p)).toBe(true);
    expect(qualifies(noTiming({ trigger: { event: 'Purchase Completed', skus: ['MUG-*'] } }), p)).toBe(true);
    expect(qualifies(noTiming({ trigger: { event: 'Purchase Completed', skus: ['MUG'] } }), p)).toBe(false);
    expect(qualifies(noTiming({ trigger: { event: 'Purchase Completed', skus: ['TEA-*', 'LAMP-1'] } }), p)).toBe(true);
    expect(qualifies(noTiming({ trigger: { event: 'Purchase Completed', skus: ['LAMP-*'] } }), p)).toBe(false);
  });

  it('matches the customer segments carried by the purchase; a purchase without segments is in none', () => {
    const campaign = noTiming({ trigger: { event: 'Purchase Completed', segments: ['vip', 'b2b'] } });
    expect(qualifies(campaign, purchase({ segments: ['b2b'] }))).toBe(true);
    expect(qualifies(campaign, purchase({ segments: ['newsletter'] }))).toBe(false);
    expect(qualifies(campaign, purchase())).toBe(false);
  });

  it('plans a touchpoint only for the campaigns whose filters the purchase meets', async () => {
    const deps = {
      customers: new InMemoryCustomers(),
      touchpoints: new InMemoryTouchpoints(),
      campaigns: new StaticCampaigns([
        noTiming({ id: 'mugs', trigger: { event: 'Purchase Completed', skus: ['MUG-*'] } }),
        noTiming({ id: 'vips', trigger: { event: 'Purchase Completed', segments: ['vip'] } }),
      ]),
    };
    const result = await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ items, segments: ['regular'] })), deps);
    expect(result.touchpointsCreated).toHaveLength(1);
    expect([...deps.touchpoints.items.values()].map((t) => t.campaignId)).toEqual(['mugs']);
  });
});

describe('send window', () => {
  const weekdays = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, start: '09:00', end: '17:00' };

  it('moves a time outside the window to its next opening, in the recipient zone, skipping other weekdays', () => {
    // Friday 2026-11-20 18:00 Berlin (17:00Z) → Monday 2026-11-23 09:00 Berlin (08:00Z).
    expect(nextSendTime('2026-11-20T17:00:00Z', { sendWindow: weekdays }, 'Europe/Berlin')).toBe('2026-11-23T08:00:00.000Z');
    // Wednesday 07:30 Berlin → 09:00 the same day.
    expect(nextSendTime('2026-11-25T06:30:00Z', { sendWindow: weekdays }, 'Europe/Berlin')).toBe('2026-11-25T08:00:00.000Z');
    // Inside the window: unchanged.
    expect(nextSendTime('2026-11-25T10:00:00Z', { sendWindow: weekdays }, 'Europe/Berlin')).toBe('2026-11-25T10:00:00.000Z');
    // The end is exclusive.
    expect(nextSendTime('2026-11-25T16:00:00Z', { sendWindow: weekdays }, 'Europe/Berlin')).toBe('2026-11-26T08:00:00.000Z');
  });

  it('keeps the local opening time across a DST change', () => {
    // Saturday 2027-03-27 in Berlin; the clocks go forward on Sunday; Monday opens at 09:00 CEST = 07:00Z.
    expect(nextSendTime('2027-03-27T10:00:00Z', { sendWindow: weekdays }, 'Europe/Berlin')).toBe('2027-03-29T07:00:00.000Z');
  });

  it('combines with quiet hours: the first time both allow', () => {
    const timing = { quietHours: { start: '21:00', end: '10:00' }, sendWindow: { start: '09:00', end: '12:00' } };
    expect(nextSendTime('2026-11-25T06:00:00Z', timing, 'UTC')).toBe('2026-11-25T10:00:00.000Z');
    expect(nextSendTime('2026-11-25T12:30:00Z', timing, 'UTC')).toBe('2026-11-26T10:00:00.000Z');
  });

  it('plans the due time into the window at ingest, and reschedules with the reason at eligibility', async () => {
    const campaign = noTiming({ delay: 'P3D', sendWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' } });
    const deps = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([campaign]), answers: new InMemoryAnswers(), contracts: new StaticContracts() };
    // Bought Wednesday 2026-11-18 20:00 Berlin; P3D → Saturday 20:00 → Monday 09:00 Berlin.
    const [id] = (
      await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ purchasedAt: '2026-11-18T19:00:00Z' }, { time: '2026-11-18T19:00:00Z' })), deps)
    ).touchpointsCreated;
    expect(deps.touchpoints.items.get(id!)?.dueAt).toBe('2026-11-23T08:00:00.000Z');

    // Dispatched late (Monday 18:00 Berlin): moved to Tuesday 09:00 with the window named as the reason.
    await deps.touchpoints.claimForDispatch({ touchpointId: id!, generation: 0, from: 'PENDING', at: '2026-11-23T17:00:00Z', leaseUntil: '2026-11-23T17:05:00Z' });
    const decision = await checkEligibility({ touchpointId: id!, generation: 0, now: '2026-11-23T17:00:00Z' }, deps);
    expect(decision).toEqual({ decision: 'RESCHEDULE', reason: 'outside send window', nextDueAt: '2026-11-24T08:00:00.000Z' });
  });
});

describe('stop conditions', () => {
  async function planned(stopOn: Campaign['stopOn']) {
    const deps = {
      customers: new InMemoryCustomers(),
      touchpoints: new InMemoryTouchpoints(),
      campaigns: new StaticCampaigns([noTiming({ stopOn })]),
    };
    const [id] = (await ingestCommerceEvent(parseCommerceEvent(purchaseEvent()), deps)).touchpointsCreated;
    return { deps, id: id! };
  }

  it('an order cancellation cancels the pending touchpoint of a campaign that stops on cancellation, once', async () => {
    const { deps, id } = await planned(['refund', 'cancellation']);
    const result = await ingestCommerceEvent(orderEvent('Order Cancelled'), deps);
    expect(result).toEqual({ action: 'cancellation-applied', touchpointsCreated: [], touchpointsCancelled: [id] });
    expect(deps.touchpoints.items.get(id)).toMatchObject({ status: 'CANCELLED', reason: 'order cancelled' });
    expect((await ingestCommerceEvent(orderEvent('Order Cancelled'), deps)).touchpointsCancelled).toEqual([]);
  });

  it('leaves the touchpoint of a campaign that stops on refund only when the order is cancelled', async () => {
    const { deps, id } = await planned(['refund']);
    expect((await ingestCommerceEvent(orderEvent('Order Cancelled'), deps)).touchpointsCancelled).toEqual([]);
    expect(deps.touchpoints.items.get(id)?.status).toBe('PENDING');
    expect((await ingestCommerceEvent(orderEvent('Order Refunded'), deps)).touchpointsCancelled).toEqual([id]);
  });

  it('a cancellation of another order cancels nothing', async () => {
    const { deps, id } = await planned(['cancellation']);
    expect((await ingestCommerceEvent(orderEvent('Order Cancelled', 'o-999'), deps)).touchpointsCancelled).toEqual([]);
    expect(deps.touchpoints.items.get(id)?.status).toBe('PENDING');
  });

  it('rejects a cancellation event without its order id, naming the field', () => {
    expect(() =>
      parseCommerceEvent({ ...orderEvent('Order Cancelled'), id: 'e', 'detail-type': 'Order Cancelled', source: 's', time: '2026-11-21T09:00:00Z', detail: { customerId: 'c-1', cancelledAt: '2026-11-21T09:00:00Z' } }),
    ).toThrow(/detail\.orderId/);
  });
});
