/**
 * Dispatch cost benchmark: does the dispatcher read only what is due, however much is pending?
 *
 * Loads PENDING touchpoints far in the future plus a batch that is due into dynalite (in memory), runs one
 * dispatchDueTouchpoints with a workflow starter that only counts, and reports the items the due-index queries read
 * per due touchpoint and the wall time. Run: `npm run bench:dispatch -- [pending] [due]` (defaults 20000 and 500).
 */
import { BatchWriteItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb-client.ts';
import { DynamoDbTouchpointRepository } from '../adapters/dynamodb-touchpoints.ts';
import type { Touchpoint } from '../core/model.ts';
import type { WorkflowStarter } from '../core/ports.ts';
import { DEFAULT_DISPATCH_SHARDS } from '../core/topology.ts';
import { shardOf } from '../core/touchpoint-id.ts';
import { dispatchDueTouchpoints } from '../core/use-cases/dispatch-due-touchpoints.ts';
import { createTables, localTableNames, startDynamo } from '../local/dynamodb.ts';

const pending = Number(process.argv[2] ?? 20_000);
const due = Number(process.argv[3] ?? 500);
const shards = DEFAULT_DISPATCH_SHARDS;
const NOW = '2026-11-23T12:00:00.000Z';

const dynamo = await startDynamo({ port: 0 });
const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
const tables = localTableNames('bench');
await createTables(client, tables);

// Count what the due-index queries read (ScannedCount), whatever the adapter does.
let queries = 0;
let itemsRead = 0;
client.middlewareStack.add(
  (next) => async (args) => {
    const result = await next(args);
    if (args.input && (args.input as { IndexName?: string }).IndexName === 'byDue') {
      queries += 1;
      itemsRead += (result.output as { ScannedCount?: number }).ScannedCount ?? 0;
    }
    return result;
  },
  { step: 'initialize', name: 'countDueReads' },
);

function touchpoint(i: number, dueAt: string): Record<string, unknown> {
  const touchpointId = `tp-bench-${String(i).padStart(8, '0')}`;
  const item: Touchpoint = {
    touchpointId,
    campaignId: 'post-purchase-check-in',
    kind: 'check-in',
    customerId: `c-${i}`,
    dueAt,
    status: 'PENDING',
    generation: 0,
    context: {},
    createdAt: NOW,
    updatedAt: NOW,
  };
  return { ...item, dueShard: String(shardOf(touchpointId, shards)), dueKey: `${dueAt}#${touchpointId}` };
}

const loadStart = performance.now();
const items = [
  ...Array.from({ length: pending }, (_, i) => touchpoint(i, `2026-12-${String(1 + (i % 28)).padStart(2, '0')}T09:00:00.000Z`)),
  ...Array.from({ length: due }, (_, i) => touchpoint(pending + i, '2026-11-23T11:59:00.000Z')),
];
for (let i = 0; i < items.length; i += 25) {
  const batch = items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: marshall(item) } }));
  await client.send(new BatchWriteItemCommand({ RequestItems: { [tables.touchpoints]: batch } }));
}
const loadSeconds = (performance.now() - loadStart) / 1000;

let started = 0;
const workflows: WorkflowStarter = { start: async () => ((started += 1), 'started') };
const repository = new DynamoDbTouchpointRepository(tables.touchpoints, shards, createDocumentClient(client));
queries = 0;
itemsRead = 0;
const t0 = performance.now();
const pacer = { take: async () => true };
const result = await dispatchDueTouchpoints(NOW, { touchpoints: repository, workflows, shards, pacer });
const dispatchMs = performance.now() - t0;

// A second run in the same minute must find nothing left to read.
const readsBefore = itemsRead;
const queriesFirstRun = queries;
await dispatchDueTouchpoints(NOW, { touchpoints: repository, workflows, shards, pacer });
const secondRunReads = itemsRead - readsBefore;

const check = await client.send(new QueryCommand({ TableName: tables.touchpoints, IndexName: 'byDue', KeyConditionExpression: 'dueShard = :s', ExpressionAttributeValues: { ':s': { S: '0' } }, Select: 'COUNT' }));

console.log(
  JSON.stringify(
    {
      pending,
      due,
      shards,
      loadSeconds: Number(loadSeconds.toFixed(1)),
      started: result.started,
      dueIndexQueriesFirstRun: queriesFirstRun,
      itemsReadFirstRun: readsBefore,
      itemsReadPerDueTouchpoint: Number((readsBefore / Math.max(1, result.started)).toFixed(3)),
      itemsReadSecondRun: secondRunReads,
      dispatchMs: Math.round(dispatchMs),
      shard0StillIndexed: check.Count,
    },
    null,
    2,
  ),
);
client.destroy();
await dynamo.close();
if (result.started !== due || started !== due) {
  console.error(`expected ${due} starts, got ${result.started}`);
  process.exit(1);
}
