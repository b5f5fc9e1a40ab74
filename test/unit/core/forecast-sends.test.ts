import { beforeEach, describe, expect, it } from 'vitest';
import type { Campaign } from '../../../core/campaigns/schema.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { forecastSends, type ForecastProgress } from '../../../core/use-cases/forecast-sends.ts';
import { InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, checkInCampaign } from '../fakes.ts';
import { loadCampaignDirectory } from '../../../core/campaigns/load.ts';
import { InMemoryContracts, InMemorySweepCursors, contract } from '../contracts/fakes.ts';

const AT = '2026-11-23T10:00:00.000Z';
const CAMPAIGN = 'post-purchase-check-in';

let deps: { customers: InMemoryCustomers; touchpoints: InMemoryTouchpoints; campaigns: StaticCampaigns; shards: number };
let serial = 0;

async function customer(customerId: string, timeZone = 'Europe/London', overrides: Record<string, unknown> = {}) {
  await deps.customers.recordPurchase(
    { customerId, email: `${customerId}@example.com`, name: customerId, timeZone, locale: 'en', marketingConsent: true },
    `o-${customerId}`,
    '2026-11-20T10:00:00.000Z',
  );
  Object.assign(deps.customers.items.get(customerId)!, overrides);
}

async function pending(customerId: string, dueAt: string, campaignId = CAMPAIGN, overrides: Partial<Touchpoint> = {}) {
  serial += 1;
  const touchpoint: Touchpoint = {
    touchpointId: `tp-${serial}`,
    campaignId,
    kind: 'check-in',
    customerId,
    dueAt,
    status: 'PENDING',
    generation: 0,
    context: {},
    createdAt: '2026-11-20T10:00:00.000Z',
    updatedAt: '2026-11-20T10:00:00.000Z',
    ...overrides,
  };
  await deps.touchpoints.create(touchpoint);
  return touchpoint;
}

async function sent(customerId: string, sentAt: string, campaignId = CAMPAIGN) {
  const t = await pending(customerId, sentAt, campaignId);
  await deps.touchpoints.claimForDispatch({ touchpointId: t.touchpointId, generation: 0, from: 'PENDING', at: sentAt, leaseUntil: sentAt });
  await deps.touchpoints.complete({ touchpointId: t.touchpointId, generation: 0, at: sentAt, status: 'SENT', messageId: 'm' });
}

const noQuiet = (overrides: Partial<Campaign> = {}) => checkInCampaign({ quietHours: undefined, frequencyCap: undefined, ...overrides });

beforeEach(() => {
  deps = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(4), campaigns: new StaticCampaigns([noQuiet()]), shards: 4 };
});

describe('forecastSends', () => {
  it('counts pending touchpoints due in the window per campaign and UTC day, and nothing due after it', async () => {
    await customer('a');
    await customer('b');
    await pending('a', '2026-11-23T09:00:00.000Z'); // overdue: goes out at the next dispatch
    await pending('a', '2026-11-24T12:00:00.000Z');
    await pending('b', '2026-11-25T23:59:30.000Z'); // dispatched at the next minute boundary: the 26th
    await pending('b', '2026-11-30T10:00:00.000Z'); // exactly at the end: included
    await pending('b', '2026-11-30T10:00:01.000Z'); // after the window

    const forecast = await forecastSends({ at: AT, days: 7 }, deps);

    expect(forecast).toMatchObject({ from: AT, until: '2026-11-30T10:00:00.000Z', pendingRead: 4, sources: { pendingTouchpoints: true, contracts: false } });
    expect(forecast.days).toEqual(['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30']);
    expect(forecast.campaigns).toEqual([
      {
        campaignId: CAMPAIGN,
        total: 4,
        perDay: { '2026-11-23': 1, '2026-11-24': 1, '2026-11-25': 0, '2026-11-26': 1, '2026-11-27': 0, '2026-11-28': 0, '2026-11-29': 0, '2026-11-30': 1 },
        skipped: {},
        afterWindow: 0,
      },
    ]);
  });

  it('reads the due index page by page, only up to the window end', async () => {
    await customer('a');
    for (let i = 0; i < 30; i++) await pending('a', `2026-11-24T10:${String(i).padStart(2, '0')}:00.000Z`);
    const progress: ForecastProgress[] = [];

    const forecast = await forecastSends({ at: AT, days: 2 }, { ...deps, pageSize: 5, onProgress: (p) => progress.push(p) });

    expect(forecast.campaigns[0]!.total).toBe(30);
    expect(deps.touchpoints.dueQueries.every((q) => q.until === '2026-11-25T10:00:00.000Z' && q.limit === 5)).toBe(true);
    expect(deps.touchpoints.dueQueries.some((q) => q.startKey !== undefined)).toBe(true);
    expect(progress.at(-1)).toEqual({ read: 30, shardsDone: 4, shards: 4 });
  });

  it('skips unsubscribed, suppressed and non-consenting customers, and unknown customers', async () => {
    await customer('ok');
    await customer('gone', 'Europe/London', { unsubscribedAt: '2026-11-22T00:00:00.000Z' });
    await customer('bounced', 'Europe/London', { suppressedAt: '2026-11-22T00:00:00.000Z', suppressionReason: 'hard bounce' });
    await customer('no-consent', 'Europe/London', { marketingConsent: false });
    for (const c of ['ok', 'gone', 'bounced', 'no-consent', 'nobody']) await pending(c, '2026-11-24T12:00:00.000Z');

    const [forecast] = (await forecastSends({ at: AT, days: 7 }, deps)).campaigns;

    expect(forecast!.total).toBe(1);
    expect(forecast!.skipped).toEqual({
      'customer unsubscribed': 1,
      'address suppressed (hard bounce)': 1,
      'no marketing consent': 1,
      'customer does not exist': 1,
    });
  });

  it('skips touchpoints of a disabled campaign, and of one not active at the time they are due', async () => {
    deps.campaigns = new StaticCampaigns([noQuiet({ activeUntil: '2026-11-25' }), noQuiet({ id: 'paused', enabled: false })]);
    await customer('a');
    await pending('a', '2026-11-25T12:00:00.000Z'); // activeUntil's day is included
    await pending('a', '2026-11-26T00:00:00.000Z'); // the first instant after it
    await pending('a', '2026-11-24T12:00:00.000Z', 'paused');
    await pending('a', '2026-11-24T12:00:00.000Z', 'deleted');

    const forecast = await forecastSends({ at: AT, days: 7 }, deps);

    expect(forecast.campaigns.map((c) => [c.campaignId, c.total, c.skipped])).toEqual([
      ['deleted', 0, { 'campaign is disabled or no longer exists': 1 }],
      ['paused', 0, { 'campaign is disabled or no longer exists': 1 }],
      [CAMPAIGN, 1, { 'campaign not active': 1 }],
    ]);
  });

  it('moves sends out of quiet hours in the customer zone, past the window end when that is where they fall', async () => {
    deps.campaigns = new StaticCampaigns([noQuiet({ quietHours: { start: '21:00', end: '08:00' } })]);
    await customer('tokyo', 'Asia/Tokyo'); // UTC+9: 08:00 local is 23:00Z the day before
    await customer('berlin', 'Europe/Berlin'); // UTC+1 in November
    await pending('tokyo', '2026-11-24T14:00:00.000Z'); // 23:00 in Tokyo → 2026-11-24T23:00Z
    await pending('berlin', '2026-11-25T10:00:00.000Z'); // 11:00 in Berlin: sent as due
    await customer('la', 'America/Los_Angeles'); // UTC-8 in November
    await pending('la', '2026-11-30T09:00:00.000Z'); // 01:00 in LA, due before the end → 16:00Z, after it

    const [forecast] = (await forecastSends({ at: AT, days: 7 }, deps)).campaigns;

    expect(forecast!.total).toBe(2);
    expect(forecast!.perDay['2026-11-24']).toBe(1);
    expect(forecast!.perDay['2026-11-25']).toBe(1);
    expect(forecast!.afterWindow).toBe(1);
    expect(forecast!.skipped).toEqual({});
  });

  it('counts sent emails and its own earlier forecast sends against the frequency caps, in time order', async () => {
    deps.campaigns = new StaticCampaigns([
      noQuiet({ frequencyCap: { maxEmails: 2, per: 'P7D' } }),
      noQuiet({ id: 'survey', frequencyCap: { perCampaign: { maxEmails: 1, per: 'P30D' } } }),
    ]);
    await customer('a');
    await customer('b');
    await sent('a', '2026-11-20T10:00:00.000Z', 'survey'); // counts for a's cross-campaign cap until 11-27
    await pending('a', '2026-11-24T10:00:00.000Z'); // 2nd in 7 days: sent
    await pending('a', '2026-11-25T10:00:00.000Z'); // 3rd: cap reached
    await pending('a', '2026-11-28T10:00:00.000Z'); // the first one is out of the 7 days: 2nd again, sent
    await pending('b', '2026-11-24T10:00:00.000Z', 'survey'); // sent
    await pending('b', '2026-11-26T10:00:00.000Z', 'survey'); // the forecast's own earlier send caps it

    const forecast = await forecastSends({ at: AT, days: 7 }, deps);

    expect(forecast.campaigns.map((c) => [c.campaignId, c.total, c.skipped])).toEqual([
      [CAMPAIGN, 2, { 'frequency cap reached': 1 }],
      ['survey', 1, { 'per-campaign frequency cap reached': 1 }],
    ]);
  });

  it('leaves out cancelled and leased touchpoints, and rejects a bad number of days', async () => {
    await customer('a');
    const cancelled = await pending('a', '2026-11-24T10:00:00.000Z');
    await deps.touchpoints.cancel(cancelled.touchpointId, 'order refunded', AT);
    const leased = await pending('a', '2026-11-23T09:59:00.000Z');
    await deps.touchpoints.claimForDispatch({ touchpointId: leased.touchpointId, generation: 0, from: 'PENDING', at: AT, leaseUntil: '2026-11-23T10:15:00.000Z' });

    expect((await forecastSends({ at: AT, days: 7 }, deps)).campaigns).toEqual([]);
    await expect(forecastSends({ at: AT, days: 0 }, deps)).rejects.toThrow('days must be a whole number from 1 to 366 (got 0)');
  });
});

describe('forecastSends with contracts', () => {
  const renewal = (): Campaign => {
    const shipped = loadCampaignDirectory('campaigns').find((c) => c.kind === 'renewal-reminder')!;
    return { ...shipped, sendWindow: undefined };
  };

  it('adds the renewal reminders the sweep has not planned yet, from the byEnd range beyond its cursor, once each', async () => {
    const contracts = new InMemoryContracts();
    const cursors = new InMemorySweepCursors();
    deps.campaigns = new StaticCampaigns([renewal()]);
    // The sweep has planned reminder days up to 2026-11-24T03:00Z already (one such reminder is a pending touchpoint).
    await cursors.advance('contract-renewal', undefined, '2026-11-24T03:00:00.000Z');
    await customer('cust-k-near', 'Europe/London');
    await pending('cust-k-near', '2026-11-24T09:00:00.000Z', 'contract-renewal', { kind: 'renewal-reminder', context: { contract: { contractId: 'k-near', plan: 'p', value: 1, currency: 'EUR', endDate: '2026-12-01', autoRenew: false, offsetDays: 7 } } });
    // 7 days before 2026-12-03 (London) is 2026-11-26: not planned yet, inside the 7-day window.
    for (const [id, endDate] of [['k-near', '2026-12-01'], ['k-late', '2026-12-03'], ['k-far', '2027-06-01']] as const) {
      await customer(`cust-${id}`, 'Europe/London');
      await contracts.upsertFromEvent(contract({ contractId: id, customerId: `cust-${id}`, endDate, timeZone: 'Europe/London', endsAt: `${endDate}T00:00:00.000Z` }), undefined);
    }

    const forecast = await forecastSends({ at: AT, days: 7 }, { ...deps, contracts: { repository: contracts, cursors } });

    expect(forecast).toMatchObject({ pendingRead: 1, contractRemindersRead: 1, sources: { pendingTouchpoints: true, contracts: true } });
    expect(forecast.campaigns).toEqual([
      expect.objectContaining({ campaignId: 'contract-renewal', total: 2, perDay: expect.objectContaining({ '2026-11-24': 1, '2026-11-26': 1 }) }),
    ]);
    // Without the contracts, only what is planned.
    expect((await forecastSends({ at: AT, days: 7 }, deps)).campaigns[0]).toMatchObject({ total: 1 });
  });
});

describe('forecastSends with contracts and reminders planned by contract events', () => {
  it('counts a reminder once when a contract event planned it beyond the sweep cursor', async () => {
    const shipped = loadCampaignDirectory('campaigns').find((c) => c.kind === 'renewal-reminder')!;
    deps.campaigns = new StaticCampaigns([{ ...shipped, sendWindow: undefined }]);
    const contracts = new InMemoryContracts();
    const cursors = new InMemorySweepCursors(); // no sweep has run yet
    await customer('cust-k-soon', 'Europe/London');
    await contracts.upsertFromEvent(contract({ contractId: 'k-soon', customerId: 'cust-k-soon', endDate: '2026-12-01', timeZone: 'Europe/London', endsAt: '2026-12-01T00:00:00.000Z' }), undefined);
    // The 7-day reminder (2026-11-24 09:00 London), as the contract event planned it, under the sweep's id.
    const { reminderTouchpointId } = await import('../../../core/contracts/reminders.ts');
    await pending('cust-k-soon', '2026-11-24T09:00:00.000Z', 'contract-renewal', {
      touchpointId: reminderTouchpointId('contract-renewal', 'k-soon', '2026-12-01', 7),
      kind: 'renewal-reminder',
      context: { contract: { contractId: 'k-soon', plan: 'pro-annual', value: 1200, currency: 'EUR', endDate: '2026-12-01', autoRenew: false, offsetDays: 7 } },
    });

    const forecast = await forecastSends({ at: AT, days: 7 }, { ...deps, contracts: { repository: contracts, cursors } });

    expect(forecast).toMatchObject({ pendingRead: 1, contractRemindersRead: 0 });
    expect(forecast.campaigns).toEqual([expect.objectContaining({ campaignId: 'contract-renewal', total: 1 })]);
  });
});
