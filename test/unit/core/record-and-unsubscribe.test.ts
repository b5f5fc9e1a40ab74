import { beforeEach, describe, expect, it } from 'vitest';
import { signLink } from '../../../core/links.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { outcomeRequestSchema, recordTouchpointOutcome } from '../../../core/use-cases/record-touchpoint-outcome.ts';
import { unsubscribeCustomer } from '../../../core/use-cases/unsubscribe-customer.ts';
import { InMemoryCustomers, InMemoryTouchpoints } from '../fakes.ts';

const tp = (id: string, overrides: Partial<Touchpoint> = {}): Touchpoint => ({
  touchpointId: id,
  campaignId: 'post-purchase-check-in',
  kind: 'check-in',
  customerId: 'c-1',
  dueAt: '2026-11-23T10:00:00.000Z',
  status: 'PENDING',
  generation: 0,
  context: {},
  createdAt: '2026-11-20T10:00:00.000Z',
  updatedAt: '2026-11-20T10:00:00.000Z',
  ...overrides,
});

describe('recordTouchpointOutcome', () => {
  let touchpoints: InMemoryTouchpoints;
  const now = '2026-11-23T10:00:05Z';
  beforeEach(async () => {
    touchpoints = new InMemoryTouchpoints();
    await touchpoints.create(tp('tp-1'));
    await touchpoints.claimForDispatch({ touchpointId: 'tp-1', generation: 0, from: 'PENDING', at: now, leaseUntil: '2026-11-23T10:15:00Z' });
  });

  it('records SENT once; a repeated call changes nothing', async () => {
    const request = { touchpointId: 'tp-1', generation: 0, now, outcome: 'SENT' as const, messageId: 'm-1' };
    expect(await recordTouchpointOutcome(request, { touchpoints })).toEqual({ outcome: 'SENT', recorded: true });
    expect(await recordTouchpointOutcome({ ...request, messageId: 'm-2' }, { touchpoints })).toEqual({ outcome: 'SENT', recorded: false });
    expect(await touchpoints.get('tp-1')).toMatchObject({ status: 'SENT', messageId: 'm-1', sentAt: '2026-11-23T10:00:05.000Z' });
  });

  it('reschedules into the next generation, back in the due index', async () => {
    await recordTouchpointOutcome(
      { touchpointId: 'tp-1', generation: 0, now, outcome: 'RESCHEDULED', reason: 'quiet hours', nextDueAt: '2026-11-24T07:00:00Z' },
      { touchpoints },
    );
    expect(await touchpoints.get('tp-1')).toMatchObject({ status: 'PENDING', generation: 1, dueAt: '2026-11-24T07:00:00.000Z', reason: 'quiet hours' });
    expect(await touchpoints.listDue(touchpoints.items.get('tp-1')!.dueShard!, '2026-11-24T07:00:00.000Z', 10)).toHaveLength(1);
  });

  it('keeps only the error name and a short cause of a failure', async () => {
    await recordTouchpointOutcome(
      { touchpointId: 'tp-1', generation: 0, now, outcome: 'FAILED', error: { Error: 'SesV2.MessageRejected', Cause: 'x'.repeat(1000) } },
      { touchpoints },
    );
    const stored = await touchpoints.get('tp-1');
    expect(stored?.status).toBe('FAILED');
    expect(stored?.reason).toBe(`SesV2.MessageRejected: ${'x'.repeat(300)}`);
  });

  it('does not overwrite a cancellation that won the race', async () => {
    await touchpoints.cancel('tp-1', 'order refunded', now);
    const result = await recordTouchpointOutcome({ touchpointId: 'tp-1', generation: 0, now, outcome: 'SKIPPED', reason: 'x' }, { touchpoints });
    expect(result.recorded).toBe(false);
    expect((await touchpoints.get('tp-1'))?.status).toBe('CANCELLED');
  });

  it('rejects an outcome request that lacks its fields, naming them', () => {
    const parsed = outcomeRequestSchema.safeParse({ touchpointId: 'tp-1', generation: 0, now, outcome: 'SENT' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['messageId']);
  });
});

describe('unsubscribeCustomer', () => {
  const secret = 'unsubscribe-secret';
  let deps: { customers: InMemoryCustomers; touchpoints: InMemoryTouchpoints; signingKey: () => Promise<string> };
  beforeEach(async () => {
    deps = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), signingKey: async () => secret };
    await deps.customers.recordPurchase(
      { customerId: 'c-1', email: 'a@example.com', name: 'A', timeZone: 'UTC', locale: 'en', marketingConsent: true },
      'o-1',
      '2026-11-20T10:00:00.000Z',
    );
    await deps.touchpoints.create(tp('tp-pending'));
    await deps.touchpoints.create(tp('tp-sent'));
    await deps.touchpoints.claimForDispatch({ touchpointId: 'tp-sent', generation: 0, from: 'PENDING', at: '2026-11-21T00:00:00Z', leaseUntil: '2026-11-21T00:15:00Z' });
    await deps.touchpoints.complete({ touchpointId: 'tp-sent', generation: 0, at: '2026-11-21T00:00:00Z', status: 'SENT', messageId: 'm' });
    await deps.touchpoints.create(tp('tp-other-customer', { customerId: 'c-2' }));
  });

  it('marks the customer and cancels only their pending touchpoints; repeating is harmless', async () => {
    const token = signLink(secret, 'unsubscribe', 'c-1');
    const first = await unsubscribeCustomer({ customerId: 'c-1', token, now: '2026-11-22T08:00:00Z' }, deps);
    const second = await unsubscribeCustomer({ customerId: 'c-1', token, now: '2026-11-22T09:00:00Z' }, deps);

    expect(first).toEqual({ alreadyUnsubscribed: false, touchpointsCancelled: 1 });
    expect(second).toEqual({ alreadyUnsubscribed: true, touchpointsCancelled: 0 });
    expect((await deps.customers.get('c-1'))?.unsubscribedAt).toBe('2026-11-22T08:00:00.000Z');
    expect((await deps.touchpoints.get('tp-pending'))?.status).toBe('CANCELLED');
    expect((await deps.touchpoints.get('tp-sent'))?.status).toBe('SENT');
    expect((await deps.touchpoints.get('tp-other-customer'))?.status).toBe('PENDING');
  });

  it('changes nothing for a token of another customer', async () => {
    const token = signLink(secret, 'unsubscribe', 'c-2');
    await expect(unsubscribeCustomer({ customerId: 'c-1', token, now: '2026-11-22T08:00:00Z' }, deps)).rejects.toMatchObject({
      name: 'InvalidLinkTokenError',
    });
    expect((await deps.customers.get('c-1'))?.unsubscribedAt).toBeUndefined();
    expect((await deps.touchpoints.get('tp-pending'))?.status).toBe('PENDING');
  });
});
