/**
 * The recovery sweep's listing against a real DynamoDB API (dynalite in this process, ephemeral port), on tables
 * created as the local stack creates them: the sparse `byPendingCounts` index holds exactly the entities with pending
 * counts, since their first pending write; `complete` takes them off it with the list and the lease; and the
 * settle-responses handler, loaded as Lambda loads it, counts a sent survey, a contract outcome and a purchase whose
 * writer stopped after the state write.
 */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbContractRepository } from '../../../adapters/dynamodb-contracts.ts';
import { DynamoDbCustomerRepository } from '../../../adapters/dynamodb-customers.ts';
import { DynamoDbMetricsCounters, DynamoDbMetricsReader } from '../../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts, pendingAppend } from '../../../adapters/dynamodb-pending.ts';
import { DynamoDbTouchpointRepository } from '../../../adapters/dynamodb-touchpoints.ts';
import { numberChanges, outcomeChanges, purchaseChanges, sendChange, settlePendingCounts, type CounterChange } from '../../../core/metrics/counters.ts';
import { recordOutcome, recordPurchase, surveySentDelta } from '../../../core/metrics/model.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { TABLES } from '../../../core/topology.ts';
import { localTableNames, tableDefinitions, type TableNames } from '../../../local/dynamodb.ts';
import { contract } from '../contracts/fakes.ts';
import { startTestDynamo, type TestDynamo } from '../dynalite.ts';

const SENT_AT = '2026-11-15T23:40:00.000Z';

let dynamo: TestDynamo;
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;
let tables = 0;
let names: TableNames;
let counters: DynamoDbMetricsCounters;

beforeAll(async () => {
  ({ dynamo, client } = await startTestDynamo());
  db = createDocumentClient(client);
});

afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

beforeEach(async () => {
  tables += 1;
  names = localTableNames(`stale-${tables}`);
  for (const definition of tableDefinitions(names)) await client.send(new CreateTableCommand(definition));
  counters = new DynamoDbMetricsCounters(names.metrics, db);
});

const rawItem = async (table: string, key: Record<string, string>) =>
  (await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

const sends = (token: string, n = 1): CounterChange[] =>
  numberChanges(
    token,
    Array.from({ length: n }, () => sendChange(surveySentDelta({ campaignId: 'nps-after-purchase', kind: 'nps', sentAt: SENT_AT }))),
  );

describe('the byPendingCounts index on dynalite', () => {
  let pending: DynamoDbPendingCounts;
  beforeEach(() => {
    pending = new DynamoDbPendingCounts(names.customers, TABLES.customers.partitionKey, db);
  });

  /** A state write of customer `id` that appends `changes` at `at` (creating the item). */
  async function write(id: string, at: string, changes: readonly CounterChange[]): Promise<void> {
    const append = pendingAppend(changes, at);
    await db.send(
      new UpdateCommand({
        TableName: names.customers,
        Key: { customerId: id },
        UpdateExpression: `SET updatedAt = :at${append ? `, ${append.set}` : ''}`,
        ExpressionAttributeValues: { ':at': at, ...append?.values },
      }),
    );
  }

  it('exists on touchpoints, contracts and customers as the local stack creates them, keyed by countsPending and its time', async () => {
    for (const table of [names.touchpoints, names.contracts, names.customers]) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
      const index = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'byPendingCounts');
      expect(index?.KeySchema).toEqual([
        { AttributeName: 'countsPending', KeyType: 'HASH' },
        { AttributeName: 'countsPendingSince', KeyType: 'RANGE' },
      ]);
    }
    const { Table } = await client.send(new DescribeTableCommand({ TableName: names.responses }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byPendingSettlement']);
  });

  it('lists exactly the entities pending since `olderThan` or earlier, oldest first, up to `limit`', async () => {
    // Prepare
    await write('c-late', '2026-03-01T09:53:00.000Z', sends('w1'));
    await write('c-old', '2026-03-01T09:00:00.000Z', sends('w2'));
    await write('c-fresh', '2026-03-01T09:53:00.001Z', sends('w3'));
    await write('c-nothing', '2026-03-01T08:00:00.000Z', []);
    await write('c-settled', '2026-03-01T08:00:00.000Z', sends('w4'));
    expect(await settlePendingCounts('c-settled', '2026-03-01T08:00:00.000Z', { pending, counters })).toBe('settled');

    // Act
    const stale = await pending.listStale('2026-03-01T09:53:00.000Z', 10);
    const first = await pending.listStale('2026-03-01T09:53:00.000Z', 1);

    // Assess
    expect(stale).toEqual(['c-old', 'c-late']);
    expect(first).toEqual(['c-old']);
  });

  it('keeps the time of the first pending write when more changes are appended, in UTC whatever the zone written', async () => {
    // Prepare
    await write('c-1', '2026-03-01T10:00:00+01:00', sends('w1'));
    await write('c-1', '2026-03-01T09:30:00.000Z', sends('w2'));

    // Act
    const item = await rawItem(names.customers, { customerId: 'c-1' });

    // Assess
    expect(item).toMatchObject({ countsPending: '1', countsPendingSince: '2026-03-01T09:00:00.000Z' });
    expect(item?.metricsPending).toHaveLength(2);
    expect(await pending.listStale('2026-03-01T09:00:00.000Z', 10)).toEqual(['c-1']);
  });

  it('complete takes the entity off the index with the list and the lease; its next pending write lists it again, at that time', async () => {
    // Prepare
    await write('c-1', '2026-03-01T09:00:00.000Z', sends('w1', 2));
    await pending.claim('c-1', { token: 's1', until: '2026-03-01T10:06:00.000Z' }, '2026-03-01T10:00:00.000Z');

    // Act
    const completed = await pending.complete('c-1', 's1', 2);
    const afterComplete = await pending.listStale('2026-03-02T00:00:00.000Z', 10);
    const item = await rawItem(names.customers, { customerId: 'c-1' });
    await write('c-1', '2026-03-01T11:00:00.000Z', sends('w2'));

    // Assess
    expect(completed).toEqual({ remaining: [] });
    expect(afterComplete).toEqual([]);
    expect(item).toEqual({ customerId: 'c-1', updatedAt: '2026-03-01T09:00:00.000Z' });
    expect(await pending.listStale('2026-03-01T10:59:59.999Z', 10)).toEqual([]);
    expect(await pending.listStale('2026-03-01T11:00:00.000Z', 10)).toEqual(['c-1']);
  });

  it('unlist takes off an entity listed with an empty list only, and creates no item for a missing one', async () => {
    // Prepare: c-emptied's settler stopped between trimming the list and releasing it.
    await write('c-emptied', '2026-03-01T09:00:00.000Z', sends('w1'));
    await pending.claim('c-emptied', { token: 's1', until: '2026-03-01T09:06:00.000Z' }, '2026-03-01T09:00:00.000Z');
    await db.send(new UpdateCommand({ TableName: names.customers, Key: { customerId: 'c-emptied' }, UpdateExpression: 'REMOVE metricsPending[0]' }));
    await write('c-pending', '2026-03-01T09:00:00.000Z', sends('w2'));

    // Act
    const unlisted = [await pending.unlist('c-emptied'), await pending.unlist('c-pending'), await pending.unlist('c-missing'), await pending.unlist('c-emptied')];

    // Assess
    expect(unlisted).toEqual([true, false, false, false]);
    expect(await pending.listStale('2026-03-02T00:00:00.000Z', 10)).toEqual(['c-pending']);
    // The settler's lease and empty list stay for it to release.
    expect(await rawItem(names.customers, { customerId: 'c-emptied' })).toMatchObject({ metricsPending: [], metricsLease: { token: 's1' } });
    expect(await rawItem(names.customers, { customerId: 'c-missing' })).toBeUndefined();
  });
});

describe('the settle-responses handler on dynalite', () => {
  async function loadHandler() {
    const env = {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      RESPONSES_TABLE: names.responses,
      SURVEY_AGGREGATES_TABLE: names.surveyAggregates,
      EVENT_BUS_NAME: 'outreach-test',
      METRICS_TABLE: names.metrics,
      TOUCHPOINTS_TABLE: names.touchpoints,
      CONTRACTS_TABLE: names.contracts,
      CUSTOMERS_TABLE: names.customers,
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    vi.resetModules();
    return (await import('../../../functions/settle-responses/handler.ts')).handler;
  }
  afterEach(() => vi.unstubAllEnvs());

  it('counts a sent survey, a contract outcome and a purchase whose writers stopped after the state write, and only once stale', async () => {
    // Prepare: each state write through its adapter (pendingAppend in the same UpdateItem), then no settle at all.
    const touchpoints = new DynamoDbTouchpointRepository(names.touchpoints, 4, db);
    const survey: Touchpoint = {
      touchpointId: 'tp-survey',
      campaignId: 'nps-after-purchase',
      kind: 'survey',
      customerId: 'c-1',
      dueAt: SENT_AT,
      status: 'PENDING',
      generation: 0,
      context: {},
      createdAt: '2026-11-01T10:00:00.000Z',
      updatedAt: '2026-11-01T10:00:00.000Z',
    };
    await touchpoints.create(survey);
    await touchpoints.claimForDispatch({ touchpointId: 'tp-survey', generation: 0, from: 'PENDING', at: SENT_AT, leaseUntil: SENT_AT });
    const sent = { touchpointId: 'tp-survey', generation: 0, at: SENT_AT, status: 'SENT' as const, messageId: 'm-1' };
    expect(await touchpoints.complete({ ...sent, surveySend: { surveyKind: 'nps', pendingCounts: sends('send') } })).toBe(true);

    const contracts = new DynamoDbContractRepository(names.contracts, 4, db);
    const running = contract({ contractId: 'ctr-1', endDate: '2026-11-14', timeZone: 'UTC', endsAt: '2026-11-14T00:00:00.000Z', version: '2026-01-01T00:00:00.000Z' });
    expect(await contracts.upsertFromEvent(running, undefined)).toBe(true);
    const churned = { result: 'CHURNED' as const, at: SENT_AT, remindersSent: 1, endDate: '2026-11-14' };
    const { history, increments } = recordOutcome([], { ...churned, npsSegment: 'none' });
    const outcomeWrite = { outcomes: history, metrics: numberChanges('end', outcomeChanges(increments)), base: { version: running.version, status: running.status } };
    expect(await contracts.markEnded('ctr-1', { endDate: '2026-11-14', at: SENT_AT, outcome: churned, ...outcomeWrite })).toBe(true);

    const customers = new DynamoDbCustomerRepository(names.customers, db);
    await customers.recordProfile({ customerId: 'c-1', email: 'ada@example.com', name: 'Ada', timeZone: 'UTC', locale: 'en', marketingConsent: true }, SENT_AT);
    const purchase = recordPurchase(undefined, { orderId: 'o-1', at: SENT_AT });
    expect(await customers.replacePurchaseHistory('c-1', undefined, purchase.history, numberChanges('buy', purchaseChanges(purchase.increments)))).toBe(true);

    const reader = new DynamoDbMetricsReader(names.metrics, names.surveyAggregates, db);
    const handler = await loadHandler();

    // Act
    const early = await handler({ scheduledTime: '2026-11-15T23:46:59Z' });
    const countedEarly = await reader.surveySends('nps-after-purchase', '2026-11-01', '2026-11-30');
    const due = await handler({ scheduledTime: '2026-11-15T23:47:00Z' });

    // Assess
    const zero = { settled: 0, busy: 0, unlisted: 0, failed: 0 };
    expect(early.staleCounts).toEqual({ touchpoints: zero, contracts: zero, customers: zero });
    expect(countedEarly).toEqual([]);
    expect(due.staleCounts).toEqual({ touchpoints: { ...zero, settled: 1 }, contracts: { ...zero, settled: 1 }, customers: { ...zero, settled: 1 } });
    expect(await reader.surveySends('nps-after-purchase', '2026-11-01', '2026-11-30')).toEqual([
      { campaignId: 'nps-after-purchase', day: '2026-11-15', kind: 'nps', sent: 1, answered: 0 },
    ]);
    expect((await reader.contractOutcomes('2026-11-01', '2026-11-30')).map((o) => [o.day, o.churned.none])).toEqual([['2026-11-15', 1]]);
    expect(await reader.purchaseCohorts('2026-11-01', '2026-11-30')).toEqual([{ day: '2026-11-15', customers: 1, repeatAfterDays: {} }]);
    for (const [table, key] of [[names.touchpoints, { touchpointId: 'tp-survey' }], [names.contracts, { contractId: 'ctr-1' }], [names.customers, { customerId: 'c-1' }]] as const) {
      const item = await rawItem(table, key);
      for (const attribute of ['metricsPending', 'metricsLease', 'countsPending', 'countsPendingSince']) expect(item).not.toHaveProperty(attribute);
    }
    // Nothing listed any more: the next run finds nothing.
    expect((await handler({ scheduledTime: '2026-11-15T23:52:00Z' })).staleCounts).toEqual({ touchpoints: zero, contracts: zero, customers: zero });
  });
});
