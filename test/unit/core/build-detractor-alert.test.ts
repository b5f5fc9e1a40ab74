import { describe, expect, it } from 'vitest';
import type { Customer, Touchpoint } from '../../../core/model.ts';
import type { SurveyAnsweredDetail } from '../../../core/surveys/events.ts';
import type { SurveyResponse } from '../../../core/surveys/responses.ts';
import { categoryOf, type SurveyKind } from '../../../core/surveys/scales.ts';
import { buildDetractorAlert, type DetractorAlertDeps } from '../../../core/use-cases/build-detractor-alert.ts';

const SURVEY_ID = 'tp-survey-1';
const ANSWERED_AT = '2026-03-10T09:15:00.000Z';

const customer: Customer = {
  customerId: 'c-1',
  email: 'ada@example.com',
  name: 'Ada <Lovelace>',
  timeZone: 'Europe/London',
  locale: 'en-GB',
  marketingConsent: true,
  orderIds: ['o-1'],
  profileUpdatedAt: '2026-03-01T10:00:00.000Z',
  createdAt: '2026-03-01T10:00:00.000Z',
};

const touchpoint: Touchpoint = {
  touchpointId: SURVEY_ID,
  campaignId: 'post-purchase-nps',
  kind: 'survey',
  customerId: 'c-1',
  orderId: 'o-1',
  dueAt: '2026-03-08T10:00:00.000Z',
  status: 'SENT',
  generation: 0,
  context: {
    orderId: 'o-1',
    items: [{ sku: 'TENT-2', name: 'Two-person tent', quantity: 2, unitPrice: 99.75, category: 'outdoor' }],
    total: 199.5,
    currency: 'EUR',
    purchasedAt: '2026-03-01T10:00:00.000Z',
  },
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-08T10:00:01.000Z',
};

function answered(kind: SurveyKind, score: number, fields: Partial<SurveyAnsweredDetail> = {}): SurveyAnsweredDetail {
  return {
    surveyId: SURVEY_ID,
    campaignId: 'post-purchase-nps',
    customerId: 'c-1',
    orderId: 'o-1',
    kind,
    score,
    category: categoryOf(kind, score),
    revision: 0,
    hasComment: false,
    firstAnsweredAt: ANSWERED_AT,
    answeredAt: ANSWERED_AT,
    ...fields,
  };
}

function storedResponse(kind: SurveyKind, scoreHistory: number[], comment?: string): SurveyResponse {
  const score = scoreHistory.at(-1)!;
  return {
    surveyId: SURVEY_ID,
    kind,
    campaignId: 'post-purchase-nps',
    customerId: 'c-1',
    orderId: 'o-1',
    score,
    category: categoryOf(kind, score),
    ...(comment !== undefined ? { comment } : {}),
    firstAnsweredAt: ANSWERED_AT,
    answeredAt: ANSWERED_AT,
    day: '2026-03-10',
    revision: scoreHistory.length - 1,
    scoreHistory,
  };
}

/** Ports answering from fixed records, counting their reads. */
function deps(records: { response?: SurveyResponse; customer?: Customer; touchpoint?: Touchpoint } = {}, cxAddress = 'CX Team <cx@shop.example>') {
  const reads: string[] = [];
  const port = <T>(name: string, key: string, value: T | undefined) => ({
    get: async (id: string) => {
      reads.push(`${name}:${id}`);
      return id === key ? structuredClone(value) : undefined;
    },
  });
  const ports: DetractorAlertDeps = {
    responses: port('responses', SURVEY_ID, records.response),
    customers: port('customers', 'c-1', records.customer),
    touchpoints: port('touchpoints', SURVEY_ID, records.touchpoint),
    senderAddress: 'Shop <outreach@shop.example>',
    configurationSet: 'outreach',
    cxAddress,
  };
  return { ports, reads };
}

const everything = { response: storedResponse('nps', [3], 'The tent leaked <badly> & the zip broke.'), customer, touchpoint };

describe('buildDetractorAlert', () => {
  it('alerts on a first NPS detractor answer: the Detractor Alert detail with comment, contact and order', async () => {
    // Prepare
    const { ports } = deps(everything);

    // Act
    const decision = await buildDetractorAlert(answered('nps', 3, { hasComment: true }), ports);

    // Assess
    expect(decision.alert).toBe(true);
    if (!decision.alert) return;
    expect(decision.event).toEqual({
      alertId: `${SURVEY_ID}#0`,
      surveyId: SURVEY_ID,
      campaignId: 'post-purchase-nps',
      customerId: 'c-1',
      orderId: 'o-1',
      kind: 'nps',
      score: 3,
      category: 'detractor',
      scale: { min: 0, max: 10 },
      revision: 0,
      hasComment: true,
      comment: 'The tent leaked <badly> & the zip broke.',
      answeredAt: ANSWERED_AT,
      firstAnsweredAt: ANSWERED_AT,
      customer: { name: 'Ada <Lovelace>', email: 'ada@example.com', locale: 'en-GB', unsubscribed: false, suppressed: false },
      order: {
        orderId: 'o-1',
        items: [{ sku: 'TENT-2', name: 'Two-person tent', quantity: 2, unitPrice: 99.75 }],
        total: 199.5,
        currency: 'EUR',
        purchasedAt: '2026-03-01T10:00:00.000Z',
      },
    });
  });

  it('emails the CX address from the sender, Reply-To the customer, with tags that never name the customer', async () => {
    // Prepare
    const { ports } = deps(everything);

    // Act
    const decision = await buildDetractorAlert(answered('nps', 3, { hasComment: true }), ports);

    // Assess
    if (!decision.alert) throw new Error('expected an alert');
    const email = decision.email!;
    expect(email).toMatchObject({
      FromEmailAddress: 'Shop <outreach@shop.example>',
      Destination: { ToAddresses: ['CX Team <cx@shop.example>'] },
      ReplyToAddresses: ['ada@example.com'],
      ConfigurationSetName: 'outreach',
      EmailTags: [
        { Name: 'purpose', Value: 'detractor-alert' },
        { Name: 'surveyId', Value: SURVEY_ID },
        { Name: 'campaignId', Value: 'post-purchase-nps' },
      ],
    });
    expect(email.Content.Simple.Subject).toEqual({ Data: 'Detractor alert: NPS 3/10 from Ada <Lovelace> (order o-1)', Charset: 'UTF-8' });
    const text = email.Content.Simple.Body.Text.Data;
    expect(text).toContain('Score: NPS 3 on 0–10 (detractor)');
    expect(text).toContain('Customer: Ada <Lovelace> <ada@example.com>');
    expect(text).toContain('Item: 2 × Two-person tent (TENT-2)');
    expect(text).toContain('Total: €199.50');
    expect(text).toContain('Campaign: post-purchase-nps');
    expect(text).toContain('Comment:\nThe tent leaked <badly> & the zip broke.');
  });

  it('escapes the comment and the customer name in the HTML body', async () => {
    // Prepare
    const { ports } = deps({ ...everything, response: storedResponse('nps', [0], '<script>alert(1)</script>\n"quoted"') });

    // Act
    const decision = await buildDetractorAlert(answered('nps', 0, { hasComment: true }), ports);

    // Assess
    if (!decision.alert) throw new Error('expected an alert');
    const html = decision.email!.Content.Simple.Body.Html.Data;
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<Lovelace>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;\n&quot;quoted&quot;');
    expect(html).toContain('Ada &lt;Lovelace&gt; &lt;ada@example.com&gt;');
  });

  it.each(['', '   '])('builds the event only when no CX address is configured (%j)', async (cxAddress) => {
    // Prepare
    const { ports } = deps(everything, cxAddress);

    // Act
    const decision = await buildDetractorAlert(answered('nps', 5), ports);

    // Assess
    expect(decision.alert).toBe(true);
    expect(decision).not.toHaveProperty('email');
    if (decision.alert) expect(decision.event.score).toBe(5);
  });

  it.each([
    ['nps', 0, true],
    ['nps', 6, true],
    ['nps', 7, false],
    ['nps', 10, false],
    ['csat', 1, true],
    ['csat', 2, true],
    ['csat', 3, false],
    ['csat', 5, false],
    ['ces', 1, true],
    ['ces', 2, true],
    ['ces', 3, false],
    ['ces', 7, false],
  ] as const)('%s %i alerts: %s', async (kind, score, alerts) => {
    // Prepare
    const { ports } = deps({ customer, touchpoint, response: storedResponse(kind, [score]) });

    // Act
    const decision = await buildDetractorAlert(answered(kind, score), ports);

    // Assess
    expect(decision.alert).toBe(alerts);
  });

  it('does not alert (nor read anything) when a non-detractor answer comes in', async () => {
    // Prepare
    const { ports, reads } = deps(everything);

    // Act
    const decision = await buildDetractorAlert(answered('nps', 9), ports);

    // Assess
    expect(decision).toEqual({ alert: false, reason: "NPS 9 is not a detractor's score" });
    expect(reads).toEqual([]);
  });

  it('alerts when a changed answer becomes a detractor one', async () => {
    // Prepare
    const { ports } = deps({ ...everything, response: storedResponse('nps', [8, 4]) });

    // Act
    const decision = await buildDetractorAlert(answered('nps', 4, { revision: 1, previousScore: 8 }), ports);

    // Assess
    expect(decision.alert).toBe(true);
    if (decision.alert) expect(decision.event).toMatchObject({ alertId: `${SURVEY_ID}#1`, score: 4, previousScore: 8, revision: 1, hasComment: false });
    if (decision.alert) expect(decision.email?.Content.Simple.Body.Text.Data).toContain('Score: NPS 4 on 0–10 (detractor), changed from 8');
  });

  it('does not alert twice: a detractor who changes their score or adds a comment stays alerted once', async () => {
    // Prepare
    const { ports, reads } = deps({ ...everything, response: storedResponse('nps', [3, 2], 'added later') });

    // Act
    const rescored = await buildDetractorAlert(answered('nps', 2, { revision: 1, previousScore: 3, hasComment: true }), ports);
    const commented = await buildDetractorAlert(answered('csat', 1, { revision: 1, previousScore: 1, hasComment: true }), ports);

    // Assess
    expect(rescored).toEqual({ alert: false, reason: "already a detractor's answer before (NPS 3): alerted then" });
    expect(commented).toEqual({ alert: false, reason: "already a detractor's answer before (CSAT 1): alerted then" });
    expect(reads).toEqual([]);
  });

  it('does not alert when the answer has meanwhile changed to a score that is not a detractor one', async () => {
    // Prepare
    const { ports } = deps({ ...everything, response: storedResponse('nps', [3, 9], 'all sorted, thanks') });

    // Act
    const decision = await buildDetractorAlert(answered('nps', 3), ports);

    // Assess
    expect(decision).toEqual({ alert: false, reason: 'the answer has changed since to NPS 9 (revision 1)' });
  });

  it('takes the latest comment when the answer has meanwhile changed to another detractor score', async () => {
    // Prepare
    const { ports } = deps({ ...everything, response: storedResponse('nps', [3, 1], 'and nobody called back') });

    // Act
    const decision = await buildDetractorAlert(answered('nps', 3), ports);

    // Assess
    expect(decision.alert).toBe(true);
    if (decision.alert) expect(decision.event).toMatchObject({ score: 3, revision: 0, hasComment: true, comment: 'and nobody called back' });
  });

  it('alerts from the event alone when the response, customer and touchpoint are gone', async () => {
    // Prepare
    const { ports } = deps({});

    // Act
    const decision = await buildDetractorAlert(answered('ces', 1, { hasComment: true }), ports);

    // Assess
    if (!decision.alert) throw new Error('expected an alert');
    expect(decision.event).not.toHaveProperty('customer');
    expect(decision.event).not.toHaveProperty('comment');
    expect(decision.event).toMatchObject({ hasComment: false, order: { orderId: 'o-1' }, scale: { min: 1, max: 7 } });
    expect(decision.email).toMatchObject({ ReplyToAddresses: [], Content: { Simple: { Subject: { Data: 'Detractor alert: CES 1/7 from c-1 (order o-1)' } } } });
    expect(decision.email!.Content.Simple.Body.Text.Data).toContain('Customer: unknown (customer id c-1)');
    expect(decision.email!.Content.Simple.Body.Text.Data).toContain('No comment.');
  });

  it('tells the team when the customer unsubscribed or their address is suppressed', async () => {
    // Prepare
    const flagged = { ...customer, unsubscribedAt: '2026-03-09T00:00:00.000Z', suppressedAt: '2026-03-09T01:00:00.000Z' };
    const { ports } = deps({ ...everything, customer: flagged });

    // Act
    const decision = await buildDetractorAlert(answered('nps', 2), ports);

    // Assess
    if (!decision.alert) throw new Error('expected an alert');
    expect(decision.event.customer).toMatchObject({ unsubscribed: true, suppressed: true });
    const text = decision.email!.Content.Simple.Body.Text.Data;
    expect(text).toContain('Note: the customer has unsubscribed from our emails');
    expect(text).toContain("Note: the customer's address bounced or complained: email may not reach them");
  });
});
