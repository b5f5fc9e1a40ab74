import { beforeEach, describe, expect, it } from 'vitest';
import { signLink } from '../../../core/links.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { outcomeRequestSchema, recordTouchpointOutcome } from '../../../core/use-cases/record-touchpoint-outcome.ts';
import { unsubscribeCustomer } from '../../../core/use-cases/unsubscribe-customer.ts';
import { InMemoryCustomers, InMemoryTouchpoints, pendingTouchpoint } from '../fakes.ts';
import { InMemoryMetricsCounters, InMemoryPendingCounts } from '../metrics/fake-counters.ts';
import { FaultyPendingCounts, Faults, SimulatedCrash } from '../surveys/fakes.ts';

const tp = pendingTouchpoint;

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

describe('recordTouchpointOutcome: survey sends in the response rate', () => {
  const SURVEY = 'tp-survey';
  const REMINDER = 'tp-reminder';
  // Just after midnight in Berlin, still the previous day in UTC: the bucket is the UTC day of sentAt.
  const now = '2026-11-24T00:30:00+01:00';
  const survey = (id: string, overrides: Partial<Touchpoint> = {}) =>
    tp(id, { campaignId: 'nps-after-purchase', kind: 'survey', context: { orderId: 'o-1' }, ...overrides });
  const sent = (touchpointId: string, survey: { surveyId: string; reminder: boolean; scale?: 'nps' | 'csat' | 'ces'; reminderAfter?: string }) => ({
    touchpointId,
    generation: 0,
    now,
    outcome: 'SENT' as const,
    messageId: `m-${touchpointId}`,
    survey,
  });
  let pending: InMemoryPendingCounts;
  let counters: InMemoryMetricsCounters;
  let touchpoints: InMemoryTouchpoints;
  let deps: { touchpoints: InMemoryTouchpoints; metrics: { pending: InMemoryPendingCounts; counters: InMemoryMetricsCounters } };

  async function dispatched(touchpoint: Touchpoint) {
    await touchpoints.create(touchpoint);
    await touchpoints.claimForDispatch({ touchpointId: touchpoint.touchpointId, generation: 0, from: 'PENDING', at: now, leaseUntil: '2026-11-24T10:15:00Z' });
  }

  function use(store: InMemoryPendingCounts) {
    pending = store;
    counters = new InMemoryMetricsCounters();
    touchpoints = new InMemoryTouchpoints(4, pending);
    deps = { touchpoints, metrics: { pending, counters } };
  }

  beforeEach(() => use(new InMemoryPendingCounts()));

  it('counts a survey send once, in the bucket of the UTC day it was sent, and keeps the scale on the touchpoint', async () => {
    await dispatched(survey(SURVEY));
    expect(await recordTouchpointOutcome(sent(SURVEY, { surveyId: SURVEY, reminder: false, scale: 'nps' }), deps)).toEqual({ outcome: 'SENT', recorded: true });
    expect(counters.sends()).toEqual([{ campaignId: 'nps-after-purchase', day: '2026-11-23', kind: 'nps', sent: 1, answered: 0 }]);
    expect(await touchpoints.get(SURVEY)).toMatchObject({ status: 'SENT', sentAt: '2026-11-23T23:30:00.000Z', surveyKind: 'nps' });
    // Settled: nothing left pending on the touchpoint, no marker left on the record.
    expect(pending.entities()).toEqual([]);
    expect(counters.markers()).toEqual([]);
  });

  it('counts a repeated SENT call (a retry of the task) once', async () => {
    await dispatched(survey(SURVEY));
    const request = sent(SURVEY, { surveyId: SURVEY, reminder: false, scale: 'csat' });
    await recordTouchpointOutcome(request, deps);
    expect(await recordTouchpointOutcome(request, deps)).toEqual({ outcome: 'SENT', recorded: false });
    expect(counters.sends()).toEqual([{ campaignId: 'nps-after-purchase', day: '2026-11-23', kind: 'csat', sent: 1, answered: 0 }]);
  });

  it('counts nothing for a reminder: it answers its survey, it is not another send', async () => {
    await dispatched(survey(REMINDER, { context: { orderId: 'o-1', parentTouchpointId: SURVEY } }));
    expect(await recordTouchpointOutcome(sent(REMINDER, { surveyId: SURVEY, reminder: true, scale: 'nps' }), deps)).toEqual({ outcome: 'SENT', recorded: true });
    expect(counters.sends()).toEqual([]);
    expect(counters.applied).toEqual([]);
    expect((await touchpoints.get(REMINDER))?.surveyKind).toBeUndefined();
  });

  it('counts nothing for a send without a survey (a check-in) or one from an execution that carried no scale yet', async () => {
    await dispatched(tp('tp-1'));
    await recordTouchpointOutcome({ touchpointId: 'tp-1', generation: 0, now, outcome: 'SENT', messageId: 'm-1' }, deps);
    await dispatched(survey(SURVEY));
    expect(outcomeRequestSchema.safeParse(sent(SURVEY, { surveyId: SURVEY, reminder: false })).success).toBe(true);
    expect(await recordTouchpointOutcome(sent(SURVEY, { surveyId: SURVEY, reminder: false }), deps)).toEqual({ outcome: 'SENT', recorded: true });
    expect(counters.sends()).toEqual([]);
    expect((await touchpoints.get(SURVEY))?.surveyKind).toBeUndefined();
  });

  it('a retry finishes a count whose settling crashed right after the SENT write: counted once, not 0 or 2', async () => {
    const faults = new Faults();
    use(new FaultyPendingCounts(faults));
    await dispatched(survey(SURVEY));
    const request = sent(SURVEY, { surveyId: SURVEY, reminder: false, scale: 'nps', reminderAfter: 'P3D' });
    faults.crash('pendingCounts.claim', 'before');
    await expect(recordTouchpointOutcome(request, deps)).rejects.toThrow(SimulatedCrash);
    expect((await touchpoints.get(SURVEY))?.status).toBe('SENT');
    expect(counters.sends()).toEqual([]);
    expect(pending.entities()).toEqual([SURVEY]);

    expect(await recordTouchpointOutcome(request, deps)).toEqual({ outcome: 'SENT', recorded: false });
    expect(counters.sends()).toEqual([{ campaignId: 'nps-after-purchase', day: '2026-11-23', kind: 'nps', sent: 1, answered: 0 }]);
    expect(pending.entities()).toEqual([]);
    // The retry also planned the reminder the crashed call had planned already (same id: one reminder).
    expect([...touchpoints.items.values()].filter((t) => t.context.parentTouchpointId === SURVEY)).toHaveLength(1);
  });

  it('a crash after the count was applied leaves it to the next settler after the lease, which does not count it again', async () => {
    const faults = new Faults();
    use(new FaultyPendingCounts(faults));
    await dispatched(survey(SURVEY));
    const request = sent(SURVEY, { surveyId: SURVEY, reminder: false, scale: 'nps' });
    faults.crash('pendingCounts.complete', 'before');
    await expect(recordTouchpointOutcome(request, deps)).rejects.toThrow(SimulatedCrash);
    expect(counters.sends()).toEqual([{ campaignId: 'nps-after-purchase', day: '2026-11-23', kind: 'nps', sent: 1, answered: 0 }]);
    // A retry within the lease finds it held and leaves it; one after the lease settles it without a second count.
    await recordTouchpointOutcome(request, deps);
    expect(pending.entities()).toEqual([SURVEY]);
    await recordTouchpointOutcome({ ...request, now: '2026-11-24T00:00:00Z' }, deps);
    expect(counters.sends()).toEqual([{ campaignId: 'nps-after-purchase', day: '2026-11-23', kind: 'nps', sent: 1, answered: 0 }]);
    expect(counters.applied.map((a) => a.result)).toEqual(['applied', 'already']);
    expect(pending.entities()).toEqual([]);
    expect(counters.markers()).toEqual([]);
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
