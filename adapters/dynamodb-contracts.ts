/**
 * Contracts in DynamoDB: one item per contract (key `contractId`) and the sparse byEnd index the renewal sweep reads
 * (see core/contracts/ports.ts for why the key is `<endsAt>#<contractId>`). Every write is conditional; nothing needs
 * transactions. The campaigns' sweep cursors live in the same table under ids no contract can have (`#` is not
 * allowed in a contract id), outside the index.
 */
import { TABLES } from '../core/topology.ts';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Contract, type ContractOutcome, type EndingContract, ENDING_CONTRACT_FIELDS, isRunning } from '../core/contracts/model.ts';
import type { ContractRepository, EndingPage, RenewalChange, SweepCursorStore } from '../core/contracts/ports.ts';
import { shardOf } from '../core/touchpoint-id.ts';
import { createDocumentClient, writeIfCondition } from './dynamodb-client.ts';

/**
 * The contracts table's key schema, in the shape of core/topology.ts TABLES (the integrator moves it there as
 * `TABLES.contracts`; the local stack then creates the table and its index like the others).
 */
/** The key schema lives in TABLES (core/topology.ts); a test keeps its projection equal to ENDING_CONTRACT_FIELDS. */
export const CONTRACTS_TABLE = TABLES.contracts;

/** Index partitions; each sweep query reads each of them once. Enough to spread a bulk import's index writes. */
export const DEFAULT_CONTRACT_END_SHARDS = 4;

const { endIndex } = CONTRACTS_TABLE;
/** Fields that exist only in the table (index keys), not in the domain type. */
const STORAGE_FIELDS = [endIndex.partitionKey, endIndex.sortKey] as const;
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

  upsertFromEvent(next: Contract, baseVersion: string | undefined): Promise<boolean> {
    return writeIfCondition(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: isRunning(next.status) ? { ...next, ...this.indexKeys(next.contractId, next.endsAt) } : { ...next },
          ...(baseVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(contractId)' }
            : {
                ConditionExpression: '#version = :base AND #version < :next',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':base': baseVersion, ':next': next.version },
              }),
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
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { contractId },
          UpdateExpression: `SET ${sets.join(', ')} REMOVE cancellationReason`,
          ConditionExpression: 'attribute_exists(contractId) AND #version < :at',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  markCancelled(contractId: string, change: { at: string; outcome: ContractOutcome; reason?: string }): Promise<boolean> {
    const reason = change.reason !== undefined;
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { contractId },
          UpdateExpression:
            `SET #status = :cancelled, outcome = :outcome, #version = :at, updatedAt = :at${reason ? ', cancellationReason = :reason' : ''} ` +
            `REMOVE ${endIndex.partitionKey}, ${endIndex.sortKey}`,
          ConditionExpression: '#status IN (:active, :renewed) AND #version < :at',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: {
            ':cancelled': 'CANCELLED',
            ':active': 'ACTIVE',
            ':renewed': 'RENEWED',
            ':outcome': change.outcome,
            ':at': change.at,
            ...(reason ? { ':reason': change.reason } : {}),
          },
        }),
      ),
    );
  }

  markEnded(contractId: string, change: { endDate: string; at: string; outcome: ContractOutcome }): Promise<boolean> {
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { contractId },
          UpdateExpression: `SET #status = :ended, outcome = :outcome, updatedAt = :at REMOVE ${endIndex.partitionKey}, ${endIndex.sortKey}`,
          ConditionExpression: '#status IN (:active, :renewed) AND endDate = :endDate',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':ended': 'ENDED',
            ':active': 'ACTIVE',
            ':renewed': 'RENEWED',
            ':outcome': change.outcome,
            ':at': change.at,
            ':endDate': change.endDate,
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

function toContract(item: Record<string, unknown>): Contract {
  const copy = { ...item };
  for (const field of STORAGE_FIELDS) delete copy[field];
  return copy as unknown as Contract;
}

function toEndingContract(item: Record<string, unknown>): EndingContract {
  const present = ENDING_CONTRACT_FIELDS.filter((field) => item[field] !== undefined);
  return Object.fromEntries(present.map((field) => [field, item[field]])) as unknown as EndingContract;
}
