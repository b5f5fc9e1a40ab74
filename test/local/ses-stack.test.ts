/**
 * The local SES inside the stack: a send that is not a workflow task — a Lambda's SESv2Client built from
 * AWS_ENDPOINT_URL_SESV2 alone — is in the mailbox with its local-clock time, and its sending events reach the local
 * bus (default bus, source aws.ses) and the rules of EVENT_RULES that match them; events no rule matches go nowhere.
 */
import { join } from 'node:path';
import { GetAccountCommand, SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_RULES } from '../../core/topology.ts';
import type { RecordedEvent } from '../../local/event-bus.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';

const START = '2031-06-01T12:00:00.000Z';
let stack: LocalStack;
let ses: SESv2Client;
/** What each function received, by name: the handlers here only record. */
const received: Array<{ name: string; event: { 'detail-type'?: string; detail?: { mail?: { messageId?: string } } } }> = [];

beforeAll(async () => {
  stack = await startLocalStack({
    portBase: 0,
    speed: 0,
    startAt: START,
    rootDir: join(import.meta.dirname, 'fixtures', 'stack'),
    handlers: async (name) => async (event) => {
      received.push({ name, event: event as (typeof received)[number]['event'] });
      return {};
    },
    loadCampaigns: false,
    log: false,
    ses: { maxSendRate: 3 },
  });
  // As a handler builds it: the endpoint comes from the environment the stack set.
  ses = new SESv2Client({ maxAttempts: 1 });
});
afterAll(async () => {
  ses?.destroy();
  await stack?.stop();
});

/** The rules EventBridge would match for an SES event of this detail-type (default bus, source aws.ses). */
const rulesFor = (detailType: string) =>
  EVENT_RULES.filter((r) => r.bus === 'default' && r.source === 'aws.ses' && r.detailTypes.includes(detailType)).map((r) => r.name);
const busEvents = async (messageId: string) =>
  ((await (await fetch(`${stack.endpoints.control}/events`)).json()) as RecordedEvent[])
    .filter((r) => (r.event.detail as { mail?: { messageId?: string } }).mail?.messageId === messageId)
    .reverse();
const send = (to: string) =>
  ses.send(
    new SendEmailCommand({
      FromEmailAddress: 'hello@shop.example',
      Destination: { ToAddresses: [to] },
      ConfigurationSetName: 'outreach-local',
      EmailTags: [{ Name: 'touchpointId', Value: 'tp-9' }],
      Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Hi' } } } },
    }),
  );

describe('the local SES in the stack', () => {
  it('reports the configured maximum send rate to a client built from AWS_ENDPOINT_URL_SESV2', async () => {
    // Act
    const account = await ses.send(new GetAccountCommand({}));

    // Assess
    expect(process.env.AWS_ENDPOINT_URL_SESV2).toBe(stack.endpoints.ses);
    expect(account.SendQuota).toMatchObject({ MaxSendRate: 3 });
  });

  it("puts a Lambda's send in the mailbox at the local time and its Send and Delivery events on the default bus, routed by EVENT_RULES", async () => {
    // Act
    const { MessageId } = await send('ada@example.com');
    await stack.settle();

    // Assess
    const mail = (await stack.mailbox()).find((m) => m.messageId === MessageId);
    expect(mail?.sentAt).toBe(START);
    const events = await busEvents(MessageId!);
    expect(events.map((e) => [e.event['detail-type'], e.bus, e.event.source, e.event.time, e.matchedRules])).toEqual([
      ['Email Sent', 'default', 'aws.ses', '2031-06-01T12:00:00Z', rulesFor('Email Sent')],
      ['Email Delivered', 'default', 'aws.ses', '2031-06-01T12:00:00Z', rulesFor('Email Delivered')],
    ]);
    // Every function a matched rule targets got the event, and nothing else did; nothing dead-lettered.
    const targets = (detailType: string) => EVENT_RULES.filter((r) => rulesFor(detailType).includes(r.name)).map((r) => r.target);
    expect(received.filter((r) => r.event.detail?.mail?.messageId === MessageId).map((r) => [r.event['detail-type'], r.name])).toEqual([
      ...targets('Email Sent').map((t) => ['Email Sent', t]),
      ...targets('Email Delivered').map((t) => ['Email Delivered', t]),
    ]);
    expect(stack.deadLetters()).toEqual([]);
  });

  it('sends a simulator bounce to the feedback rule, with the message id', async () => {
    // Act
    const { MessageId } = await send('bounce@simulator.amazonses.com');
    await stack.settle();

    // Assess
    const events = await busEvents(MessageId!);
    expect(events.map((e) => e.event['detail-type'])).toEqual(['Email Sent', 'Email Bounced']);
    expect(events[1]!.matchedRules).toEqual(['ses-feedback']);
    expect(received).toContainEqual({ name: 'ingest-event', event: expect.objectContaining({ 'detail-type': 'Email Bounced' }) });
  });

  it('counts what SES did with a burst, which gets no more than the bucket of the configured rate allows', async () => {
    // Prepare
    const before = stack.sesStats();

    // Act: far more than the bucket of 3 holds, at once.
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => send(`many-${i}@example.com`)));
    const elapsedSeconds = (performance.now() - started) / 1000;
    await stack.settle();

    // Assess
    const after = stack.sesStats();
    const throttled = results.filter((r) => r.status === 'rejected');
    expect(throttled.every((r) => (r.reason as Error).name === 'TooManyRequestsException')).toBe(true);
    expect(after.accepted - before.accepted).toBe(12 - throttled.length);
    expect(after.throttled - before.throttled).toBe(throttled.length);
    expect(12 - throttled.length).toBeLessThanOrEqual(Math.floor(3 + 3 * elapsedSeconds));
  });
});
