import { beforeEach, describe, expect, it } from 'vitest';
import type { Touchpoint } from '../../../core/model.ts';
import { checkEligibility } from '../../../core/use-cases/check-eligibility.ts';
import { InMemoryAnswers, InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, checkInCampaign, StaticContracts } from '../fakes.ts';

const base: Touchpoint = {
  touchpointId: 'tp-1',
  campaignId: 'post-purchase-check-in',
  kind: 'check-in',
  customerId: 'c-1',
  orderId: 'o-1',
  dueAt: '2026-11-23T10:00:00.000Z',
  status: 'PENDING',
  generation: 0,
  context: { orderId: 'o-1', items: [{ sku: 'T', name: 'Teapot', quantity: 1, unitPrice: 30 }] },
  createdAt: '2026-11-20T10:00:00.000Z',
  updatedAt: '2026-11-20T10:00:00.000Z',
};

describe('checkEligibility', () => {
  let deps: { customers: InMemoryCustomers; touchpoints: InMemoryTouchpoints; campaigns: StaticCampaigns; answers: InMemoryAnswers; contracts: StaticContracts };
  const request = { touchpointId: 'tp-1', generation: 0, now: '2026-11-23T10:00:00Z' };

  beforeEach(async () => {
    deps = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([checkInCampaign()]), answers: new InMemoryAnswers(), contracts: new StaticContracts() };
    await deps.customers.recordPurchase(
      { customerId: 'c-1', email: 'ada@example.com', name: 'Ada', timeZone: 'Europe/Berlin', locale: 'en', marketingConsent: true },
      'o-1',
      '2026-11-20T10:00:00.000Z',
    );
    await deps.touchpoints.create(base);
    await deps.touchpoints.claimForDispatch({ touchpointId: 'tp-1', generation: 0, from: 'PENDING', at: request.now, leaseUntil: '2026-11-23T10:15:00.000Z' });
  });

  it('sends to a consenting customer outside quiet hours, with what the render step needs', async () => {
    expect(await checkEligibility(request, deps)).toEqual({
      decision: 'SEND',
      message: {
        campaignId: 'post-purchase-check-in',
        customerId: 'c-1',
        email: 'ada@example.com',
        name: 'Ada',
        locale: 'en',
        context: base.context,
      },
    });
  });

  it('reschedules to 08:00 local when it is quiet hours in the recipient zone', async () => {
    // 22:30 in Berlin (UTC+1 in November).
    const decision = await checkEligibility({ ...request, now: '2026-11-23T21:30:00Z' }, deps);
    expect(decision).toEqual({ decision: 'RESCHEDULE', reason: 'quiet hours', nextDueAt: '2026-11-24T07:00:00.000Z' });
  });

  it.each([
    ['unsubscribed', (c: InMemoryCustomers) => c.markUnsubscribed('c-1', '2026-11-22T00:00:00.000Z'), 'customer unsubscribed'],
    ['without consent', async (c: InMemoryCustomers) => void (c.items.get('c-1')!.marketingConsent = false), 'no marketing consent'],
    [
      'suppressed',
      async (c: InMemoryCustomers) => void Object.assign(c.items.get('c-1')!, { suppressedAt: '2026-11-22T00:00:00Z', suppressionReason: 'hard bounce' }),
      'address suppressed (hard bounce)',
    ],
  ])('skips a customer who is %s', async (_, change, reason) => {
    await change(deps.customers);
    expect(await checkEligibility(request, deps)).toEqual({ decision: 'SKIP', reason });
  });

  it('skips when the frequency cap across campaigns is reached', async () => {
    deps.campaigns = new StaticCampaigns([checkInCampaign({ frequencyCap: { maxEmails: 1, per: 'P7D' } })]);
    await deps.touchpoints.create({ ...base, touchpointId: 'tp-old', campaignId: 'other', dueAt: '2026-11-20T10:00:00.000Z' });
    await deps.touchpoints.claimForDispatch({ touchpointId: 'tp-old', generation: 0, from: 'PENDING', at: '2026-11-20T10:00:00.000Z', leaseUntil: '2026-11-20T10:15:00.000Z' });
    await deps.touchpoints.complete({ touchpointId: 'tp-old', generation: 0, at: '2026-11-20T10:00:00.000Z', status: 'SENT', messageId: 'm-1' });

    expect(await checkEligibility(request, deps)).toEqual({ decision: 'SKIP', reason: 'frequency cap reached' });
    // Eight days later the earlier email is outside the window.
    expect((await checkEligibility({ ...request, now: '2026-11-28T10:00:00Z' }, deps)).decision).toBe('SEND');
  });

  it('is STALE when the touchpoint was cancelled after dispatch, or the generation moved on', async () => {
    expect(await checkEligibility({ ...request, generation: 1 }, deps)).toEqual({
      decision: 'STALE',
      reason: 'touchpoint is DISPATCHED (generation 0)',
    });
    await deps.touchpoints.cancel('tp-1', 'order refunded', request.now);
    expect((await checkEligibility(request, deps)).decision).toBe('STALE');
    expect((await checkEligibility({ ...request, touchpointId: 'nope' }, deps)).decision).toBe('STALE');
  });

  it('skips when the campaign was disabled or removed, or the customer is unknown', async () => {
    deps.campaigns = new StaticCampaigns([checkInCampaign({ enabled: false })]);
    expect(await checkEligibility(request, deps)).toEqual({ decision: 'SKIP', reason: 'campaign is disabled or no longer exists' });
    deps.campaigns = new StaticCampaigns([checkInCampaign()]);
    deps.customers.items.clear();
    expect(await checkEligibility(request, deps)).toEqual({ decision: 'SKIP', reason: 'customer does not exist' });
  });
});
