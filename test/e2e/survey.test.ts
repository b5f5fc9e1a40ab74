/**
 * Surveys end to end on the embedded stack, with the shipped campaigns (campaigns/nps-survey.yaml, promoter-review.yaml):
 * a purchase → 14 days later an NPS email whose one-click links go to the local web endpoint → a GET (what a mail
 * scanner does) records nothing → the form's POST records the answer, counts it, cancels the reminder and publishes
 * Survey Answered → a promoter gets the review ask a day later, a detractor's answer alerts the CX address and
 * publishes Detractor Alert; a customer who does not answer gets exactly one reminder.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COMMERCE_EVENT_SOURCE } from '../../core/topology.ts';
import { surveyReminderIdFor, touchpointIdFor } from '../../core/touchpoint-id.ts';
import { purchaseEntry, type SampleCustomer } from '../../local/sample-data.ts';
import { startE2eStack, type E2eStack } from './support.ts';

const SURVEY = 'nps-after-purchase';
let e2e: E2eStack;

const customer = (id: string, name: string): SampleCustomer => ({
  customerId: id,
  name,
  email: `${id}@example.com`,
  timeZone: 'Europe/Berlin',
  locale: 'en',
  marketingConsent: true,
});
const promoter = customer('nps-promoter', 'Pia Promoter');
const detractor = customer('nps-detractor', 'Dan Detractor');
const silent = customer('nps-silent', 'Sid Silent');

/** The answer link for `score` in the plain-text part of the customer's survey email. */
async function answerLink(who: SampleCustomer, score: number): Promise<string> {
  const mail = (await e2e.stack.mailbox()).filter((m) => m.to.includes(who.email) && m.subject.endsWith('one quick question'));
  expect(mail, `${who.customerId} got one survey email`).toHaveLength(1);
  const line = mail[0]!.body.text!.split('\n').find((l) => l.startsWith(`${score}: `) || l.startsWith(`${score} (`));
  const url = line?.slice(line.indexOf('http'));
  expect(url, `a link for ${score}`).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/survey\?/);
  return url!;
}

/** The form the confirm page posts: the hidden link fields plus the comment. */
async function submit(link: string, comment = ''): Promise<Response> {
  const params = new URL(link).searchParams;
  const form = new URLSearchParams({ s: params.get('s')!, c: params.get('c')!, v: params.get('v')!, e: params.get('e')!, t: params.get('t')!, comment });
  return fetch(new URL('/survey', link), { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

const surveyIdOf = (who: SampleCustomer) => touchpointIdFor(SURVEY, `order:${who.customerId}-order`);
const response = async (who: SampleCustomer) =>
  (await e2e.db.send(new GetCommand({ TableName: e2e.stack.tables.responses, Key: { surveyId: surveyIdOf(who) }, ConsistentRead: true }))).Item;

beforeAll(async () => {
  e2e = await startE2eStack({ startAt: '2031-06-02T07:00:00.000Z' });
  const entries = [promoter, detractor, silent].map((who) =>
    purchaseEntry(DEFAULT_COMMERCE_EVENT_SOURCE, who, { orderId: `${who.customerId}-order`, currency: 'EUR', items: [{ sku: 'K-1', name: 'Kettle', quantity: 1, unitPrice: 40 }] }, e2e.stack.clock.now()),
  );
  expect((await e2e.events.send(new PutEventsCommand({ Entries: entries }))).FailedEntryCount).toBe(0);
  await e2e.stack.advance('P14DT2H');
});
afterAll(async () => {
  await e2e?.stop();
});

describe('NPS survey on the local stack', () => {
  it('sends the survey 14 days after the purchase with 11 signed one-click links in both parts', async () => {
    const mail = (await e2e.stack.mailbox()).find((m) => m.to.includes(promoter.email) && m.subject === 'Pia, one quick question')!;
    expect(mail).toBeDefined();
    expect(mail.body.html!.match(/href="http:\/\/127\.0\.0\.1:\d+\/survey\?[^"]+"/g)).toHaveLength(11);
    expect(mail.body.text).toContain('How likely are you to recommend our shop to a friend or colleague?');
    expect(mail.header('List-Unsubscribe')).toMatch(/unsubscribe/);
  });

  it('a GET (a mail scanner) shows the score and records nothing; the POST records, counts and cancels the reminder', async () => {
    const link = await answerLink(promoter, 10);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post"');
    expect(await response(promoter)).toBeUndefined();

    const posted = await submit(link, 'Lovely kettle');
    expect(posted.status).toBe(200);
    expect(await posted.text()).toMatch(/10 of 10/);
    await e2e.stack.settle();
    expect(await response(promoter)).toMatchObject({ score: 10, category: 'promoter', revision: 0, comment: 'Lovely kettle' });
    const reminder = await e2e.db.send(
      new GetCommand({ TableName: e2e.stack.tables.touchpoints, Key: { touchpointId: surveyReminderIdFor(SURVEY, surveyIdOf(promoter)) } }),
    );
    expect(reminder.Item).toMatchObject({ status: 'CANCELLED', reason: 'survey answered' });
  });

  it('a double click changes nothing; another score within the window changes the one response and the counts', async () => {
    const link = await answerLink(promoter, 10);
    expect((await submit(link)).status).toBe(200);
    expect(await response(promoter)).toMatchObject({ score: 10, revision: 0 });

    expect((await submit(await answerLink(promoter, 9))).status).toBe(200);
    await e2e.stack.settle();
    expect(await response(promoter)).toMatchObject({ score: 9, category: 'promoter', revision: 1, comment: 'Lovely kettle' });
    const { Items = [] } = await e2e.db.send(
      new QueryCommand({ TableName: e2e.stack.tables.surveyAggregates, KeyConditionExpression: 'campaignId = :c', ExpressionAttributeValues: { ':c': SURVEY } }),
    );
    const day = Items.find((i) => String(i.bucket).endsWith('#nps'))!;
    expect(day).toMatchObject({ responses: 1, score_9: 1, score_10: 0, category_promoter: 1 });
  });

  it('a tampered or forged link gets a friendly 4xx page and writes nothing', async () => {
    const link = new URL(await answerLink(silent, 10));
    link.searchParams.set('v', '0');
    const tampered = await fetch(link);
    expect(tampered.status).toBe(400);
    expect(await tampered.text()).not.toContain('<form');
    expect((await submit(link.toString())).status).toBe(400);
    expect(await response(silent)).toBeUndefined();
  });

  it("a detractor's answer alerts the CX address and publishes Detractor Alert; a promoter gets the review ask a day later", async () => {
    expect((await submit(await answerLink(detractor, 3), 'The lid broke on day one')).status).toBe(200);
    await e2e.stack.settle();
    const alerts = (await e2e.stack.mailbox()).filter((m) => m.to.includes('cx-team@shop.example'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.body.text).toContain('The lid broke on day one');
    const events = (await (await fetch(`${e2e.stack.endpoints.control}/events`)).json()) as Array<{ event: { 'detail-type': string; detail: { surveyId?: string } } }>;
    expect(events.filter((e) => e.event['detail-type'] === 'Detractor Alert').map((e) => e.event.detail.surveyId)).toEqual([surveyIdOf(detractor)]);
    expect(events.filter((e) => e.event['detail-type'] === 'Survey Answered').length).toBeGreaterThanOrEqual(3);

    await e2e.stack.advance('P1DT2H');
    const review = (await e2e.stack.mailbox()).filter((m) => m.subject.startsWith('Thank you,'));
    expect(review.map((m) => m.to)).toEqual([[promoter.email]]);
  });

  it('the customer who did not answer gets exactly one reminder with the same survey; the others get none', async () => {
    await e2e.stack.advance('P3D');
    const surveys = (await e2e.stack.mailbox()).filter((m) => m.subject.endsWith('one quick question'));
    expect(surveys.filter((m) => m.to.includes(silent.email))).toHaveLength(2);
    expect(surveys.filter((m) => m.to.includes(promoter.email))).toHaveLength(1);
    expect(surveys.filter((m) => m.to.includes(detractor.email))).toHaveLength(1);
    const [first, reminder] = surveys.filter((m) => m.to.includes(silent.email)).map((m) => m.body.text!);
    const surveyParam = (text: string) => new URL(text.slice(text.indexOf('http')).split('\n')[0]!).searchParams.get('s');
    expect(surveyParam(reminder!)).toBe(surveyParam(first!));
    await e2e.stack.advance('P5D');
    expect((await e2e.stack.mailbox()).filter((m) => m.to.includes(silent.email) && m.subject.endsWith('one quick question'))).toHaveLength(2);
  });
});
