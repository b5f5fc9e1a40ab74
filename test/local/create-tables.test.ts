/** The local tables: created from TABLES, kept when they exist, and an old --data-dir's table without a newer index refused. */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '../../core/topology.ts';
import { createTables, localTableNames, tableDefinitions } from '../../local/dynamodb.ts';
import { startTestDynamo, type TestDynamo } from '../unit/dynalite.ts';

let dynamo: TestDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  ({ dynamo, client } = await startTestDynamo());
});

afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

describe('createTables', () => {
  it('creates every table with its indexes, and a second run changes nothing', async () => {
    const names = localTableNames('fresh');
    await createTables(client, names);
    await createTables(client, names);
    const touchpoints = (await client.send(new DescribeTableCommand({ TableName: names.touchpoints }))).Table!;
    expect(touchpoints.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(
      [TABLES.touchpoints.dueIndex.name, TABLES.touchpoints.customerIndex.name, TABLES.touchpoints.pendingCountsIndex.name].sort(),
    );
  });

  it('refuses a table an older version created without an index, naming the table and the index', async () => {
    const names = localTableNames('old');
    const definition = tableDefinitions(names).find((d) => d.TableName === names.customers)!;
    const { GlobalSecondaryIndexes: indexes, ...withoutIndexes } = definition;
    expect(indexes?.length).toBeGreaterThan(0);
    const keys = new Set(withoutIndexes.KeySchema.map((k) => k.AttributeName));
    await client.send(new CreateTableCommand({ ...withoutIndexes, AttributeDefinitions: withoutIndexes.AttributeDefinitions.filter((a) => keys.has(a.AttributeName)) }));
    await expect(createTables(client, names)).rejects.toThrow(
      new RegExp(`table ${names.customers} has no index ${indexes![0]!.IndexName}.*empty --data-dir`),
    );
  });
});
