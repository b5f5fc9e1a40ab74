/**
 * Contracts in DynamoDB: one item per contract (key `contractId`) and the sparse byEnd index the renewal sweep reads
 * (see core/contracts/ports.ts for why the key is `<endsAt>#<contractId>`). Every write is conditional; nothing needs
 * transactions. The campaigns' sweep cursors live in the same table under ids no contract can have (`#` is not
 * allowed in a contract id), outside the index.
 *
 * Each outcome write (markRenewed, markCancelled, markEnded) also sets the outcome history (`outcomes`) and appends
 * its renewal/churn counter changes to the item's pending counts (adapters/dynamodb-pending.ts) in the same
 * UpdateItem; the other writes never touch either, so an update can neither lose nor revive a pending count.
 */
import { TABLES } from '../core/topology.ts';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Contract, type EndingContract, ENDING_CONTRACT_FIELDS, isRunning } from '../core/contracts/model.ts';
import type {
  CancellationChange,
  ContractRepository,
  EndChange,
  EndingPage,
  OutcomeWrite,
  RenewalChange,
  SweepCursorStore,
} from '../core/contracts/ports.ts';
import { shardOf } from '../core/touchpoint-id.ts';
import { createDocumentClient, writeIfCondition } from './dynamodb-client.ts';
import { PENDING_COUNTS_ATTRIBUTES, pendingAppend } from './dynamodb-pending.ts';

/**
 * The contracts table's key schema, in the shape of core/topology.ts TABLES (the integrator moves it there as
 * `TABLES.contracts`; the local stack then creates the table and its index like the others).
 */
/** The key schema lives in TABLES (core/topology.ts); a test keeps its projection equal to ENDING_CONTRACT_FIELDS. */
export const CONTRACTS_TABLE = TABLES.contracts;

/** Index partitions; each sweep query reads each of them once. Enough to spread a bulk import's index writes. */
export const DEFAULT_CONTRACT_END_SHARDS = 4;

const { endIndex } = CONTRACTS_TABLE;
/** Fields that exist only in the table (index keys, pending metric counts), not in the domain type. */
const STORAGE_FIELDS = [endIndex.partitionKey, endIndex.sortKey, ...PENDING_COUNTS_ATTRIBUTES] as const;
/** Optional contract fields an upsert removes when `next` has none (a restarted contract drops its cancellation reason). */
const OPTIONAL_FIELDS = ['outcome', 'cancellationReason'] as const satisfies ReadonlyArray<keyof Contract>;
/** Fields an upsert never writes: the key, and the outcome history, which only the outcome writes change (with their counts). */
const NOT_UPSERTED = new Set<string>([CONTRACTS_TABLE.partitionKey, 'outcomes', ...STORAGE_FIELDS]);
/** Sorts after every character a contract id may contain, so `<instant>#~` bounds every key of that instant. */
const AFTER_ANY_ID = '~';
const CURSOR_PREFIX = '#sweep-cursor#';

const endKeyOf = (endsAt: string, contractId: string) => `${endsAt}#${contractId}`;

/** CreateTable input for the contracts table (tests, bench, local); CDK declares the same keys. */
export function contractsTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: CONTRACTS_TABLE.partitionKey, KeyType: 'HASH' }],
    AttributeDefinitions: [CONTRACTS_TABLE.partitionKey, endIndex.partitionKey, endIndex.sortKey].map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    GlobalSecondaryIndexes: [
      {
        IndexName: endIndex.name,
        KeySchema: [
          { AttributeName: endIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: endIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...endIndex.include] },
      },
    ],
  };
}

interface PageCursor {
  /** The shard being read. */
  s: number;
  /** DynamoDB's LastEvaluatedKey within it, if it was cut short. */
  k?: Record<string, unknown>;
}

export class DynamoDbContractRepository implements ContractRepository {
  constructor(
    private readonly tableName: string,
    private readonly shards = DEFAULT_CONTRACT_END_SHARDS,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async get(contractId: string): Promise<Contract | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { contractId }, ConsistentRead: true }));
    return Item ? toContract(Item) : undefined;
  }

  /**
   * A new contract is put whole; an existing one is updated field by field (not put), so the item's outcome history
   * and pending metric counts, which a settler may be changing meanwhile, stay as they are.
   */
  upsertFromEvent(next: Contract, baseVersion: string | undefined): Promise<boolean> {
    const fields = Object.entries(next).filter(([name, value]) => value !== undefined && !NOT_UPSERTED.has(name));
    if (baseVersion === undefined) {
      const item = { contractId: next.contractId, ...Object.fromEntries(fields) };
      return writeIfCondition(
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: isRunning(next.status) ? { ...item, ...this.indexKeys(next.contractId, next.endsAt) } : item,
            ConditionExpression: 'attribute_not_exists(contractId)',
          }),
        ),
      );
    }
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':base': baseVersion, ':next': next.version };
    const sets: string[] = [];
    const removes: string[] = [];
    fields.forEach(([name, value], i) => {
      names[`#f${i}`] = name;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    });
    for (const field of OPTIONAL_FIELDS) if (next[field] === undefined) removes.push(field);
    if (isRunning(next.status)) {
      const keys = this.indexKeys(next.contractId, next.endsAt);
      values[':shard'] = keys.endShard;
      values[':key'] = keys.endKey;
      sets.push(`${endIndex.partitionKey} = :shard`, `${endIndex.sortKey} = :key`);
    } else {
      removes.push(endIndex.partitionKey, endIndex.sortKey);
    }
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { contractId: next.contractId },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: '#version = :base AND #version < :next',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  markRenewed(contractId: string, change: RenewalChange): Promise<boolean> {
    const keys = this.indexKeys(contractId, change.endsAt);
    const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
    const values: Record<string, unknown> = {
      ':renewed': 'RENEWED',
      ':endDate': change.endDate,
      ':endsAt': change.endsAt,
      ':shard': keys.endShard,
      ':key': keys.endKey,
      ':zero': 0,
      ':one': 1,
      ':outcome': change.outcome,
      ':at': change.at,
    };
    const sets = [
      '#status = :renewed',
      'endDate = :endDate',
      'endsAt = :endsAt',
      `${endIndex.partitionKey} = :shard`,
      `${endIndex.sortKey} = :key`,
      'renewals = if_not_exists(renewals, :zero) + :one',
      'outcome = :outcome',
      '#version = :at',
      'updatedAt = :at',
    ];
    for (const field of ['plan', 'value', 'currency', 'autoRenew'] as const) {
      if (change[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = change[field];
      sets.push(`#${field} = :${field}`);
    }
    const outcomes = outcomeSets(change);
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { contractId },
          UpdateExpression: `SET ${[...sets, ...outcomes.sets].join(', ')} REMOVE cancellationReason`,
          ConditionExpression: `#version < :at AND ${outcomes.condition}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ...outcomes.values },
        }),
      ),
    );
  }

  markCancelled(contractId: string, change: CancellationChange): Promise<boolean> {
    const reason = change.reason !== undefined;
    const outcomes = outcomeSets(change);
    const sets = ['#status = :cancelled', 'outcome = :outcome', '#version = :at', 'updatedAt = :at', ...(reason ? ['cancellationReason = :reason'] : [])];
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { contractId },
          UpdateExpression: `SET ${[...sets, ...outcomes.sets].join(', ')} REMOVE ${endIndex.partitionKey}, ${endIndex.sortKey}`,
          ConditionExpression: `#status IN (:active, :renewed) AND #version < :at AND ${outcomes.condition}`,
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: {
            ':cancelled': 'CANCELLED',
            ':active': 'ACTIVE',
            ':renewed': 'RENEWED',
            ':outcome': change.outcome,
            ':at': change.at,
            ...(reason ? { ':reason': change.reason } : {}),
            ...outcomes.values,
          },
        }),
      ),
    );
  }

  markEnded(contractId: string, change: EndChange): Promise<boolean> {
    const outcomes = outcomeSets(change);
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { contractId },
          UpdateExpression:
            `SET ${['#status = :ended', 'outcome = :outcome', 'updatedAt = :at', ...outcomes.sets].join(', ')} ` +
            `REMOVE ${endIndex.partitionKey}, ${endIndex.sortKey}`,
          ConditionExpression: `#status IN (:active, :renewed) AND endDate = :endDate AND ${outcomes.condition}`,
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: {
            ':ended': 'ENDED',
            ':active': 'ACTIVE',
            ':renewed': 'RENEWED',
            ':outcome': change.outcome,
            ':at': change.at,
            ':endDate': change.endDate,
            ...outcomes.values,
          },
        }),
      ),
    );
  }

  /** Reads the shards one after the other, each with one key-range Query per page (never a scan, never the table). */
  async listEndingBetween(fromInstant: string, toInstant: string, limit: number, startKey?: string): Promise<EndingPage> {
    const items: EndingContract[] = [];
    if (fromInstant >= toInstant) return { items };
    let cursor: PageCursor = startKey !== undefined ? (JSON.parse(startKey) as PageCursor) : { s: 0 };
    while (cursor.s < this.shards) {
      const { Items = [], LastEvaluatedKey } = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: endIndex.name,
          KeyConditionExpression: '#shard = :shard AND #key BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#shard': endIndex.partitionKey, '#key': endIndex.sortKey },
          // Both bounds end in '~', which no id contains: keys at exactly `fromInstant` are excluded, at `toInstant` included.
          ExpressionAttributeValues: {
            ':shard': String(cursor.s),
            ':from': `${fromInstant}#${AFTER_ANY_ID}`,
            ':to': `${toInstant}#${AFTER_ANY_ID}`,
          },
          Limit: limit - items.length,
          ...(cursor.k ? { ExclusiveStartKey: cursor.k } : {}),
        }),
      );
      items.push(...Items.map(toEndingContract));
      cursor = LastEvaluatedKey ? { s: cursor.s, k: LastEvaluatedKey } : { s: cursor.s + 1 };
      if (items.length >= limit) break;
    }
    return cursor.s < this.shards ? { items, nextKey: JSON.stringify(cursor) } : { items };
  }

  private indexKeys(contractId: string, endsAt: string) {
    return { [endIndex.partitionKey]: String(shardOf(contractId, this.shards)), [endIndex.sortKey]: endKeyOf(endsAt, contractId) } as {
      endShard: string;
      endKey: string;
    };
  }
}

/** Sweep cursors (how far each renewal campaign has planned), as items of the contracts table. */
export class DynamoDbSweepCursors implements SweepCursorStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async get(campaignId: string): Promise<string | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { contractId: `${CURSOR_PREFIX}${campaignId}` }, ConsistentRead: true }),
    );
    return Item?.plannedThrough as string | undefined;
  }

  advance(campaignId: string, expected: string | undefined, to: string): Promise<boolean> {
    return writeIfCondition(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { contractId: `${CURSOR_PREFIX}${campaignId}`, campaignId, plannedThrough: to },
          ...(expected === undefined
            ? { ConditionExpression: 'attribute_not_exists(contractId)' }
            : { ConditionExpression: 'plannedThrough = :expected', ExpressionAttributeValues: { ':expected': expected } }),
        }),
      ),
    );
  }
}

/**
 * The part of an outcome write that records the outcome history and its counts: `outcomes` set, the counter changes
 * appended to the pending counts, on the condition that the contract is still at the version and status it was read
 * at (which guards the history it was computed from: see OutcomeWrite.base). Uses `#version` and `#status`.
 */
function outcomeSets(write: OutcomeWrite & { at: string }): { sets: string[]; condition: string; values: Record<string, unknown> } {
  const append = pendingAppend(write.metrics, write.at);
  return {
    sets: ['outcomes = :outcomes', ...(append ? [append.set] : [])],
    condition: '#version = :baseVersion AND #status = :baseStatus',
    values: { ':outcomes': write.outcomes, ':baseVersion': write.base.version, ':baseStatus': write.base.status, ...append?.values },
  };
}

function toContract(item: Record<string, unknown>): Contract {
  const copy = { ...item };
  for (const field of STORAGE_FIELDS) delete copy[field];
  return copy as unknown as Contract;
}

function toEndingContract(item: Record<string, unknown>): EndingContract {
  const present = ENDING_CONTRACT_FIELDS.filter((field) => item[field] !== undefined);
  return Object.fromEntries(present.map((field) => [field, item[field]])) as unknown as EndingContract;
}
