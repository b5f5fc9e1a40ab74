/** dynalite in this process on an ephemeral port, with the product's tables (created from TABLES, as the local stack does). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { createTables, localTableNames, startDynamo, type TableNames } from '../../../local/dynamodb.ts';

export const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const REGION = 'us-east-1';

export interface TestDynamo {
  endpoint: string;
  db: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export async function startTestDynamo(): Promise<TestDynamo> {
  const dynamo = await startDynamo({ port: 0 });
  const client = new DynamoDBClient({ region: REGION, endpoint: dynamo.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
  return { endpoint: dynamo.endpoint, db: createDocumentClient(client), close: () => dynamo.close() };
}

let tables = 0;
/** A fresh set of tables (`t<n>-campaigns`, …) so tests do not see each other's items. */
export async function freshTables(dynamo: TestDynamo): Promise<TableNames> {
  tables += 1;
  const names = localTableNames(`t${tables}-${process.pid}`);
  const client = new DynamoDBClient({ region: REGION, endpoint: dynamo.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
  await createTables(client, names);
  client.destroy();
  return names;
}

export async function freshCampaignsTable(dynamo: TestDynamo): Promise<string> {
  return (await freshTables(dynamo)).campaigns;
}

/** Every item of a table, sorted by key, for exact assertions. */
export async function allItems(db: DynamoDBDocumentClient, table: string): Promise<Array<Record<string, unknown>>> {
  const { Items = [] } = await db.send(new ScanCommand({ TableName: table }));
  return Items.sort((a, b) => `${String(a.campaignId)} ${String(a.version)}`.localeCompare(`${String(b.campaignId)} ${String(b.version)}`));
}
