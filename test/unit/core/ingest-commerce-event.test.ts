import { beforeEach, describe, expect, it } from 'vitest';
import { parseCommerceEvent } from '../../../core/events.ts';
import { InvalidEventError } from '../../../core/errors.ts';
import { touchpointIdFor } from '../../../core/touchpoint-id.ts';
import { ingestCommerceEvent } from '../../../core/use-cases/ingest-commerce-event.ts';
import { InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, checkInCampaign, purchaseEvent } from '../fakes.ts';

describe('ingestCommerceEvent', () => {
  let deps: { customers: InMemoryCustomers; touchpoints: InMemoryTouchpoints; campaigns: StaticCampaigns };
  beforeEach(() => {
    deps = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([checkInCampaign()]) };
  });

  it('records the customer and plans one check-in at purchase + delay', async () => {
    // Act
    const result = await ingestCommerceEvent(parseCommerceEvent(purchaseEvent()), deps);

    // Assess
    const id = touchpointIdFor('post-purchase-check-in', 'order:o-100');
    expect(result).toEqual({ action: 'purchase-recorded', touchpointsCreated: [id], touchpointsCancelled: [] });
    const touchpoint = await deps.touchpoints.get(id);
    expect(touchpoint).toMatchObject({
      campaignId: 'post-purchase-check-in',
      kind: 'check-in',
      customerId: 'c-1',
      orderId: 'o-100',
      status: 'PENDING',
      generation: 0,
      dueAt: '2026-11-23T10:00:00.000Z', // 11:00 in Berlin: outside quiet hours
      context: { orderId: 'o-100', total: 30, currency: 'EUR' },
    });
    expect(await deps.customers.get('c-1')).toMatchObject({
      email: 'ada@example.com',
      timeZone: 'Europe/Berlin',
      marketingConsent: true,
      orderIds: ['o-100'],
    });
  });

  it('writes nothing new when the same event arrives three times', async () => {
    const event = parseCommerceEvent(purchaseEvent());
    await ingestCommerceEvent(event, deps);
    const second = await ingestCommerceEvent(event, deps);
    const third = await ingestCommerceEvent(event, deps);
    expect(second.touchpointsCreated).toEqual([]);
    expect(third.touchpointsCreated).toEqual([]);
    expect(deps.touchpoints.items.size).toBe(1);
  });

  it('plans the check-in out of the recipient quiet hours', async () => {
    // 19:30Z is 04:30 in Tokyo, inside the 21:00–08:00 quiet hours.
    await ingestCommerceEvent(
      parseCommerceEvent(purchaseEvent({ timeZone: 'Asia/Tokyo', purchasedAt: '2026-11-20T19:30:00Z' })),
      deps,
    );
    const [touchpoint] = deps.touchpoints.items.values();
    expect(touchpoint?.dueAt).toBe('2026-11-23T23:00:00.000Z'); // 08:00 on the 24th in Tokyo (UTC+9)
  });

  it('skips campaigns whose trigger the purchase does not meet', async () => {
    deps.campaigns = new StaticCampaigns([
      checkInCampaign({ trigger: { event: 'Purchase Completed', minimumTotal: 50 } }),
    ]);
    const result = await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ total: 49.99 })), deps);
    expect(result.touchpointsCreated).toEqual([]);
    expect(await deps.customers.get('c-1')).toBeDefined();
  });

  it('matches on item category and currency', async () => {
    deps.campaigns = new StaticCampaigns([
      checkInCampaign({ trigger: { event: 'Purchase Completed', categories: ['garden'], currencies: ['EUR'] } }),
    ]);
    const kitchen = await ingestCommerceEvent(parseCommerceEvent(purchaseEvent()), deps);
    const garden = await ingestCommerceEvent(
      parseCommerceEvent(
        purchaseEvent({ orderId: 'o-2', items: [{ sku: 'SP', name: 'Spade', quantity: 1, unitPrice: 9, category: 'garden' }] }),
      ),
      deps,
    );
    expect(kitchen.touchpointsCreated).toHaveLength(0);
    expect(garden.touchpointsCreated).toHaveLength(1);
  });

  it('does not let an older event overwrite a newer profile, but keeps its order', async () => {
    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ name: 'New Name' }, { time: '2026-11-21T10:00:00Z' })), deps);
    await ingestCommerceEvent(
      parseCommerceEvent(purchaseEvent({ orderId: 'o-old', name: 'Old Name' }, { id: 'evt-0', time: '2026-11-01T10:00:00Z' })),
      deps,
    );
    expect(await deps.customers.get('c-1')).toMatchObject({ name: 'New Name', orderIds: ['o-100', 'o-old'] });
  });

  it('records when the first purchase was, once: not on a profile without an order, kept by later and older events', async () => {
    const profile = { customerId: 'c-1', email: 'ada@example.com', name: 'Ada Lovelace', timeZone: 'Europe/Berlin', locale: 'en', marketingConsent: true };
    await deps.customers.recordProfile(profile, '2026-11-01T10:00:00.000Z');
    expect(await deps.customers.get('c-1')).not.toHaveProperty('firstPurchaseAt');

    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({}, { time: '2026-11-20T10:00:00Z' })), deps);
    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ orderId: 'o-2' }, { id: 'evt-2', time: '2026-11-25T10:00:00Z' })), deps);
    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ orderId: 'o-0' }, { id: 'evt-0', time: '2026-11-10T10:00:00Z' })), deps);

    expect(await deps.customers.get('c-1')).toMatchObject({
      orderIds: ['o-0', 'o-100', 'o-2'],
      firstPurchaseAt: '2026-11-20T10:00:00.000Z',
      createdAt: '2026-11-01T10:00:00.000Z',
    });
  });

  it('cancels the pending check-in of a refunded order and leaves other orders alone', async () => {
    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent()), deps);
    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ orderId: 'o-200' }, { id: 'evt-2' })), deps);
    const refund = parseCommerceEvent({
      ...purchaseEvent(),
      'detail-type': 'Order Refunded',
      detail: { orderId: 'o-100', customerId: 'c-1', refundedAt: '2026-11-21T09:00:00Z' },
    });

    const result = await ingestCommerceEvent(refund, deps);

    const cancelledId = touchpointIdFor('post-purchase-check-in', 'order:o-100');
    expect(result.touchpointsCancelled).toEqual([cancelledId]);
    expect((await deps.touchpoints.get(cancelledId))?.status).toBe('CANCELLED');
    expect((await deps.touchpoints.get(touchpointIdFor('post-purchase-check-in', 'order:o-200')))?.status).toBe('PENDING');
    // A repeated refund changes nothing.
    expect((await ingestCommerceEvent(refund, deps)).touchpointsCancelled).toEqual([]);
  });
});

describe('SES feedback', () => {
  const sesEvent = (detailType: string, detail: Record<string, unknown>) =>
    parseCommerceEvent({
      ...purchaseEvent(),
      id: 'ses-1',
      source: 'aws.ses',
      'detail-type': detailType,
      time: '2026-11-23T11:00:00Z',
      detail: { ...detail, mail: { messageId: 'm-1', tags: { touchpointId: ['tp-x'], customerId: ['c-1'] } } },
    });
  let deps: { customers: InMemoryCustomers; touchpoints: InMemoryTouchpoints; campaigns: StaticCampaigns };
  beforeEach(async () => {
    deps = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([checkInCampaign()]) };
    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent()), deps);
  });

  it('suppresses the address on a permanent bounce and cancels what is pending', async () => {
    const result = await ingestCommerceEvent(sesEvent('Email Bounced', { eventType: 'Bounce', bounce: { bounceType: 'Permanent', bounceSubType: 'NoEmail' } }), deps);
    expect(result).toEqual({
      action: 'recipient-suppressed',
      touchpointsCreated: [],
      touchpointsCancelled: [touchpointIdFor('post-purchase-check-in', 'order:o-100')],
    });
    expect(await deps.customers.get('c-1')).toMatchObject({
      suppressedAt: '2026-11-23T11:00:00.000Z',
      suppressionReason: 'permanent bounce (NoEmail)',
    });
  });

  it('suppresses on a complaint', async () => {
    await ingestCommerceEvent(sesEvent('Email Complaint Received', { eventType: 'Complaint', complaint: { complaintFeedbackType: 'abuse' } }), deps);
    expect((await deps.customers.get('c-1'))?.suppressionReason).toBe('complaint');
  });

  it('ignores a transient bounce', async () => {
    const result = await ingestCommerceEvent(sesEvent('Email Bounced', { eventType: 'Bounce', bounce: { bounceType: 'Transient' } }), deps);
    expect(result.action).toBe('feedback-ignored');
    expect((await deps.customers.get('c-1'))?.suppressedAt).toBeUndefined();
    expect([...deps.touchpoints.items.values()].map((t) => t.status)).toEqual(['PENDING']);
  });
});

describe('parseCommerceEvent', () => {
  it('names every bad field without echoing values', () => {
    const event = purchaseEvent({ email: 'not-an-address', timeZone: 'Mars/Olympus', items: [] });
    let error: unknown;
    try {
      parseCommerceEvent(event);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as InvalidEventError).issues).toEqual([
      'detail.email: must be an email address',
      'detail.timeZone: must be an IANA time zone, e.g. Europe/Berlin',
      'detail.items: must list at least one item',
    ]);
    expect((error as Error).message).toContain('"Purchase Completed" event evt-1 is invalid');
    expect((error as Error).message).not.toContain('not-an-address');
    expect((error as Error).name).toBe('InvalidEventError');
  });

  it('names a missing field with its path inside items', () => {
    const event = purchaseEvent({ items: [{ sku: 'A', name: 'A', quantity: 0, unitPrice: 1 }] });
    expect(() => parseCommerceEvent(event)).toThrow('detail.items[0].quantity');
  });

  it('rejects a detail-type it does not handle', () => {
    expect(() => parseCommerceEvent(purchaseEvent({}, { 'detail-type': 'Cart Abandoned' }))).toThrow(
      'detail-type: "Cart Abandoned" is not handled (expected one of: Purchase Completed, Order Refunded, Order Cancelled, Email Bounced, Email Complaint Received, Survey Answered)',
    );
  });
});
