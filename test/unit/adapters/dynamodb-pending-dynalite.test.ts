/**
 * The pending counts of an entity item against a real DynamoDB API (dynalite in this process, ephemeral port): the
 * lease (claim when free, not while held, again after it expired), the trim of applied changes (in order, with
 * changes appended meanwhile, with a lost lease), and settlePendingCounts end to end against both DynamoDB adapters,
 * with an entity whose state write appended its changes with `pendingAppend`.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbMetricsCounters } from '../../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts, pendingAppend, pendingOf } from '../../../adapters/dynamodb-pending.ts';
import { numberChanges, outcomeChanges, sendChange, settlePendingCounts, type CounterChange } from '../../../core/metrics/counters.ts';
import { recordOutcome, surveySentDelta } from '../../../core/metrics/model.ts';
import { localTableNames, tableDefinitions } from '../../../local/dynamodb.ts';
import { startTestDynamo, type TestDynamo } from '../dynalite.ts';

const NOW = '2026-03-01T10:00:00.000Z';
const LATER = '2026-03-01T10:07:00.000Z';

let dynamo: TestDynamo;
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;
let tables = 0;
let entities: string;
let metrics: string;
let pending: DynamoDbPendingCounts;
/** Runs once right after the next UpdateItem that trims a pending list (to race the release). */
let afterTrim: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ dynamo, client } = await startTestDynamo());
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const expression = (args.input as { UpdateExpression?: string }).UpdateExpression ?? '';
      if (afterTrim && /^REMOVE #pending\[/.test(expression)) {
        const hook = afterTrim;
        afterTrim = undefined;
        await hook();
      }
      return result;
    },
    { step: 'initialize', name: 'raceAfterTrim' },
  );
  db = createDocumentClient(client);
});

afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

beforeEach(async () => {
  tables += 1;
  entities = `entities-${tables}`;
  await client.send(
    new CreateTableCommand({
      TableName: entities,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
  const names = localTableNames(`pending-${tables}`);
  metrics = names.metrics;
  await client.send(new CreateTableCommand(tableDefinitions(names).find((d) => d.TableName === metrics)!));
  pending = new DynamoDbPendingCounts(entities, 'id', db);
  afterTrim = undefined;
});

/** An entity's conditional state write (version n → n + 1) that appends its counter changes in the same UpdateItem. */
async function writeState(id: string, version: number, changes: readonly CounterChange[]): Promise<void> {
  const append = pendingAppend(changes, NOW);
  await db.send(
    new UpdateCommand({
      TableName: entities,
      Key: { id },
      UpdateExpression: `SET #version = :next${append ? `, ${append.set}` : ''}`,
      ConditionExpression: version === 0 ? 'attribute_not_exists(id)' : '#version = :version',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':next': version + 1, ...(version === 0 ? {} : { ':version': version }), ...append?.values },
    }),
  );
}

const entity = async (id: string) => (await db.send(new GetCommand({ TableName: entities, Key: { id }, ConsistentRead: true }))).Item;

const sends = (token: string, n: number): CounterChange[] =>
  numberChanges(
    token,
    Array.from({ length: n }, (_, i) =>
      sendChange(surveySentDelta({ campaignId: 'nps-after-purchase', kind: 'nps', sentAt: `2026-03-${String(1 + (i % 28)).padStart(2, '0')}T09:00:00.000Z` })),
    ),
  );

const lease = (token: string, until = '2026-03-01T10:06:00.000Z') => ({ token, until });

describe('DynamoDbPendingCounts on dynalite: claim', () => {
  it('takes a free entity and returns its pending changes, oldest first', async () => {
    const first = sends('w1', 2);
    const second = sends('w2', 1);
    await writeState('e-1', 0, first);
    await writeState('e-1', 1, second);

    expect(await pending.claim('e-1', lease('s1'), NOW)).toEqual([...first, ...second]);
    expect(pendingOf(await entity('e-1'))).toEqual({ changes: [...first, ...second], lease: lease('s1') });
  });

  it('does not take an entity whose lease is running, and takes it once the lease has expired', async () => {
    await writeState('e-1', 0, sends('w1', 1));
    await pending.claim('e-1', lease('s1'), NOW);

    expect(await pending.claim('e-1', lease('s2'), '2026-03-01T10:05:59.999Z')).toBeUndefined();
    expect(await pending.claim('e-1', lease('s3', '2026-03-01T10:12:00.000Z'), '2026-03-01T10:06:00.000Z')).toHaveLength(1);
    expect(pendingOf(await entity('e-1')).lease).toEqual(lease('s3', '2026-03-01T10:12:00.000Z'));
  });

  it('does not take an entity without pending changes, nor one that does not exist (and creates nothing)', async () => {
    await writeState('e-1', 0, []);

    expect(await pending.claim('e-1', lease('s1'), NOW)).toBeUndefined();
    expect(await pending.claim('e-missing', lease('s1'), NOW)).toBeUndefined();
    expect(await entity('e-1')).toEqual({ id: 'e-1', version: 1 });
    expect(await entity('e-missing')).toBeUndefined();
  });
});

describe('DynamoDbPendingCounts on dynalite: complete', () => {
  it('removes exactly the first `count` changes, in order, and keeps the lease while some remain', async () => {
    const changes = sends('w1', 5);
    await writeState('e-1', 0, changes);
    await pending.claim('e-1', lease('s1'), NOW);

    expect(await pending.complete('e-1', 's1', 3)).toEqual({ remaining: changes.slice(3) });
    expect(pendingOf(await entity('e-1'))).toEqual({ changes: changes.slice(3), lease: lease('s1') });
  });

  it('releases the lease and drops the list when none remain', async () => {
    await writeState('e-1', 0, sends('w1', 2));
    await pending.claim('e-1', lease('s1'), NOW);

    expect(await pending.complete('e-1', 's1', 2)).toEqual({ remaining: [] });
    expect(await entity('e-1')).toEqual({ id: 'e-1', version: 1 });
  });

  it('returns the changes appended after the claim, keeping the lease', async () => {
    const first = sends('w1', 2);
    const appended = sends('w2', 1);
    await writeState('e-1', 0, first);
    await pending.claim('e-1', lease('s1'), NOW);
    await writeState('e-1', 1, appended);

    expect(await pending.complete('e-1', 's1', 2)).toEqual({ remaining: appended });
    expect(await pending.complete('e-1', 's1', 1)).toEqual({ remaining: [] });
    expect(await entity('e-1')).toEqual({ id: 'e-1', version: 2 });
  });

  it('does not release when a change is appended between the trim and the release, and returns it', async () => {
    const appended = sends('w2', 1);
    await writeState('e-1', 0, sends('w1', 1));
    await pending.claim('e-1', lease('s1'), NOW);
    afterTrim = () => writeState('e-1', 1, appended);

    expect(await pending.complete('e-1', 's1', 1)).toEqual({ remaining: appended });
    expect(pendingOf(await entity('e-1'))).toEqual({ changes: appended, lease: lease('s1') });
  });

  it('trims long lists in several requests', async () => {
    const changes = sends('w1', 230);
    await writeState('e-1', 0, changes);
    await pending.claim('e-1', lease('s1'), NOW);

    expect(await pending.complete('e-1', 's1', 229)).toEqual({ remaining: changes.slice(229) });
    expect(await pending.complete('e-1', 's1', 1)).toEqual({ remaining: [] });
  });

  it('is lost with a token that is not the lease holder’s, and removes nothing', async () => {
    const changes = sends('w1', 2);
    await writeState('e-1', 0, changes);
    await pending.claim('e-1', lease('s1'), NOW);

    expect(await pending.complete('e-1', 'someone-else', 2)).toBe('lost');
    expect(pendingOf(await entity('e-1'))).toEqual({ changes, lease: lease('s1') });
  });
});

describe('settlePendingCounts on the DynamoDB adapters (dynalite)', () => {
  const metricsOf = () => new DynamoDbMetricsCounters(metrics, db);

  it('applies what the state writes appended, trims the entity and releases every marker', async () => {
    const outcome = recordOutcome([], { endDate: '2026-02-28', result: 'CHURNED', at: '2026-03-01T08:00:00.000Z', remindersSent: 2, npsSegment: 'detractor' });
    await writeState('e-1', 0, numberChanges('w1', outcomeChanges(outcome.increments)));
    await writeState('e-1', 1, sends('w2', 2));
    const counters = metricsOf();

    expect(await settlePendingCounts('e-1', NOW, { pending, counters })).toBe('settled');
    expect(await settlePendingCounts('e-1', NOW, { pending, counters })).toBe('none');

    expect(await entity('e-1')).toEqual({ id: 'e-1', version: 2 });
    expect(await counters.listRecords('outcomes')).toEqual([
      { key: { series: 'outcomes', day: '2026-03-01' }, counters: { churned_detractor: 1 }, version: 1, markers: [] },
    ]);
    expect((await counters.listRecords('sends')).map((r) => [r.key.day, r.counters, r.markers])).toEqual([
      ['2026-03-01', { sent: 1 }, []],
      ['2026-03-02', { sent: 1 }, []],
    ]);
  });

  it('after a settler crashed half-way, the next one (after the lease) counts each change once', async () => {
    const changes = sends('w1', 3).map((c) => ({ ...c, record: { ...c.record, day: '2026-03-01' } }));
    await writeState('e-1', 0, changes);
    const counters = metricsOf();
    // The crashed settler: took the lease and applied the first two changes, then nothing.
    await pending.claim('e-1', lease('crashed'), NOW);
    await counters.apply(changes[0]!);
    await counters.apply(changes[1]!);

    expect(await settlePendingCounts('e-1', NOW, { pending, counters })).toBe('none');
    expect(await settlePendingCounts('e-1', LATER, { pending, counters })).toBe('settled');

    expect(await counters.listRecords('sends')).toEqual([
      { key: changes[0]!.record, counters: { sent: 3 }, version: 3, markers: [] },
    ]);
    expect(await entity('e-1')).toEqual({ id: 'e-1', version: 1 });
  });
});
