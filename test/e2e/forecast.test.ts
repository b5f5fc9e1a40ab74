/**
 * The send forecast against what the embedded stack actually sends: purchases across zones (some due in quiet
 * hours), a refund, a one-click unsubscribe and an unsubscribe recorded directly, frequency caps that bind on emails
 * already sent and on the forecast's own earlier sends — then the forecast for 7 days, computed through the use case
 * against the stack's DynamoDB with the real adapters, must equal the emails the mailbox receives when the clock is
 * advanced 7 days, per campaign and per UTC day.
 */
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eStack, type E2eStack } from './support.ts';
import { DynamoDbCampaignCatalog, saveCampaign } from '../../adapters/dynamodb-campaigns.ts';
import { DynamoDbCustomerRepository } from '../../adapters/dynamodb-customers.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { campaignSchema, type Campaign } from '../../core/campaigns/schema.ts';
import { DEFAULT_COMMERCE_EVENT_SOURCE, DEFAULT_DISPATCH_SHARDS } from '../../core/topology.ts';
import { forecastSends, type SendForecast } from '../../core/use-cases/forecast-sends.ts';
import { loadCampaignsIntoTable } from '../../local/campaigns.ts';
import { purchaseEntry, refundEntry, type SampleCustomer, type SampleOrder } from '../../local/sample-data.ts';
import { PROJECT_ROOT, type LocalStack, type MailboxEmail } from '../../local/stack.ts';

const CHECK_IN = 'post-purchase-check-in';
const TIPS = 'next-day-tips';
/** A second campaign, next to the shipped check-in (P3D, quiet 21:00–08:00, at most 3 emails per 7 days overall). */
const tips: Campaign = campaignSchema.parse({
  id: TIPS,
  kind: 'check-in',
  trigger: { event: 'Purchase Completed' },
  delay: 'P1D',
  quietHours: { start: '20:00', end: '09:00' },
  frequencyCap: { perCampaign: { maxEmails: 1, per: 'P3D' } },
  template: { defaultLocale: 'en', locales: { en: { subject: 'TIPS for your {{order.items.0.name}}', html: '<p>Tips</p>', text: 'Tips' } } },
});
const campaignOf = (mail: MailboxEmail) => (mail.subject.startsWith('TIPS') ? TIPS : CHECK_IN);

const ZONES = ['Europe/London', 'Europe/Berlin', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney', 'America/New_York', 'America/Los_Angeles', 'Pacific/Honolulu'];

let stack: LocalStack;
let events: EventBridgeClient;
let db: DynamoDBDocumentClient;

let e2e: E2eStack | undefined;

beforeAll(async () => {
  e2e = await startE2eStack({
    startAt: '2031-07-07T10:00:00.000Z',
    loadCampaigns: async (s) => {
      await loadCampaignsIntoTable(join(PROJECT_ROOT, 'campaigns'), s, () => {});
      await saveCampaign(s.tables.campaigns, tips, s.clock.nowIso(), DynamoDBDocumentClient.from(s.clients.dynamodb));
    },
  });
  ({ stack, events, db } = e2e);
});
afterAll(async () => {
  await e2e?.stop();
});

const customer = (key: string, timeZone: string): SampleCustomer => ({
  customerId: `fc-${key}`,
  name: `Pat ${key}`,
  email: `fc-${key}@example.com`,
  timeZone,
  locale: 'en',
  marketingConsent: true,
});
let orders = 0;
const order = (): SampleOrder => {
  orders += 1;
  return { orderId: `fc-order-${orders}`, currency: 'EUR', items: [{ sku: 'MUG-1', name: 'Stoneware mug', quantity: 1, unitPrice: 14 }] };
};

async function put(...entries: PutEventsRequestEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 10) {
    const result = await events.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
    expect(result.FailedEntryCount).toBe(0);
  }
  await stack.settle();
}
const buys = (c: SampleCustomer, o = order()) => purchaseEntry(DEFAULT_COMMERCE_EVENT_SOURCE, c, o, stack.clock.now());

/** Emails sent in (from, until], per campaign and per UTC day, in the forecast's shape. */
function received(mail: MailboxEmail[], forecast: SendForecast) {
  const inWindow = mail.filter((m) => m.sentAt > forecast.from && m.sentAt <= forecast.until);
  return [CHECK_IN, TIPS].sort().map((campaignId) => {
    const mine = inWindow.filter((m) => campaignOf(m) === campaignId);
    const perDay = Object.fromEntries(forecast.days.map((d) => [d, mine.filter((m) => m.sentAt.slice(0, 10) === d).length]));
    return { campaignId, total: mine.length, perDay };
  });
}

describe('send forecast on the local stack', () => {
  it('forecasts for 7 days exactly the emails the stack then sends, per campaign and per day', async () => {
    // Day 0 (07-07 10:00Z): one customer per zone — check-ins fall due at 10:00Z on 07-10, quiet in the Americas and
    // Honolulu; tips at 10:00Z on 07-08, quiet (20:00–09:00) in Sydney, the Americas and Honolulu.
    const day0 = ZONES.map((zone, i) => customer(`d0-${i}`, zone));
    const refunded = customer('refunded', 'Europe/Berlin');
    const refundedOrder = order();
    const linkUnsubscribed = customer('link', 'Europe/London');
    const frequent = customer('frequent', 'Europe/London');
    await put(...day0.map((c) => buys(c)), buys(refunded, refundedOrder), buys(linkUnsubscribed), buys(frequent));
    await put(refundEntry(DEFAULT_COMMERCE_EVENT_SOURCE, refunded, refundedOrder, stack.clock.now(), 'changed mind'));

    // Day 1 (07-08 11:00Z): the day-0 tips went out where it was not quiet.
    await stack.advance('PT25H');
    expect(stack.deadLetters()).toEqual([]);
    const mailBefore = await stack.mailbox();
    expect(mailBefore.filter((m) => m.to.includes(frequent.email))).toHaveLength(1);

    // One-click unsubscribe from the tips email: their pending check-in is cancelled.
    const tipsMail = mailBefore.find((m) => m.to.includes(linkUnsubscribed.email));
    const unsubscribeUrl = /<(https?:\/\/[^>]+)>/.exec(tipsMail?.header('List-Unsubscribe') ?? '')?.[1];
    expect(unsubscribeUrl).toBeDefined();
    const response = await fetch(unsubscribeUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);

    // A customer marked unsubscribed by the adapter alone: their touchpoints stay PENDING and the rules skip them.
    const markedUnsubscribed = customer('marked', 'Asia/Tokyo');
    const day1 = ZONES.map((zone, i) => customer(`d1-${i}`, zone));
    await put(...day1.map((c) => buys(c)), buys(markedUnsubscribed), buys(frequent));
    const customers = new DynamoDbCustomerRepository(stack.tables.customers, db);
    expect(await customers.markUnsubscribed(markedUnsubscribed.customerId, stack.clock.nowIso())).toBe(true);
    // Two more orders a few minutes apart: the cross-campaign cap (3 per 7 days, the day-0 tips included) binds on
    // the forecast's own earlier sends; the tips' per-campaign cap binds on the tips already sent.
    await stack.advance('PT5M');
    await put(buys(frequent));
    await stack.advance('PT5M');
    await put(buys(frequent));

    // Act
    const forecast = await forecastSends(
      { at: stack.clock.nowIso(), days: 7 },
      {
        touchpoints: new DynamoDbTouchpointRepository(stack.tables.touchpoints, DEFAULT_DISPATCH_SHARDS, db),
        customers,
        campaigns: new DynamoDbCampaignCatalog(stack.tables.campaigns, db),
        shards: DEFAULT_DISPATCH_SHARDS,
        pageSize: 4,
      },
    );
    await stack.advance('P7D');

    // Assess
    expect(stack.deadLetters()).toEqual([]);
    const actual = received(await stack.mailbox(), forecast);
    expect(forecast.campaigns.map(({ campaignId, total, perDay }) => ({ campaignId, total, perDay }))).toEqual(actual);
    const byId = Object.fromEntries(forecast.campaigns.map((c) => [c.campaignId, c]));
    expect(byId[CHECK_IN]!.skipped).toEqual({ 'customer unsubscribed': 1, 'frequency cap reached': 2 });
    expect(byId[TIPS]!.skipped).toEqual({ 'customer unsubscribed': 1, 'per-campaign frequency cap reached': 3 });
    // Day 0: 8 zones + frequent; day 1: 8 zones + frequent's first day-1 order (the next two are over the cap).
    expect(byId[CHECK_IN]!.total).toBe(8 + 1 + 8 + 1);
    expect(actual.reduce((sum, c) => sum + c.total, 0)).toBeGreaterThan(0);
    expect(forecast.campaigns.every((c) => c.afterWindow === 0)).toBe(true);
  });
});
