/**
 * The local SES endpoint (local/ses-front.ts in front of aws-ses-v2-local), through the real SESv2Client: GetAccount,
 * the maximum send rate, the sending events of every accepted SendEmail, and injected faults. aws-ses-v2-local's
 * store is global to the process, so each block starts its own front (which clears it) and they run one after another.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetAccountCommand, MessageRejected, SendEmailCommand, SESv2Client, TooManyRequestsException, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSesFront } from '../../local/ses-front.ts';
import { readSesStore, startSes, type LocalSes, type SesAcceptedSend, type SesFaults } from '../../local/ses.ts';

const clients: SESv2Client[] = [];
const clientFor = (ses: LocalSes) => {
  // One attempt: the SDK's own retries would hide what the endpoint answered.
  const client = new SESv2Client({ endpoint: ses.endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  clients.push(client);
  return client;
};
afterAll(() => clients.forEach((c) => c.destroy()));

const email = (to: string, extra: Partial<SendEmailCommandInput> = {}) =>
  new SendEmailCommand({
    FromEmailAddress: 'hello@shop.example',
    Destination: { ToAddresses: [to] },
    Content: { Simple: { Subject: { Data: `Hello ${to}` }, Body: { Text: { Data: 'Hi' } } } },
    ...extra,
  });
const withConfigurationSet = { ConfigurationSetName: 'outreach-local', EmailTags: [{ Name: 'touchpointId', Value: 'tp-1' }] };

/** A started front with what it reported, and a clock for its events that the test moves. */
async function front(options: { maxSendRate?: number; faults?: SesFaults; rateClockMs?: () => number } = {}) {
  const events: PutEventsRequestEntry[] = [];
  const accepted: SesAcceptedSend[] = [];
  let now = new Date('2031-04-01T09:00:00.000Z');
  const ses = await startSes({
    port: 0,
    ...options,
    now: () => now,
    onAccepted: (send) => accepted.push(send),
    onEvents: (entries) => events.push(...entries),
  });
  return {
    ses,
    client: clientFor(ses),
    events,
    accepted,
    setNow: (date: Date) => (now = date),
    detailOf: (entry: PutEventsRequestEntry) => JSON.parse(entry.Detail!) as { eventType: string; mail: { messageId: string; destination: string[]; tags: Record<string, string[]> } },
  };
}
type Front = Awaited<ReturnType<typeof front>>;

/** Sends all at once; the outcome of each. */
async function burst(f: Front, count: number) {
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => f.client.send(email(`burst-${i}@example.com`))));
  return {
    ok: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.MessageId!] : [])),
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error & { $metadata?: { httpStatusCode?: number } }] : [])),
  };
}

describe('GetAccount', () => {
  let f: Front;
  beforeAll(async () => {
    f = await front({ maxSendRate: 7 });
  });
  afterAll(() => f.ses.close());

  it('answers like SES v2, parsed by the real client: quota with the configured rate, sending enabled, healthy', async () => {
    // Act
    const account = await f.client.send(new GetAccountCommand({}));

    // Assess
    expect(account.$metadata.httpStatusCode).toBe(200);
    expect(account).toMatchObject({
      SendQuota: { Max24HourSend: 50_000, MaxSendRate: 7, SentLast24Hours: 0 },
      SendingEnabled: true,
      ProductionAccessEnabled: true,
      EnforcementStatus: 'HEALTHY',
      DedicatedIpAutoWarmupEnabled: false,
      SuppressionAttributes: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    });
  });

  it('counts accepted sends in SentLast24Hours, on the clock it was given, and forgets them after 24 hours', async () => {
    // Prepare
    await f.client.send(email('ada@example.com'));
    await f.client.send(email('bob@example.com'));

    // Act
    const now = await f.client.send(new GetAccountCommand({}));
    f.setNow(new Date('2031-04-02T09:00:00.001Z'));
    const dayLater = await f.client.send(new GetAccountCommand({}));

    // Assess
    expect(now.SendQuota?.SentLast24Hours).toBe(2);
    expect(dayLater.SendQuota?.SentLast24Hours).toBe(0);
  });
});

describe('the maximum send rate (token bucket: maxSendRate tokens, refilled continuously)', () => {
  let realTime: Front;
  let handMoved: Front;
  let clockMs = 0;
  afterEach(async () => {
    await realTime?.ses.close();
    await handMoved?.ses.close();
  });

  it('throttles a burst beyond the bucket with TooManyRequestsException and stores none of the throttled ones', async () => {
    // Prepare: a clock that stands still, so nothing refills during the burst.
    handMoved = await front({ maxSendRate: 5, rateClockMs: () => clockMs });

    // Act
    const { ok, errors } = await burst(handMoved, 15);

    // Assess
    expect(ok).toHaveLength(5);
    expect(errors).toHaveLength(10);
    for (const error of errors) {
      expect(error).toBeInstanceOf(TooManyRequestsException);
      expect(error.name).toBe('TooManyRequestsException');
      expect(error.message).toBe('Maximum sending rate exceeded.');
      expect(error.$metadata?.httpStatusCode).toBe(429);
    }
    const stored = await readSesStore(handMoved.ses.endpoint);
    expect(stored.map((e) => e.messageId).sort()).toEqual([...ok].sort());
    expect(handMoved.ses.stats()).toMatchObject({ sendRequests: 15, accepted: 5, throttled: 10, injectedThrottles: 0 });
  });

  it('refills at maxSendRate per second: 1 s brings 5 sends back, 0.2 s one more', async () => {
    // Prepare: an empty bucket.
    handMoved = await front({ maxSendRate: 5, rateClockMs: () => clockMs });
    await burst(handMoved, 5);

    // Act
    clockMs += 1_000;
    const afterOneSecond = await burst(handMoved, 6);
    clockMs += 200;
    const afterFifth = await burst(handMoved, 2);

    // Assess
    expect([afterOneSecond.ok.length, afterOneSecond.errors.length]).toEqual([5, 1]);
    expect([afterFifth.ok.length, afterFifth.errors.length]).toEqual([1, 1]);
  });

  it('holds in real time: a burst of 3 × the rate gets at most what the bucket allows over the time it took', async () => {
    // Prepare
    realTime = await front({ maxSendRate: 5 });

    // Act
    const started = performance.now();
    const { ok, errors } = await burst(realTime, 15);
    const elapsedSeconds = (performance.now() - started) / 1000;

    // Assess: the full bucket, plus what refilled while the burst ran (however slow the machine).
    expect(ok.length).toBeGreaterThanOrEqual(5);
    expect(ok.length).toBeLessThanOrEqual(Math.floor(5 + 5 * elapsedSeconds));
    expect(errors.every((e) => e.name === 'TooManyRequestsException')).toBe(true);
    const stored = await readSesStore(realTime.ses.endpoint);
    expect(stored.map((e) => e.messageId).sort()).toEqual([...ok].sort());
  });
});

describe('sending events for every accepted SendEmail', () => {
  let f: Front;
  beforeAll(async () => {
    f = await front();
  });
  afterAll(() => f.ses.close());

  it('publishes "Email Sent" then "Email Delivered" for a message sent with a configuration set, stamped with the given clock', async () => {
    // Prepare
    f.events.length = 0;

    // Act
    const { MessageId } = await f.client.send(email('ada@example.com', withConfigurationSet));

    // Assess
    expect(f.events.map((e) => e.DetailType)).toEqual(['Email Sent', 'Email Delivered']);
    expect(f.events.map((e) => f.detailOf(e).eventType)).toEqual(['Send', 'Delivery']);
    for (const entry of f.events) {
      expect(entry).toMatchObject({ Source: 'aws.ses', Time: new Date('2031-04-01T09:00:00.000Z') });
      expect(f.detailOf(entry).mail).toMatchObject({
        messageId: MessageId,
        destination: ['ada@example.com'],
        tags: { 'ses:configuration-set': ['outreach-local'], touchpointId: ['tp-1'] },
      });
    }
    expect(f.accepted.at(-1)).toMatchObject({ messageId: MessageId, dropped: false });
  });

  it('publishes nothing for a message without a configuration set, but still reports it accepted', async () => {
    // Prepare
    f.events.length = 0;

    // Act
    const { MessageId } = await f.client.send(email('bob@example.com'));

    // Assess
    expect(f.events).toEqual([]);
    expect(f.accepted.at(-1)).toMatchObject({ messageId: MessageId });
  });

  it('plays the mailbox simulator: a bounce instead of a delivery, a complaint after the delivery', async () => {
    // Prepare
    f.events.length = 0;

    // Act
    const bounce = await f.client.send(email('bounce@simulator.amazonses.com', withConfigurationSet));
    const complaint = await f.client.send(email('complaint@simulator.amazonses.com', withConfigurationSet));

    // Assess
    expect(f.events.map((e) => [e.DetailType, f.detailOf(e).mail.messageId])).toEqual([
      ['Email Sent', bounce.MessageId],
      ['Email Bounced', bounce.MessageId],
      ['Email Sent', complaint.MessageId],
      ['Email Delivered', complaint.MessageId],
      ['Email Complaint Received', complaint.MessageId],
    ]);
  });

  it('publishes nothing for a SendEmail aws-ses-v2-local refused, and forwards its answer', async () => {
    // Prepare
    f.events.length = 0;
    const before = f.ses.stats();

    // Act
    const error = await f.client
      .send(new SendEmailCommand({ FromEmailAddress: 'hello@shop.example', Destination: { ToAddresses: ['ada@example.com'] }, Content: {}, ...withConfigurationSet }))
      .catch((e: Error & { $metadata?: { httpStatusCode?: number } }) => e);

    // Assess
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
    expect(f.events).toEqual([]);
    expect(f.ses.stats()).toMatchObject({ accepted: before.accepted, rejected: before.rejected + 1 });
  });
});

describe('injected faults (fraction 1.0, fixed seed)', () => {
  let f: Front;
  afterEach(() => f?.ses.close());
  const networkError = (error: unknown) => error as Error & { code?: string; $metadata?: { httpStatusCode?: number } };

  it('throttle: 429 TooManyRequestsException, nothing forwarded, nothing stored, no events', async () => {
    // Prepare
    f = await front({ faults: { throttle: 1, seed: 7 } });

    // Act
    const error = await f.client.send(email('ada@example.com', withConfigurationSet)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect(networkError(error).$metadata?.httpStatusCode).toBe(429);
    expect(await readSesStore(f.ses.endpoint)).toEqual([]);
    expect(f.events).toEqual([]);
    expect(f.ses.stats()).toMatchObject({ sendRequests: 1, accepted: 0, throttled: 1, injectedThrottles: 1 });
  });

  it('resetBeforeForward: the client gets a network error (ECONNRESET), nothing stored, no events', async () => {
    // Prepare
    f = await front({ faults: { resetBeforeForward: 1, seed: 7 } });

    // Act
    const error = networkError(await f.client.send(email('ada@example.com', withConfigurationSet)).catch((e: unknown) => e));

    // Assess
    expect(error.code).toBe('ECONNRESET');
    expect(error.$metadata?.httpStatusCode).toBeUndefined();
    expect(await readSesStore(f.ses.endpoint)).toEqual([]);
    expect(f.events).toEqual([]);
    expect(f.ses.stats()).toMatchObject({ sendRequests: 1, accepted: 0, reset: 1 });
  });

  it('dropAfterAccept: the client gets a network error, but the email IS stored and its Send event published', async () => {
    // Prepare
    f = await front({ faults: { dropAfterAccept: 1, seed: 7 } });

    // Act
    const error = networkError(await f.client.send(email('ada@example.com', withConfigurationSet)).catch((e: unknown) => e));

    // Assess
    expect(error.code).toBe('ECONNRESET');
    expect(error.$metadata?.httpStatusCode).toBeUndefined();
    const stored = await readSesStore(f.ses.endpoint);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ destination: { to: ['ada@example.com'] }, subject: 'Hello ada@example.com' });
    expect(f.events.map((e) => [e.DetailType, f.detailOf(e).mail.messageId])).toEqual([
      ['Email Sent', stored[0]!.messageId],
      ['Email Delivered', stored[0]!.messageId],
    ]);
    expect(f.accepted).toMatchObject([{ messageId: stored[0]!.messageId, dropped: true }]);
    expect(f.ses.stats()).toMatchObject({ sendRequests: 1, accepted: 1, dropped: 1 });
  });

  it('reject: 400 MessageRejected, which the client reports as MessageRejected; nothing forwarded, stored or published', async () => {
    // Prepare
    f = await front({ faults: { reject: 1, seed: 7 } });

    // Act
    const error = networkError(await f.client.send(email('ada@example.com', withConfigurationSet)).catch((e: unknown) => e));

    // Assess
    expect(error).toBeInstanceOf(MessageRejected);
    expect(error.name).toBe('MessageRejected');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(await readSesStore(f.ses.endpoint)).toEqual([]);
    expect(f.events).toEqual([]);
    expect(f.ses.stats()).toMatchObject({ sendRequests: 1, accepted: 0, rejected: 1, injectedRejects: 1 });
  });

  it('dropSendEvents: the send is accepted and answered, but none of its sending events is published', async () => {
    // Prepare
    f = await front({ faults: { dropSendEvents: 1, seed: 7 } });

    // Act
    const { MessageId } = await f.client.send(email('ada@example.com', withConfigurationSet));

    // Assess
    expect((await readSesStore(f.ses.endpoint)).map((e) => e.messageId)).toEqual([MessageId]);
    expect(f.events).toEqual([]);
    expect(f.accepted).toMatchObject([{ messageId: MessageId, dropped: false, eventsDropped: true }]);
    expect(f.ses.stats()).toMatchObject({ sendRequests: 1, accepted: 1, dropped: 0, eventsDropped: 1 });
  });

  it('dropAfterAccept with dropSendEvents: stored, no answer and no Send event (nothing tells the sender it went)', async () => {
    // Prepare
    f = await front({ faults: { dropAfterAccept: 1, dropSendEvents: 1, seed: 7 } });

    // Act
    const error = networkError(await f.client.send(email('ada@example.com', withConfigurationSet)).catch((e: unknown) => e));

    // Assess
    expect(error.code).toBe('ECONNRESET');
    expect(await readSesStore(f.ses.endpoint)).toHaveLength(1);
    expect(f.events).toEqual([]);
    expect(f.accepted).toMatchObject([{ dropped: true, eventsDropped: true }]);
  });

  it('reads the fractions at every call: a fault set on the object after the start applies to the next call, and clearing it stops it', async () => {
    // Prepare
    const faults: SesFaults = { seed: 7 };
    f = await front({ faults });
    const outcome = () => f.client.send(email('ada@example.com')).then(() => 'ok', (e: unknown) => networkError(e).name);

    // Act
    const before = await outcome();
    faults.throttle = 1;
    const during = await outcome();
    faults.throttle = 0;
    const after = await outcome();

    // Assess
    expect([before, during, after]).toEqual(['ok', 'TooManyRequestsException', 'ok']);
  });

  it('refuses a fraction outside [0, 1], at the start', () => {
    expect(() => createSesFront({ backend: 'http://127.0.0.1:1', faults: { dropSendEvents: 1.5 } })).toThrow('SES fault dropSendEvents must be a fraction between 0 and 1, got 1.5');
  });

  it('draws reject and dropSendEvents from a second stream: the calls the first three faults pick are the same with or without them', async () => {
    // Prepare
    const run = async (faults: SesFaults) => {
      f = await front({ faults, maxSendRate: 1_000 });
      const outcomes: string[] = [];
      for (let i = 0; i < 20; i++) {
        outcomes.push(await f.client.send(email(`seed-${i}@example.com`)).then(() => 'ok', (e: unknown) => networkError(e).name === 'TooManyRequestsException' ? 'throttled' : networkError(e).code ?? networkError(e).name));
      }
      const stats = f.ses.stats();
      await f.ses.close();
      return { outcomes, stats };
    };
    const firstThree = { throttle: 0.3, resetBeforeForward: 0.2, dropAfterAccept: 0.2, seed: 42 };

    // Act
    const without = await run(firstThree);
    const withLater = await run({ ...firstThree, reject: 0.3, dropSendEvents: 0.5 });

    // Assess: a call the first three faults picked keeps its outcome; of the others, some are now rejected.
    withLater.outcomes.forEach((outcome, i) => {
      if (without.outcomes[i] !== 'ok') expect(outcome).toBe(without.outcomes[i]);
      else expect(['ok', 'ECONNRESET', 'MessageRejected']).toContain(outcome);
    });
    expect(withLater.stats.injectedRejects).toBeGreaterThan(0);
    expect(withLater.stats.eventsDropped).toBeGreaterThan(0);
    expect(withLater.stats.accepted + withLater.stats.throttled + withLater.stats.reset + withLater.stats.injectedRejects).toBe(20);
  });

  it('picks the same calls for the same seed, and the counts add up', async () => {
    // Prepare
    const faults = { throttle: 0.3, resetBeforeForward: 0.2, dropAfterAccept: 0.2, seed: 42 };
    const run = async () => {
      f = await front({ faults, maxSendRate: 1_000 });
      const outcomes: string[] = [];
      for (let i = 0; i < 20; i++) {
        const result = await f.client.send(email(`seed-${i}@example.com`)).then(
          () => 'ok',
          (e: unknown) => networkError(e).name === 'TooManyRequestsException' ? 'throttled' : networkError(e).code ?? 'other',
        );
        outcomes.push(result);
      }
      const stats = f.ses.stats();
      const stored = (await readSesStore(f.ses.endpoint)).length;
      await f.ses.close();
      return { outcomes, stats, stored };
    };

    // Act
    const first = await run();
    const second = await run();

    // Assess
    expect(second.outcomes).toEqual(first.outcomes);
    expect(new Set(first.outcomes)).toEqual(new Set(['ok', 'throttled', 'ECONNRESET']));
    const { stats } = first;
    expect(stats.sendRequests).toBe(20);
    expect(stats.accepted + stats.throttled + stats.reset).toBe(20);
    expect(first.stored).toBe(stats.accepted);
    expect(first.outcomes.filter((o) => o === 'ok')).toHaveLength(stats.accepted - stats.dropped);
    expect(first.outcomes.filter((o) => o === 'ECONNRESET')).toHaveLength(stats.reset + stats.dropped);
  });
});
