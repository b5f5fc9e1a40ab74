/** dynalite for a test file: the embedded DynamoDB on a free port, and a client that does not retry (a failure shows). */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localTableNames, startDynamo, tableDefinitions, type TableKey } from '../../local/dynamodb.ts';

export type TestDynamo = Awaited<ReturnType<typeof startDynamo>>;

export async function startTestDynamo(): Promise<{ dynamo: TestDynamo; client: DynamoDBClient }> {
  const dynamo = await startDynamo({ port: 0 });
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return { dynamo, client };
}

let created = 0;

/** One of TABLES created afresh, under a name no earlier call used (`<prefix>-<n>-<key>`): a table per test. */
export async function freshTable(client: DynamoDBClient, key: TableKey, prefix: string): Promise<string> {
  created += 1;
  const names = localTableNames(`${prefix}-${created}`);
  await client.send(new CreateTableCommand(tableDefinitions(names).find((d) => d.TableName === names[key])!));
  return names[key];
}
