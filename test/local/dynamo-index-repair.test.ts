/**
 * A dynalite store under --data-dir whose index entries a killed process left out of step with the items: the next
 * start derives every index again from the items (local/dynamodb.ts, rebuildDynaliteIndexes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { TABLES } from '../../core/topology.ts';
import { createTables, localTableNames, openDynaliteStore, startDynamo } from '../../local/dynamodb.ts';

const { dueIndex } = TABLES.touchpoints;
const names = localTableNames('repair');
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The LevelDB dynalite keeps under <data-dir>/dynamodb, opened directly (dynalite stopped). */
const openStore = (dataDir: string) => openDynaliteStore(join(dataDir, 'dynamodb'));

async function withDynamo<T>(dataDir: string, run: (client: DynamoDBClient) => Promise<T>): Promise<T> {
  const dynamo = await startDynamo({ port: 0, dataDir });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    return await run(client);
  } finally {
    client.destroy();
    await dynamo.close();
  }
}

const pending = (id: string, dueKey: string, status = 'PENDING') => ({
  touchpointId: { S: id },
  customerId: { S: 'c-1' },
  dueAt: { S: dueKey.split('#')[0]! },
  dueShard: { S: '0' },
  dueKey: { S: dueKey },
  status: { S: status },
  kind: { S: 'check-in' },
  generation: { N: '0' },
});

const dueRows = (client: DynamoDBClient) =>
  client
    .send(new QueryCommand({ TableName: names.touchpoints, IndexName: dueIndex.name, KeyConditionExpression: 'dueShard = :s', ExpressionAttributeValues: { ':s': { S: '0' } } }))
    .then((page) => (page.Items ?? []).map((row) => `${row.dueKey!.S} ${row.status!.S}`));

describe('rebuilding dynalite indexes at a start on --data-dir', () => {
  it('drops an index entry whose item moved on and restores one that is missing, as DynamoDB converges on the item', async () => {
    // Prepare: two touchpoints; then a kill's damage, made by hand: tp-a's entry from a write whose item never
    // landed (another key and status), and tp-b's entry gone.
    const dataDir = mkdtempSync(join(tmpdir(), 'outreach-repair-'));
    dirs.push(dataDir);
    await withDynamo(dataDir, async (client) => {
      await createTables(client, names);
      await client.send(new PutItemCommand({ TableName: names.touchpoints, Item: pending('tp-a', '2031-01-01T10:15:00.000Z#tp-a', 'DISPATCHED') }));
      await client.send(new PutItemCommand({ TableName: names.touchpoints, Item: pending('tp-b', '2031-01-01T10:20:00.000Z#tp-b') }));
      expect(await dueRows(client)).toEqual(['2031-01-01T10:15:00.000Z#tp-a DISPATCHED', '2031-01-01T10:20:00.000Z#tp-b PENDING']);
    });
    const store = await openStore(dataDir);
    const prefix = `index-global~${names.touchpoints}~${dueIndex.name}~`;
    const entries: string[] = [];
    for await (const key of store.keys()) if (key.startsWith(prefix)) entries.push(key);
    const [entryA, entryB] = entries.sort();
    const staleA = { ...(await store.get(entryA!)) as Record<string, unknown>, dueKey: { S: '2031-01-01T10:10:00.000Z#tp-a' }, status: { S: 'SENDING' } };
    await store.del(entryA!);
    await store.put(entryA!.replace('10:15', '10:10'), staleA);
    await store.del(entryB!);
    await store.close();

    // Act: the next start on the same --data-dir.
    const rows = await withDynamo(dataDir, dueRows);

    // Assess: exactly the items' own entries.
    expect(rows).toEqual(['2031-01-01T10:15:00.000Z#tp-a DISPATCHED', '2031-01-01T10:20:00.000Z#tp-b PENDING']);
  });
});
