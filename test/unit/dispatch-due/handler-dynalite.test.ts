/**
 * The dispatch-due handler, loaded as Lambda loads it, on the touchpoints table in dynalite (SES's GetAccount and Step
 * Functions' StartExecution answered by client mocks): after a run whose send-rate budget is spent, it publishes the
 * backlog it left (DispatchBacklog, OldestDueAgeSeconds: what the SendBacklog alarm reads) as one EMF document.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAccountCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { METRIC, METRICS_NAMESPACE } from '../../../adapters/metrics.ts';
import { DynamoDbTouchpointRepository } from '../../../adapters/dynamodb-touchpoints.ts';
import { freshTable, startTestDynamo, type TestDynamo } from '../dynalite.ts';
import { pendingTouchpoint } from '../fakes.ts';

const SCHEDULED = '2026-11-23T12:00:00.000Z';
const CHECK_IN_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:outreach-check-in';

let dynamo: TestDynamo;
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;
let table: string;
const ses = mockClient(SESv2Client);
const sfn = mockClient(SFNClient);

beforeAll(async () => {
  ({ dynamo, client } = await startTestDynamo());
  db = createDocumentClient(client);
});
afterAll(async () => {
  ses.restore();
  sfn.restore();
  client.destroy();
  await dynamo.close();
});
beforeEach(async () => {
  table = await freshTable(client, 'touchpoints', 'dispatch-handler');
  ses.reset();
  sfn.reset();
  ses.on(GetAccountCommand).resolves({ SendQuota: { MaxSendRate: 14, Max24HourSend: 50_000, SentLast24Hours: 0 } });
  sfn.on(StartExecutionCommand).resolves({ executionArn: `${CHECK_IN_ARN}:x`, startDate: new Date() });
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** One shard and one send a second, so the first due touchpoint (earliest first) is started and the rest left due. */
async function loadHandler() {
  const env = {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'false',
    TOUCHPOINTS_TABLE: table,
    WORKFLOW_ARNS: JSON.stringify({ 'check-in': CHECK_IN_ARN }),
    DISPATCH_SHARDS: '1',
    MAX_SENDS_PER_SECOND: '1',
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return (await import('../../../functions/dispatch-due/handler.ts')).handler;
}

/** The EMF documents among what `run` prints. */
async function emfDocuments(run: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
  }
  return lines
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.trim().startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Less than a second of sending window (the handler keeps 5 s of margin): one start at one a second. */
const context = { getRemainingTimeInMillis: () => 5_900 };

describe('the dispatch-due handler', () => {
  it('publishes the backlog it left as DispatchBacklog and OldestDueAgeSeconds', async () => {
    // arrange
    const repository = new DynamoDbTouchpointRepository(table, 1, db);
    await repository.create(pendingTouchpoint('tp-1', { dueAt: '2026-11-23T11:00:00.000Z' }));
    await repository.create(pendingTouchpoint('tp-2', { dueAt: '2026-11-23T11:50:00.000Z' }));
    await repository.create(pendingTouchpoint('tp-3', { dueAt: '2026-11-23T11:59:30.000Z' }));
    await repository.create(pendingTouchpoint('tp-later', { dueAt: '2026-11-23T12:30:00.000Z' }));
    const handler = await loadHandler();

    // act
    let summary: Awaited<ReturnType<typeof handler>> | undefined;
    const documents = await emfDocuments(async () => {
      summary = await handler({ scheduledTime: SCHEDULED }, context);
    });

    // assert
    expect(summary).toMatchObject({ started: 1, deferredByBudget: true, backlog: 2, oldestDueAgeSeconds: 600 });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect((await repository.get('tp-1'))?.status).toBe('DISPATCHED');
    expect(documents).toHaveLength(1);
    const [document] = documents;
    expect(document).toMatchObject({ service: 'outreach', [METRIC.dispatchBacklog]: 2, [METRIC.oldestDueAge]: 600 });
    const aws = document!._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
    expect(aws.CloudWatchMetrics).toEqual([
      {
        Namespace: METRICS_NAMESPACE,
        Dimensions: [['service']],
        Metrics: expect.arrayContaining([
          { Name: 'DispatchBacklog', Unit: 'Count' },
          { Name: 'OldestDueAgeSeconds', Unit: 'Seconds' },
        ]),
      },
    ]);
  });

  it('publishes a backlog of 0 and an age of 0 when everything due was started', async () => {
    // arrange
    const repository = new DynamoDbTouchpointRepository(table, 1, db);
    await repository.create(pendingTouchpoint('tp-1', { dueAt: '2026-11-23T11:00:00.000Z' }));
    const handler = await loadHandler();

    // act
    const documents = await emfDocuments(() => handler({ scheduledTime: SCHEDULED }, context));

    // assert
    expect(documents).toEqual([expect.objectContaining({ [METRIC.dispatchBacklog]: 0, [METRIC.oldestDueAge]: 0 })]);
  });
});
