/**
 * workflows/close-the-loop.asl.json as the local stack runs it: a "Survey Answered" event put on the local bus matches
 * the close-the-loop rule, which starts an execution with the whole event; the detractor-alert task runs the use case
 * (as its handler does) against in-memory records, SendAlertEmail goes to a fake SES v2 client, and
 * PublishDetractorAlert puts its event back on the same bus.
 */
import * as sesv2Commands from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import type { Customer, Touchpoint } from '../../core/model.ts';
import { surveyAnsweredDetailSchema, type SurveyAnsweredDetail } from '../../core/surveys/events.ts';
import type { SurveyResponse } from '../../core/surveys/responses.ts';
import { DETAIL_TYPES, EVENT_RULES, PRODUCT_EVENT_SOURCE } from '../../core/topology.ts';
import { buildDetractorAlert, type DetractorAlertDeps } from '../../core/use-cases/build-detractor-alert.ts';
import { LocalClock } from '../../local/clock.ts';
import { LocalEventBus } from '../../local/event-bus.ts';
import { LocalFunctions } from '../../local/lambda-runtime.ts';
import { LocalStepFunctions } from '../../local/step-functions.ts';
import type { SdkServiceBinding } from '../../local/task-dispatch.ts';
import { loadWorkflow, localSubstitutions } from '../../local/workflow-loader.ts';
import { WorkTracker } from '../../local/work-tracker.ts';
import { EVENT_BUS_NAME } from './support.ts';

const START = '2026-03-10T09:15:05.000Z';
const SURVEY_ID = 'tp-survey-1';
const CX_ADDRESS = 'cx@shop.example';

const customer: Customer = {
  customerId: 'c-1',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
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
  context: { orderId: 'o-1', items: [{ sku: 'TENT-2', name: 'Two-person tent', quantity: 1, unitPrice: 199.5 }], total: 199.5, currency: 'EUR' },
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-08T10:00:01.000Z',
};
const response = (score: number): SurveyResponse => ({
  surveyId: SURVEY_ID,
  kind: 'nps',
  campaignId: 'post-purchase-nps',
  customerId: 'c-1',
  orderId: 'o-1',
  score,
  category: score <= 6 ? 'detractor' : score <= 8 ? 'passive' : 'promoter',
  comment: 'The tent leaked.',
  firstAnsweredAt: '2026-03-10T09:15:00.000Z',
  answeredAt: '2026-03-10T09:15:00.000Z',
  day: '2026-03-10',
  revision: 0,
  scoreHistory: [score],
});
const detail = (score: number): SurveyAnsweredDetail => ({
  surveyId: SURVEY_ID,
  campaignId: 'post-purchase-nps',
  customerId: 'c-1',
  orderId: 'o-1',
  kind: 'nps',
  score,
  category: response(score).category,
  revision: 0,
  hasComment: true,
  firstAnsweredAt: '2026-03-10T09:15:00.000Z',
  answeredAt: '2026-03-10T09:15:00.000Z',
});

const namedError = (name: string, status: number) =>
  Object.assign(new Error(`${name} from the fake SES`), { name, $metadata: { httpStatusCode: status, requestId: 'req-1' } });

/** A fake SES v2 client: throws the queued errors first, then accepts; records every attempt. */
function fakeSes(errors: Error[]): SdkServiceBinding & { attempts: unknown[]; sent: unknown[] } {
  const attempts: unknown[] = [];
  const sent: unknown[] = [];
  return {
    attempts,
    sent,
    errorPrefix: 'SesV2',
    commands: sesv2Commands,
    client: {
      send: async (command: never) => {
        const input = (command as { input: unknown }).input;
        attempts.push(input);
        const error = errors.shift();
        if (error) throw error;
        sent.push(input);
        return { MessageId: `msg-${sent.length}`, $metadata: { httpStatusCode: 200 } };
      },
    },
  };
}

function setUp(options: { score: number; cxAddress?: string; sesErrors?: Error[] }) {
  const clock = new LocalClock({ speed: 0, start: new Date(START) });
  const tracker = new WorkTracker();
  const ports: DetractorAlertDeps = {
    responses: { get: async (id) => (id === SURVEY_ID ? response(options.score) : undefined) },
    customers: { get: async (id) => (id === 'c-1' ? structuredClone(customer) : undefined) },
    touchpoints: { get: async (id) => (id === SURVEY_ID ? structuredClone(touchpoint) : undefined) },
    senderAddress: 'Shop <outreach@shop.example>',
    configurationSet: 'outreach',
    cxAddress: options.cxAddress ?? CX_ADDRESS,
  };
  const invoked: unknown[] = [];
  // What functions/detractor-alert/handler.ts does, with in-memory records instead of DynamoDB.
  const detractorAlert = async (event: unknown) => {
    invoked.push(event);
    return buildDetractorAlert(surveyAnsweredDetailSchema.parse(event), ports);
  };
  const functions = new LocalFunctions({
    load: async (name) => {
      if (name !== 'detractor-alert') throw new Error(`no function ${name} in this test`);
      return detractorAlert;
    },
    clock,
    tracker,
  });
  const ses = fakeSes([...(options.sesErrors ?? [])]);
  const delivered: string[] = [];
  let stepFunctions: LocalStepFunctions | undefined;
  const bus = new LocalEventBus({
    clock,
    productBusName: EVENT_BUS_NAME,
    rules: EVENT_RULES,
    commerceSource: 'outreach.commerce',
    deliver: (target) => delivered.push(target),
    startWorkflow: (workflow, event) => stepFunctions!.startExecution({ stateMachineArn: arns[workflow], name: event.id, input: JSON.stringify(event) }),
  });
  stepFunctions = new LocalStepFunctions({
    clock,
    tracker,
    retryDelayMs: 1,
    services: { invokeFunction: (name, payload) => functions.invoke(name, payload), sdk: { sesv2: ses }, putEvents: (entries) => bus.putEvents(entries) },
  });
  const arns: Record<string, string> = {
    'close-the-loop': stepFunctions.register('close-the-loop', loadWorkflow('.', 'close-the-loop', localSubstitutions(EVENT_BUS_NAME))),
  };

  /** Puts Survey Answered on the product bus, as the settle step does, and waits for everything it started. */
  const answer = async (answered: SurveyAnsweredDetail) => {
    const result = bus.putEvents([
      { EventBusName: EVENT_BUS_NAME, Source: PRODUCT_EVENT_SOURCE, DetailType: DETAIL_TYPES.surveyAnswered, Detail: JSON.stringify(answered) },
    ]);
    await tracker.idle();
    const [execution, ...others] = stepFunctions.executions();
    return { put: result, execution, others };
  };
  const published = () => bus.history.filter((recorded) => recorded.event['detail-type'] === DETAIL_TYPES.detractorAlert);
  return { answer, invoked, ses, delivered, published, ports };
}

describe('close-the-loop workflow', () => {
  it('a detractor with a CX address configured: publishes the Detractor Alert on the product bus, then emails the team', async () => {
    // Prepare
    const { answer, invoked, ses, published, ports, delivered } = setUp({ score: 3 });
    const expected = await buildDetractorAlert(detail(3), ports);
    if (!expected.alert) throw new Error('the fixture must be an alert');

    // Act
    const { put, execution, others } = await answer(detail(3));

    // Assess
    expect(execution).toMatchObject({ name: (put.Entries[0] as { EventId: string }).EventId, status: 'SUCCEEDED' });
    expect(others).toEqual([]);
    expect(JSON.parse(execution!.input)).toMatchObject({ 'detail-type': 'Survey Answered', source: 'outreach.surveys', detail: detail(3) });
    expect(delivered).toEqual(['ingest-event']);
    expect(invoked).toEqual([detail(3)]);
    expect(published()).toHaveLength(1);
    expect(published()[0]).toMatchObject({ bus: EVENT_BUS_NAME, matchedRules: [], event: { source: PRODUCT_EVENT_SOURCE, detail: expected.event } });
    expect(ses.sent).toEqual([expected.email]);
    expect(ses.sent[0]).toMatchObject({ Destination: { ToAddresses: [CX_ADDRESS] }, ReplyToAddresses: ['ada@example.com'] });
    expect(JSON.parse(execution!.output!)).toMatchObject({
      published: { EventId: published()[0]!.event.id },
      sent: { MessageId: 'msg-1' },
    });
  });

  it('a detractor without a CX address: publishes the event and sends no email', async () => {
    // Prepare
    const { answer, ses, published } = setUp({ score: 0, cxAddress: '' });

    // Act
    const { execution } = await answer(detail(0));

    // Assess
    expect(execution?.status).toBe('SUCCEEDED');
    expect(published().map((p) => p.event.detail)).toEqual([expect.objectContaining({ alertId: `${SURVEY_ID}#0`, score: 0, comment: 'The tent leaked.' })]);
    expect(ses.attempts).toEqual([]);
    expect(JSON.parse(execution!.output!)).not.toHaveProperty('sent');
  });

  it.each([
    ['an NPS promoter', { kind: 'nps' as const, score: 10 }],
    ['an NPS passive', { kind: 'nps' as const, score: 7 }],
    ['a neutral CSAT 3', { kind: 'csat' as const, score: 3 }],
    ['an easy CES 3', { kind: 'ces' as const, score: 3 }],
  ])("%s: the rule filters the answer on the bus, so no execution starts (none is billed)", async (_, answered) => {
    // Prepare
    const { answer, invoked, ses, published } = setUp({ score: answered.score });

    // Act
    const { execution } = await answer({ ...detail(answered.score), ...answered });

    // Assess
    expect(execution).toBeUndefined();
    expect(invoked).toEqual([]);
    expect(published()).toEqual([]);
    expect(ses.attempts).toEqual([]);
  });

  it.each([
    ['CSAT 2', { kind: 'csat' as const, score: 2 }],
    ['CES 1', { kind: 'ces' as const, score: 1 }],
  ])('a %s detractor starts the workflow like an NPS one', async (_, answered) => {
    // Prepare
    const { answer, invoked } = setUp({ score: answered.score });

    // Act
    const { execution } = await answer({ ...detail(answered.score), ...answered });

    // Assess
    expect(execution).toBeDefined();
    expect(invoked).toEqual([expect.objectContaining(answered)]);
  });

  it("an edit from one detractor score to another runs the workflow, which decides it does not alert again", async () => {
    // Prepare
    const { answer, invoked, ses, published } = setUp({ score: 3 });

    // Act
    const { execution } = await answer({ ...detail(3), previousScore: 2, revision: 1 });

    // Assess
    expect(execution?.status).toBe('SUCCEEDED');
    expect(invoked).toHaveLength(1);
    expect(published()).toEqual([]);
    expect(ses.attempts).toEqual([]);
    expect(JSON.parse(execution!.output!).alert.Payload).toMatchObject({ alert: false });
  });

  it('SES throttling is retried; once the retries are spent the email is caught as AlertEmailNotSent, the event stays published', async () => {
    // Prepare: throttled on every attempt (1 + MaxAttempts 6).
    const throttled = Array.from({ length: 7 }, () => namedError('TooManyRequestsException', 429));
    const { answer, ses, published } = setUp({ score: 2, sesErrors: throttled });

    // Act
    const { execution } = await answer(detail(2));

    // Assess
    expect(ses.attempts).toHaveLength(7);
    expect(ses.sent).toEqual([]);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'AlertEmailNotSent' });
    expect(published()).toHaveLength(1);
  });

  it('a throttled send that then goes through sends exactly one email', async () => {
    // Prepare
    const { answer, ses } = setUp({ score: 2, sesErrors: [namedError('TooManyRequestsException', 429), namedError('TooManyRequestsException', 429)] });

    // Act
    const { execution } = await answer(detail(2));

    // Assess
    expect(execution?.status).toBe('SUCCEEDED');
    expect(ses.attempts).toHaveLength(3);
    expect(ses.sent).toHaveLength(1);
  });

  it('a rejected email is not retried (it was not sent; a retry after an unclear failure could send twice)', async () => {
    // Prepare
    const { answer, ses } = setUp({ score: 2, sesErrors: [namedError('MessageRejected', 400)] });

    // Act
    const { execution } = await answer(detail(2));

    // Assess
    expect(ses.attempts).toHaveLength(1);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'AlertEmailNotSent' });
  });

  it('an answer the function rejects fails as AlertNotBuilt, with nothing published or sent', async () => {
    // Prepare
    const { answer, ses, published } = setUp({ score: 3 });

    // Act: a negative revision (the rule matches the score; the function's schema refuses the rest)
    const { execution } = await answer({ ...detail(3), revision: -1 });

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'AlertNotBuilt' });
    expect(published()).toEqual([]);
    expect(ses.attempts).toEqual([]);
  });
});
