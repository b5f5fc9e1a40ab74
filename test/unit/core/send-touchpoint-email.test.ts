/**
 * The send step (claim, one SES call, what it came to) and how its outcomes are recorded: UNCONFIRMED waits for SES's
 * Send event, which settles it SENT exactly as the workflow would (the survey count, the reminder); a second run of
 * the same execution sends nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SendEmailRequest } from '../../../core/use-cases/render-touchpoint-email.ts';
import { recordTouchpointOutcome, settleSendFromSes, UNCONFIRMED_WINDOW } from '../../../core/use-cases/record-touchpoint-outcome.ts';
import { sendTouchpointEmail, type EmailSender, type SendAttemptResult, type SendRequest } from '../../../core/use-cases/send-touchpoint-email.ts';
import { InMemoryTouchpoints, pendingTouchpoint } from '../fakes.ts';

const ID = 'tp-send';
const NOW = '2026-11-23T10:00:02.000Z';

const email: SendEmailRequest = {
  FromEmailAddress: 'hello@shop.example',
  Destination: { ToAddresses: ['ada@example.com'] },
  ConfigurationSetName: 'outreach',
  EmailTags: [{ Name: 'touchpointId', Value: ID }],
  Content: {
    Simple: {
      Subject: { Data: 'Hi', Charset: 'UTF-8' },
      Body: { Html: { Data: '<p>Hi</p>', Charset: 'UTF-8' }, Text: { Data: 'Hi', Charset: 'UTF-8' } },
      Headers: [],
    },
  },
};

/** An SES that answers each call with the next scripted result, and records what it was asked to send. */
class ScriptedSes implements EmailSender {
  readonly sent: SendEmailRequest[] = [];
  constructor(private readonly results: SendAttemptResult[]) {}
  async send(request: SendEmailRequest) {
    this.sent.push(structuredClone(request));
    return this.results.shift() ?? { result: 'SENT', messageId: `m-${this.sent.length}` };
  }
}

describe('sending one touchpoint', () => {
  let touchpoints: InMemoryTouchpoints;
  const request = (overrides: Partial<SendRequest> = {}): SendRequest => ({
    touchpointId: ID,
    generation: 0,
    executionId: `arn:aws:states:us-east-1:123456789012:express:check-in:${ID}-g0:run-1`,
    now: NOW,
    email,
    ...overrides,
  });

  beforeEach(async () => {
    touchpoints = new InMemoryTouchpoints();
    await touchpoints.create(pendingTouchpoint(ID));
    await touchpoints.claimForDispatch({ touchpointId: ID, generation: 0, at: NOW, from: 'PENDING', leaseUntil: '2026-11-23T10:15:00.000Z' });
  });

  it('claims the touchpoint for one attempt and sends once, tagging the email with its generation', async () => {
    // Prepare
    const ses = new ScriptedSes([]);

    // Act
    const outcome = await sendTouchpointEmail(request(), { touchpoints, sender: ses, newAttemptToken: () => 'a1' });

    // Assess
    expect(outcome).toEqual({ result: 'SENT', messageId: 'm-1' });
    expect(ses.sent).toHaveLength(1);
    expect(ses.sent[0]?.EmailTags).toEqual([{ Name: 'touchpointId', Value: ID }, { Name: 'generation', Value: '0' }]);
    expect(await touchpoints.get(ID)).toMatchObject({ status: 'SENDING', attemptId: `${ID}-g0:run-1#a1` });
  });

  it('a second run of the same execution (Express runs at least once) finds the claim taken and sends nothing', async () => {
    // Prepare
    const ses = new ScriptedSes([]);
    const deps = { touchpoints, sender: ses, newAttemptToken: () => 'x' };

    // Act
    const [first, second] = await Promise.all([sendTouchpointEmail(request(), deps), sendTouchpointEmail(request(), deps)]);

    // Assess
    expect([first.result, second.result].sort()).toEqual(['SENT', 'STALE']);
    expect(ses.sent).toHaveLength(1);
  });

  it('an ambiguous answer is recorded UNCONFIRMED with a deadline; SES’s Send event then settles it SENT, counted once', async () => {
    // Prepare
    const ses = new ScriptedSes([{ result: 'AMBIGUOUS', error: { Error: 'ECONNRESET', Cause: 'socket hang up' } }]);
    const survey = { surveyId: ID, reminder: false, scale: 'nps' as const };
    touchpoints.items.get(ID)!.kind = 'survey';
    await sendTouchpointEmail(request({ survey }), { touchpoints, sender: ses, newAttemptToken: () => 'a1' });

    // Act
    const recorded = await recordTouchpointOutcome({ touchpointId: ID, generation: 0, now: NOW, outcome: 'UNCONFIRMED', error: { Error: 'ECONNRESET', Cause: 'socket hang up' } }, { touchpoints });
    const unconfirmed = await touchpoints.get(ID);
    const settled = await settleSendFromSes({ touchpointId: ID, generation: 0, messageId: 'ses-1', at: '2026-11-23T10:00:03.000Z' }, { touchpoints });
    const again = await settleSendFromSes({ touchpointId: ID, generation: 0, messageId: 'ses-1', at: '2026-11-23T10:00:04.000Z' }, { touchpoints });

    // Assess
    expect(recorded).toEqual({ outcome: 'UNCONFIRMED', recorded: true });
    expect(unconfirmed).toMatchObject({ status: 'UNCONFIRMED', reason: 'unconfirmed: ECONNRESET: socket hang up' });
    expect(touchpoints.items.get(ID)?.dueKey).toBeUndefined();
    expect(UNCONFIRMED_WINDOW).toBe('PT30M');
    expect(settled).toMatchObject({ settled: true, outcome: 'SENT' });
    expect(again).toMatchObject({ settled: false });
    expect(await touchpoints.get(ID)).toMatchObject({ status: 'SENT', messageId: 'ses-1', surveyKind: 'nps' });
  });

  it('keeps the UNCONFIRMED deadline in the due index until SES answers', async () => {
    // Prepare
    const ses = new ScriptedSes([{ result: 'AMBIGUOUS', error: { Error: 'ECONNRESET', Cause: '' } }]);
    await sendTouchpointEmail(request(), { touchpoints, sender: ses, newAttemptToken: () => 'a1' });

    // Act
    await recordTouchpointOutcome({ touchpointId: ID, generation: 0, now: NOW, outcome: 'UNCONFIRMED', error: { Error: 'ECONNRESET' } }, { touchpoints });

    // Assess
    expect(touchpoints.items.get(ID)?.dueKey).toBe(`2026-11-23T10:30:02.000Z#${ID}`);
  });

  it('a Send event for another generation (an older attempt) settles nothing', async () => {
    // Prepare
    await sendTouchpointEmail(request(), { touchpoints, sender: new ScriptedSes([{ result: 'AMBIGUOUS', error: { Error: 'ECONNRESET', Cause: '' } }]), newAttemptToken: () => 'a1' });

    // Act
    const settled = await settleSendFromSes({ touchpointId: ID, generation: 7, messageId: 'ses-old', at: NOW }, { touchpoints });

    // Assess
    expect(settled.settled).toBe(false);
    expect((await touchpoints.get(ID))?.status).toBe('SENDING');
  });

  it('UNCONFIRMED for a touchpoint the send step never claimed (it failed before SES) is recorded FAILED with the error', async () => {
    // Act
    const result = await recordTouchpointOutcome(
      { touchpointId: ID, generation: 0, now: NOW, outcome: 'UNCONFIRMED', error: { Error: 'InvalidInputError', Cause: 'send input is invalid' } },
      { touchpoints },
    );

    // Assess
    expect(result).toEqual({ outcome: 'FAILED', recorded: true });
    expect(await touchpoints.get(ID)).toMatchObject({ status: 'FAILED', reason: 'InvalidInputError: send input is invalid' });
  });

  it('a send that did not reach SES is deferred from SENDING: PENDING again, generation + 1', async () => {
    // Prepare
    await sendTouchpointEmail(request(), { touchpoints, sender: new ScriptedSes([{ result: 'NOT_SENT', error: { Error: 'ECONNREFUSED', Cause: '' } }]), newAttemptToken: () => 'a1' });

    // Act
    const result = await recordTouchpointOutcome({ touchpointId: ID, generation: 0, now: NOW, outcome: 'DEFERRED', error: { Error: 'ECONNREFUSED' } }, { touchpoints, random: () => 0 });

    // Assess
    expect(result).toEqual({ outcome: 'DEFERRED', recorded: true });
    expect(await touchpoints.get(ID)).toMatchObject({ status: 'PENDING', generation: 1, sendDeferrals: 1 });
  });
});
