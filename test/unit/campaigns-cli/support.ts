/** dynalite in this process on an ephemeral port, with the product's tables (created from TABLES, as the local stack does). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** `--import tsx` by URL, so the CLI also runs from a directory outside the project. */
const TSX = import.meta.resolve('tsx');
export const OUTREACH_CLI = join(ROOT, 'cli/outreach.ts');

/**
 * Runs `cli/outreach.ts` as a person runs it (node + tsx, what `npm run outreach` starts), in a subprocess with the
 * caller's environment minus anything that would point it at other tables (AWS_*, *_TABLE, the sender, the bus).
 * Asynchronous on purpose: the in-process dynalite must keep answering while the CLI runs.
 */
export function runOutreach(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.endsWith('_TABLE') && k !== 'SENDER_ADDRESS' && k !== 'EVENT_BUS_NAME'),
  ) as Record<string, string>;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', TSX, OUTREACH_CLI, ...args],
      { cwd, env: { ...inherited, NODE_NO_WARNINGS: '1', ...env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? Number((error as { code?: unknown }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/** The AWS SDK environment that points the CLI at the test's dynalite. */
export const awsEnvFor = (dynamo: TestDynamo): Record<string, string> => ({
  AWS_REGION: REGION,
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
});
