import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbTouchpointRepository } from '../../../adapters/dynamodb-touchpoints.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { shardOf } from '../../../core/touchpoint-id.ts';
import { expressionProblem, sentRequests } from './support.ts';

const TABLE = 'outreach-touchpoints';
const SHARDS = 8;
const DAY_SECONDS = 24 * 60 * 60;
// June → July: the 400-day retention crosses no daylight-saving change in any zone, whatever TZ the tests run in.
const AT = '2025-06-10T09:30:00.000Z';
const EXPIRES_AT = Date.parse(AT) / 1000 + 400 * DAY_SECONDS;

const ddb = mockClient(DynamoDBDocumentClient);
const repository = () =>
  new DynamoDbTouchpointRepository(TABLE, SHARDS, createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })));

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const throttled = () => Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ProvisionedThroughputExceededException' });

const touchpoint: Touchpoint = {
  touchpointId: 'tp-5d41402abc4b2a76b9719d911017c592a1b2c3d4',
  campaignId: 'post-purchase-check-in',
  kind: 'check-in',
  customerId: 'cust-001',
  orderId: 'order-1001',
  dueAt: '2025-06-13T09:30:00.000Z',
  status: 'PENDING',
  generation: 0,
  context: {
    orderId: 'order-1001',
    items: [{ sku: 'TENT-2P', name: 'Two-person tent', quantity: 1, unitPrice: 199.5, category: 'outdoor' }],
    total: 199.5,
    currency: 'EUR',
    purchasedAt: '2025-06-10T09:30:00.000Z',
  },
  createdAt: AT,
  updatedAt: AT,
};
const id = touchpoint.touchpointId;
const storedItem = {
  ...touchpoint,
  dueShard: String(shardOf(id, SHARDS)),
  dueKey: `${touchpoint.dueAt}#${id}`,
};

beforeEach(() => {
  ddb.reset();
});

afterAll(() => {
  ddb.restore();
});

describe('DynamoDbTouchpointRepository.create', () => {
  it('writes the touchpoint with its due shard and due key, conditional on the id being new', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});

    // Act
    const created = await repository().create(touchpoint);

    // Assess
    expect(created).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: TABLE,
      Item: storedItem,
      ConditionExpression: 'attribute_not_exists(touchpointId)',
    });
  });

  it('keeps a HELD_OUT touchpoint out of the due index and lets it expire like an ended one', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const heldOut: Touchpoint = { ...touchpoint, status: 'HELD_OUT', reason: 'holdout (10%)', variant: 'b' };

    // Act
    const created = await repository().create(heldOut);

    // Assess
    expect(created).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: TABLE,
      Item: { ...heldOut, expiresAt: EXPIRES_AT },
      ConditionExpression: 'attribute_not_exists(touchpointId)',
    });
  });

  it('returns false when a touchpoint with the same id exists already', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailed());

    // Act
    const created = await repository().create(touchpoint);

    // Assess
    expect(created).toBe(false);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  it('rethrows any other error', async () => {
    // Prepare
    const error = throttled();
    ddb.on(PutCommand).rejects(error);

    // Act
    const attempt = repository().create(touchpoint);

    // Assess
    await expect(attempt).rejects.toBe(error);
  });
});

describe('DynamoDbTouchpointRepository.listDue', () => {
  it('queries one shard of the byDue index up to and including every id due at `now`', async () => {
    // Prepare
    const now = '2025-06-13T09:31:00.000Z';
    ddb.on(QueryCommand).resolves({
      Items: [
        { touchpointId: id, kind: 'check-in', generation: 0, dueAt: touchpoint.dueAt, status: 'PENDING', dueShard: '3', dueKey: storedItem.dueKey },
        { touchpointId: 'tp-other', kind: 'check-in', generation: 2, dueAt: '2025-06-13T09:31:00.000Z', status: 'DISPATCHED', dueShard: '3', dueKey: 'x' },
      ],
    });

    // Act
    const due = await repository().listDue(3, now, 25);

    // Assess
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(QueryCommand, {
      TableName: TABLE,
      IndexName: 'byDue',
      KeyConditionExpression: '#shard = :shard AND #key <= :upTo',
      ExpressionAttributeNames: { '#shard': 'dueShard', '#key': 'dueKey' },
      ExpressionAttributeValues: { ':shard': '3', ':upTo': `${now}#~` },
      Limit: 25,
    });
    expect(due).toEqual([
      { touchpointId: id, kind: 'check-in', generation: 0, dueAt: touchpoint.dueAt, status: 'PENDING' },
      { touchpointId: 'tp-other', kind: 'check-in', generation: 2, dueAt: '2025-06-13T09:31:00.000Z', status: 'DISPATCHED' },
    ]);
  });

  it('returns an empty list when the query finds nothing', async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({});

    // Act
    const due = await repository().listDue(0, '2025-06-13T09:31:00.000Z', 25);

    // Assess
    expect(due).toEqual([]);
  });
});

describe('DynamoDbTouchpointRepository.listDueBefore', () => {
  it('queries one page of a shard of the byDue index up to the window end, and continues from the opaque next key', async () => {
    // Prepare
    const until = '2025-06-20T09:30:00.000Z';
    const lastKey = { touchpointId: id, dueShard: '3', dueKey: storedItem.dueKey };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [storedItem], LastEvaluatedKey: lastKey })
      .resolvesOnce({ Items: [] });
    const r = repository();

    // Act
    const first = await r.listDueBefore(3, until, 1);
    const second = await r.listDueBefore(3, until, 1, first.nextKey);

    // Assess
    expect(first).toEqual({
      items: [{ touchpointId: id, kind: 'check-in', generation: 0, dueAt: touchpoint.dueAt, status: 'PENDING' }],
      nextKey: JSON.stringify(lastKey),
    });
    expect(second).toEqual({ items: [] });
    const query = {
      TableName: TABLE,
      IndexName: 'byDue',
      KeyConditionExpression: '#shard = :shard AND #key <= :upTo',
      ExpressionAttributeNames: { '#shard': 'dueShard', '#key': 'dueKey' },
      ExpressionAttributeValues: { ':shard': '3', ':upTo': `${until}#~` },
      Limit: 1,
    };
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 1, query);
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 2, { ...query, ExclusiveStartKey: lastKey });
  });
});

describe('DynamoDbTouchpointRepository.listByCustomer', () => {
  it('follows LastEvaluatedKey through every page of the byCustomer index and strips storage fields', async () => {
    // Prepare
    const second: Touchpoint = { ...touchpoint, touchpointId: 'tp-second', status: 'SENT', sentAt: AT, messageId: 'msg-1' };
    const pageKey = { touchpointId: id, customerId: 'cust-001', dueAt: touchpoint.dueAt };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [storedItem], LastEvaluatedKey: pageKey })
      .resolvesOnce({ Items: [{ ...second, expiresAt: EXPIRES_AT, dispatchedAt: AT }] });

    // Act
    const touchpoints = await repository().listByCustomer('cust-001');

    // Assess
    const query = {
      TableName: TABLE,
      IndexName: 'byCustomer',
      KeyConditionExpression: 'customerId = :c',
      ExpressionAttributeValues: { ':c': 'cust-001' },
    };
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 1, query);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input.ExclusiveStartKey).toBeUndefined();
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 2, { ...query, ExclusiveStartKey: pageKey });
    expect(touchpoints).toStrictEqual([touchpoint, second]);
  });
});

describe('DynamoDbTouchpointRepository.get', () => {
  it('reads consistently and returns the domain touchpoint without index or TTL fields', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({ Item: { ...storedItem, expiresAt: EXPIRES_AT, dispatchedAt: AT } });

    // Act
    const found = await repository().get(id);

    // Assess
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(GetCommand, { TableName: TABLE, Key: { touchpointId: id }, ConsistentRead: true });
    expect(found).toStrictEqual(touchpoint);
  });

  it('returns undefined for an unknown id', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});

    // Act
    const found = await repository().get('tp-unknown');

    // Assess
    expect(found).toBeUndefined();
  });
});

describe('DynamoDbTouchpointRepository transitions', () => {
  it('claimForDispatch moves PENDING to DISPATCHED in the same generation and parks the due key at the lease end', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    const claimed = await repository().claimForDispatch({
      touchpointId: id,
      generation: 1,
      at: AT,
      from: 'PENDING',
      leaseUntil: '2025-06-10T09:45:00.000Z',
    });

    // Assess
    expect(claimed).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE,
      Key: { touchpointId: id },
      UpdateExpression: 'SET #status = :dispatched, dueKey = :lease, dispatchedAt = :at, updatedAt = :at',
      ConditionExpression: '#status = :from AND generation = :g',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':dispatched': 'DISPATCHED',
        ':from': 'PENDING',
        ':lease': `2025-06-10T09:45:00.000Z#${id}`,
        ':g': 1,
        ':at': AT,
      },
    });
  });

  it('claimForDispatch renews an expired lease with from = DISPATCHED', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    await repository().claimForDispatch({ touchpointId: id, generation: 1, at: AT, from: 'DISPATCHED', leaseUntil: '2025-06-10T09:45:00.000Z' });

    // Assess
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: '#status = :from AND generation = :g',
      ExpressionAttributeValues: {
        ':dispatched': 'DISPATCHED',
        ':from': 'DISPATCHED',
        ':lease': `2025-06-10T09:45:00.000Z#${id}`,
        ':g': 1,
        ':at': AT,
      },
    });
  });

  it('a deferred send stores its deferral count in the same conditional reschedule', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    await repository().reschedule({ touchpointId: id, generation: 3, at: AT, dueAt: '2025-06-10T12:01:00.000Z', reason: 'deferred: SesV2.TooManyRequestsException', sendDeferrals: 4 });

    // Assess
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      UpdateExpression:
        'SET #status = :pending, dueAt = :due, dueKey = :dueKey, generation = generation + :one, reason = :reason, updatedAt = :at, sendDeferrals = :deferrals',
      ConditionExpression: '#status IN (:dispatched, :sending) AND generation = :g',
      ExpressionAttributeValues: expect.objectContaining({ ':deferrals': 4, ':g': 3, ':dueKey': `2025-06-10T12:01:00.000Z#${id}` }),
    });
  });

  it('reschedule moves DISPATCHED back to PENDING at the new due time with generation + 1', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    const rescheduled = await repository().reschedule({
      touchpointId: id,
      generation: 1,
      at: AT,
      dueAt: '2025-06-11T06:00:00.000Z',
      reason: 'quiet hours',
    });

    // Assess
    expect(rescheduled).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE,
      Key: { touchpointId: id },
      UpdateExpression:
        'SET #status = :pending, dueAt = :due, dueKey = :dueKey, generation = generation + :one, reason = :reason, updatedAt = :at',
      ConditionExpression: '#status IN (:dispatched, :sending) AND generation = :g',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':pending': 'PENDING',
        ':dispatched': 'DISPATCHED',
        ':sending': 'SENDING',
        ':due': '2025-06-11T06:00:00.000Z',
        ':dueKey': `2025-06-11T06:00:00.000Z#${id}`,
        ':one': 1,
        ':reason': 'quiet hours',
        ':g': 1,
        ':at': AT,
      },
    });
  });

  it('complete(SENT) records sentAt and the message id, sets the TTL and leaves the due index', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    const completed = await repository().complete({ touchpointId: id, generation: 2, at: AT, status: 'SENT', messageId: 'ses-msg-42' });

    // Assess
    expect(completed).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE,
      Key: { touchpointId: id },
      UpdateExpression:
        'SET #status = :status, updatedAt = :at, expiresAt = :expires, sentAt = :at, messageId = :messageId REMOVE dueShard, dueKey',
      ConditionExpression: '#status IN (:dispatched, :sending, :unconfirmed) AND generation = :g',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':sending': 'SENDING',
        ':unconfirmed': 'UNCONFIRMED',
        ':status': 'SENT',
        ':dispatched': 'DISPATCHED',
        ':expires': EXPIRES_AT,
        ':messageId': 'ses-msg-42',
        ':g': 2,
        ':at': AT,
      },
    });
  });

  it.each(['SKIPPED', 'FAILED'] as const)('complete(%s) records the reason, no sentAt, and leaves the due index', async (status) => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    await repository().complete({ touchpointId: id, generation: 2, at: AT, status, reason: 'no marketing consent' });

    // Assess
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE,
      Key: { touchpointId: id },
      UpdateExpression: 'SET #status = :status, updatedAt = :at, expiresAt = :expires, reason = :reason REMOVE dueShard, dueKey',
      ConditionExpression: '#status IN (:dispatched, :sending, :unconfirmed) AND generation = :g',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':sending': 'SENDING',
        ':unconfirmed': 'UNCONFIRMED',
        ':status': status,
        ':dispatched': 'DISPATCHED',
        ':expires': EXPIRES_AT,
        ':reason': 'no marketing consent',
        ':g': 2,
        ':at': AT,
      },
    });
  });

  it('cancel moves PENDING, DISPATCHED or UNCONFIRMED to CANCELLED whatever the generation and leaves the due index', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    const cancelled = await repository().cancel(id, 'refund', AT);

    // Assess
    expect(cancelled).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE,
      Key: { touchpointId: id },
      UpdateExpression: 'SET #status = :cancelled, reason = :reason, updatedAt = :at, expiresAt = :expires REMOVE dueShard, dueKey',
      ConditionExpression: '#status IN (:pending, :dispatched, :unconfirmed)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':cancelled': 'CANCELLED',
        ':pending': 'PENDING',
        ':dispatched': 'DISPATCHED',
        ':unconfirmed': 'UNCONFIRMED',
        ':reason': 'refund',
        ':at': AT,
        ':expires': EXPIRES_AT,
      },
    });
  });

  const transitions = {
    claimForDispatch: (r: DynamoDbTouchpointRepository) =>
      r.claimForDispatch({ touchpointId: id, generation: 1, at: AT, from: 'PENDING', leaseUntil: AT }),
    reschedule: (r: DynamoDbTouchpointRepository) =>
      r.reschedule({ touchpointId: id, generation: 1, at: AT, dueAt: AT, reason: 'quiet hours' }),
    complete: (r: DynamoDbTouchpointRepository) =>
      r.complete({ touchpointId: id, generation: 1, at: AT, status: 'SENT', messageId: 'm' }),
    cancel: (r: DynamoDbTouchpointRepository) => r.cancel(id, 'refund', AT),
  };

  it.each(Object.entries(transitions))('%s returns false when the condition fails (the touchpoint moved on)', async (_name, transition) => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const applied = await transition(repository());

    // Assess
    expect(applied).toBe(false);
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });

  it.each(Object.entries(transitions))('%s rethrows errors other than a failed condition', async (_name, transition) => {
    // Prepare
    const error = throttled();
    ddb.on(UpdateCommand).rejects(error);

    // Act
    const attempt = transition(repository());

    // Assess
    await expect(attempt).rejects.toBe(error);
  });
});

describe('DynamoDbTouchpointRepository expressions', () => {
  it('sends only expressions DynamoDB accepts (no bare reserved words, no undefined or unused names and values)', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    const r = repository();

    // Act
    await r.create(touchpoint);
    await r.listDue(1, AT, 10);
    await r.listDueBefore(1, AT, 10);
    await r.listByCustomer('cust-001');
    await r.claimForDispatch({ touchpointId: id, generation: 0, at: AT, from: 'PENDING', leaseUntil: AT });
    await r.reschedule({ touchpointId: id, generation: 0, at: AT, dueAt: AT, reason: 'quiet hours' });
    await r.complete({ touchpointId: id, generation: 1, at: AT, status: 'SENT', messageId: 'm' });
    await r.complete({ touchpointId: id, generation: 1, at: AT, status: 'SKIPPED', reason: 'frequency cap reached' });
    await r.cancel(id, 'refund', AT);

    // Assess
    const problems = sentRequests(ddb).map(({ command, input }) => ({ command, problem: expressionProblem(input) }));
    expect(problems).toEqual([
      { command: 'PutCommand', problem: undefined },
      { command: 'QueryCommand', problem: undefined },
      { command: 'QueryCommand', problem: undefined },
      { command: 'QueryCommand', problem: undefined },
      { command: 'UpdateCommand', problem: undefined },
      { command: 'UpdateCommand', problem: undefined },
      { command: 'UpdateCommand', problem: undefined },
      { command: 'UpdateCommand', problem: undefined },
      { command: 'UpdateCommand', problem: undefined },
    ]);
  });
});

describe('DynamoDbTouchpointRepository.revive', () => {
  it('replaces a CANCELLED touchpoint with the plan, one generation up, back in the due index, on condition', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...touchpoint, status: 'CANCELLED', generation: 2, createdAt: '2025-06-01T00:00:00.000Z', expiresAt: 1 } });
    ddb.on(PutCommand).resolves({});

    expect(await repository().revive({ ...touchpoint, createdAt: AT, updatedAt: AT })).toBe(true);

    const put = sentRequests(ddb).find((r) => r.command === 'PutCommand')!.input as { Item: Record<string, unknown>; ConditionExpression: string };
    expect(put.Item).toMatchObject({
      status: 'PENDING',
      generation: 3,
      createdAt: '2025-06-01T00:00:00.000Z',
      dueShard: String(shardOf(touchpoint.touchpointId, SHARDS)),
      dueKey: `${touchpoint.dueAt}#${touchpoint.touchpointId}`,
    });
    expect(put.Item).not.toHaveProperty('expiresAt');
    expect(put.ConditionExpression).toBe('#status = :cancelled AND generation = :generation');
    expect(expressionProblem(put)).toBeUndefined();
  });

  it('writes nothing unless the stored touchpoint is CANCELLED, and answers false when another writer came first', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...touchpoint, status: 'SENT' } });
    expect(await repository().revive(touchpoint)).toBe(false);
    expect(sentRequests(ddb).map((r) => r.command)).toEqual(['GetCommand']);

    ddb.reset();
    ddb.on(GetCommand).resolves({ Item: { ...touchpoint, status: 'CANCELLED' } });
    ddb.on(PutCommand).rejects(conditionFailed());
    expect(await repository().revive(touchpoint)).toBe(false);
  });
});
