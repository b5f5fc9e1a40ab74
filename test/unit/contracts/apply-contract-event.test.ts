import { beforeEach, describe, expect, it } from 'vitest';
import { parseContractEvent } from '../../../core/contracts/contract-events.ts';
import { reminderTouchpointId } from '../../../core/contracts/reminders.ts';
import { addCalendarDays, shiftInstant } from '../../../core/contracts/renewal-offsets.ts';
import { applyContractEvent, recordContractEnds, runRenewalSweep } from '../../../core/contracts/sweep-renewals.ts';
import { InMemoryTouchpoints } from '../fakes.ts';
import {
  InMemoryContractCustomers,
  InMemoryContracts,
  InMemorySweepCursors,
  PROFILE,
  TERMS,
  contractEnvelope,
  contractsWithMetrics,
  startedDetail,
} from './fakes.ts';

const CAMPAIGN = { campaignId: 'contract-renewal', offsetsDays: [60, 30, 7] };
const id = (endDate: string, offset: number) => reminderTouchpointId('contract-renewal', 'ctr-1', endDate, offset);

const event = (type: string, detail: Record<string, unknown>, envelope: Record<string, unknown> = {}) =>
  parseContractEvent(contractEnvelope(type, { contractId: 'ctr-1', customerId: 'cust-1', ...detail }, envelope));

describe('applyContractEvent', () => {
  let deps: {
    contracts: InMemoryContracts;
    touchpoints: InMemoryTouchpoints;
    customers: InMemoryContractCustomers;
    metrics: ReturnType<typeof contractsWithMetrics>['metrics'];
  };
  let cursors: InMemorySweepCursors;
  beforeEach(() => {
    deps = { ...contractsWithMetrics(), touchpoints: new InMemoryTouchpoints(), customers: new InMemoryContractCustomers() };
    cursors = new InMemorySweepCursors();
  });

  /** Daily sweeps at 00:05Z from `from` to `to` (inclusive). */
  async function sweepDaily(from: string, to: string) {
    for (let date = from; date <= to; date = addCalendarDays(date, 1)) {
      await runRenewalSweep(`${date}T00:05:00.000Z`, CAMPAIGN, { ...deps, cursors });
    }
  }

  async function markSent(touchpointId: string, at: string) {
    await deps.touchpoints.claimForDispatch({ touchpointId, generation: 0, at, from: 'PENDING', leaseUntil: shiftInstant(at, 'PT15M') });
    await deps.touchpoints.complete({ touchpointId, generation: 0, at, status: 'SENT', messageId: 'm-1' });
  }

  it('creates the contract from Contract Started and records the customer profile', async () => {
    // Act
    const result = await applyContractEvent(event('Contract Started', startedDetail()), deps);

    // Assess
    expect(result).toEqual({ action: 'contract-created', contractId: 'ctr-1', touchpointsCreated: [], touchpointsCancelled: [] });
    expect(await deps.contracts.get('ctr-1')).toEqual({
      ...TERMS,
      customerId: 'cust-1',
      timeZone: 'Europe/Berlin',
      status: 'ACTIVE',
      endsAt: '2027-03-27T23:00:00.000Z', // midnight CET starting the last day
      renewals: 0,
      version: '2026-03-29T08:00:00.000Z',
      createdAt: '2026-03-29T08:00:00.000Z',
      updatedAt: '2026-03-29T08:00:00.000Z',
    });
    expect(await deps.customers.get('cust-1')).toMatchObject({ ...PROFILE, orderIds: [], profileUpdatedAt: '2026-03-29T08:00:00.000Z' });
  });

  it('changes nothing when the same Contract Started arrives again', async () => {
    const started = event('Contract Started', startedDetail());
    await applyContractEvent(started, deps);
    const before = await deps.contracts.get('ctr-1');

    const again = await applyContractEvent(started, deps);

    expect(again.action).toBe('stale-event');
    expect(await deps.contracts.get('ctr-1')).toEqual(before);
  });

  it('applies Contract Updated only when it is newer than what the contract has seen', async () => {
    await applyContractEvent(event('Contract Started', startedDetail()), deps);

    const newer = await applyContractEvent(event('Contract Updated', { plan: 'team-annual', value: 3000, occurredAt: '2026-06-02T00:00:00Z' }), deps);
    const older = await applyContractEvent(event('Contract Updated', { plan: 'basic-annual', occurredAt: '2026-06-01T00:00:00Z' }), deps);

    expect(newer.action).toBe('contract-updated');
    expect(older.action).toBe('stale-event');
    expect(await deps.contracts.get('ctr-1')).toMatchObject({ plan: 'team-annual', value: 3000, version: '2026-06-02T00:00:00.000Z' });
  });

  it('reports a Contract Updated for a contract it does not know, and ignores one that would end before the start', async () => {
    expect((await applyContractEvent(event('Contract Updated', { plan: 'x', occurredAt: '2026-06-01T00:00:00Z' }), deps)).action).toBe('unknown-contract');

    await applyContractEvent(event('Contract Started', startedDetail()), deps);
    const backwards = await applyContractEvent(event('Contract Updated', { endDate: '2026-01-01', occurredAt: '2026-06-01T00:00:00Z' }), deps);

    expect(backwards).toMatchObject({ action: 'ignored', reason: 'endDate 2026-01-01 would be before startDate 2026-03-29' });
    expect((await deps.contracts.get('ctr-1'))?.endDate).toBe('2027-03-28');
  });

  it('on renewal, cancels the remaining reminders, records the outcome, and later plans the new term', async () => {
    // Prepare: the 60- and 30-day reminders are planned; the 60-day one was sent.
    await applyContractEvent(event('Contract Started', startedDetail()), deps);
    await sweepDaily('2027-01-20', '2027-03-05');
    await markSent(id('2027-03-28', 60), '2027-01-27T08:00:00.000Z');

    // Act
    const result = await applyContractEvent(event('Contract Renewed', { endDate: '2028-03-28', occurredAt: '2027-03-05T10:00:00Z' }), deps);

    // Assess
    expect(result).toEqual({
      action: 'contract-renewed',
      contractId: 'ctr-1',
      touchpointsCreated: [],
      touchpointsCancelled: [id('2027-03-28', 30)],
    });
    expect(await deps.contracts.get('ctr-1')).toMatchObject({
      status: 'RENEWED',
      endDate: '2028-03-28',
      endsAt: '2028-03-27T22:00:00.000Z', // 2028's DST change is on 26 March: midnight CEST
      renewals: 1,
      outcome: { result: 'RENEWED', at: '2027-03-05T10:00:00.000Z', remindersSent: 1, endDate: '2027-03-28' },
      version: '2027-03-05T10:00:00.000Z',
    });
    expect(await deps.touchpoints.get(id('2027-03-28', 30))).toMatchObject({ status: 'CANCELLED', reason: 'contract renewed' });
    expect((await deps.touchpoints.get(id('2027-03-28', 60)))?.status).toBe('SENT');

    // Sweeping on: no 7-day reminder for the old end date; the new term's reminders come a year later.
    await sweepDaily('2027-03-06', '2027-04-05');
    expect(deps.touchpoints.items.has(id('2027-03-28', 7))).toBe(false);
    await sweepDaily('2028-01-25', '2028-01-29');
    expect((await deps.touchpoints.get(id('2028-03-28', 60)))?.dueAt).toBe('2028-01-28T08:00:00.000Z');
  });

  it('counts a renewal once when the event is delivered twice', async () => {
    await applyContractEvent(event('Contract Started', startedDetail()), deps);
    const renewed = event('Contract Renewed', { endDate: '2028-03-28', occurredAt: '2027-03-05T10:00:00Z' });

    await applyContractEvent(renewed, deps);
    const again = await applyContractEvent(renewed, deps);

    expect(again.action).toBe('stale-event');
    expect((await deps.contracts.get('ctr-1'))?.renewals).toBe(1);
  });

  it("counts a renewal once on the customer's loyalty profile when the event is delivered twice", async () => {
    await applyContractEvent(event('Contract Started', startedDetail()), deps);
    const renewed = event('Contract Renewed', { endDate: '2028-03-28', occurredAt: '2027-03-05T10:00:00Z' });

    await applyContractEvent(renewed, deps);
    await applyContractEvent(renewed, deps);

    expect((await deps.customers.get('cust-1'))?.renewals).toBe(1);
    expect(deps.customers.renewalKeys.get('cust-1')).toEqual(new Set(['ctr-1#2028-03-28']));
    // The next renewal (a year on) counts; an older renewal arriving late changes nothing.
    await applyContractEvent(event('Contract Renewed', { endDate: '2029-03-28', occurredAt: '2028-03-01T10:00:00Z' }), deps);
    await applyContractEvent(event('Contract Renewed', { endDate: '2028-06-30', occurredAt: '2027-02-01T10:00:00Z' }), deps);
    expect((await deps.customers.get('cust-1'))?.renewals).toBe(2);
  });

  it('counts the renewal when the event is retried after the count failed the first time', async () => {
    await applyContractEvent(event('Contract Started', startedDetail()), deps);
    const renewed = event('Contract Renewed', { endDate: '2028-03-28', occurredAt: '2027-03-05T10:00:00Z' });
    const record = deps.customers.recordRenewal.bind(deps.customers);
    deps.customers.recordRenewal = async () => {
      throw new Error('throttled');
    };
    await expect(applyContractEvent(renewed, deps)).rejects.toThrow('throttled');
    expect((await deps.contracts.get('ctr-1'))?.status).toBe('RENEWED');
    deps.customers.recordRenewal = record;

    const retry = await applyContractEvent(renewed, deps);

    expect(retry.action).toBe('stale-event');
    expect((await deps.customers.get('cust-1'))?.renewals).toBe(1);
    expect((await deps.contracts.get('ctr-1'))?.renewals).toBe(1);
  });

  it('on cancellation, cancels every pending reminder, records churn, and takes the contract out of the sweep', async () => {
    await applyContractEvent(event('Contract Started', startedDetail()), deps);
    await sweepDaily('2027-01-20', '2027-03-01');

    const result = await applyContractEvent(event('Contract Cancelled', { reason: 'moving to a competitor', occurredAt: '2027-03-02T10:00:00Z' }), deps);

    expect(result).toMatchObject({ action: 'contract-cancelled', touchpointsCancelled: [id('2027-03-28', 60), id('2027-03-28', 30)] });
    expect(await deps.contracts.get('ctr-1')).toMatchObject({
      status: 'CANCELLED',
      cancellationReason: 'moving to a competitor',
      outcome: { result: 'CHURNED', at: '2027-03-02T10:00:00.000Z', remindersSent: 0, endDate: '2027-03-28' },
    });
    const reads = deps.contracts.indexReads;
    await sweepDaily('2027-03-02', '2027-03-28');
    expect(deps.contracts.indexReads).toBe(reads);
    expect(deps.touchpoints.items.has(id('2027-03-28', 7))).toBe(false);
  });

  it('lets a late renewal win over the churn recorded when the end date passed', async () => {
    await applyContractEvent(event('Contract Started', startedDetail()), deps);
    await recordContractEnds('2027-03-30T08:00:00.000Z', deps);
    expect((await deps.contracts.get('ctr-1'))?.status).toBe('ENDED');

    // Renewed on the last day, delivered two days late.
    const result = await applyContractEvent(
      event('Contract Renewed', { endDate: '2028-03-28', occurredAt: '2027-03-28T15:00:00Z' }, { time: '2027-03-30T09:00:00Z' }),
      deps,
    );

    expect(result.action).toBe('contract-renewed');
    expect(await deps.contracts.get('ctr-1')).toMatchObject({ status: 'RENEWED', renewals: 1, outcome: { result: 'RENEWED', endDate: '2027-03-28' } });
  });

  it('plans at once a reminder whose day a sweep has already passed over, if it is still ahead', async () => {
    // Prepare: sweeps have planned up to 2027-03-22T03:05Z. The contract's 7-day reminder day (21 March) is inside.
    cursors.items.set('contract-renewal', '2027-03-22T03:05:00.000Z');
    const planning = { campaigns: [CAMPAIGN], cursors };

    // Act: started on 20 March, 8 days before its end; the 60- and 30-day reminders are already in the past.
    const result = await applyContractEvent(
      event('Contract Started', startedDetail({ startDate: '2027-01-01', occurredAt: '2027-03-20T12:00:00Z' })),
      { ...deps, planning },
    );

    // Assess
    expect(result.touchpointsCreated).toEqual([id('2027-03-28', 7)]);
    expect((await deps.touchpoints.get(id('2027-03-28', 7)))?.dueAt).toBe('2027-03-21T08:00:00.000Z');
    expect(deps.touchpoints.items.size).toBe(1);
  });

  it('moves the reminders with the end date: old ones cancelled, new ones planned when already swept over', async () => {
    // Prepare: the contract ends 15 April; the sweeps have planned its 30-day reminder (16 March).
    await applyContractEvent(event('Contract Started', startedDetail({ endDate: '2027-04-15' })), deps);
    await sweepDaily('2027-03-10', '2027-03-20');
    expect(deps.touchpoints.items.has(id('2027-04-15', 30))).toBe(true);

    // Act: on 20 March the end is brought forward to 28 March, whose 7-day reminder day (21 March) the sweeps have passed.
    const result = await applyContractEvent(
      event('Contract Updated', { endDate: '2027-03-28', occurredAt: '2027-03-20T12:00:00Z' }),
      { ...deps, planning: { campaigns: [CAMPAIGN], cursors } },
    );

    // Assess: the 60- and 30-day reminders of the new date are in the past and are not sent.
    expect(result).toMatchObject({ action: 'contract-updated', touchpointsCancelled: [id('2027-04-15', 30)], touchpointsCreated: [id('2027-03-28', 7)] });
    expect((await deps.touchpoints.get(id('2027-03-28', 7)))?.dueAt).toBe('2027-03-21T08:00:00.000Z');
    expect(await deps.touchpoints.get(id('2027-04-15', 30))).toMatchObject({ status: 'CANCELLED', reason: 'contract end date changed' });
    expect(await deps.contracts.get('ctr-1')).toMatchObject({ endDate: '2027-03-28', endsAt: '2027-03-27T23:00:00.000Z' });
  });
});
