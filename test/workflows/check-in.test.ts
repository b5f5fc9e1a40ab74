/**
 * workflows/check-in.asl.json on aws-local-stepfunctions, every Task answered by a fake keyed by state name that
 * records what it received. Lambda tasks answer in the `lambda:invoke` shape; SendEmail is the send-email function, which
 * claims the touchpoint, calls SES once and says what the call came to.
 */
import { readFileSync } from 'node:fs';
import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it, vi } from 'vitest';
import type { FunctionName } from '../../core/topology.ts';
import { functionArn, substitute, type Json } from './support.ts';

const definition = JSON.parse(substitute(readFileSync('workflows/check-in.asl.json', 'utf8'))) as StateMachineDefinition;
// Validated once here (asl.test.ts covers the details); each run below reuses the machine.
const machine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: true } });

const TASK_STATES = Object.entries(definition.States)
  .filter(([, state]) => state.Type === 'Task')
  .map(([name]) => name);
const START_TIME = '2025-06-13T09:30:00.000Z';
const ENTERED_TIME = '2025-06-13T09:30:01.250Z';
const TOUCHPOINT_ID = 'tp-5d41402abc4b2a76b9719d911017c592a1b2c3d4';
const INPUT = { touchpointId: TOUCHPOINT_ID, generation: 2 };

const message = {
  campaignId: 'post-purchase-check-in',
  customerId: 'cust-001',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  locale: 'en-GB',
  context: { orderId: 'order-1001', total: 199.5, currency: 'EUR' },
};

/** What render-email answers: the SES v2 SendEmail request, passed on unchanged. */
const renderedEmail = {
  FromEmailAddress: 'Outreach <hello@shop.example>',
  Destination: { ToAddresses: ['ada@example.com'] },
  ConfigurationSetName: 'outreach',
  EmailTags: [
    { Name: 'touchpointId', Value: TOUCHPOINT_ID },
    { Name: 'campaignId', Value: 'post-purchase-check-in' },
  ],
  Content: {
    Simple: {
      Subject: { Data: 'How is your tent?', Charset: 'UTF-8' },
      Body: { Html: { Data: '<p>Hi Ada</p>', Charset: 'UTF-8' }, Text: { Data: 'Hi Ada', Charset: 'UTF-8' } },
      Headers: [
        { Name: 'List-Unsubscribe', Value: '<https://links.shop.example/unsubscribe?c=cust-001&t=v1.abc>' },
        { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
      ],
    },
  },
};

type Fake = (input: Json, attempt: number) => Json | Promise<Json>;

const lambdaResult = (payload: Json): Json => ({ Payload: payload, StatusCode: 200 });
const namedError = (name: string, message: string) => Object.assign(new Error(message), { name });
const decision = (payload: Json): Fake => () => lambdaResult(payload);

const DEFAULT_FAKES: Record<string, Fake> = {
  CheckEligibility: decision({ decision: 'SEND', message }),
  RenderEmail: () => lambdaResult(renderedEmail),
  SendEmail: () => lambdaResult({ result: 'SENT', messageId: '0100019a-ses-message-id' }),
  RecordSent: () => lambdaResult({ outcome: 'SENT', recorded: true }),
  RecordRescheduled: () => lambdaResult({ outcome: 'RESCHEDULED', recorded: true }),
  RecordSkipped: () => lambdaResult({ outcome: 'SKIPPED', recorded: true }),
  RecordFailure: () => lambdaResult({ outcome: 'FAILED', recorded: true }),
  RecordDeferred: () => lambdaResult({ outcome: 'DEFERRED', recorded: true }),
  RecordRejected: () => lambdaResult({ outcome: 'FAILED', recorded: true }),
  RecordUnconfirmed: () => lambdaResult({ outcome: 'UNCONFIRMED', recorded: true }),
  RecordSendStepError: () => lambdaResult({ outcome: 'UNCONFIRMED', recorded: true }),
};

/** The request a fake Lambda task should have received: `lambda:invoke` parameters for the function. */
const invoke = (fn: FunctionName, payload: Json) => ({ FunctionName: functionArn(fn), Payload: payload });

interface Run {
  /** Every Task state's received inputs, in order; states never entered are absent. */
  calls: Record<string, Json[]>;
  status: 'SUCCEEDED' | 'FAILED' | 'OTHER';
  error?: string;
  cause?: unknown;
  /** States entered, in order. */
  path: string[];
  retried: string[];
}

async function runCheckIn(fakes: Record<string, Fake> = {}): Promise<Run> {
  const calls: Record<string, Json[]> = {};
  const taskResourceLocalHandlers = Object.fromEntries(
    TASK_STATES.map((state) => [
      state,
      async (input: Json) => {
        const received = (calls[state] ??= []);
        received.push(structuredClone(input));
        const fake = fakes[state] ?? DEFAULT_FAKES[state];
        if (!fake) throw new Error(`no fake for Task state ${state}`);
        return fake(input, received.length);
      },
    ]),
  ) as NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

  const options: RunOptions = {
    overrides: {
      taskResourceLocalHandlers,
      retryIntervalOverrides: Object.fromEntries(TASK_STATES.map((state) => [state, 0])),
    },
    context: {
      Execution: { Id: EXECUTION_ID, StartTime: START_TIME },
      State: { EnteredTime: ENTERED_TIME },
    },
  };
  // aws-local-stepfunctions 3.0.0 overwrites context.Execution.StartTime with `new Date()` when run() starts, so the
  // clock reads the start time for exactly that synchronous call.
  vi.useFakeTimers({ toFake: ['Date'], now: new Date(START_TIME) });
  let execution: ReturnType<StateMachine['run']>;
  try {
    execution = machine.run(INPUT, options);
  } finally {
    vi.useRealTimers();
  }
  const settled = execution.result.then(
    () => undefined,
    () => undefined,
  );

  const run: Run = { calls, status: 'OTHER', path: [], retried: [] };
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') run.path.push(event.state.name);
    if (event.type === 'StateRetried') run.retried.push(event.state.name);
    if (event.type === 'ExecutionSucceeded') run.status = 'SUCCEEDED';
    if (event.type === 'ExecutionFailed') Object.assign(run, { status: 'FAILED', error: event.Error, cause: event.Cause });
  }
  await settled;
  return run;
}

const eligibility = invoke('check-eligibility', { touchpointId: TOUCHPOINT_ID, generation: 2, now: START_TIME });
const EXECUTION_ID = `arn:aws:states:us-east-1:123456789012:execution:check-in:${TOUCHPOINT_ID}-g2`;
/** What the send step receives: the touchpoint, the execution (the attempt), and the rendered request unchanged. */
const sendRequest = invoke('send-email', { touchpointId: TOUCHPOINT_ID, generation: 2, executionId: EXECUTION_ID, now: ENTERED_TIME, email: renderedEmail });
const sendResult = (payload: Json): Fake => () => lambdaResult(payload);
const recordOutcome = (fields: Record<string, Json>) =>
  invoke('record-outcome', { touchpointId: TOUCHPOINT_ID, generation: 2, now: ENTERED_TIME, ...fields });

describe('check-in workflow', () => {
  it('SEND: renders, sends the rendered request unchanged, and records SENT with the message id', async () => {
    // Act
    const run = await runCheckIn();

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['CheckEligibility', 'Decide', 'RenderEmail', 'SendEmail', 'SendResult', 'RecordSent', 'Done']);
    expect(run.calls).toEqual({
      CheckEligibility: [eligibility],
      RenderEmail: [invoke('render-email', { touchpointId: TOUCHPOINT_ID, message })],
      SendEmail: [sendRequest],
      RecordSent: [recordOutcome({ outcome: 'SENT', messageId: '0100019a-ses-message-id' })],
    });
  });

  it('RESCHEDULE: records the next due time and the reason, and sends nothing', async () => {
    // Prepare
    const fakes = {
      CheckEligibility: decision({ decision: 'RESCHEDULE', reason: 'quiet hours', nextDueAt: '2025-06-14T07:00:00.000Z' }),
    };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls).toEqual({
      CheckEligibility: [eligibility],
      RecordRescheduled: [recordOutcome({ outcome: 'RESCHEDULED', reason: 'quiet hours', nextDueAt: '2025-06-14T07:00:00.000Z' })],
    });
  });

  it('SKIP: records SKIPPED with the reason, and sends nothing', async () => {
    // Prepare
    const fakes = { CheckEligibility: decision({ decision: 'SKIP', reason: 'customer unsubscribed' }) };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls).toEqual({
      CheckEligibility: [eligibility],
      RecordSkipped: [recordOutcome({ outcome: 'SKIPPED', reason: 'customer unsubscribed' })],
    });
  });

  it('STALE: succeeds without recording anything (the touchpoint moved on)', async () => {
    // Prepare
    const fakes = { CheckEligibility: decision({ decision: 'STALE', reason: 'touchpoint is CANCELLED (generation 2)' }) };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['CheckEligibility', 'Decide', 'Done']);
    expect(run.calls).toEqual({ CheckEligibility: [eligibility] });
  });

  it('an unknown decision fails the execution without recording or sending', async () => {
    // Prepare
    const fakes = { CheckEligibility: decision({ decision: 'MAYBE' }) };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('UnknownDecision');
    expect(run.calls).toEqual({ CheckEligibility: [eligibility] });
  });

  it('NOT_SENT (throttled, or the request never reached SES) defers the touchpoint: DEFERRED, no retry here, the execution succeeds', async () => {
    // Prepare
    const error = { Error: 'TooManyRequestsException', Cause: 'Maximum sending rate exceeded.' };
    const fakes = { SendEmail: sendResult({ result: 'NOT_SENT', error }) };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.SendEmail).toEqual([sendRequest]);
    expect(run.calls.RecordDeferred).toEqual([recordOutcome({ outcome: 'DEFERRED', error })]);
    expect(run.calls.RecordSent).toBeUndefined();
  });

  it('REJECTED: FAILED is recorded with the error and the execution fails', async () => {
    // Prepare
    const error = { Error: 'MessageRejected', Cause: 'Email address is not verified.' };
    const fakes = { SendEmail: sendResult({ result: 'REJECTED', error }) };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('CheckInFailed');
    expect(run.calls.RecordRejected).toEqual([recordOutcome({ outcome: 'FAILED', error })]);
    expect(run.calls.RecordSent).toBeUndefined();
  });

  it('AMBIGUOUS: UNCONFIRMED is recorded (SES events settle it), nothing is sent again, the execution succeeds', async () => {
    // Prepare
    const error = { Error: 'ECONNRESET', Cause: 'socket hang up' };
    const fakes = { SendEmail: sendResult({ result: 'AMBIGUOUS', error }) };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.SendEmail).toEqual([sendRequest]);
    expect(run.calls.RecordUnconfirmed).toEqual([recordOutcome({ outcome: 'UNCONFIRMED', error })]);
  });

  it('STALE from the send step (another run claimed it): succeeds and records nothing', async () => {
    // Prepare
    const fakes = { SendEmail: sendResult({ result: 'STALE', reason: 'another attempt claimed this send' }) };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(Object.keys(run.calls).sort()).toEqual(['CheckEligibility', 'RenderEmail', 'SendEmail']);
  });

  it('a send step that fails (it may have reached SES) is recorded UNCONFIRMED, never FAILED or sent again by this execution', async () => {
    // Prepare
    const fakes: Record<string, Fake> = {
      SendEmail: () => {
        throw namedError('Sandbox.Timedout', 'Task timed out after 30.00 seconds');
      },
    };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.SendEmail).toHaveLength(1);
    expect(run.calls.RecordSendStepError).toEqual([
      recordOutcome({ outcome: 'UNCONFIRMED', error: { Error: 'Sandbox.Timedout', Cause: 'Task timed out after 30.00 seconds' } }),
    ]);
    expect(run.calls.RecordFailure).toBeUndefined();
  });

  it('an unknown send result fails the execution without recording', async () => {
    // Prepare
    const fakes = { SendEmail: sendResult({ result: 'PERHAPS' }) };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('UnknownDecision');
    expect(run.calls.RecordSent).toBeUndefined();
  });

  it('a function error in CheckEligibility is recorded as FAILED without retrying it', async () => {
    // Prepare
    const fakes: Record<string, Fake> = {
      CheckEligibility: () => {
        throw namedError('InvalidInputError', 'eligibility input is invalid: now: Invalid ISO datetime');
      },
    };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('CheckInFailed');
    expect(run.calls).toEqual({
      CheckEligibility: [eligibility],
      RecordFailure: [
        recordOutcome({
          outcome: 'FAILED',
          error: { Error: 'InvalidInputError', Cause: 'eligibility input is invalid: now: Invalid ISO datetime' },
        }),
      ],
    });
  });

  it('a transient Lambda error is retried and the workflow carries on', async () => {
    // Prepare
    const fakes: Record<string, Fake> = {
      RenderEmail: (_input, attempt) => {
        if (attempt === 1) throw namedError('Lambda.TooManyRequestsException', 'Rate exceeded');
        return lambdaResult(renderedEmail);
      },
    };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.retried).toEqual(['RenderEmail']);
    expect(run.calls.RenderEmail).toHaveLength(2);
    expect(run.calls.SendEmail).toEqual([sendRequest]);
  });

  it('when RecordSent keeps failing, the execution fails with OutcomeNotRecorded and never records FAILED for a sent email', async () => {
    // Prepare
    const fakes: Record<string, Fake> = {
      RecordSent: () => {
        throw namedError('Lambda.ServiceException', 'Lambda is unavailable');
      },
    };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('OutcomeNotRecorded');
    const recordSent = recordOutcome({ outcome: 'SENT', messageId: '0100019a-ses-message-id' });
    // One attempt plus MaxAttempts (4) retries of the Lambda-service retrier.
    expect(run.calls.RecordSent).toEqual([recordSent, recordSent, recordSent, recordSent, recordSent]);
    expect(run.calls.SendEmail).toHaveLength(1);
    expect(run.calls.RecordFailure).toBeUndefined();
  });

  it('when RecordFailure itself fails, the execution fails with OutcomeNotRecorded', async () => {
    // Prepare
    const fakes: Record<string, Fake> = {
      RenderEmail: () => {
        throw namedError('CampaignNotFoundError', 'campaign post-purchase-check-in is not configured');
      },
      RecordFailure: () => {
        throw namedError('TouchpointNotFoundError', 'touchpoint does not exist');
      },
    };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('OutcomeNotRecorded');
    expect(run.calls.RecordFailure).toHaveLength(1);
  });
});
