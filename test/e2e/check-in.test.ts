/**
 * The check-in campaign end to end on the embedded local stack: the real handlers, workflows/check-in.asl.json and
 * campaigns/, driven through the real EventBridge client, HTTP, and the local clock. The clock is manual — it moves
 * only when a test advances it — so every assertion about time is exact and nothing waits on the wall clock.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eStack, type E2eStack } from './support.ts';
import { saveCampaign } from '../../adapters/dynamodb-campaigns.ts';
import { loadCampaignDirectory } from '../../core/campaigns/load.ts';
import { addDuration, nextAllowedTime } from '../../core/schedule.ts';
import { DEFAULT_COMMERCE_EVENT_SOURCE, TABLES } from '../../core/topology.ts';
import { checkInTiming } from '../../local/campaigns.ts';
import { parseIsoDuration } from '../../local/clock.ts';
import { purchaseEntry, refundEntry, type SampleCustomer, type SampleOrder } from '../../local/sample-data.ts';
import type { ScenarioTiming } from '../../local/scenario.ts';
import { PROJECT_ROOT, type LocalStack, type MailboxEmail } from '../../local/stack.ts';

const MINUTE = 60_000;
const ZONES = ['Europe/London', 'Europe/Berlin', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney', 'America/New_York', 'America/Los_Angeles', 'Pacific/Honolulu'];

let stack: LocalStack;
let events: EventBridgeClient;
let db: DynamoDBDocumentClient;
let timing: ScenarioTiming;
/** Long enough for any check-in to have been sent, wherever its recipient lives. */
let pastDue: number;

let e2e: E2eStack | undefined;

beforeAll(async () => {
  timing = checkInTiming(join(PROJECT_ROOT, 'campaigns'));
  pastDue = parseIsoDuration(timing.checkInDelay) + parseIsoDuration('P1D');
  // The check-in campaign alone: the survey and renewal campaigns have e2e tests of their own.
  const checkIn = loadCampaignDirectory(join(PROJECT_ROOT, 'campaigns')).filter((c) => c.kind === 'check-in');
  e2e = await startE2eStack({
    startAt: '2031-03-10T10:00:00.000Z',
    loadCampaigns: async (s) => {
      for (const campaign of checkIn) await saveCampaign(s.tables.campaigns, campaign, s.clock.nowIso(), DynamoDBDocumentClient.from(s.clients.dynamodb));
    },
  });
  ({ stack, events, db } = e2e);
});
afterAll(async () => {
  await e2e?.stop();
});

/** When the check-in for a purchase made now is due for someone in `zone` (the delay is local calendar time). */
const dueFor = (zone: string) => addDuration(stack.clock.nowIso(), timing.checkInDelay, zone);

/** A new customer per test, living where a check-in planned now falls — or does not fall — in quiet hours. */
function newCustomer(options: { quietAtDue: boolean }): SampleCustomer {
  const quiet = timing.quietHours;
  const zone = ZONES.find((z) => (quiet ? nextAllowedTime(dueFor(z), quiet, z) !== dueFor(z) : false) === options.quietAtDue);
  if (!zone) throw new Error(`no test zone where a check-in planned at ${stack.clock.nowIso()} is ${options.quietAtDue ? '' : 'not '}in quiet hours`);
  const id = randomUUID().slice(0, 8);
  return { customerId: `e2e-${id}`, name: `Test ${id}`, email: `e2e-${id}@example.com`, timeZone: zone, locale: 'en', marketingConsent: true };
}

const newOrder = (): SampleOrder => ({
  orderId: `e2e-ord-${randomUUID().slice(0, 8)}`,
  currency: 'EUR',
  items: [{ sku: 'MUG-1', name: 'Stoneware mug', quantity: 2, unitPrice: 14 }],
});

async function put(...entries: PutEventsRequestEntry[]): Promise<void> {
  const result = await events.send(new PutEventsCommand({ Entries: entries }));
  expect(result.FailedEntryCount).toBe(0);
}

const buys = (customer: SampleCustomer, order = newOrder()) => purchaseEntry(DEFAULT_COMMERCE_EVENT_SOURCE, customer, order, stack.clock.now());
const mailTo = async (customer: SampleCustomer): Promise<MailboxEmail[]> => (await stack.mailbox()).filter((m) => m.to.includes(customer.email));
const unsubscribeUrlOf = (mail: MailboxEmail) => /<(https?:\/\/[^>]+)>/.exec(mail.header('List-Unsubscribe') ?? '')?.[1];

async function touchpointsOf(customer: SampleCustomer): Promise<Array<Record<string, unknown>>> {
  const { Items = [] } = await db.send(
    new QueryCommand({
      TableName: stack.tables.touchpoints,
      IndexName: TABLES.touchpoints.customerIndex.name,
      KeyConditionExpression: '#c = :c',
      ExpressionAttributeNames: { '#c': TABLES.touchpoints.customerIndex.partitionKey },
      ExpressionAttributeValues: { ':c': customer.customerId },
    }),
  );
  return Items;
}

describe('check-in emails on the local stack', () => {
  it('sends exactly one email once the delay has passed, not before, with one-click unsubscribe headers', async () => {
    const customer = newCustomer({ quietAtDue: false });
    const dueAt = dueFor(customer.timeZone);
    await put(buys(customer));

    await stack.advance(Date.parse(dueAt) - stack.clock.nowMs() - MINUTE);
    expect(stack.deadLetters(), 'the purchase was ingested').toEqual([]);
    expect(await touchpointsOf(customer)).toMatchObject([{ status: 'PENDING', dueAt }]);
    expect(await mailTo(customer)).toHaveLength(0);

    await stack.advance(2 * MINUTE);
    const mail = await mailTo(customer);
    expect(mail).toHaveLength(1);
    expect(Date.parse(mail[0]!.sentAt)).toBeGreaterThanOrEqual(Date.parse(dueAt));
    expect(mail[0]!.header('List-Unsubscribe')).toMatch(new RegExp(`^<${stack.endpoints.web}/unsubscribe\\?[^>]+>$`));
    expect(mail[0]!.header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(await touchpointsOf(customer)).toMatchObject([{ status: 'SENT', messageId: mail[0]!.messageId }]);

    await stack.advance('P7D');
    expect(await mailTo(customer)).toHaveLength(1);
  });

  it('sends one email for the same purchase event delivered three times', async () => {
    const customer = newCustomer({ quietAtDue: false });
    const purchase = buys(customer);

    await put(purchase);
    await put(purchase);
    await put(purchase, purchase);
    await stack.advance(pastDue);

    expect(await mailTo(customer)).toHaveLength(1);
    expect(await touchpointsOf(customer)).toHaveLength(1);
  });

  it('sends nothing when the order is refunded before the check-in is due', async () => {
    const customer = newCustomer({ quietAtDue: false });
    const order = newOrder();
    await put(buys(customer, order));
    await stack.advance('PT1H');

    await put(refundEntry(DEFAULT_COMMERCE_EVENT_SOURCE, customer, order, stack.clock.now(), 'damaged in transit'));
    await stack.advance(pastDue);

    expect(await mailTo(customer)).toHaveLength(0);
    expect(await touchpointsOf(customer)).toMatchObject([{ orderId: order.orderId, status: 'CANCELLED' }]);
  });

  it('sends nothing more after the customer unsubscribes with the one-click link of an earlier email', async () => {
    const customer = newCustomer({ quietAtDue: false });
    await put(buys(customer));
    await stack.advance(pastDue);
    const [first] = await mailTo(customer);
    const unsubscribe = unsubscribeUrlOf(first!);
    expect(unsubscribe).toBeDefined();

    const response = await fetch(unsubscribe!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);
    const { Item } = await db.send(new GetCommand({ TableName: stack.tables.customers, Key: { customerId: customer.customerId } }));
    expect(Item?.unsubscribedAt).toBe(stack.clock.nowIso());

    // The commerce system still says "consent: true"; the unsubscribe wins.
    await put(buys(customer));
    await stack.advance(pastDue);
    expect(await mailTo(customer)).toHaveLength(1);
    expect((await touchpointsOf(customer)).filter((t) => t.status === 'SENT')).toHaveLength(1);
  });

  it('treats a GET of the unsubscribe link (a mail scanner, a preview) as a question, and a tampered link as nothing', async () => {
    const customer = newCustomer({ quietAtDue: false });
    await put(buys(customer));
    await stack.advance(pastDue);
    const unsubscribe = unsubscribeUrlOf((await mailTo(customer))[0]!)!;
    const customerItem = async () =>
      (await db.send(new GetCommand({ TableName: stack.tables.customers, Key: { customerId: customer.customerId } }))).Item;

    const scanned = await fetch(unsubscribe);
    const page = await scanned.text();
    expect(scanned.status).toBe(200);
    expect(page).toContain('<form method="post"');
    expect(page).not.toContain(customer.email);
    expect((await customerItem())?.unsubscribedAt).toBeUndefined();

    const tampered = new URL(unsubscribe);
    tampered.searchParams.set('c', 'someone-else');
    const forged = await fetch(tampered, { method: 'POST', body: 'List-Unsubscribe=One-Click' });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('This link does not work');
    expect((await customerItem())?.unsubscribedAt).toBeUndefined();
  });

  it('holds an email due during quiet hours until the next allowed time in the recipient’s zone', async () => {
    expect(timing.quietHours, 'the check-in campaign defines quiet hours').toBeDefined();
    const customer = newCustomer({ quietAtDue: true });
    const allowedAt = nextAllowedTime(dueFor(customer.timeZone), timing.quietHours!, customer.timeZone);
    await put(buys(customer));

    await stack.advance(pastDue);

    const mail = await mailTo(customer);
    expect(mail).toHaveLength(1);
    const sent = DateTime.fromISO(mail[0]!.sentAt, { zone: customer.timeZone });
    expect(sent.toISO()).toBe(DateTime.fromISO(allowedAt, { zone: customer.timeZone }).toISO());
    expect(sent.toFormat('HH:mm')).toBe(timing.quietHours!.end);
  });

  it('reschedules at send time when the recipient has moved into a zone where it is now quiet hours', async () => {
    // Planned for a zone where the due time is fine…
    const customer = newCustomer({ quietAtDue: false });
    const due = dueFor(customer.timeZone);
    await put(buys(customer));
    await stack.settle();
    const [planned] = await touchpointsOf(customer);
    expect(planned).toMatchObject({ dueAt: due, generation: 0 });
    // …then a later purchase says they now live where that instant falls in quiet hours.
    const movedTo = ZONES.find((zone) => nextAllowedTime(due, timing.quietHours!, zone) !== due);
    if (!movedTo) throw new Error(`no test zone where ${due} is in quiet hours`);
    await stack.advance(MINUTE);
    await put(buys({ ...customer, timeZone: movedTo }));

    await stack.advance(pastDue);

    const first = (await touchpointsOf(customer)).find((t) => t.touchpointId === planned!.touchpointId);
    const allowedAt = nextAllowedTime(due, timing.quietHours!, movedTo);
    expect(first).toMatchObject({ status: 'SENT', generation: 1, dueAt: allowedAt, sentAt: allowedAt });
    const runs = stack.executions().filter((e) => e.name.startsWith(`${String(planned!.touchpointId)}-g`));
    expect(runs.map((e) => [e.name.slice(-3), e.status])).toEqual([
      ['-g0', 'SUCCEEDED'],
      ['-g1', 'SUCCEEDED'],
    ]);
    expect(DateTime.fromISO(String(first!.sentAt), { zone: movedTo }).toFormat('HH:mm')).toBe(timing.quietHours!.end);
  });

  it('suppresses an address SES reports as a hard bounce (mailbox simulator): no further email', async () => {
    const customer = { ...newCustomer({ quietAtDue: false }), email: 'bounce@simulator.amazonses.com' };
    await put(buys(customer));
    await stack.advance(pastDue);
    expect(await mailTo(customer)).toHaveLength(1);
    const { Item } = await db.send(new GetCommand({ TableName: stack.tables.customers, Key: { customerId: customer.customerId } }));
    expect(Item?.suppressedAt).toBeDefined();

    await put(buys(customer));
    await stack.advance(pastDue);
    expect(await mailTo(customer)).toHaveLength(1);
  });

  it('rejects a malformed event with an error naming the field, keeps it as a dead letter, and writes nothing', async () => {
    const customer = { ...newCustomer({ quietAtDue: false }), email: 'not-an-email' };
    const deadBefore = stack.deadLetters().length;

    await put(buys(customer));
    await stack.settle();

    const letters = stack.deadLetters().slice(deadBefore);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ functionName: 'ingest-event', errorName: 'InvalidEventError', attempts: 3 });
    expect(letters[0]!.errorMessage).toContain('detail.email');
    const { Item } = await db.send(new GetCommand({ TableName: stack.tables.customers, Key: { customerId: customer.customerId } }));
    expect(Item).toBeUndefined();
    expect(await touchpointsOf(customer)).toHaveLength(0);
  });

  it('ends with no failed executions and no unexpected dead letters', async () => {
    const summary = await stack.summary();
    expect(summary.failedExecutions).toEqual([]);
    expect(summary.deadLetters.map((d) => d.errorName)).toEqual(['InvalidEventError']);
    expect(summary.executionsByStatus.RUNNING).toBeUndefined();
  });
});
