/**
 * The operator's port on a real DynamoDB API (dynalite), on the touchpoints table as the local stack creates it: listing
 * from the due index (in-flight statuses) and by a Scan (ended ones), the re-drive's conditional write back into the
 * due index, and the backlog measured over the index.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbTouchpointOperations } from '../../../adapters/dynamodb-touchpoint-operations.ts';
import { DynamoDbTouchpointRepository } from '../../../adapters/dynamodb-touchpoints.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { TABLES } from '../../../core/topology.ts';
import { shardOf } from '../../../core/touchpoint-id.ts';
import { DuplicateSendRiskError, listTouchpoints, measureBacklog, redriveTouchpoints } from '../../../core/use-cases/operate-touchpoints.ts';
import { freshTable, startTestDynamo, type TestDynamo } from '../dynalite.ts';
import { pendingTouchpoint } from '../fakes.ts';

const NOW = '2026-11-23T12:00:00.000Z';
const LEASE = '2026-11-23T12:15:00.000Z';
const SHARDS = 4;

let dynamo: TestDynamo;
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;
let table: string;
let repository: DynamoDbTouchpointRepository;
let operations: DynamoDbTouchpointOperations;
/** The commands the port sent, by name (QueryCommand, ScanCommand, …). */
let sent: string[];

beforeAll(async () => {
  ({ dynamo, client } = await startTestDynamo());
  db = createDocumentClient(client);
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});
beforeEach(async () => {
  table = await freshTable(client, 'touchpoints', 'operate');
  repository = new DynamoDbTouchpointRepository(table, SHARDS, db);
  sent = [];
  const recording = Object.create(db) as DynamoDBDocumentClient;
  recording.send = ((command: { constructor: { name: string } }) => {
    sent.push(command.constructor.name);
    return db.send(command as never);
  }) as DynamoDBDocumentClient['send'];
  operations = new DynamoDbTouchpointOperations(table, SHARDS, recording);
});

const stored = async (id: string) => (await db.send(new GetCommand({ TableName: table, Key: { touchpointId: id }, ConsistentRead: true }))).Item;

/** With a customer, an address in the context and a name: what a listing must never show. */
const withCustomerData = (id: string, overrides: Partial<Touchpoint> = {}) =>
  pendingTouchpoint(id, { customerId: 'cust-secret', context: { orderId: 'o-1', items: [{ sku: 'MUG-1', name: 'Mug', quantity: 1, unitPrice: 12 }] }, ...overrides });

async function failed(id: string, at: string, overrides: Partial<Touchpoint> = {}) {
  const t = withCustomerData(id, overrides);
  await repository.create(t);
  await repository.claimForDispatch({ touchpointId: id, generation: 0, from: 'PENDING', at, leaseUntil: LEASE });
  await repository.complete({ touchpointId: id, generation: 0, at, status: 'FAILED', reason: 'SES rejected the message: MessageRejected' });
}

async function unconfirmed(id: string, until = '2026-11-23T12:30:00.000Z') {
  await repository.create(withCustomerData(id));
  await repository.claimForDispatch({ touchpointId: id, generation: 0, from: 'PENDING', at: NOW, leaseUntil: LEASE });
  await repository.claimForSending({ touchpointId: id, generation: 0, at: NOW, attemptId: 'exec#a', leaseUntil: LEASE, sendPlan: { survey: { surveyId: id, reminder: false } } });
  await repository.markUnconfirmed({ touchpointId: id, generation: 0, at: NOW, until, reason: 'unconfirmed: ECONNRESET' });
}

/** The byDue rows of the touchpoint's shard, as dispatch queries them. */
async function dueIndexRows(id: string) {
  const { Items = [] } = await db.send(
    new QueryCommand({
      TableName: table,
      IndexName: TABLES.touchpoints.dueIndex.name,
      KeyConditionExpression: '#shard = :shard',
      ExpressionAttributeNames: { '#shard': TABLES.touchpoints.dueIndex.partitionKey },
      ExpressionAttributeValues: { ':shard': String(shardOf(id, SHARDS)) },
    }),
  );
  return Items.filter((item) => item.touchpointId === id);
}

describe('DynamoDbTouchpointOperations.listByStatus', () => {
  it('lists FAILED touchpoints by a Scan, newest first, paged by the cursor, with only the operator fields', async () => {
    // arrange
    await failed('tp-a', '2026-11-21T08:00:00.000Z');
    await failed('tp-b', '2026-11-22T08:00:00.000Z');
    await failed('tp-c', '2026-11-20T08:00:00.000Z');
    await repository.create(withCustomerData('tp-pending'));

    // act
    const first = await listTouchpoints({ status: 'FAILED', limit: 2 }, { operations });
    const second = await listTouchpoints({ status: 'FAILED', limit: 2, after: first.next! }, { operations });

    // assert
    expect(first.items.map((r) => r.touchpointId)).toEqual(['tp-b', 'tp-a']);
    expect(first.next).toBe('2026-11-21T08:00:00.000Z|tp-a');
    expect(second.items.map((r) => r.touchpointId)).toEqual(['tp-c']);
    expect(second).not.toHaveProperty('next');
    expect(first.items[0]).toEqual({
      touchpointId: 'tp-b',
      campaignId: 'post-purchase-check-in',
      kind: 'check-in',
      status: 'FAILED',
      dueAt: '2026-11-23T10:00:00.000Z',
      generation: 0,
      updatedAt: '2026-11-22T08:00:00.000Z',
      reason: 'SES rejected the message: MessageRejected',
    });
    expect(JSON.stringify([first, second])).not.toMatch(/cust-secret|Mug|expiresAt|dispatchedAt/);
    expect(new Set(sent)).toEqual(new Set(['ScanCommand']));
  });

  it('lists PENDING touchpoints from the due index across the shards, by due time or newest, without a Scan', async () => {
    // arrange
    const dues = { 'tp-1': '2026-11-23T09:00:00.000Z', 'tp-2': '2026-11-23T08:00:00.000Z', 'tp-3': '2026-11-23T11:00:00.000Z', 'tp-4': '2026-11-23T10:00:00.000Z' };
    const updated = { 'tp-1': '2026-11-20T03:00:00.000Z', 'tp-2': '2026-11-20T01:00:00.000Z', 'tp-3': '2026-11-20T02:00:00.000Z', 'tp-4': '2026-11-20T04:00:00.000Z' };
    for (const [id, dueAt] of Object.entries(dues)) await repository.create(withCustomerData(id, { dueAt, updatedAt: updated[id as keyof typeof updated] }));
    await repository.create(withCustomerData('tp-dispatched', { dueAt: '2026-11-23T07:00:00.000Z' }));
    await repository.claimForDispatch({ touchpointId: 'tp-dispatched', generation: 0, from: 'PENDING', at: NOW, leaseUntil: LEASE });
    expect(new Set(Object.keys(dues).map((id) => shardOf(id, SHARDS))).size).toBeGreaterThan(1);

    // act
    const byDue = await listTouchpoints({ status: 'PENDING', order: 'due', limit: 3 }, { operations });
    const byDueRest = await listTouchpoints({ status: 'PENDING', order: 'due', limit: 3, after: byDue.next! }, { operations });
    const newest = await listTouchpoints({ status: 'PENDING', order: 'newest' }, { operations });
    const dispatched = await listTouchpoints({ status: 'DISPATCHED' }, { operations });

    // assert
    expect(byDue.items.map((r) => r.touchpointId)).toEqual(['tp-2', 'tp-1', 'tp-4']);
    expect(byDue.next).toBe('2026-11-23T10:00:00.000Z|tp-4');
    expect(byDueRest.items.map((r) => r.touchpointId)).toEqual(['tp-3']);
    expect(byDueRest).not.toHaveProperty('next');
    expect(newest.items.map((r) => r.touchpointId)).toEqual(['tp-4', 'tp-1', 'tp-3', 'tp-2']);
    expect(dispatched.items).toEqual([expect.objectContaining({ touchpointId: 'tp-dispatched', status: 'DISPATCHED', updatedAt: NOW })]);
    expect(JSON.stringify(newest)).not.toMatch(/cust-secret|Mug/);
    expect(sent).not.toContain('ScanCommand');
    expect(new Set(sent)).toEqual(new Set(['QueryCommand', 'BatchGetCommand']));
  });
});

describe('DynamoDbTouchpointOperations.redrive', () => {
  it('writes FAILED → PENDING with generation + 1, back in byDue at the new due key, the old attempt and TTL removed', async () => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');
    expect(await stored('tp-a')).toHaveProperty('expiresAt');
    expect(await dueIndexRows('tp-a')).toEqual([]);

    // act
    const written = await operations.redrive({ touchpointId: 'tp-a', from: 'FAILED', generation: 0, at: NOW });

    // assert
    expect(written).toBe(true);
    const item = await stored('tp-a');
    expect(item).toMatchObject({
      status: 'PENDING',
      dueAt: NOW,
      generation: 1,
      updatedAt: NOW,
      redrivenAt: NOW,
      redrives: 1,
      dueShard: String(shardOf('tp-a', SHARDS)),
      dueKey: `${NOW}#tp-a`,
      customerId: 'cust-secret',
    });
    for (const cleared of ['reason', 'expiresAt', 'dispatchedAt']) expect(item).not.toHaveProperty(cleared);
    expect(await dueIndexRows('tp-a')).toEqual([expect.objectContaining({ touchpointId: 'tp-a', dueKey: `${NOW}#tp-a`, status: 'PENDING', generation: 1 })]);
    expect(await repository.listDue(shardOf('tp-a', SHARDS), NOW, 10)).toEqual([
      { touchpointId: 'tp-a', kind: 'check-in', generation: 1, dueAt: NOW, status: 'PENDING' },
    ]);
  });

  it('writes nothing and answers false for another generation or another status', async () => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');
    const before = await stored('tp-a');

    // act
    const wrongGeneration = await operations.redrive({ touchpointId: 'tp-a', from: 'FAILED', generation: 1, at: NOW });
    const wrongStatus = await operations.redrive({ touchpointId: 'tp-a', from: 'UNCONFIRMED', generation: 0, at: NOW, acceptDuplicate: true });
    const missing = await operations.redrive({ touchpointId: 'tp-missing', from: 'FAILED', generation: 0, at: NOW });

    // assert
    expect([wrongGeneration, wrongStatus, missing]).toEqual([false, false, false]);
    expect(await stored('tp-a')).toEqual(before);
    expect(await stored('tp-missing')).toBeUndefined();
    expect(await dueIndexRows('tp-a')).toEqual([]);
  });

  it('re-drives a FAILED touchpoint that had an unconfirmed send only with acceptDuplicate, resetting its budgets', async () => {
    // arrange
    await unconfirmed('tp-f');
    await repository.claimForDispatch({ touchpointId: 'tp-f', generation: 0, from: 'UNCONFIRMED', at: NOW, leaseUntil: LEASE, redispatch: 'unconfirmedResends' });
    await repository.complete({ touchpointId: 'tp-f', generation: 1, at: NOW, status: 'FAILED', reason: 'not confirmed twice' });
    const before = await stored('tp-f');

    // act
    const refused = await operations.redrive({ touchpointId: 'tp-f', from: 'FAILED', generation: 1, at: NOW });
    const unchanged = await stored('tp-f');
    const accepted = await operations.redrive({ touchpointId: 'tp-f', from: 'FAILED', generation: 1, at: NOW, acceptDuplicate: true });

    // assert
    expect(before).toMatchObject({ unconfirmedResends: 1, attemptId: 'exec#a' });
    expect(refused).toBe(false);
    expect(unchanged).toEqual(before);
    expect(accepted).toBe(true);
    const item = await stored('tp-f');
    expect(item).toMatchObject({ status: 'PENDING', generation: 2, redrives: 1 });
    for (const cleared of ['unconfirmedResends', 'attemptId', 'sendPlan', 'reason']) expect(item).not.toHaveProperty(cleared);
  });

  it('refuses an UNCONFIRMED re-drive without acceptDuplicate before any write', async () => {
    // arrange
    await unconfirmed('tp-u');
    const before = await stored('tp-u');
    sent = [];

    // act
    const redrive = operations.redrive({ touchpointId: 'tp-u', from: 'UNCONFIRMED', generation: 0, at: NOW });

    // assert
    await expect(redrive).rejects.toThrow(DuplicateSendRiskError);
    expect(sent).toEqual([]);
    expect(await stored('tp-u')).toEqual(before);
  });

  it('re-drives through the use case once: the same request again is already-redriven', async () => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');

    // act
    const first = await redriveTouchpoints({ touchpointIds: ['tp-a'], at: NOW }, { operations });
    const item = await stored('tp-a');
    const again = await redriveTouchpoints({ touchpointIds: ['tp-a'], at: '2026-11-23T12:01:00.000Z' }, { operations });

    // assert
    expect(first.results.map((r) => r.outcome)).toEqual(['redriven']);
    expect(again.results.map((r) => r.outcome)).toEqual(['already-redriven']);
    expect(await stored('tp-a')).toEqual(item);
  });
});

describe('measureBacklog over DynamoDbTouchpointOperations', () => {
  it('counts due, in-flight and unconfirmed touchpoints from the due index alone', async () => {
    // arrange
    await repository.create(withCustomerData('tp-old', { dueAt: '2026-11-23T11:00:00.000Z' }));
    await repository.create(withCustomerData('tp-due', { dueAt: '2026-11-23T11:45:00.000Z' }));
    await repository.create(withCustomerData('tp-future', { dueAt: '2026-11-23T12:30:00.000Z' }));
    await repository.create(withCustomerData('tp-dispatched', { dueAt: '2026-11-23T10:00:00.000Z' }));
    await repository.claimForDispatch({ touchpointId: 'tp-dispatched', generation: 0, from: 'PENDING', at: NOW, leaseUntil: LEASE });
    await unconfirmed('tp-unconfirmed');
    await failed('tp-failed', '2026-11-22T08:00:00.000Z');
    sent = [];

    // act
    const backlog = await measureBacklog(NOW, { operations });

    // assert
    expect(backlog).toMatchObject({
      at: NOW,
      due: 2,
      oldestDueAt: '2026-11-23T11:00:00.000Z',
      oldestDueAgeSeconds: 3600,
      inFlight: 1,
      unconfirmed: 1,
      truncated: false,
    });
    expect(backlog.byShard).toHaveLength(SHARDS);
    expect(sent).toEqual(Array.from({ length: SHARDS }, () => 'QueryCommand'));
  });

  it('pages through a shard and says truncated when it stops at maxRowsPerShard', async () => {
    // arrange
    operations = new DynamoDbTouchpointOperations(table, 1, db);
    repository = new DynamoDbTouchpointRepository(table, 1, db);
    for (let i = 0; i < 5; i += 1) await repository.create(withCustomerData(`tp-${i}`, { dueAt: `2026-11-23T11:0${i}:00.000Z` }));

    // act
    const all = await measureBacklog(NOW, { operations });
    const capped = await measureBacklog(NOW, { operations, maxRowsPerShard: 3 });

    // assert
    expect(all).toMatchObject({ due: 5, oldestDueAt: '2026-11-23T11:00:00.000Z', truncated: false });
    expect(capped).toMatchObject({ due: 3, oldestDueAt: '2026-11-23T11:00:00.000Z', truncated: true });
  });
});
