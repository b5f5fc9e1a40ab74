/**
 * The send path under SES faults, end to end on the embedded stack: the real handlers, the check-in workflow, the SES
 * front's seeded faults (local/ses-front.ts) and the manual clock. Each case launches its own customers' check-ins and
 * asserts the exact outcome per touchpoint: its status, how many copies are in the mailbox, how often it was deferred
 * or sent again, and that nothing is left in flight or in the dead-letter store.
 *
 * One stack per process, so one stack for the file: every Express execution runs twice (`expressRunsTwice`, as
 * Express's at-least-once delivery may) in every case, and each case sets its faults on the object the SES front reads
 * at every call. The rate is high enough that SES's own rate limit never throttles these small launches.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { saveCampaign } from '../../adapters/dynamodb-campaigns.ts';
import { loadCampaignDirectory } from '../../core/campaigns/load.ts';
import type { Touchpoint } from '../../core/model.ts';
import { DEFAULT_COMMERCE_EVENT_SOURCE } from '../../core/topology.ts';
import { touchpointIdFor } from '../../core/touchpoint-id.ts';
import { purchaseEntry, type SampleCustomer } from '../../local/sample-data.ts';
import type { SesAcceptedSend, SesFaults, SesFrontStats } from '../../local/ses.ts';
import { PROJECT_ROOT, startLocalStack, type LocalStack } from '../../local/stack.ts';

const CAMPAIGN_ID = 'post-purchase-check-in';
/** A Monday, 10:00 UTC: the check-ins of customers in UTC fall outside quiet hours. */
const START = '2031-03-10T10:00:00.000Z';
const SES_RATE = 100;
const LAUNCH = 20;
const FINAL = new Set(['SENT', 'FAILED', 'SKIPPED', 'CANCELLED']);

/** Read by the SES front at every SendEmail call; the seed is read once. */
const faults: SesFaults = { seed: 11 };
const accepted: SesAcceptedSend[] = [];
let stack: LocalStack;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const checkIn = loadCampaignDirectory(join(PROJECT_ROOT, 'campaigns')).filter((c) => c.id === CAMPAIGN_ID);
  stack = await startLocalStack({
    portBase: 0,
    speed: 0,
    startAt: START,
    log: false,
    expressRunsTwice: true,
    ses: { maxSendRate: SES_RATE, faults, onAccepted: (send) => accepted.push(send) },
    loadCampaigns: async (s) => {
      for (const campaign of checkIn) await saveCampaign(s.tables.campaigns, campaign, s.clock.nowIso(), DynamoDBDocumentClient.from(s.clients.dynamodb));
    },
  });
  db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => clearFaults());

function clearFaults(): void {
  for (const name of ['throttle', 'resetBeforeForward', 'dropAfterAccept', 'reject', 'dropSendEvents'] as const) delete faults[name];
}

interface Launch {
  customers: SampleCustomer[];
  /** The check-in of customers[i]. */
  touchpointIds: string[];
  /** What SES had done before the launch was due. */
  statsBefore: SesFrontStats;
  acceptedBefore: number;
}

/** `count` new customers in UTC buy now; their check-ins are planned (not yet due). */
async function launch(label: string, count = LAUNCH): Promise<Launch> {
  const customers = Array.from({ length: count }, (_, i): SampleCustomer => ({
    customerId: `sf-${label}-${i}`,
    name: `Fault ${i}`,
    email: `sf-${label}-${i}@example.com`,
    timeZone: 'UTC',
    locale: 'en',
    marketingConsent: true,
  }));
  const orderIds = customers.map((c) => `ord-${c.customerId}`);
  const entries = customers.map((c, i) => purchaseEntry(DEFAULT_COMMERCE_EVENT_SOURCE, c, { orderId: orderIds[i]!, currency: 'EUR', items: [{ sku: 'MUG-1', name: 'Stoneware mug', quantity: 1, unitPrice: 14 }] }, stack.clock.now()));
  for (let i = 0; i < entries.length; i += 10) expect((await stack.putEvents(entries.slice(i, i + 10))).FailedEntryCount).toBe(0);
  await stack.settle();
  const touchpointIds = orderIds.map((orderId) => touchpointIdFor(CAMPAIGN_ID, `order:${orderId}`));
  const planned = await touchpointsOf(touchpointIds);
  expect(planned.map((t) => t?.status), 'every purchase planned one check-in').toEqual(touchpointIds.map(() => 'PENDING'));
  return { customers, touchpointIds, statsBefore: stack.sesStats(), acceptedBefore: accepted.length };
}

async function touchpointsOf(ids: string[]): Promise<Array<Touchpoint | undefined>> {
  return Promise.all(ids.map(async (id) => (await db.send(new GetCommand({ TableName: stack.tables.touchpoints, Key: { touchpointId: id } }))).Item as Touchpoint | undefined));
}

/** Moves the clock to the launch's due time: the dispatch there starts every check-in (the first attempts). */
async function advanceToDue(batch: Launch): Promise<void> {
  const dues = (await touchpointsOf(batch.touchpointIds)).map((t) => Date.parse(t!.dueAt));
  await stack.advance(Math.max(...dues) - stack.clock.nowMs());
}

/** Advances 5 minutes at a time until every touchpoint of the launch has ended (at most `limit` virtual minutes). */
async function advanceUntilEnded(batch: Launch, limit = 240): Promise<void> {
  for (let waited = 0; waited < limit; waited += 5) {
    if ((await touchpointsOf(batch.touchpointIds)).every((t) => FINAL.has(t!.status))) return;
    await stack.advance('PT5M');
  }
}

/** Copies in the mailbox per customer of the launch. */
async function copies(batch: Launch): Promise<number[]> {
  const mailbox = await stack.mailbox();
  return batch.customers.map((c) => mailbox.filter((m) => m.to.includes(c.email)).length);
}

const delta = (batch: Launch, name: keyof SesFrontStats) => stack.sesStats()[name] - batch.statsBefore[name];
const acceptedSince = (batch: Launch) => accepted.slice(batch.acceptedBefore);
const tagOf = (send: SesAcceptedSend, name: string) => send.input.EmailTags?.find((t) => t.Name === name)?.Value;

/** The executions of one touchpoint's workflow, with what its send step said. */
function executionsOf(touchpointId: string) {
  return stack
    .executions()
    .filter((e) => e.name.startsWith(`${touchpointId}-g`))
    .map((e) => {
      const output = e.output ? (JSON.parse(e.output) as { check?: { Payload?: { decision?: string } }; sent?: { Payload?: { result?: string } } }) : {};
      return { name: e.name, status: e.status, error: e.error, decision: output.check?.Payload?.decision, sendResult: output.sent?.Payload?.result };
    });
}

/** Nothing failed, stuck or dead-lettered, except the touchpoints expected to fail. */
function expectNoStrayFailures(batch: Launch, expectedFailed: Set<string> = new Set()): void {
  expect(stack.deadLetters()).toEqual([]);
  for (const id of batch.touchpointIds) {
    const failed = executionsOf(id).filter((e) => e.status !== 'SUCCEEDED');
    if (expectedFailed.has(id)) expect(failed.map((e) => [e.status, e.error])).toEqual([['FAILED', 'CheckInFailed']]);
    else expect(failed, `executions of ${id}`).toEqual([]);
  }
}

describe('the send path under SES faults (every Express execution runs twice)', () => {
  it('at-least-once Express, no faults: every execution ran twice, one run sent, the other sent nothing; one email each', async () => {
    // Prepare
    const batch = await launch('twice');

    // Act
    await advanceToDue(batch);
    await stack.advance('PT40M');

    // Assess
    const touchpoints = await touchpointsOf(batch.touchpointIds);
    expect(touchpoints.map((t) => [t!.status, t!.generation])).toEqual(batch.touchpointIds.map(() => ['SENT', 0]));
    expect(await copies(batch)).toEqual(batch.touchpointIds.map(() => 1));
    expect(delta(batch, 'sendRequests')).toBe(LAUNCH);
    for (const [i, id] of batch.touchpointIds.entries()) {
      const runs = executionsOf(id);
      expect(runs.map((r) => [r.name, r.status])).toEqual([
        [`${id}-g0`, 'SUCCEEDED'],
        [`${id}-g0`, 'SUCCEEDED'],
      ]);
      // One run claimed and sent; the other found the touchpoint claimed (at the eligibility check or at the claim).
      expect(runs.filter((r) => r.sendResult === 'SENT')).toHaveLength(1);
      expect(runs.filter((r) => r.sendResult === 'STALE' || r.decision === 'STALE')).toHaveLength(1);
      expect(touchpoints[i]!.messageId).toBe(acceptedSince(batch).find((s) => tagOf(s, 'touchpointId') === id)?.messageId);
    }
    expectNoStrayFailures(batch);
  });

  it('throttling (30 % of SendEmail calls answered 429 TooManyRequests throughout): deferred with backoff, then all delivered once', async () => {
    // Prepare
    const batch = await launch('throttle');
    faults.throttle = 0.3;

    // Act
    await advanceToDue(batch);
    await advanceUntilEnded(batch);

    // Assess
    const throttled = delta(batch, 'throttled');
    expect(delta(batch, 'injectedThrottles')).toBeGreaterThan(0);
    const touchpoints = await touchpointsOf(batch.touchpointIds);
    expect(touchpoints.map((t) => t!.status)).toEqual(batch.touchpointIds.map(() => 'SENT'));
    expect(await copies(batch)).toEqual(batch.touchpointIds.map(() => 1));
    // Every 429 is one deferral (back to PENDING, generation + 1), and nothing else was: counted on the touchpoints.
    const deferrals = touchpoints.map((t) => t!.sendDeferrals ?? 0);
    expect(deferrals.reduce((a, b) => a + b, 0)).toBe(throttled);
    expect(touchpoints.map((t) => t!.generation)).toEqual(deferrals);
    expect(delta(batch, 'sendRequests')).toBe(LAUNCH + throttled);
    expect(delta(batch, 'accepted')).toBe(LAUNCH);
    expectNoStrayFailures(batch);
  });

  it('connection reset before the request reached SES (30 % of first attempts): UNCONFIRMED, no Send event, sent again once after the window; all delivered once', async () => {
    // Prepare
    const batch = await launch('reset');
    faults.resetBeforeForward = 0.3;

    // Act: the first attempts under the fault, then the window passes with the network healthy again.
    await advanceToDue(batch);
    const resets = delta(batch, 'reset');
    const afterFirst = await touchpointsOf(batch.touchpointIds);
    clearFaults();
    await stack.advance('PT40M');

    // Assess: the reset ones waited UNCONFIRMED for a Send event that could not come, then were sent once.
    expect(resets).toBeGreaterThan(0);
    const wasReset = afterFirst.map((t) => t!.status === 'UNCONFIRMED');
    expect(wasReset.filter(Boolean)).toHaveLength(resets);
    expect(afterFirst.filter((t) => t!.status === 'SENT')).toHaveLength(LAUNCH - resets);
    for (const t of afterFirst.filter((t) => t!.status === 'UNCONFIRMED')) expect(t!.reason).toMatch(/^unconfirmed: ECONNRESET/);
    const touchpoints = await touchpointsOf(batch.touchpointIds);
    expect(touchpoints.map((t) => t!.status)).toEqual(batch.touchpointIds.map(() => 'SENT'));
    expect(touchpoints.map((t) => [t!.generation, t!.unconfirmedResends ?? 0])).toEqual(wasReset.map((reset) => (reset ? [1, 1] : [0, 0])));
    expect(await copies(batch)).toEqual(batch.touchpointIds.map(() => 1));
    expect(delta(batch, 'sendRequests')).toBe(LAUNCH + resets);
    expectNoStrayFailures(batch);
  });

  it("SES accepted but the answer was dropped (30 % of first attempts): AMBIGUOUS, settled SENT by SES's Send event, never sent again", async () => {
    // Prepare
    const batch = await launch('drop');
    faults.dropAfterAccept = 0.3;

    // Act
    await advanceToDue(batch);
    clearFaults();
    await stack.advance('PT40M');

    // Assess
    const dropped = acceptedSince(batch).filter((s) => s.dropped);
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped).toHaveLength(delta(batch, 'dropped'));
    const touchpoints = await touchpointsOf(batch.touchpointIds);
    expect(touchpoints.map((t) => [t!.status, t!.generation, t!.unconfirmedResends])).toEqual(batch.touchpointIds.map(() => ['SENT', 0, undefined]));
    for (const send of dropped) {
      const id = tagOf(send, 'touchpointId')!;
      // The workflow never saw this message id: only SES's Send event could have recorded it.
      expect(touchpoints[batch.touchpointIds.indexOf(id)]!.messageId).toBe(send.messageId);
      expect(executionsOf(id).map((r) => r.sendResult)).toContain('AMBIGUOUS');
    }
    expect(await copies(batch)).toEqual(batch.touchpointIds.map(() => 1));
    expect(delta(batch, 'sendRequests')).toBe(LAUNCH);
    expectNoStrayFailures(batch);
  });

  it('the answer dropped AND the Send event lost: UNCONFIRMED through the window, then sent again exactly once (the one documented duplicate)', async () => {
    // Prepare: answers of 30 % and every sending event of the first attempts are lost.
    const batch = await launch('lost-event');
    faults.dropAfterAccept = 0.3;
    faults.dropSendEvents = 1;

    // Act
    await advanceToDue(batch);
    clearFaults();
    await stack.advance('PT29M');
    const inWindow = await touchpointsOf(batch.touchpointIds);
    await stack.advance('PT11M');

    // Assess
    const droppedIds = new Set(acceptedSince(batch).filter((s) => s.dropped).map((s) => tagOf(s, 'touchpointId')!));
    expect(droppedIds.size).toBeGreaterThan(0);
    expect(droppedIds.size).toBe(delta(batch, 'dropped'));
    const lost = batch.touchpointIds.map((id) => droppedIds.has(id));
    expect(inWindow.map((t) => t!.status)).toEqual(lost.map((l) => (l ? 'UNCONFIRMED' : 'SENT')));
    const touchpoints = await touchpointsOf(batch.touchpointIds);
    expect(touchpoints.map((t) => [t!.status, t!.generation, t!.unconfirmedResends ?? 0])).toEqual(lost.map((l) => (l ? ['SENT', 1, 1] : ['SENT', 0, 0])));
    expect(await copies(batch)).toEqual(lost.map((l) => (l ? 2 : 1)));
    // The resend was recorded from its own answer: generation 1's message.
    for (const [i, id] of batch.touchpointIds.entries()) {
      if (!lost[i]) continue;
      const resend = acceptedSince(batch).filter((s) => tagOf(s, 'touchpointId') === id && tagOf(s, 'generation') === '1');
      expect(resend.map((s) => s.messageId)).toEqual([touchpoints[i]!.messageId]);
    }
    expect(delta(batch, 'sendRequests')).toBe(LAUNCH + droppedIds.size);
    expectNoStrayFailures(batch);
  });

  it('all at once, as issue 11 measured: 20 % throttled, 2 % reset before forwarding, 1 % answers dropped, throughout: every email once, or an ambiguous one reconciled', async () => {
    // Prepare
    const batch = await launch('mixed', 100);
    Object.assign(faults, { throttle: 0.2, resetBeforeForward: 0.02, dropAfterAccept: 0.01 });

    // Act: the faults stay on through every retry, deferral and resend.
    await advanceToDue(batch);
    await advanceUntilEnded(batch, 600);

    // Assess
    expect(delta(batch, 'injectedThrottles')).toBeGreaterThan(0);
    const touchpoints = await touchpointsOf(batch.touchpointIds);
    const mailbox = await copies(batch);
    for (const [i, t] of touchpoints.entries()) {
      if (t!.status === 'SENT') {
        expect(mailbox[i], `copies of ${t!.touchpointId}`).toBe(1);
      } else {
        // Only a resend whose answer was lost again may end so, and it was delivered at most once.
        expect([t!.status, t!.reason]).toEqual(['FAILED', expect.stringMatching(/^no SES Send event confirmed the send/)]);
        expect(mailbox[i]).toBeLessThanOrEqual(1);
      }
    }
    expect(touchpoints.filter((t) => t!.status !== 'SENT').length).toBeLessThanOrEqual(2);
    expect(delta(batch, 'accepted')).toBe(mailbox.reduce((a, b) => a + b, 0));
    expect(stack.deadLetters()).toEqual([]);
  });

  it('a permanent rejection (30 % of SendEmail calls answered 400 MessageRejected): FAILED with the reason, never retried; the rest delivered once', async () => {
    // Prepare
    const batch = await launch('reject');
    faults.reject = 0.3;

    // Act
    await advanceToDue(batch);
    await stack.advance('PT40M');

    // Assess
    const rejects = delta(batch, 'injectedRejects');
    expect(rejects).toBeGreaterThan(0);
    const touchpoints = await touchpointsOf(batch.touchpointIds);
    const rejected = touchpoints.map((t) => t!.status === 'FAILED');
    expect(rejected.filter(Boolean)).toHaveLength(rejects);
    expect(touchpoints.map((t) => t!.status)).toEqual(rejected.map((r) => (r ? 'FAILED' : 'SENT')));
    for (const t of touchpoints.filter((t) => t!.status === 'FAILED')) {
      expect(t!.reason).toBe('MessageRejected: Email address is not verified (injected fault).');
      expect(t!.generation).toBe(0);
    }
    expect(await copies(batch)).toEqual(rejected.map((r) => (r ? 0 : 1)));
    expect(delta(batch, 'sendRequests')).toBe(LAUNCH);
    expectNoStrayFailures(batch, new Set(batch.touchpointIds.filter((_, i) => rejected[i])));
  });
});
