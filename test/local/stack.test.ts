/**
 * The stack's wiring with fixture handlers and a fixture workflow (the product's own run in test/e2e): handlers reach
 * every local service through AWS_ENDPOINT_URL_* alone, schedules fire against the local clock, HTTP routes get the
 * local clock's time, failures end in the dead-letter store, and stop() leaves nothing open.
 */
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { stackFixtureHandlers } from './fixtures/stack-handlers.ts';

const START = '2031-06-01T12:00:00.000Z';
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    portBase: 0,
    speed: 0,
    startAt: START,
    rootDir: join(import.meta.dirname, 'fixtures', 'stack'),
    handlers: stackFixtureHandlers(),
    loadCampaigns: false,
    log: false,
  });
});
afterAll(() => stack?.stop());

const purchase = (orderId: string | undefined, email: string) => ({
  EventBusName: 'outreach',
  Source: 'outreach.commerce',
  DetailType: 'Purchase Completed',
  Detail: JSON.stringify({ orderId, email }),
});

describe('the local stack with fixture handlers', () => {
  it('points the standard endpoint variables and the topology ENV names at the local services', () => {
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(stack.endpoints.dynamodb);
    expect(process.env.AWS_ENDPOINT_URL_SESV2).toBe(stack.endpoints.ses);
    expect(process.env.AWS_ENDPOINT_URL_SFN).toBe(stack.endpoints.gateway);
    expect(process.env.AWS_ENDPOINT_URL_EVENTBRIDGE).toBe(stack.endpoints.gateway);
    expect(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER).toBe(stack.endpoints.gateway);
    expect(process.env.PUBLIC_BASE_URL).toBe(stack.endpoints.web);
    // One local state machine per workflow file: follow-ups run the check-in workflow.
    expect(JSON.parse(process.env.WORKFLOW_ARNS!)).toEqual({
      'check-in': 'arn:aws:states:us-east-1:000000000000:stateMachine:check-in',
      'follow-up': 'arn:aws:states:us-east-1:000000000000:stateMachine:check-in',
      survey: 'arn:aws:states:us-east-1:000000000000:stateMachine:survey',
      'renewal-reminder': 'arn:aws:states:us-east-1:000000000000:stateMachine:renewal-reminder',
    });
    expect(process.env.AWS_REGION).toBe('us-east-1');
  });

  it('runs event → touchpoint → scheduled dispatch → workflow → SES, sending only once the due time has come', async () => {
    await stack.putEvents([purchase('order-1', 'ada@example.com')]);

    await stack.advance('PT23H59M');
    expect(await stack.mailbox()).toHaveLength(0);

    const report = await stack.advance('PT2M');
    const mail = await stack.mailbox();
    expect(report).toMatchObject({ executionsStarted: 1, executionsFailed: 0, emailsSent: 1 });
    expect(mail).toHaveLength(1);
    expect(mail[0]!.to).toEqual(['ada@example.com']);
    expect(mail[0]!.sentAt).toBe('2031-06-02T12:00:00.000Z');
    expect(mail[0]!.header('List-Unsubscribe')).toMatch(new RegExp(`^<${stack.endpoints.web}/unsubscribe\\?c=tp-order-1&t=[0-9a-f]{8}>$`));
    const touchpoint = await stack.clients.dynamodb.send(new GetItemCommand({ TableName: stack.tables.touchpoints, Key: { touchpointId: { S: 'tp-order-1' } } }));
    expect(touchpoint.Item).toMatchObject({ status: { S: 'SENT' }, sentAt: { S: '2031-06-02T12:00:00.000Z' } });
  });

  it('dead-letters an event its target keeps rejecting, after two retries, with the error name and message', async () => {
    await stack.putEvents([purchase(undefined, 'bob@example.com')]);
    await stack.settle();

    expect(stack.deadLetters()).toMatchObject([
      { functionName: 'ingest-event', source: 'rule commerce-events', errorName: 'InvalidEventError', errorMessage: expect.stringContaining('detail.orderId'), attempts: 3 },
    ]);
  });

  it('serves HTTP routes with the local clock as the request time', async () => {
    const response = await fetch(`${stack.endpoints.web}/unsubscribe?c=tp-order-1&t=x`);
    expect(await response.text()).toBe(`tp-order-1 at ${stack.clock.nowIso()}`);
  });

  it('offers the clock and the history through the control API', async () => {
    const before = (await (await fetch(`${stack.endpoints.control}/clock`)).json()) as { now: string; mode: string };
    const advanced = await fetch(`${stack.endpoints.control}/clock/advance`, { method: 'POST', body: JSON.stringify({ by: 'PT1H' }) });
    const after = (await (await fetch(`${stack.endpoints.control}/clock`)).json()) as { now: string };
    const executions = (await (await fetch(`${stack.endpoints.control}/executions`)).json()) as Array<{ name: string; status: string }>;
    const bad = await fetch(`${stack.endpoints.control}/clock/advance`, { method: 'POST', body: JSON.stringify({ by: 'soon' }) });

    expect(before.mode).toBe('manual');
    expect(advanced.status).toBe(200);
    expect(Date.parse(after.now) - Date.parse(before.now)).toBe(3_600_000);
    expect(executions).toMatchObject([{ name: 'tp-order-1-g0', status: 'SUCCEEDED' }]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/not an ISO-8601 duration/);
  });

  it('summarises what happened', async () => {
    expect(await stack.summary()).toMatchObject({
      emailsSent: 1,
      touchpointsByStatus: { SENT: 1 },
      executionsByStatus: { SUCCEEDED: 1 },
      failedExecutions: [],
      deadLetters: [expect.objectContaining({ errorName: 'InvalidEventError' })],
    });
  });
});
