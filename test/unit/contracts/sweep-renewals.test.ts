import { beforeEach, describe, expect, it } from 'vitest';
import type { Contract } from '../../../core/contracts/model.ts';
import { reminderTouchpointId } from '../../../core/contracts/reminders.ts';
import { addCalendarDays, reminderDueAt, shiftInstant, startOfLocalDay } from '../../../core/contracts/renewal-offsets.ts';
import { recordContractEnds, runRenewalSweep, sweepRenewals } from '../../../core/contracts/sweep-renewals.ts';
import { InvalidInputError } from '../../../core/errors.ts';
import { touchpointIdFor } from '../../../core/touchpoint-id.ts';
import { InMemoryTouchpoints } from '../fakes.ts';
import { InMemoryContractCustomers, InMemoryContracts, InMemorySweepCursors, contract, contractsWithMetrics } from './fakes.ts';

const CAMPAIGN = { campaignId: 'contract-renewal', offsetsDays: [60, 30, 7] };

const running = (contractId: string, endDate: string, timeZone: string, overrides: Partial<Contract> = {}): Contract =>
  contract({ contractId, endDate, timeZone, endsAt: startOfLocalDay(endDate, timeZone), ...overrides });

/** The `now` of the daily sweep on `date` (00:05 UTC). */
const sweepAt = (date: string) => `${date}T00:05:00.000Z`;

/** Marks a planned touchpoint as sent, the way dispatch and the workflow do. */
async function markSent(touchpoints: InMemoryTouchpoints, touchpointId: string, at: string) {
  await touchpoints.claimForDispatch({ touchpointId, generation: 0, at, from: 'PENDING', leaseUntil: shiftInstant(at, 'PT15M') });
  await touchpoints.complete({ touchpointId, generation: 0, at, status: 'SENT', messageId: `m-${touchpointId}` });
}

describe('sweepRenewals', () => {
  let contracts: InMemoryContracts;
  let touchpoints: InMemoryTouchpoints;
  beforeEach(() => {
    contracts = new InMemoryContracts();
    touchpoints = new InMemoryTouchpoints();
  });

  it('plans one reminder per contract × offset, under the deterministic id, at 09:00 in the customer zone', async () => {
    // Prepare: both end on 2027-03-28; Berlin's 7-day reminder day starts before Los Angeles'.
    contracts.put(running('ctr-ber', '2027-03-28', 'Europe/Berlin', { customerId: 'cust-ber', autoRenew: true }));
    contracts.put(running('ctr-lax', '2027-03-28', 'America/Los_Angeles', { customerId: 'cust-lax' }));

    // Act
    const first = await sweepRenewals({ campaign: CAMPAIGN, since: sweepAt('2027-03-19'), now: sweepAt('2027-03-20') }, { contracts, touchpoints });
    const second = await sweepRenewals({ campaign: CAMPAIGN, since: sweepAt('2027-03-20'), now: sweepAt('2027-03-21') }, { contracts, touchpoints });

    // Assess
    expect(first).toEqual({
      window: { after: '2027-03-20T03:05:00.000Z', upTo: '2027-03-21T03:05:00.000Z' },
      contractsRead: 1,
      touchpointsCreated: 1,
      alreadyPlanned: 0,
      skippedEnded: 0,
      skippedBeforeStart: 0,
    });
    const berlinId = touchpointIdFor('contract-renewal', 'contract:ctr-ber:2027-03-28:7');
    expect(await touchpoints.get(berlinId)).toEqual({
      touchpointId: berlinId,
      campaignId: 'contract-renewal',
      kind: 'renewal-reminder',
      customerId: 'cust-ber',
      dueAt: '2027-03-21T08:00:00.000Z', // 09:00 CET
      status: 'PENDING',
      generation: 0,
      context: {
        contract: { contractId: 'ctr-ber', plan: 'pro-annual', value: 1200, currency: 'EUR', endDate: '2027-03-28', autoRenew: true, offsetDays: 7 },
      },
      createdAt: '2027-03-20T00:05:00.000Z',
      updatedAt: '2027-03-20T00:05:00.000Z',
    });
    expect(second.touchpointsCreated).toBe(1);
    expect((await touchpoints.get(touchpointIdFor('contract-renewal', 'contract:ctr-lax:2027-03-28:7')))?.dueAt).toBe('2027-03-21T16:00:00.000Z'); // 09:00 PDT
  });

  it('writes nothing new when the same sweep runs twice', async () => {
    for (let i = 0; i < 20; i += 1) contracts.put(running(`ctr-${i}`, addCalendarDays('2027-04-20', i % 3), 'Europe/Berlin'));
    const input = { campaign: CAMPAIGN, since: sweepAt('2027-03-19'), now: sweepAt('2027-03-22') };

    const first = await sweepRenewals(input, { contracts, touchpoints });
    const second = await sweepRenewals(input, { contracts, touchpoints });

    expect(first.touchpointsCreated).toBe(20);
    expect(second).toMatchObject({ contractsRead: 20, touchpointsCreated: 0, alreadyPlanned: 20 });
    expect(touchpoints.items.size).toBe(20);
  });

  it('reads only the contracts with a reminder in the window: not the others, not cancelled or ended ones', async () => {
    // Prepare: 730 running contracts, one per day over two years, in five zones; cancelled and ended ones on every day too.
    const zones = ['Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Sydney', 'Asia/Kolkata'];
    for (let day = 0; day < 730; day += 1) {
      const endDate = addCalendarDays('2027-01-01', day);
      const zone = zones[day % zones.length]!;
      contracts.put(running(`run-${day}`, endDate, zone));
      contracts.put(running(`can-${day}`, endDate, zone, { status: 'CANCELLED' }));
      contracts.put(running(`end-${day}`, endDate, zone, { status: 'ENDED' }));
    }

    // Act: a week of daily sweeps.
    const results = [];
    for (let day = 0; day < 7; day += 1) {
      const now = sweepAt(addCalendarDays('2027-06-01', day));
      results.push(await sweepRenewals({ campaign: CAMPAIGN, since: shiftInstant(now, 'P1D', -1), now }, { contracts, touchpoints }));
    }

    // Assess: what was planned is every running contract with a reminder day in the week (by brute force).
    const week = { after: results[0]!.window.after, upTo: results.at(-1)!.window.upTo };
    const expected = [...contracts.items.values()].filter((c) => c.status === 'ACTIVE').flatMap((c) =>
      CAMPAIGN.offsetsDays.filter((offset) => {
        const dayStart = shiftInstant(c.endsAt, `P${offset}D`, -1);
        return dayStart > week.after && dayStart <= week.upTo;
      }),
    ).length;
    const planned = results.reduce((sum, r) => sum + r.touchpointsCreated + r.alreadyPlanned, 0);
    expect(planned).toBe(expected);
    expect(planned).toBeGreaterThanOrEqual(7 * 3);
    expect(contracts.indexReads).toBeLessThanOrEqual(1.1 * planned);
    expect(contracts.indexReads).toBe(planned);
    expect([...touchpoints.items.values()].every((t) => t.context.contract?.contractId.startsWith('run-'))).toBe(true);
  });

  it('catches up after three missed days: the same reminders as daily sweeps, the overdue ones due at once', async () => {
    // Prepare: two identical books of contracts, one swept every day, one with 10–12 February missed.
    const zones = ['Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Sydney', 'Asia/Kolkata'];
    const book = Array.from({ length: 300 }, (_, i) => running(`ctr-${i}`, addCalendarDays('2027-03-01', i % 60), zones[i % zones.length]!));
    const campaign = { campaignId: 'contract-renewal', offsetsDays: [30, 7, 1] };
    const daily = { contracts: new InMemoryContracts(), touchpoints: new InMemoryTouchpoints(), cursors: new InMemorySweepCursors() };
    const missed = { contracts: new InMemoryContracts(), touchpoints: new InMemoryTouchpoints(), cursors: new InMemorySweepCursors() };
    for (const c of book) {
      daily.contracts.put(c);
      missed.contracts.put(c);
    }
    const skipped = ['2027-02-10', '2027-02-11', '2027-02-12'];

    // Act
    let catchUp;
    let created = 0;
    for (let day = 0; day < 40; day += 1) {
      const date = addCalendarDays('2027-02-01', day);
      await runRenewalSweep(sweepAt(date), campaign, daily);
      if (skipped.includes(date)) continue;
      const result = await runRenewalSweep(sweepAt(date), campaign, missed);
      created += result.touchpointsCreated;
      if (date === '2027-02-13') catchUp = result;
    }

    // Assess
    expect(catchUp?.window).toEqual({ after: '2027-02-10T03:05:00.000Z', upTo: '2027-02-14T03:05:00.000Z' });
    expect([...missed.touchpoints.items.keys()].sort()).toEqual([...daily.touchpoints.items.keys()].sort());
    expect(created).toBe(missed.touchpoints.items.size); // no duplicates
    let overdue = 0;
    for (const [id, onTime] of daily.touchpoints.items) {
      const late = missed.touchpoints.items.get(id)!;
      const plannedOnMissedDay = skipped.some((date) => onTime.createdAt === sweepAt(date));
      if (plannedOnMissedDay && onTime.dueAt <= sweepAt('2027-02-13')) {
        overdue += 1;
        expect(late.dueAt).toBe(sweepAt('2027-02-13'));
      } else {
        expect(late.dueAt).toBe(onTime.dueAt);
      }
    }
    expect(overdue).toBeGreaterThan(0);
  });

  it('skips a reminder whose contract has ended meanwhile, and one that would precede the contract', async () => {
    // Prepare: ended on 2027-02-11 (Berlin); the 1-day reminder (10 February) was missed. The second contract
    // started on 2027-02-13, so its 30-day reminder day (12 February) is before it.
    contracts.put(running('ctr-ended', '2027-02-11', 'Europe/Berlin'));
    contracts.put(running('ctr-short', '2027-03-14', 'Europe/Berlin', { startDate: '2027-02-13' }));
    const campaign = { campaignId: 'contract-renewal', offsetsDays: [30, 1] };

    // Act
    const result = await sweepRenewals({ campaign, since: sweepAt('2027-02-08'), now: sweepAt('2027-02-13') }, { contracts, touchpoints });

    // Assess
    expect(result).toMatchObject({ contractsRead: 2, touchpointsCreated: 0, skippedEnded: 1, skippedBeforeStart: 1 });
    expect(touchpoints.items.size).toBe(0);
  });

  it('plans every reminder before it is due when sweeping daily for months, in zones with odd offsets and DST rules', async () => {
    // Prepare
    const zones = ['Europe/Berlin', 'America/Los_Angeles', 'Antarctica/Troll', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Kiritimati', 'America/Santiago'];
    let n = 0;
    for (const zone of zones) {
      for (let day = 0; day < 150; day += 2) contracts.put(running(`ctr-${(n += 1)}`, addCalendarDays('2027-03-01', day), zone));
    }
    const cursors = new InMemorySweepCursors();
    const campaign = { campaignId: 'contract-renewal', offsetsDays: [30, 7, 0], sendAt: '00:30' };

    // Act
    for (let day = 0; day < 180; day += 1) await runRenewalSweep(sweepAt(addCalendarDays('2027-02-01', day)), campaign, { contracts, touchpoints, cursors });

    // Assess: on time (planned strictly before due: never the catch-up "due now"), except what the first run ever
    // found already due (reminder days that began in the 24 hours before it), and complete.
    const all = [...touchpoints.items.values()];
    const late = all.filter((t) => t.createdAt >= t.dueAt);
    expect(late.filter((t) => t.createdAt !== sweepAt('2027-02-01')).map((t) => [t.context.contract, t.createdAt, t.dueAt])).toEqual([]);
    expect(late.every((t) => t.dueAt === sweepAt('2027-02-01') && t.context.contract?.endDate === '2027-03-03')).toBe(true);
    expect(all.length).toBeGreaterThan(1000);
    for (const c of contracts.items.values()) {
      for (const offset of campaign.offsetsDays) {
        const due = reminderDueAt(c.endDate, offset, c.timeZone, campaign.sendAt);
        if (due <= sweepAt('2027-02-02') || due > sweepAt('2027-07-30')) continue;
        expect(touchpoints.items.has(reminderTouchpointId('contract-renewal', c.contractId, c.endDate, offset)), `${c.contractId} −${offset}`).toBe(true);
      }
    }
  });

  it('rejects a campaign with bad offsets or send time, naming each problem', async () => {
    const attempt = sweepRenewals(
      { campaign: { campaignId: 'renewal', offsetsDays: [30, 7.5, 30, -1], sendAt: '25:00' }, since: sweepAt('2027-02-01'), now: sweepAt('2027-02-02') },
      { contracts, touchpoints },
    );

    await expect(attempt).rejects.toThrow(InvalidInputError);
    await expect(attempt).rejects.toThrow(
      'renewal campaign renewal is invalid: offsetsDays[1]: 7.5 is not a whole number of days from 0 to 730; offsetsDays[2]: 30 is listed twice; ' +
        'offsetsDays[3]: -1 is not a whole number of days from 0 to 730; sendAt: "25:00" is not a 24-hour local time "HH:mm", e.g. "09:00"',
    );
  });
});

describe('runRenewalSweep', () => {
  it('continues from the cursor: a second run at the same time reads nothing', async () => {
    const contracts = new InMemoryContracts();
    const touchpoints = new InMemoryTouchpoints();
    const cursors = new InMemorySweepCursors();
    contracts.put(running('ctr-1', '2027-03-28', 'Europe/Berlin'));

    const first = await runRenewalSweep(sweepAt('2027-03-20'), CAMPAIGN, { contracts, touchpoints, cursors });
    const readsAfterFirst = contracts.indexReads;
    const second = await runRenewalSweep(sweepAt('2027-03-20'), CAMPAIGN, { contracts, touchpoints, cursors });

    // The first run ever also covers reminder days that began in the last 24 hours.
    expect(first.window).toEqual({ after: '2027-03-19T00:05:00.000Z', upTo: '2027-03-21T03:05:00.000Z' });
    expect(first).toMatchObject({ touchpointsCreated: 1, cursorAdvanced: true });
    expect(cursors.items.get('contract-renewal')).toBe('2027-03-21T03:05:00.000Z');
    expect(second).toMatchObject({ contractsRead: 0, touchpointsCreated: 0, cursorAdvanced: false });
    expect(contracts.indexReads).toBe(readsAfterFirst);
  });
});

describe('recordContractEnds', () => {
  let contracts: InMemoryContracts;
  let touchpoints: InMemoryTouchpoints;
  let ends: Parameters<typeof recordContractEnds>[1];
  beforeEach(() => {
    const world = contractsWithMetrics();
    contracts = world.contracts;
    touchpoints = new InMemoryTouchpoints();
    ends = { contracts, touchpoints, customers: new InMemoryContractCustomers(), metrics: world.metrics };
  });

  it('ends a contract whose last day is over as churned, with the reminders sent, and cancels what is left', async () => {
    // Prepare: three reminders planned for a Berlin contract ending 2027-03-28; two were sent, one is stuck pending.
    contracts.put(running('ctr-1', '2027-03-28', 'Europe/Berlin', { customerId: 'cust-1' }));
    contracts.put(running('ctr-2', '2027-03-29', 'America/Los_Angeles', { customerId: 'cust-2' }));
    contracts.put(running('ctr-3', '2027-06-30', 'Europe/Berlin', { customerId: 'cust-3' }));
    await sweepRenewals({ campaign: CAMPAIGN, since: sweepAt('2027-01-20'), now: sweepAt('2027-03-22') }, { contracts, touchpoints });
    const id = (offset: number) => reminderTouchpointId('contract-renewal', 'ctr-1', '2027-03-28', offset);
    await markSent(touchpoints, id(60), '2027-01-27T08:00:00.000Z');
    await markSent(touchpoints, id(30), '2027-02-26T08:00:00.000Z');
    contracts.indexReads = 0;

    // Act: 08:00Z on the 30th. ctr-2's last day ended an hour ago (07:00Z), within the cutoff's margin: it waits.
    const result = await recordContractEnds('2027-03-30T08:00:00.000Z', ends);

    // Assess
    expect(result).toEqual({ contractsRead: 1, ended: 1, touchpointsCancelled: 1 });
    expect(await contracts.get('ctr-1')).toMatchObject({
      status: 'ENDED',
      outcome: { result: 'CHURNED', at: '2027-03-30T08:00:00.000Z', remindersSent: 2, endDate: '2027-03-28' },
      version: '2026-01-01T00:00:00.000Z',
    });
    expect((await touchpoints.get(id(7)))?.status).toBe('CANCELLED');
    expect((await contracts.get('ctr-2'))?.status).toBe('ACTIVE');
    expect(contracts.indexReads).toBe(1);

    // The next day takes ctr-2; ctr-1 is out of the index and is not read again.
    // (its three reminders were never dispatched in this test, so they are still pending and get cancelled)
    expect(await recordContractEnds('2027-03-31T08:00:00.000Z', ends)).toEqual({ contractsRead: 1, ended: 1, touchpointsCancelled: 3 });
    expect((await contracts.get('ctr-2'))?.status).toBe('ENDED');
    expect((await contracts.get('ctr-3'))?.status).toBe('ACTIVE');
  });
});
