import type { Server } from 'node:http';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsGateway, gatewayOperations } from '../../local/aws-gateway.ts';
import { LocalClock } from '../../local/clock.ts';
import { LocalEventBus, type BusEvent } from '../../local/event-bus.ts';
import { closeServer, listen } from '../../local/http.ts';
import { functionArn, LocalFunctions } from '../../local/lambda-runtime.ts';
import { createLinkSecret, LocalSecretsManager } from '../../local/secrets.ts';
import { LocalStepFunctions } from '../../local/step-functions.ts';
import { WorkTracker } from '../../local/work-tracker.ts';

const START = new Date('2031-01-15T10:30:00.000Z');
const clock = new LocalClock({ speed: 0, start: START });
const tracker = new WorkTracker();
const delivered: Array<{ target: string; event: BusEvent }> = [];
/** Executions of the "gate" machine stay RUNNING until the test opens the gate. */
let openGate: () => void = () => {};
let gate = new Promise<void>((resolve) => (openGate = resolve));
const functions = new LocalFunctions({
  clock,
  tracker,
  load: async () => async (event) => {
    await gate;
    return event;
  },
});
const bus = new LocalEventBus({
  clock,
  productBusName: 'shop',
  rules: [
    { name: 'orders', description: '', bus: 'product', detailTypes: ['Purchase Completed'], target: 'ingest-event' },
    { name: 'feedback', description: '', bus: 'default', source: 'aws.ses', detailTypes: ['Email Bounced'], target: 'unsubscribe' },
  ],
  commerceSource: 'shop.orders',
  deliver: (target, event) => delivered.push({ target, event }),
});
const stepFunctions = new LocalStepFunctions({
  clock,
  tracker,
  services: { invokeFunction: (n, p) => functions.invoke(n, p), sdk: {}, putEvents: (e) => bus.putEvents(e) },
});
const machineArn = stepFunctions.register('gate', {
  StartAt: 'Wait',
  States: { Wait: { Type: 'Task', Resource: functionArn('gate'), End: true } },
});
const secret = createLinkSecret();
let server: Server;
let endpoint: string;
const config = () => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

beforeAll(async () => {
  server = createAwsGateway(gatewayOperations({ bus, stepFunctions, secrets: new LocalSecretsManager([secret]) }));
  endpoint = `http://127.0.0.1:${await listen(server, 0)}`;
});
afterAll(async () => {
  openGate();
  await tracker.idle();
  await closeServer(server);
});

describe('PutEvents through @aws-sdk/client-eventbridge', () => {
  const events = () => new EventBridgeClient(config());

  it('accepts valid entries, stamps them like EventBridge and routes matching ones to the rule target', async () => {
    const result = await events().send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'shop', Source: 'shop.orders', DetailType: 'Purchase Completed', Detail: JSON.stringify({ orderId: 'o-1' }) },
          { EventBusName: 'shop', Source: 'shop.orders', DetailType: 'Cart Abandoned', Detail: '{}' },
          { EventBusName: 'shop', Source: 'elsewhere', DetailType: 'Purchase Completed', Detail: '{"orderId":"o-1"}' },
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries).toHaveLength(3);
    const routed = delivered.filter((d) => d.event.detail.orderId === 'o-1');
    expect(routed).toEqual([
      {
        target: 'ingest-event',
        event: {
          version: '0',
          id: result.Entries![0]!.EventId,
          'detail-type': 'Purchase Completed',
          source: 'shop.orders',
          account: '000000000000',
          time: '2031-01-15T10:30:00Z',
          region: 'us-east-1',
          resources: [],
          detail: { orderId: 'o-1' },
        },
      },
    ]);
    expect(delivered.some((d) => d.event['detail-type'] === 'Cart Abandoned')).toBe(false);
  });

  it('fails only the malformed entries, counted in FailedEntryCount, like AWS', async () => {
    const result = await events().send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'shop', Source: 'shop.orders', DetailType: 'Purchase Completed', Detail: '{"orderId":"o-2"}' },
          { Source: 'shop.orders', DetailType: 'Purchase Completed', Detail: '{"orderId": ' },
          { Source: 'shop.orders', DetailType: 'Purchase Completed', Detail: '["not", "an", "object"]' },
          { Source: 'shop.orders', Detail: '{}' },
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries![0]!.EventId).toBeTruthy();
    expect(result.Entries!.slice(1)).toEqual([
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
    ]);
  });

  it("uses the entry's Time when one is given", async () => {
    await events().send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/shop',
            Source: 'shop.orders',
            DetailType: 'Purchase Completed',
            Detail: '{"orderId":"o-3"}',
            Time: new Date('2031-01-01T00:00:05Z'),
          },
        ],
      }),
    );
    expect(delivered.find((d) => d.event.detail.orderId === 'o-3')?.event.time).toBe('2031-01-01T00:00:05Z');
  });

  it('routes by bus: a commerce event sent to the default bus is accepted and goes nowhere, as in AWS', async () => {
    const result = await events().send(new PutEventsCommand({ Entries: [{ Source: 'shop.orders', DetailType: 'Purchase Completed', Detail: '{"orderId":"o-4"}' }] }));

    expect(result.FailedEntryCount).toBe(0);
    expect(delivered.some((d) => d.event.detail.orderId === 'o-4')).toBe(false);
    expect(bus.history.at(-1)).toMatchObject({ bus: 'default', matchedRules: [] });
  });

  it('matches rules on the default bus by their own source (SES feedback)', async () => {
    await events().send(
      new PutEventsCommand({
        Entries: [
          { Source: 'aws.ses', DetailType: 'Email Bounced', Detail: '{"orderId":"o-5"}' },
          { EventBusName: 'shop', Source: 'aws.ses', DetailType: 'Email Bounced', Detail: '{"orderId":"o-6"}' },
        ],
      }),
    );

    expect(delivered.filter((d) => ['o-5', 'o-6'].includes(d.event.detail.orderId as string)).map((d) => [d.target, d.event.detail.orderId])).toEqual([
      ['unsubscribe', 'o-5'],
    ]);
  });
});

describe('Step Functions through @aws-sdk/client-sfn', () => {
  const sfn = () => new SFNClient(config());

  it('treats StartExecution with a running name and the same input as the same execution', async () => {
    const first = await sfn().send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'tp-1-g0', input: '{"a":1}' }));
    const again = await sfn().send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'tp-1-g0', input: '{"a":1}' }));

    expect(again.executionArn).toBe(first.executionArn);
    expect(first.startDate).toEqual(START);
  });

  it('throws ExecutionAlreadyExists for a running name with other input, and for a finished one', async () => {
    await sfn().send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'tp-2-g0', input: '{"a":1}' }));

    await expect(sfn().send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'tp-2-g0', input: '{"a":2}' }))).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );

    openGate();
    await tracker.idle();
    await expect(sfn().send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'tp-2-g0', input: '{"a":1}' }))).rejects.toThrow(
      /Execution Already Exists/,
    );
    gate = new Promise<void>((resolve) => (openGate = resolve));
  });

  it('describes and lists executions with their status and output', async () => {
    const { executionArn } = await sfn().send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'tp-3-g0', input: '{"b":2}' }));
    expect((await sfn().send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    openGate();
    await tracker.idle();
    const described = await sfn().send(new DescribeExecutionCommand({ executionArn }));
    const listed = await sfn().send(new ListExecutionsCommand({ stateMachineArn: machineArn, statusFilter: 'SUCCEEDED' }));

    expect(described).toMatchObject({ status: 'SUCCEEDED', name: 'tp-3-g0', input: '{"b":2}', output: '{"b":2}', startDate: START, stopDate: START });
    expect(listed.executions!.map((e) => e.name)).toContain('tp-3-g0');
    await expect(sfn().send(new DescribeExecutionCommand({ executionArn: `${executionArn}-missing` }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });
});

describe('Secrets Manager through @aws-sdk/client-secrets-manager', () => {
  const secrets = () => new SecretsManagerClient(config());

  it('returns the generated link-signing secret by ARN or by name', async () => {
    const byArn = await secrets().send(new GetSecretValueCommand({ SecretId: secret.arn }));
    const byName = await secrets().send(new GetSecretValueCommand({ SecretId: secret.name }));

    expect(byArn.SecretString).toMatch(/^[0-9a-f]{64}$/);
    expect(byName).toMatchObject({ ARN: secret.arn, SecretString: byArn.SecretString, VersionStages: ['AWSCURRENT'] });
  });

  it('answers ResourceNotFoundException for any other secret', async () => {
    await expect(secrets().send(new GetSecretValueCommand({ SecretId: 'other' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('generates a new secret per start', () => {
    expect(createLinkSecret().value).not.toBe(createLinkSecret().value);
  });
});
