/**
 * DynamoDB, locally: dynalite on 127.0.0.1 (in memory, or LevelDB under <data-dir>/dynamodb), with the tables
 * created from TABLES in core/topology.ts. dynalite has no transactions, TTL, streams or PartiQL; nothing here needs them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  QueryCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { TABLES } from '../core/topology.ts';
import { closeServer, listen } from './http.ts';
import { installDynaliteMeter, type LocalMeter } from './meter.ts';

export type TableKey = keyof typeof TABLES;
export type TableNames = Record<TableKey, string>;


export function localTableNames(prefix = 'outreach'): TableNames {
  return Object.fromEntries(Object.keys(TABLES).map((key) => [key, `${prefix}-${key}`])) as TableNames;
}

type Item = Record<string, unknown>;
interface DynaliteTable {
  TableName: string;
  GlobalSecondaryIndexes?: unknown[];
  LocalSecondaryIndexes?: unknown[];
}
/** The LevelDB under a dynalite store, as dynalite's own `level` opens it (JSON values, keys `<sub-db>~<key>`). */
export interface DynaliteStore {
  close(): Promise<void>;
  iterator(): AsyncIterable<[string, unknown]>;
  keys(): AsyncIterable<string>;
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  batch(operations: Array<{ type: 'put' | 'del'; key: string; value?: unknown }>): Promise<void>;
}

const fromDynalite = (id: string): unknown => createRequire(createRequire(import.meta.url).resolve('dynalite'))(id);

/** Opens dynalite's store at `path` directly; only while no dynalite server has it open. */
export async function openDynaliteStore(path: string): Promise<DynaliteStore> {
  const { Level } = fromDynalite('level') as { Level: new (path: string, options: { valueEncoding: 'json' }) => DynaliteStore & { open(): Promise<void> } };
  const level = new Level(path, { valueEncoding: 'json' });
  await level.open();
  return level;
}

/**
 * Rebuilds every secondary index of a dynalite store on disk from its items, before dynalite opens it.
 *
 * dynalite writes an item and its index entries as separate LevelDB writes (the old entries deleted, the new ones put,
 * then the item), so a process killed between them leaves an index entry that disagrees with its item, or an item
 * missing from an index: a touchpoint the due index no longer shows, or shows with another status. DynamoDB's indexes
 * always converge on the item. Deriving them again from the items at every start on `--data-dir` gives the same
 * guarantee after a kill -9. Idempotent: a kill during the repair is repaired by the next start.
 * Returns the number of index entries written.
 */
export async function rebuildDynaliteIndexes(path: string): Promise<number> {
  const { getIndexActions } = fromDynalite('./db/index.js') as {
    getIndexActions: (indexes: unknown[], existing: Item | undefined, item: Item, table: DynaliteTable) => { puts: Array<{ index: string; key: string; item: Item }> };
  };
  const level = await openDynaliteStore(path);
  try {
    const tables = new Map<string, DynaliteTable>();
    const stale: string[] = [];
    for await (const [key, value] of level.iterator()) {
      if (key.startsWith('table~')) tables.set(key.slice('table~'.length), value as DynaliteTable);
      else if (key.startsWith('index-global~') || key.startsWith('index-local~')) stale.push(key);
    }
    for (let i = 0; i < stale.length; i += 1000) await level.batch(stale.slice(i, i + 1000).map((key) => ({ type: 'del' as const, key })));
    let written = 0;
    let puts: Array<{ type: 'put'; key: string; value: unknown }> = [];
    for await (const [key, value] of level.iterator()) {
      if (!key.startsWith('item-')) continue;
      const tableName = key.slice('item-'.length, key.indexOf('~'));
      const table = tables.get(tableName);
      if (!table) continue;
      for (const [kind, indexes] of [['global', table.GlobalSecondaryIndexes], ['local', table.LocalSecondaryIndexes]] as const) {
        for (const action of getIndexActions(indexes ?? [], undefined, value as Item, table).puts) {
          puts.push({ type: 'put', key: `index-${kind}~${tableName}~${action.index}~${action.key}`, value: action.item });
        }
      }
      if (puts.length >= 1000) {
        await level.batch(puts);
        written += puts.length;
        puts = [];
      }
    }
    if (puts.length > 0) await level.batch(puts);
    return written + puts.length;
  } finally {
    await level.close();
  }
}

/** With `meter`, every request's read and write units (indexes included) are counted: local/meter.ts. */
export async function startDynamo(options: { port: number; dataDir?: string; meter?: LocalMeter }): Promise<{ server: Server; port: number; endpoint: string; close(): Promise<void> }> {
  let path: string | undefined;
  if (options.dataDir) {
    path = join(options.dataDir, 'dynamodb');
    // A store left by a killed process may hold index entries out of step with their items: derive them again.
    if (existsSync(join(path, 'CURRENT'))) await rebuildDynaliteIndexes(path);
    mkdirSync(path, { recursive: true });
  }
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) });
  // The SDK keeps connections alive and reuses them without an idle limit; Node's server closes an idle one after 5 s,
  // and a request sent on it at that moment fails with ECONNRESET (seen on a loaded machine). Keep them much longer
  // than any pause between requests; closeServer still closes them at stop.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  const uninstallMeter = options.meter ? installDynaliteMeter(options.meter) : undefined;
  let port: number;
  try {
    port = await listen(server, options.port);
  } catch (error) {
    uninstallMeter?.();
    throw error;
  }
  return {
    server,
    port,
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      try {
        await closeServer(server);
      } finally {
        uninstallMeter?.();
      }
    },
  };
}

interface IndexSpec {
  name: string;
  partitionKey: string;
  sortKey?: string;
  include?: readonly string[];
}

const isIndexSpec = (value: unknown): value is IndexSpec =>
  typeof value === 'object' && value !== null && typeof (value as IndexSpec).name === 'string' && typeof (value as IndexSpec).partitionKey === 'string';

/** CreateTable inputs for every table in TABLES: keys, and every index spec found on the table as a GSI. */
export function tableDefinitions(names: TableNames) {
  return (Object.entries(TABLES) as Array<[TableKey, (typeof TABLES)[TableKey]]>).map(([key, spec]) => {
    const attributes = new Set<string>();
    const keySchema = (partitionKey: string, sortKey?: string) => {
      attributes.add(partitionKey);
      if (sortKey) attributes.add(sortKey);
      return [
        { AttributeName: partitionKey, KeyType: 'HASH' as const },
        ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
      ];
    };
    const tableKeys = keySchema(spec.partitionKey, 'sortKey' in spec ? spec.sortKey : undefined);
    const indexes: GlobalSecondaryIndex[] = Object.values(spec)
      .filter(isIndexSpec)
      .map((index) => ({
        IndexName: index.name,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        // `include: []`: the keys only, as in CDK.
        Projection:
          index.include === undefined
            ? { ProjectionType: 'ALL' }
            : index.include.length === 0
              ? { ProjectionType: 'KEYS_ONLY' }
              : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.include] },
      }));
    return {
      TableName: names[key],
      BillingMode: 'PAY_PER_REQUEST' as const,
      KeySchema: tableKeys,
      AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
      ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
    };
  });
}

/** Creates the tables that do not exist yet (a --data-dir store keeps them across restarts). */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  for (const definition of tableDefinitions(names)) {
    let existing;
    try {
      existing = (await client.send(new DescribeTableCommand({ TableName: definition.TableName }))).Table;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await client.send(new CreateTableCommand(definition));
      continue;
    }
    // A table kept in a --data-dir by an older version may lack an index added since; dynalite cannot add one to a
    // table that holds data, so say so rather than fail later on the first Query of it.
    const present = new Set((existing?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    const missing = (definition.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).filter((name) => !present.has(name));
    if (missing.length > 0) {
      throw new Error(
        `table ${definition.TableName} has no index ${missing.join(', ')}: its data directory was written by an older version. ` +
          'Start with an empty --data-dir (or delete the old one).',
      );
    }
  }
}

/**
 * The earliest time something in the sparse `byDue` index comes due (a PENDING touchpoint's due time, or a claimed
 * one's lease end): one ascending Query with Limit 1 per shard. `afterDueKey` skips a key the dispatcher keeps leaving.
 */
export function pendingDueProbe(client: DynamoDBClient, touchpointsTable: string, shards: number) {
  const index = TABLES.touchpoints.dueIndex;
  return async (afterDueKey?: string): Promise<{ dueMs: number; dueKey: string } | undefined> => {
    const heads = await Promise.all(
      Array.from({ length: shards }, async (_, shard) => {
        const result = await client.send(
          new QueryCommand({
            TableName: touchpointsTable,
            IndexName: index.name,
            KeyConditionExpression: afterDueKey ? '#shard = :shard AND #key > :after' : '#shard = :shard',
            ExpressionAttributeNames: afterDueKey ? { '#shard': index.partitionKey, '#key': index.sortKey } : { '#shard': index.partitionKey },
            ExpressionAttributeValues: {
              // Every key attribute is a string, dueShard included, as in the CDK tables and the adapter.
              ':shard': { S: String(shard) },
              ...(afterDueKey ? { ':after': { S: afterDueKey } } : {}),
            },
            ScanIndexForward: true,
            Limit: 1,
          }),
        );
        // The sort key, not `dueAt`: a claimed touchpoint stays in the index under its lease time, and the dispatcher
        // compares scheduled times with this key.
        const dueKey = result.Items?.[0]?.[index.sortKey]?.S;
        return dueKey ? { dueMs: Date.parse(dueKey.split('#')[0]!), dueKey } : undefined;
      }),
    );
    return heads.filter((h) => h !== undefined && !Number.isNaN(h.dueMs)).sort((a, b) => a!.dueMs - b!.dueMs)[0];
  };
}
