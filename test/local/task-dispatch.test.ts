import { join } from 'node:path';
import * as sesv2Commands from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { LocalClock } from '../../local/clock.ts';
import { LocalEventBus, type BusEvent } from '../../local/event-bus.ts';
import { functionArn, LocalFunctions } from '../../local/lambda-runtime.ts';
import { LocalStepFunctions } from '../../local/step-functions.ts';
import { buildTaskHandlers, sdkFailure, type SdkServiceBinding } from '../../local/task-dispatch.ts';
import { loadWorkflow, substitute } from '../../local/workflow-loader.ts';
import { WorkTracker } from '../../local/work-tracker.ts';
import { fixtureHandlers, NamedError } from './fixtures/handlers.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const START = '2030-05-06T07:08:09.000Z';
const substitutions = { EchoFunctionArn: functionArn('echo'), FlakyFunctionArn: functionArn('flaky'), DoubleFunctionArn: functionArn('double') };

function serviceError(name: string, status: number): Error {
  return Object.assign(new NamedError(name, `${name} from the fake service`), { $metadata: { httpStatusCode: status, requestId: 'req-1' } });
}

/** A fake SES v2 client: answers with the queued errors first, then with a message id. */
function fakeSes(errors: Error[] = []): SdkServiceBinding & { sent: unknown[] } {
  const sent: unknown[] = [];
  return {
    sent,
    errorPrefix: 'SesV2',
    commands: sesv2Commands,
    client: {
      send: async (command: never) => {
        const error = errors.shift();
        if (error) throw error;
        sent.push((command as { input: unknown }).input);
        return { MessageId: `msg-${sent.length}`, $metadata: { httpStatusCode: 200 } };
      },
    },
  };
}

function setUp(options: { failures?: Error[]; sesErrors?: Error[] } = {}) {
  const clock = new LocalClock({ speed: 0, start: new Date(START) });
  const tracker = new WorkTracker();
  const fixtures = fixtureHandlers(options);
  const functions = new LocalFunctions({ load: fixtures.load, clock, tracker });
  const delivered: BusEvent[] = [];
  const bus = new LocalEventBus({
    clock,
    productBusName: 'fixture-bus',
    rules: [{ name: 'fixture', description: '', bus: 'default', detailTypes: ['Fixture Done'], target: 'ingest-event' }],
    commerceSource: 'fixture.source',
    deliver: (_t, e) => delivered.push(e),
  });
  const ses = fakeSes(options.sesErrors);
  const stepFunctions = new LocalStepFunctions({
    clock,
    tracker,
    retryDelayMs: 1,
    services: { invokeFunction: (n, p) => functions.invoke(n, p), sdk: { sesv2: ses }, putEvents: (e) => bus.putEvents(e) },
  });
  const arn = stepFunctions.register('dispatch', loadWorkflow(FIXTURES, 'dispatch', substitutions));
  const run = async (input: unknown, name = 'run-1') => {
    const { executionArn } = stepFunctions.startExecution({ stateMachineArn: arn, name, input: JSON.stringify(input) });
    await tracker.idle();
    const record = stepFunctions.describeExecution(executionArn);
    return { ...record, result: record.output ? (JSON.parse(record.output) as Record<string, any>) : undefined };
  };
  return { run, calls: fixtures.calls, ses, delivered, clock };
}

describe('task dispatch by Resource', () => {
  it('runs lambda:invoke in-process and wraps the result like AWS, with the local clock as $$.Execution.StartTime', async () => {
    const { run } = setUp();

    const execution = await run({ to: 'ada@example.com', items: [1, 2] });

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.result!.echo).toEqual({
      Payload: { now: START, executionName: 'run-1', stateName: 'Echo', input: { to: 'ada@example.com', items: [1, 2] } },
    });
  });

  it('leaves the real Date alone while executions run', async () => {
    const { run } = setUp();
    await run({ to: 'a@example.com', items: [] });
    expect(new Date().getFullYear()).not.toBe(2030);
    expect(Math.abs(Date.now() - new Date().getTime())).toBeLessThan(1_000);
  });

  it('dispatches Tasks inside Parallel branches and Map item processors (direct Lambda ARN: unwrapped result)', async () => {
    const { run } = setUp();

    const execution = await run({ to: 'a@example.com', items: [1, 2, 3] });

    expect(execution.result!.fanout).toEqual([{ Payload: { ok: true } }]);
    expect(execution.result!.mapped).toEqual([2, 4, 6]);
  });

  it("raises a handler's error under its own name, so ErrorEquals matches it, with Lambda's JSON as Cause", async () => {
    const { run } = setUp({ failures: [new NamedError('TouchpointNotFoundError', 'touchpoint tp-1 does not exist')] });

    const execution = await run({ to: 'a@example.com', items: [] });

    const caught = execution.result!.fanout[0].caught;
    expect(caught.Error).toBe('TouchpointNotFoundError');
    expect(JSON.parse(caught.Cause)).toMatchObject({ errorType: 'TouchpointNotFoundError', errorMessage: 'touchpoint tp-1 does not exist' });
  });

  it('retries by error name with short local intervals instead of the minutes the definition asks for', async () => {
    const { run, calls } = setUp({ failures: [new NamedError('TransientError', 'a'), new NamedError('TransientError', 'b')] });

    const execution = await run({ to: 'a@example.com', items: [] });

    expect(calls.flaky).toHaveLength(3);
    expect(execution.result!.fanout).toEqual([{ Payload: { ok: true } }]);
  });

  it('fails the execution with the error name and cause when nothing catches it', async () => {
    const { run } = setUp({ failures: [new NamedError('InvalidInputError', 'generation must be a number')] });

    const execution = await run({ to: 'a@example.com', items: [] });

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('InvalidInputError');
    expect(execution.cause).toContain('generation must be a number');
  });

  it('calls the SDK client for aws-sdk:sesv2:sendEmail with the Parameters as the command input', async () => {
    const { run, ses } = setUp();

    const execution = await run({ to: 'ada@example.com', items: [] });

    expect(ses.sent).toEqual([
      {
        FromEmailAddress: 'hello@shop.example',
        Destination: { ToAddresses: ['ada@example.com'] },
        Content: { Simple: { Subject: { Data: 'Fixture' }, Body: { Text: { Data: 'Hello' } } } },
      },
    ]);
    expect(execution.result!.sent).toEqual({ MessageId: 'msg-1' });
  });

  it('names SDK errors <Service>.<Name>Exception as Step Functions does, so Retry on throttling works', async () => {
    const { run, ses } = setUp({ sesErrors: [serviceError('TooManyRequestsException', 429), serviceError('TooManyRequestsException', 429)] });

    const execution = await run({ to: 'a@example.com', items: [] });

    expect(ses.sent).toHaveLength(1);
    expect(execution.result!.sent).toEqual({ MessageId: 'msg-1' });
  });

  it('adds the Exception suffix AWS adds (MessageRejected → SesV2.MessageRejectedException)', async () => {
    const { run } = setUp({ sesErrors: [serviceError('MessageRejected', 400)] });

    const execution = await run({ to: 'a@example.com', items: [] });

    expect(execution.result!.sendError.Error).toBe('SesV2.MessageRejectedException');
    expect(execution.result!.sendError.Cause).toContain('Service: SesV2, Status Code: 400');
    expect(sdkFailure('DynamoDb', serviceError('ConditionalCheckFailedException', 400)).name).toBe('DynamoDb.ConditionalCheckFailedException');
    expect(sdkFailure('SesV2', new TypeError('fetch failed')).name).toBe('States.TaskFailed');
  });

  it('puts events:putEvents entries on the local bus, Detail given as JSON', async () => {
    const { run, delivered } = setUp();

    const execution = await run({ to: 'a@example.com', items: [] }, 'announce-1');

    expect(execution.result!.announced.FailedEntryCount).toBe(0);
    expect(delivered).toMatchObject([{ source: 'fixture.source', 'detail-type': 'Fixture Done', detail: { execution: 'announce-1' }, time: '2030-05-06T07:08:09Z' }]);
  });
});

describe('loading workflows', () => {
  it('fails loudly when a placeholder has no local value', () => {
    expect(() => substitute('{"Resource": "${EchoFunctionArn}", "X": "${TableName}"}', { EchoFunctionArn: 'arn' }, 'fixture.asl.json')).toThrow(
      /fixture\.asl\.json: no local value for \$\{TableName\}/,
    );
    expect(() => loadWorkflow(FIXTURES, 'dispatch', { EchoFunctionArn: functionArn('echo') })).toThrow(/\$\{FlakyFunctionArn\}/);
  });

  it('refuses a Task Resource the local stack cannot run, naming the state', () => {
    const workflow = { StartAt: 'Q', States: { Q: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } } };
    const services = { invokeFunction: async () => null, sdk: {}, putEvents: () => ({ FailedEntryCount: 0, Entries: [] }) };
    expect(() => buildTaskHandlers(workflow, services, 'q')).toThrow(/Task "Q" has Resource arn:aws:states:::sqs:sendMessage/);
  });

  it('refuses state names used twice across branches (the local engine dispatches Tasks by state name)', () => {
    const task = { Type: 'Task', Resource: functionArn('echo'), End: true };
    const workflow = {
      StartAt: 'P',
      States: { P: { Type: 'Parallel', Branches: [{ StartAt: 'T', States: { T: task } }, { StartAt: 'T', States: { T: task } }], End: true } },
    };
    const services = { invokeFunction: async () => null, sdk: {}, putEvents: () => ({ FailedEntryCount: 0, Entries: [] }) };
    expect(() => buildTaskHandlers(workflow, services, 'dup')).toThrow(/state name "T" is used twice/);
  });
});
