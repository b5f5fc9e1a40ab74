/**
 * workflows/check-in.asl.json on aws-local-stepfunctions, every Task answered by a fake keyed by state name that
 * records what it received. Lambda tasks answer in the `lambda:invoke` shape, SendEmail as SES v2 does.
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
  SendEmail: () => ({ MessageId: '0100019a-ses-message-id' }),
  RecordSent: () => lambdaResult({ outcome: 'SENT', recorded: true }),
  RecordRescheduled: () => lambdaResult({ outcome: 'RESCHEDULED', recorded: true }),
  RecordSkipped: () => lambdaResult({ outcome: 'SKIPPED', recorded: true }),
  RecordFailure: () => lambdaResult({ outcome: 'FAILED', recorded: true }),
  RecordDeferred: () => lambdaResult({ outcome: 'DEFERRED', recorded: true }),
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
      Execution: { Id: `arn:aws:states:us-east-1:123456789012:execution:check-in:${TOUCHPOINT_ID}-g2`, StartTime: START_TIME },
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
const recordOutcome = (fields: Record<string, Json>) =>
  invoke('record-outcome', { touchpointId: TOUCHPOINT_ID, generation: 2, now: ENTERED_TIME, ...fields });

describe('check-in workflow', () => {
  it('SEND: renders, sends the rendered request unchanged, and records SENT with the message id', async () => {
    // Act
    const run = await runCheckIn();

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['CheckEligibility', 'Decide', 'RenderEmail', 'SendEmail', 'RecordSent', 'Done']);
    expect(run.calls).toEqual({
      CheckEligibility: [eligibility],
      RenderEmail: [invoke('render-email', { touchpointId: TOUCHPOINT_ID, message })],
      SendEmail: [renderedEmail],
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

  it('SES throttling is retried: two TooManyRequests, then one email sent and recorded once', async () => {
    // Prepare
    const fakes: Record<string, Fake> = {
      SendEmail: (_input, attempt) => {
        if (attempt <= 2) throw namedError('SesV2.TooManyRequestsException', 'Maximum sending rate exceeded.');
        return { MessageId: '0100019a-after-throttling' };
      },
    };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.retried).toEqual(['SendEmail', 'SendEmail']);
    expect(run.calls.SendEmail).toEqual([renderedEmail, renderedEmail, renderedEmail]);
    expect(run.calls.RecordSent).toEqual([recordOutcome({ outcome: 'SENT', messageId: '0100019a-after-throttling' })]);
    expect(run.calls.RecordFailure).toBeUndefined();
  });

  it('throttling that outlasts the retries defers the touchpoint (DEFERRED, not FAILED) and the execution succeeds', async () => {
    // Prepare
    const fakes: Record<string, Fake> = {
      SendEmail: () => {
        throw namedError('SesV2.TooManyRequestsException', 'Maximum sending rate exceeded.');
      },
    };

    // Act
    const run = await runCheckIn(fakes);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.SendEmail).toHaveLength(7);
    expect(run.calls.RecordDeferred).toEqual([
      recordOutcome({ outcome: 'DEFERRED', error: { Error: 'SesV2.TooManyRequestsException', Cause: 'Maximum sending rate exceeded.' } }),
    ]);
    expect(run.calls.RecordFailure).toBeUndefined();
    expect(run.calls.RecordSent).toBeUndefined();
  });

  // Step Functions names SDK errors <Service>.<Error>Exception, adding the suffix where the API's own name has none.
  it.each(['SesV2.MessageRejectedException', 'SesV2.MessageRejected'])(
    'a rejected send (%s) is not retried: FAILED is recorded with the error and the execution fails',
    async (errorName) => {
      // Prepare
      const fakes: Record<string, Fake> = {
        SendEmail: () => {
          throw namedError(errorName, 'Email address is not verified.');
        },
      };

      // Act
      const run = await runCheckIn(fakes);

      // Assess
      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('CheckInFailed');
      expect(run.retried).toEqual([]);
      expect(run.calls).toEqual({
        CheckEligibility: [eligibility],
        RenderEmail: [invoke('render-email', { touchpointId: TOUCHPOINT_ID, message })],
        SendEmail: [renderedEmail],
        RecordFailure: [
          recordOutcome({ outcome: 'FAILED', error: { Error: errorName, Cause: 'Email address is not verified.' } }),
        ],
      });
    },
  );

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
    expect(run.calls.SendEmail).toEqual([renderedEmail]);
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
      SendEmail: () => {
        throw namedError('SesV2.AccountSuspendedException', 'Account suspended');
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
