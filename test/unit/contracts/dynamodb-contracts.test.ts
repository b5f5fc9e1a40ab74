/** The contracts adapter against a stubbed DocumentClient: the exact requests, and DynamoDB's expression rules. */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { CONTRACTS_TABLE, DynamoDbContractRepository, DynamoDbSweepCursors, contractsTableDefinition } from '../../../adapters/dynamodb-contracts.ts';
import type { Contract } from '../../../core/contracts/model.ts';
import type { OutcomeWrite } from '../../../core/contracts/ports.ts';
import type { RecordedOutcome } from '../../../core/metrics/model.ts';
import { shardOf } from '../../../core/touchpoint-id.ts';
import { expressionProblem, sentRequests } from '../adapters/support.ts';

const TABLE = 'outreach-contracts';
const SHARDS = 4;
const ddb = mockClient(DynamoDBDocumentClient);
const repository = () => new DynamoDbContractRepository(TABLE, SHARDS, createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })));
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const contract: Contract = {
  contractId: 'ctr-1',
  customerId: 'cust-1',
  plan: 'pro-annual',
  value: 1200,
  currency: 'EUR',
  startDate: '2026-03-29',
  endDate: '2027-03-28',
  autoRenew: false,
  timeZone: 'Europe/Berlin',
  status: 'ACTIVE',
  endsAt: '2027-03-27T23:00:00.000Z',
  renewals: 0,
  version: '2026-03-29T08:00:00.000Z',
  createdAt: '2026-03-29T08:00:00.000Z',
  updatedAt: '2026-03-29T08:00:00.000Z',
};
const indexKeys = { endShard: String(shardOf('ctr-1', SHARDS)), endKey: '2027-03-27T23:00:00.000Z#ctr-1' };
const churned = { result: 'CHURNED' as const, at: '2027-03-02T10:00:00.000Z', remindersSent: 1, endDate: '2027-03-28' };

/** An outcome write recording `recorded` with one change of the outcomes record of its day (none for no counters). */
function outcomeWrite(recorded: RecordedOutcome, counters: Record<string, number>, base: OutcomeWrite['base']): OutcomeWrite {
  const day = recorded.at.slice(0, 10);
  const metrics = Object.keys(counters).length > 0 ? [{ id: 'tok:0', record: { series: 'outcomes' as const, day }, counters }] : [];
  return { outcomes: [recorded], metrics, base };
}

interface UpdateInput {
  UpdateExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** What an UpdateItem's SET clause assigns (`#name = :value` and `name = :value` pairs), by attribute name. */
function assigned(input: UpdateInput): Record<string, unknown> {
  const set = /^SET (.*?)(?: REMOVE |$)/.exec(input.UpdateExpression)![1]!;
  return Object.fromEntries(
    set.split(', ').map((pair) => {
      const [name, value] = pair.split(' = ') as [string, string];
      return [input.ExpressionAttributeNames?.[name] ?? name, input.ExpressionAttributeValues?.[value]];
    }),
  );
}

/** Every request sent so far is one DynamoDB would accept. */
function expectValidExpressions() {
  for (const { input } of sentRequests(ddb)) expect(expressionProblem(input)).toBeUndefined();
}

beforeEach(() => {
  ddb.reset();
});

afterAll(() => {
  ddb.restore();
});

describe('CONTRACTS_TABLE', () => {
  it('declares the sparse byEnd index projecting what a sweep reads', () => {
    expect(contractsTableDefinition(TABLE)).toMatchObject({
      KeySchema: [{ AttributeName: 'contractId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byEnd',
          KeySchema: [
            { AttributeName: 'endShard', KeyType: 'HASH' },
            { AttributeName: 'endKey', KeyType: 'RANGE' },
          ],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: ['customerId', 'plan', 'value', 'currency', 'startDate', 'endDate', 'autoRenew', 'timeZone', 'endsAt', 'status', 'version'],
          },
        },
      ],
    });
    expect(CONTRACTS_TABLE.endIndex.name).toBe('byEnd');
  });
});

describe('DynamoDbContractRepository', () => {
  it('reads a contract consistently and leaves the index keys and the pending metric counts out', async () => {
    const pending = { metricsPending: [{ id: 't:0', record: { series: 'outcomes', day: '2027-03-02' }, counters: { churned_none: 1 } }] };
    ddb.on(GetCommand).resolves({ Item: { ...contract, ...indexKeys, ...pending, metricsLease: { token: 't', until: '2027-03-02T10:06:00.000Z' } } });

    expect(await repository().get('ctr-1')).toEqual(contract);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: TABLE, Key: { contractId: 'ctr-1' }, ConsistentRead: true });
  });

  it('creates a running contract with its index keys, only if the id is new', async () => {
    ddb.on(PutCommand).resolves({});

    expect(await repository().upsertFromEvent(contract, undefined)).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: TABLE,
      Item: { ...contract, ...indexKeys },
      ConditionExpression: 'attribute_not_exists(contractId)',
    });
    expectValidExpressions();
  });

  it('updates a contract only at the version it was read and with a newer one, without index keys once not running', async () => {
    ddb.on(UpdateCommand).resolves({});
    const cancelled: Contract = { ...contract, status: 'CANCELLED', version: '2027-03-02T10:00:00.000Z' };

    expect(await repository().upsertFromEvent(cancelled, contract.version)).toBe(true);

    // Field by field (not a Put), so the outcome history and the pending metric counts on the item are left alone.
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
    const [request] = sentRequests(ddb).map((r) => r.input as UpdateInput);
    const { contractId: _key, ...fields } = cancelled;
    expect(assigned(request!)).toEqual(fields);
    expect(request!.UpdateExpression).toMatch(/ REMOVE outcome, cancellationReason, endShard, endKey$/);
    expect(request).toMatchObject({
      TableName: TABLE,
      Key: { contractId: 'ctr-1' },
      ConditionExpression: '#version = :base AND #version < :next',
      ExpressionAttributeValues: { ':base': contract.version, ':next': '2027-03-02T10:00:00.000Z' },
    });
    expectValidExpressions();
  });

  it('updates a running contract with its index keys and never writes its outcome history', async () => {
    ddb.on(UpdateCommand).resolves({});
    const outcome = { result: 'CHURNED' as const, at: '2026-03-01T00:00:00.000Z', remindersSent: 0, endDate: '2026-03-28' };
    const restarted: Contract = { ...contract, outcome, outcomes: [{ ...outcome, npsSegment: 'none' }], version: '2027-03-02T10:00:00.000Z' };

    await repository().upsertFromEvent(restarted, contract.version);

    const [request] = sentRequests(ddb).map((r) => r.input as UpdateInput);
    const { contractId: _key, outcomes: _history, ...fields } = restarted;
    expect(assigned(request!)).toEqual({ ...fields, ...indexKeys });
    expect(request!.UpdateExpression).toMatch(/ REMOVE cancellationReason$/);
    expectValidExpressions();
  });

  it('answers false when the condition fails and rethrows anything else', async () => {
    ddb.on(PutCommand).rejectsOnce(conditionFailed()).rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));

    expect(await repository().upsertFromEvent(contract, undefined)).toBe(false);
    await expect(repository().upsertFromEvent(contract, undefined)).rejects.toThrow('throttled');
  });

  it('renews: new end date and index key, renewals + 1, outcome and its counts, version, and the changed terms', async () => {
    ddb.on(UpdateCommand).resolves({});
    const outcome = { result: 'RENEWED' as const, at: '2027-03-05T10:00:00.000Z', remindersSent: 1, endDate: '2027-03-28' };
    const write = outcomeWrite({ ...outcome, npsSegment: 'promoter' }, { renewed_promoter: 1 }, { version: contract.version, status: 'ACTIVE' });

    const applied = await repository().markRenewed('ctr-1', {
      endDate: '2028-03-28',
      endsAt: '2028-03-27T22:00:00.000Z',
      at: '2027-03-05T10:00:00.000Z',
      outcome,
      value: 1300,
      ...write,
    });

    expect(applied).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE,
      Key: { contractId: 'ctr-1' },
      UpdateExpression:
        'SET #status = :renewed, endDate = :endDate, endsAt = :endsAt, endShard = :shard, endKey = :key, ' +
        'renewals = if_not_exists(renewals, :zero) + :one, outcome = :outcome, #version = :at, updatedAt = :at, #value = :value, ' +
        'outcomes = :outcomes, metricsPending = list_append(if_not_exists(metricsPending, :noPendingCounts), :pendingCounts), ' +
        'countsPending = :countsPending, countsPendingSince = if_not_exists(countsPendingSince, :countsPendingSince) REMOVE cancellationReason',
      ConditionExpression: '#version < :at AND #version = :baseVersion AND #status = :baseStatus',
      ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#value': 'value' },
      ExpressionAttributeValues: {
        ':renewed': 'RENEWED',
        ':endDate': '2028-03-28',
        ':endsAt': '2028-03-27T22:00:00.000Z',
        ':shard': indexKeys.endShard,
        ':key': '2028-03-27T22:00:00.000Z#ctr-1',
        ':zero': 0,
        ':one': 1,
        ':outcome': outcome,
        ':at': '2027-03-05T10:00:00.000Z',
        ':value': 1300,
        ':outcomes': write.outcomes,
        ':baseVersion': contract.version,
        ':baseStatus': 'ACTIVE',
        ':noPendingCounts': [],
        ':pendingCounts': write.metrics,
        ':countsPending': '1',
        ':countsPendingSince': '2027-03-05T10:00:00.000Z',
      },
    });
    expectValidExpressions();
  });

  it('appends no pending counts when the outcome write changes no count', async () => {
    ddb.on(UpdateCommand).resolves({});
    const write = outcomeWrite({ ...churned, npsSegment: 'none' }, {}, { version: contract.version, status: 'RENEWED' });

    await repository().markCancelled('ctr-1', { at: churned.at, outcome: churned, ...write });

    const [request] = sentRequests(ddb).map((r) => r.input as UpdateInput);
    expect(request!.UpdateExpression).not.toContain('metricsPending');
    expect(request!.UpdateExpression).not.toContain('countsPending');
    expect(request!.ExpressionAttributeValues).not.toHaveProperty(':pendingCounts');
    expectValidExpressions();
  });

  it('cancels a running contract with a newer event, out of the index', async () => {
    ddb.on(UpdateCommand).resolves({});

    const write = outcomeWrite({ ...churned, npsSegment: 'detractor' }, { churned_detractor: 1 }, { version: contract.version, status: 'ACTIVE' });

    await repository().markCancelled('ctr-1', { at: churned.at, outcome: churned, reason: 'too expensive', ...write });

    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE,
      Key: { contractId: 'ctr-1' },
      UpdateExpression:
        'SET #status = :cancelled, outcome = :outcome, #version = :at, updatedAt = :at, cancellationReason = :reason, outcomes = :outcomes, ' +
        'metricsPending = list_append(if_not_exists(metricsPending, :noPendingCounts), :pendingCounts), ' +
        'countsPending = :countsPending, countsPendingSince = if_not_exists(countsPendingSince, :countsPendingSince) REMOVE endShard, endKey',
      ConditionExpression: '#status IN (:active, :renewed) AND #version < :at AND #version = :baseVersion AND #status = :baseStatus',
      ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
      ExpressionAttributeValues: {
        ':cancelled': 'CANCELLED',
        ':active': 'ACTIVE',
        ':renewed': 'RENEWED',
        ':outcome': churned,
        ':at': churned.at,
        ':reason': 'too expensive',
        ':outcomes': write.outcomes,
        ':baseVersion': contract.version,
        ':baseStatus': 'ACTIVE',
        ':noPendingCounts': [],
        ':pendingCounts': write.metrics,
        ':countsPending': '1',
        ':countsPendingSince': churned.at,
      },
    });
    expectValidExpressions();
  });

  it('ends a running contract only while its end date is unchanged, leaving the version alone', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());

    const write = outcomeWrite({ ...churned, npsSegment: 'passive' }, { churned_passive: 1 }, { version: contract.version, status: 'ACTIVE' });

    const applied = await repository().markEnded('ctr-1', { endDate: '2027-03-28', at: '2027-03-30T08:00:00.000Z', outcome: churned, ...write });

    expect(applied).toBe(false);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE,
      Key: { contractId: 'ctr-1' },
      UpdateExpression:
        'SET #status = :ended, outcome = :outcome, updatedAt = :at, outcomes = :outcomes, ' +
        'metricsPending = list_append(if_not_exists(metricsPending, :noPendingCounts), :pendingCounts), ' +
        'countsPending = :countsPending, countsPendingSince = if_not_exists(countsPendingSince, :countsPendingSince) REMOVE endShard, endKey',
      ConditionExpression: '#status IN (:active, :renewed) AND endDate = :endDate AND #version = :baseVersion AND #status = :baseStatus',
      ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
      ExpressionAttributeValues: {
        ':ended': 'ENDED',
        ':active': 'ACTIVE',
        ':renewed': 'RENEWED',
        ':outcome': churned,
        ':at': '2027-03-30T08:00:00.000Z',
        ':endDate': '2027-03-28',
        ':outcomes': write.outcomes,
        ':baseVersion': contract.version,
        ':baseStatus': 'ACTIVE',
        ':noPendingCounts': [],
        ':pendingCounts': write.metrics,
        ':countsPending': '1',
        ':countsPendingSince': '2027-03-30T08:00:00.000Z',
      },
    });
    expectValidExpressions();
  });

  it('pages through the shards of the byEnd index with one key-range query each, carrying the position in the key', async () => {
    // Prepare: shard 0 has two rows (the first page stops after one), shards 1–3 one each.
    const row = (id: string) => ({ contractId: id, customerId: 'c', endDate: '2027-03-28', endsAt: '2027-03-27T23:00:00.000Z', endKey: `x#${id}` });
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [row('a')], LastEvaluatedKey: { contractId: 'a', endShard: '0', endKey: 'x#a' } })
      .resolvesOnce({ Items: [row('b')] })
      .resolvesOnce({ Items: [row('c')] })
      .resolvesOnce({ Items: [row('d')] })
      .resolvesOnce({ Items: [row('e')] });
    const from = '2027-03-27T03:05:00.000Z';
    const to = '2027-03-28T03:05:00.000Z';

    // Act
    const first = await repository().listEndingBetween(from, to, 2);
    const second = await repository().listEndingBetween(from, to, 2, first.nextKey);
    const third = await repository().listEndingBetween(from, to, 2, second.nextKey);

    // Assess
    expect(first.items.map((c) => c.contractId)).toEqual(['a', 'b']);
    // The projected attributes only: the index keys stay in the adapter.
    expect(Object.entries(first.items[0]!)).toEqual([
      ['contractId', 'a'],
      ['customerId', 'c'],
      ['endDate', '2027-03-28'],
      ['endsAt', '2027-03-27T23:00:00.000Z'],
    ]);
    expect(second.items.map((c) => c.contractId)).toEqual(['c', 'd']);
    expect(third).toEqual({ items: [expect.objectContaining({ contractId: 'e' })] });
    const queries = sentRequests(ddb).map((r) => r.input as Record<string, unknown>);
    expect(queries).toHaveLength(5);
    expect(queries[0]).toEqual({
      TableName: TABLE,
      IndexName: 'byEnd',
      KeyConditionExpression: '#shard = :shard AND #key BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#shard': 'endShard', '#key': 'endKey' },
      ExpressionAttributeValues: { ':shard': '0', ':from': `${from}#~`, ':to': `${to}#~` },
      Limit: 2,
    });
    expect(queries[1]).toMatchObject({ ExpressionAttributeValues: { ':shard': '0' }, Limit: 1, ExclusiveStartKey: { contractId: 'a', endShard: '0', endKey: 'x#a' } });
    expect(queries.slice(2).map((q) => (q.ExpressionAttributeValues as Record<string, string>)[':shard'])).toEqual(['1', '2', '3']);
    expectValidExpressions();
  });

  it('reads nothing for an empty range', async () => {
    expect(await repository().listEndingBetween('2027-03-28T00:00:00.000Z', '2027-03-28T00:00:00.000Z', 10)).toEqual({ items: [] });
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 0);
  });
});

describe('DynamoDbSweepCursors', () => {
  const cursors = () => new DynamoDbSweepCursors(TABLE, createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })));

  it('stores the cursor under an id no contract can have, moving it only from the expected value', async () => {
    ddb.on(PutCommand).resolves({});

    await cursors().advance('contract-renewal', undefined, '2027-03-21T03:05:00.000Z');
    await cursors().advance('contract-renewal', '2027-03-21T03:05:00.000Z', '2027-03-22T03:05:00.000Z');

    expect(sentRequests(ddb).map((r) => r.input)).toEqual([
      {
        TableName: TABLE,
        Item: { contractId: '#sweep-cursor#contract-renewal', campaignId: 'contract-renewal', plannedThrough: '2027-03-21T03:05:00.000Z' },
        ConditionExpression: 'attribute_not_exists(contractId)',
      },
      {
        TableName: TABLE,
        Item: { contractId: '#sweep-cursor#contract-renewal', campaignId: 'contract-renewal', plannedThrough: '2027-03-22T03:05:00.000Z' },
        ConditionExpression: 'plannedThrough = :expected',
        ExpressionAttributeValues: { ':expected': '2027-03-21T03:05:00.000Z' },
      },
    ]);
    expectValidExpressions();
  });

  it('reads the cursor, or nothing when there is none', async () => {
    ddb.on(GetCommand).resolvesOnce({ Item: { contractId: '#sweep-cursor#r', plannedThrough: '2027-03-21T03:05:00.000Z' } }).resolvesOnce({});

    expect(await cursors().get('r')).toBe('2027-03-21T03:05:00.000Z');
    expect(await cursors().get('r')).toBeUndefined();
  });
});
