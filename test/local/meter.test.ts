/**
 * The meter's arithmetic against the rules and examples AWS documents (DynamoDB "Item sizes and formats", "Read/write
 * capacity mode", GSI write costs and failed conditional writes; Lambda's 1 ms and Express's 100 ms rounding;
 * EventBridge's 64 KB chunks and PutEvents entry size; HTTP APIs' 512 KB increments), and one stack with a meter: a
 * PutItem and a failed conditional write through the stack's own DynamoDB client.
 */
import { join } from 'node:path';
import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attributeValueSize,
  diffSnapshots,
  eventChunks,
  eventEntrySize,
  expressBilledMs,
  failedConditionUnits,
  httpBilledRequests,
  itemSize,
  lambdaBilledMs,
  LocalMeter,
  numberSize,
  readUnitsFor,
  renderAccessLog,
  writeCost,
  writeUnitsFor,
  type Item,
  type TableDefinition,
} from '../../local/meter.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { stackFixtureHandlers } from './fixtures/stack-handlers.ts';

const KB = 1024;
/** An item of exactly `bytes` bytes: a one-letter attribute name and a string of `bytes - 1` ASCII characters. */
const itemOf = (bytes: number, extra: Item = {}): Item => {
  const base: Item = { k: { S: 'key' }, ...extra };
  return { ...base, p: { S: 'x'.repeat(bytes - itemSize(base) - 1) } };
};

describe('item sizes (DynamoDB: "Item sizes and formats")', () => {
  it('a string is its name plus its value, both in UTF-8 bytes', () => {
    // Arrange
    const ascii: Item = { Name: { S: 'Ada' } };
    const accented: Item = { 'né': { S: '日本' } };

    // Act
    const sizes = [itemSize(ascii), itemSize(accented)];

    // Assess
    expect(sizes).toEqual([4 + 3, 3 + 6]);
  });

  it('a number is about one byte per two significant digits plus one, leading and trailing zeroes trimmed', () => {
    // Arrange
    const numbers = ['1', '12', '123', '12345', '-12345', '100', '0.001', '0.0100', '1.5e3', '0'];

    // Act
    const sizes = numbers.map(numberSize);

    // Assess
    expect(sizes).toEqual([2, 2, 3, 4, 4, 2, 2, 2, 2, 2]);
    expect(itemSize({ total: { N: '123' } })).toBe(5 + 3);
  });

  it('binary counts its raw bytes, not the base64; null and boolean one byte', () => {
    // Arrange
    const binary: Item = { b: { B: Buffer.from([0, 1, 2, 3]).toString('base64') } };

    // Act
    const sizes = [itemSize(binary), itemSize({ ok: { BOOL: false } }), itemSize({ none: { NULL: true } })];

    // Assess
    expect(sizes).toEqual([1 + 4, 2 + 1, 4 + 1]);
  });

  it('a list or map is 3 bytes plus 1 byte per element plus the elements (and a map element its name)', () => {
    // Arrange
    const list = { L: [{ S: 'ab' }, { N: '1' }] };
    const map = { M: { k: { S: 'v' } } };

    // Act
    const sizes = [attributeValueSize({ L: [] }), attributeValueSize(list), attributeValueSize(map), itemSize({ tags: { M: {} } })];

    // Assess
    expect(sizes).toEqual([3, 3 + (1 + 2) + (1 + 2), 3 + (1 + 1 + 1), 4 + 3]);
  });

  it('sets are the sum of their members', () => {
    // Arrange / Act
    const sizes = [attributeValueSize({ SS: ['a', 'bc'] }), attributeValueSize({ NS: ['1', '12345'] }), attributeValueSize({ BS: [Buffer.from([1, 2]).toString('base64')] })];

    // Assess
    expect(sizes).toEqual([3, 2 + 4, 2]);
  });
});

describe('request units (DynamoDB: read/write capacity mode)', () => {
  it('a write costs one unit per 1 KB, rounded up; a read one per 4 KB, half when eventually consistent', () => {
    // Arrange / Act
    const writes = [writeUnitsFor(0), writeUnitsFor(KB), writeUnitsFor(KB + 1), writeUnitsFor(3.5 * KB)];
    // "Reading a 3,500-byte item consumes the same throughput as reading a 4 KB item"; an 8 KB item: 2 strongly, 1 eventually.
    const reads = [readUnitsFor(3500, true), readUnitsFor(8 * KB, true), readUnitsFor(8 * KB, false), readUnitsFor(0, false)];

    // Assess
    expect(writes).toEqual([1, 1, 2, 4]);
    expect(reads).toEqual([1, 2, 1, 0.5]);
  });

  it('a write costs the larger of the item before and after; a failed condition the existing item, at least 1', () => {
    // Arrange: the documented example — an existing 300 KB item, a new version of 310 KB.
    const table: TableDefinition = { keys: ['k'], indexes: [] };
    const existing = itemOf(300 * KB);
    const updated = itemOf(310 * KB);

    // Act
    const succeeded = writeCost(table, existing, updated).table;
    const shrunk = writeCost(table, updated, existing).table;
    const deleted = writeCost(table, existing, undefined).table;
    const failed = failedConditionUnits(existing);
    const failedNew = failedConditionUnits(undefined);

    // Assess
    expect([succeeded, shrunk, deleted, failed, failedNew]).toEqual([310, 310, 300, 300, 1]);
  });
});

describe('global secondary index writes', () => {
  const table: TableDefinition = {
    keys: ['id'],
    indexes: [
      { name: 'byDue', keys: ['shard', 'dueKey'], projection: 'INCLUDE', include: ['status'] },
      { name: 'byCustomer', keys: ['customerId', 'dueAt'], projection: 'ALL' },
      { name: 'byPending', keys: ['pending'], projection: 'KEYS_ONLY' },
    ],
  };
  const base: Item = { id: { S: 'tp-1' }, customerId: { S: 'c-1' }, dueAt: { S: '2031-06-01' }, status: { S: 'PENDING' } };
  const due: Item = { ...base, shard: { S: '3' }, dueKey: { S: '2031-06-01#tp-1' } };

  it('an item entering an index is one write, leaving it one write, neither in nor out none', () => {
    // Arrange / Act
    const entering = writeCost(table, base, due).indexes;
    const leaving = writeCost(table, due, base).indexes;

    // Assess
    expect(entering.byDue).toEqual({ writes: 1, units: 1 });
    expect(leaving.byDue).toEqual({ writes: 1, units: 1 });
    expect(entering.byPending).toEqual({ writes: 0, units: 0 });
  });

  it('a change of an index key is two writes: a delete of the old entry and a put of the new one', () => {
    // Arrange
    const moved: Item = { ...due, dueKey: { S: '2031-06-02#tp-1' } };

    // Act
    const cost = writeCost(table, due, moved).indexes.byDue;

    // Assess
    expect(cost).toEqual({ writes: 2, units: 2 });
  });

  it('a change of a projected attribute is one write; of an attribute the index does not project, none', () => {
    // Arrange
    const dispatched: Item = { ...due, status: { S: 'DISPATCHED' } };
    const noted: Item = { ...due, note: { S: 'not projected in byDue' } };

    // Act
    const projected = writeCost(table, due, dispatched).indexes;
    const unprojected = writeCost(table, due, noted).indexes;

    // Assess
    expect(projected.byDue).toEqual({ writes: 1, units: 1 });
    expect(unprojected.byDue).toEqual({ writes: 0, units: 0 });
    // ALL projects every attribute: any change is a write, by the size of the larger entry.
    expect(unprojected.byCustomer).toEqual({ writes: 1, units: 1 });
  });

  it('an index write costs the size of the index entry (its projection), not of the table item', () => {
    // Arrange: a 3 KB item whose byDue entry (keys and status) is small.
    const big: Item = { ...due, body: { S: 'x'.repeat(3 * KB) } };

    // Act
    const cost = writeCost(table, undefined, big);

    // Assess
    expect(cost.table).toBe(4);
    expect(cost.indexes.byDue).toEqual({ writes: 1, units: 1 });
    expect(cost.indexes.byCustomer).toEqual({ writes: 1, units: 4 });
  });
});

describe('billed durations, event chunks and HTTP increments', () => {
  it('Lambda rounds each invocation up to the millisecond, at least 1 ms', () => {
    // Arrange / Act
    const billed = [0.2, 1, 1.0001, 12.5].map(lambdaBilledMs);

    // Assess
    expect(billed).toEqual([1, 1, 2, 13]);
  });

  it('Express rounds each execution up to the next 100 ms, at least 100 ms', () => {
    // Arrange / Act
    const billed = [0, 1, 100, 100.1, 250].map(expressBilledMs);

    // Assess
    expect(billed).toEqual([100, 100, 100, 200, 300]);
  });

  it('EventBridge bills custom events per 64 KB chunk (a 256 KB event is 4) of the entry size it documents', () => {
    // Arrange
    const entry = { Time: new Date(), Source: 'outreach.commerce', DetailType: 'Purchase Completed', Detail: '{"a":1}', Resources: ['arn:x'] };

    // Act
    const size = eventEntrySize(entry);
    const chunks = [1, 64 * KB, 64 * KB + 1, 256 * KB].map(eventChunks);

    // Assess
    expect(size).toBe(14 + 17 + 18 + 7 + 5);
    expect(eventEntrySize({ Source: 'a', DetailType: 'b', Detail: '{}' })).toBe(4);
    expect(chunks).toEqual([1, 1, 2, 4]);
  });

  it('HTTP APIs meter requests in 512 KB increments', () => {
    // Arrange / Act
    const billed = [httpBilledRequests(100, 2000), httpBilledRequests(512 * KB, 10), httpBilledRequests(10, 512 * KB + 1), httpBilledRequests(0, 0)];

    // Assess
    expect(billed).toEqual([1, 1, 2, 1]);
  });

  it('renders an access-log line from its $context format, "-" for what the request does not have', () => {
    // Arrange
    const format = JSON.stringify({ requestId: '$context.requestId', status: '$context.status', error: '$context.integrationErrorMessage' });

    // Act
    const line = renderAccessLog(format, { requestId: 'r-1', status: 200, integrationErrorMessage: undefined });

    // Assess
    expect(JSON.parse(line)).toEqual({ requestId: 'r-1', status: '200', error: '-' });
  });
});

describe('a stack with a meter', () => {
  let stack: LocalStack;
  const meter = new LocalMeter();

  beforeAll(async () => {
    stack = await startLocalStack({
      portBase: 0,
      speed: 0,
      startAt: '2031-06-01T12:00:00.000Z',
      rootDir: join(import.meta.dirname, 'fixtures', 'stack'),
      handlers: stackFixtureHandlers(),
      loadCampaigns: false,
      log: false,
      meter,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    meter.close();
  });

  it('counts a PutItem on the table and the index it enters, and a failed conditional write at the existing item', async () => {
    // Arrange: a touchpoint outside the sparse due index, inside byCustomer (which projects everything).
    const before = meter.snapshot();
    const item = { touchpointId: { S: 'tp-meter' }, customerId: { S: 'c-meter' }, dueAt: { S: '2031-06-02T09:00:00.000Z' }, status: { S: 'PENDING' } };
    const put = (condition?: string) =>
      stack.clients.dynamodb.send(new PutItemCommand({ TableName: stack.tables.touchpoints, Item: item, ...(condition ? { ConditionExpression: condition } : {}) }));

    // Act
    await put();
    const failed = await put('attribute_not_exists(touchpointId)').catch((error: unknown) => error);
    const rows = diffSnapshots(meter.snapshot(), before).dynamodb;

    // Assess
    expect(failed).toBeInstanceOf(ConditionalCheckFailedException);
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(
      expect.arrayContaining([
        { table: stack.tables.touchpoints, operation: 'PutItem', requests: 2, readUnits: 0, writeUnits: 2, itemWrites: 1, failedConditions: 1 },
        { table: stack.tables.touchpoints, index: 'byCustomer', operation: 'PutItem', requests: 0, readUnits: 0, writeUnits: 1, itemWrites: 1, failedConditions: 0 },
      ]),
    );
  });
});
