/**
 * Renewal sweep cost benchmark: does a daily sweep read only the contracts that have a reminder coming up, however
 * many contracts there are?
 *
 * Starts dynalite in this process (in memory), loads contracts (default 100,000: end dates spread over two years, a
 * mix of zones on both hemispheres, one in ten cancelled and so outside the index) with parallel BatchWriteItem, runs
 * one daily sweep (offsets 60/30/7 days) writing real touchpoints, and reports the byEnd items read per reminder
 * planned and the wall times. Run: `npx tsx bench/sweep.ts [contracts]`.
 */
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb-client.ts';
import { CONTRACTS_TABLE, DEFAULT_CONTRACT_END_SHARDS, DynamoDbContractRepository } from '../adapters/dynamodb-contracts.ts';
import { DynamoDbTouchpointRepository } from '../adapters/dynamodb-touchpoints.ts';
import type { Contract } from '../core/contracts/model.ts';
import { addCalendarDays, shiftInstant, startOfLocalDay } from '../core/contracts/renewal-offsets.ts';
import { sweepRenewals } from '../core/contracts/sweep-renewals.ts';
import { DEFAULT_DISPATCH_SHARDS } from '../core/topology.ts';
import { shardOf } from '../core/touchpoint-id.ts';
import { createTables, localTableNames, startDynamo } from '../local/dynamodb.ts';

const total = Number(process.argv[2] ?? 100_000);
const NOW = '2027-06-15T00:05:00.000Z';
const SINCE = shiftInstant(NOW, 'P1D', -1);
const CAMPAIGN = { campaignId: 'contract-renewal', offsetsDays: [60, 30, 7], sendAt: '09:00' };
const ZONES = [
  'Europe/Berlin',
  'Europe/London',
  'America/New_York',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'Asia/Tokyo',
  'Asia/Kolkata',
  'Australia/Sydney',
  'Pacific/Auckland',
  'Africa/Lagos',
];

const dynamo = await startDynamo({ port: 0 });
const client = new DynamoDBClient({
  endpoint: dynamo.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  maxAttempts: 10,
});
const tables = localTableNames('bench');
// Every table of TABLES, the contracts table with its byEnd index included.
await createTables(client, tables);
const contractsTable = tables.contracts;

// Count what the byEnd queries read (ScannedCount), whatever the adapter does.
let queries = 0;
let itemsRead = 0;
client.middlewareStack.add(
  (next) => async (args) => {
    const result = await next(args);
    if ((args.input as { IndexName?: string }).IndexName === CONTRACTS_TABLE.endIndex.name) {
      queries += 1;
      itemsRead += (result.output as { ScannedCount?: number }).ScannedCount ?? 0;
    }
    return result;
  },
  { step: 'initialize', name: 'countEndIndexReads' },
);

/** A deterministic pseudo-random sequence, so every run loads the same contracts. */
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

function contractItem(i: number): Record<string, unknown> {
  const contractId = `ctr-${String(i).padStart(7, '0')}`;
  const timeZone = ZONES[i % ZONES.length]!;
  const endDate = addCalendarDays('2027-01-01', Math.floor(random() * 730));
  const cancelled = random() < 0.1;
  const endsAt = startOfLocalDay(endDate, timeZone);
  const contract: Contract = {
    contractId,
    customerId: `cust-${i}`,
    plan: i % 3 === 0 ? 'team-annual' : 'pro-annual',
    value: 1200,
    currency: 'EUR',
    startDate: addCalendarDays(endDate, -364),
    endDate,
    autoRenew: i % 2 === 0,
    timeZone,
    status: cancelled ? 'CANCELLED' : 'ACTIVE',
    endsAt,
    renewals: 0,
    version: '2026-06-01T00:00:00.000Z',
    createdAt: '2026-06-01T00:00:00.000Z',
    updatedAt: '2026-06-01T00:00:00.000Z',
  };
  return cancelled
    ? { ...contract }
    : { ...contract, endShard: String(shardOf(contractId, DEFAULT_CONTRACT_END_SHARDS)), endKey: `${endsAt}#${contractId}` };
}

const loadStart = performance.now();
const batches: Array<Array<Record<string, unknown>>> = [];
for (let i = 0; i < total; i += 25) batches.push(Array.from({ length: Math.min(25, total - i) }, (_, j) => contractItem(i + j)));
let nextBatch = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (nextBatch < batches.length) {
      let requests = batches[nextBatch++]!.map((item) => ({ PutRequest: { Item: marshall(item) } }));
      while (requests.length > 0) {
        const { UnprocessedItems } = await client.send(new BatchWriteItemCommand({ RequestItems: { [contractsTable]: requests } }));
        requests = (UnprocessedItems?.[contractsTable] ?? []) as typeof requests;
      }
    }
  }),
);
const loadSeconds = (performance.now() - loadStart) / 1000;

const db = createDocumentClient(client);
const deps = {
  contracts: new DynamoDbContractRepository(contractsTable, DEFAULT_CONTRACT_END_SHARDS, db),
  touchpoints: new DynamoDbTouchpointRepository(tables.touchpoints, DEFAULT_DISPATCH_SHARDS, db),
};

queries = 0;
itemsRead = 0;
const t0 = performance.now();
const first = await sweepRenewals({ campaign: CAMPAIGN, since: SINCE, now: NOW }, deps);
const sweepMs = performance.now() - t0;
const firstReads = itemsRead;
const firstQueries = queries;

// The same window again: reads the same rows, writes nothing.
const t1 = performance.now();
const again = await sweepRenewals({ campaign: CAMPAIGN, since: SINCE, now: NOW }, deps);
const againMs = performance.now() - t1;

const due = first.touchpointsCreated + first.alreadyPlanned;
const rows: Array<[string, string]> = [
  ['contracts loaded', total.toLocaleString('en')],
  ['load time (s, BatchWriteItem ×16)', loadSeconds.toFixed(1)],
  ['sweep window (reminder days)', `${first.window.after} → ${first.window.upTo}`],
  ['offsets (days)', CAMPAIGN.offsetsDays.join(', ')],
  ['reminders due (planned)', String(due)],
  ['byEnd queries', String(firstQueries)],
  ['byEnd items read', String(firstReads)],
  ['items read per contract due', (firstReads / Math.max(1, due)).toFixed(3)],
  ['sweep wall time (ms)', String(Math.round(sweepMs))],
  ['re-run: created / already planned', `${again.touchpointsCreated} / ${again.alreadyPlanned}`],
  ['re-run wall time (ms)', String(Math.round(againMs))],
];
const width = Math.max(...rows.map(([label]) => label.length));
console.log(rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n'));

client.destroy();
await dynamo.close();
if (due === 0 || firstReads > 1.1 * due || again.touchpointsCreated !== 0) {
  console.error(`unexpected: due ${due}, read ${firstReads}, re-run created ${again.touchpointsCreated}`);
  process.exit(1);
}
