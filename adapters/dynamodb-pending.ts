/**
 * The pending metric counts on an entity item (core/metrics/counters.ts): `metricsPending`, a list of counter changes
 * appended by the entity's own state write, and `metricsLease` `{ token, until }`, held by whoever settles them.
 * The entity adapters (touchpoints, contracts, customers) add `pendingAppend` to the UpdateExpression of their
 * conditional state write; DynamoDbPendingCounts (below) claims, trims and releases, and lists the entities whose
 * settler stopped (the sparse `byPendingCounts` index, TABLES in core/topology.ts). Responses put their pending counts
 * with the new item instead and are settled through their own pending index (adapters/dynamodb-responses.ts).
 */
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CountLease, CounterChange, RecordKey, StalePendingCounts } from '../core/metrics/counters.ts';
import { toUtcIso } from '../core/schedule.ts';
import { TABLES } from '../core/topology.ts';
import { createDocumentClient, isConditionFailure, writeIfCondition } from './dynamodb-client.ts';

export const PENDING_ATTRIBUTE = 'metricsPending';
export const LEASE_ATTRIBUTE = 'metricsLease';

/** The same index on touchpoints, contracts and customers. */
const STALE_INDEX = TABLES.touchpoints.pendingCountsIndex;
/** The index keys: present exactly while the entity has pending counts (appended by pendingAppend, removed by complete). */
export const COUNTS_PENDING_ATTRIBUTE = STALE_INDEX.partitionKey;
export const COUNTS_PENDING_SINCE_ATTRIBUTE = STALE_INDEX.sortKey;
/** The only value of the index's partition key: the index holds a handful of items at a time. */
const COUNTS_PENDING = '1';

/** Every attribute of an entity item that belongs to its pending counts, not to the entity (read mappers drop them). */
export const PENDING_COUNTS_ATTRIBUTES = [PENDING_ATTRIBUTE, LEASE_ATTRIBUTE, COUNTS_PENDING_ATTRIBUTE, COUNTS_PENDING_SINCE_ATTRIBUTE] as const;

/**
 * The `SET` clause that appends `changes` to the entity's pending list (creating it), with its values, and lists the
 * entity in the `byPendingCounts` index since `at` (the write's time; an entity already listed keeps its earlier
 * time). Use it in the same UpdateItem as the state change: `SET status = :s, ${clause.set}`. Returns undefined for no
 * changes (append nothing, do not create an empty list, do not list the entity).
 *
 * `at` only decides when the recovery sweep looks at the entity (core/metrics/settle-stale.ts): an early time (an old
 * event's) makes it look sooner, which is harmless because the sweep settles through the same lease as the writer.
 */
export function pendingAppend(changes: readonly CounterChange[], at: string): { set: string; values: Record<string, unknown> } | undefined {
  if (changes.length === 0) return undefined;
  return {
    set:
      `${PENDING_ATTRIBUTE} = list_append(if_not_exists(${PENDING_ATTRIBUTE}, :noPendingCounts), :pendingCounts), ` +
      `${COUNTS_PENDING_ATTRIBUTE} = :countsPending, ` +
      `${COUNTS_PENDING_SINCE_ATTRIBUTE} = if_not_exists(${COUNTS_PENDING_SINCE_ATTRIBUTE}, :countsPendingSince)`,
    values: {
      ':noPendingCounts': [],
      ':pendingCounts': changes.map((c) => ({ id: c.id, record: c.record, counters: c.counters })),
      ':countsPending': COUNTS_PENDING,
      // The index sorts the text: one format (UTC, milliseconds) whatever zone the event was written in.
      ':countsPendingSince': toUtcIso(at),
    },
  };
}

/** The pending list and the lease as an entity item holds them (absent: none). */
export function pendingOf(item: Record<string, unknown> | undefined): { changes: CounterChange[]; lease?: CountLease } {
  const raw = item?.[PENDING_ATTRIBUTE];
  const changes = Array.isArray(raw)
    ? raw.map((c: { id: string; record: RecordKey; counters: Record<string, unknown> }) => ({
        id: String(c.id),
        record: c.record,
        counters: Object.fromEntries(Object.entries(c.counters ?? {}).map(([name, n]) => [name, Number(n)])),
      }))
    : [];
  const lease = item?.[LEASE_ATTRIBUTE] as CountLease | undefined;
  return lease ? { changes, lease: { token: String(lease.token), until: String(lease.until) } } : { changes };
}

const INDEX_NAMES = { '#countsPending': COUNTS_PENDING_ATTRIBUTE, '#countsPendingSince': COUNTS_PENDING_SINCE_ATTRIBUTE };

/** List elements removed per UpdateItem (an UpdateExpression has at most 4 KB). */
const REMOVE_CHUNK = 100;

/**
 * The pending counts of the entities of one table (any table whose items carry `metricsPending`/`metricsLease`),
 * keyed by its partition key. `listStale` and `unlist` need the table's `byPendingCounts` index (touchpoints,
 * contracts, customers).
 *
 * Expressions, checked on dynalite and as DynamoDB documents them:
 * - `size(metricsPending) > :zero` on a list, and `metricsLease.#until <= :now` / `metricsLease.#token = :token` on a
 *   nested map attribute: both engines evaluate them as written (a missing attribute makes the comparison false).
 * - `REMOVE metricsPending[i], …`: DynamoDB resolves every index against the list before the update; dynalite
 *   splices them one after the other, so `[0], [1]` would remove the 1st and the 3rd element there. Listing the
 *   indexes in descending order removes the same elements in both.
 */
export class DynamoDbPendingCounts implements StalePendingCounts {
  constructor(
    private readonly tableName: string,
    private readonly partitionKeyName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async claim(entityId: string, lease: CountLease, now: string): Promise<CounterChange[] | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [this.partitionKeyName]: entityId },
          UpdateExpression: 'SET #lease = :lease',
          ConditionExpression:
            'attribute_exists(#pk) AND size(#pending) > :zero AND (attribute_not_exists(#lease) OR #lease.#until <= :now)',
          ExpressionAttributeNames: { '#pk': this.partitionKeyName, '#pending': PENDING_ATTRIBUTE, '#lease': LEASE_ATTRIBUTE, '#until': 'until' },
          ExpressionAttributeValues: { ':lease': { token: lease.token, until: lease.until }, ':zero': 0, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return pendingOf(Attributes).changes;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async complete(entityId: string, token: string, count: number): Promise<{ remaining: CounterChange[] } | 'lost'> {
    const key = { [this.partitionKeyName]: entityId };
    const leaseNames = { '#lease': LEASE_ATTRIBUTE, '#token': 'token' };
    let remaining: CounterChange[] | undefined;
    for (let left = count; left > 0; left -= REMOVE_CHUNK) {
      const chunk = Math.min(left, REMOVE_CHUNK);
      const paths = Array.from({ length: chunk }, (_, i) => `#pending[${chunk - 1 - i}]`);
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: `REMOVE ${paths.join(', ')}`,
            ConditionExpression: '#lease.#token = :token AND size(#pending) >= :chunk',
            ExpressionAttributeNames: { ...leaseNames, '#pending': PENDING_ATTRIBUTE },
            ExpressionAttributeValues: { ':token': token, ':chunk': chunk },
            ReturnValues: 'ALL_NEW',
          }),
        );
        remaining = pendingOf(Attributes).changes;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Not ours any more — or (a bug elsewhere) fewer changes than we applied: either way, nothing of ours to trim.
        return 'lost';
      }
    }
    if (remaining === undefined) {
      const current = await this.read(entityId);
      if (current.lease?.token !== token) return 'lost';
      remaining = current.changes;
    }
    if (remaining.length > 0) return { remaining };
    const released = await writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          // Off the stale index too, in the same write: listed exactly while changes are pending.
          UpdateExpression: 'REMOVE #pending, #lease, #countsPending, #countsPendingSince',
          ConditionExpression: '#lease.#token = :token AND size(#pending) = :zero',
          ExpressionAttributeNames: { ...leaseNames, '#pending': PENDING_ATTRIBUTE, ...INDEX_NAMES },
          ExpressionAttributeValues: { ':token': token, ':zero': 0 },
        }),
      ),
    );
    if (released) return { remaining: [] };
    // Changes were appended after the trim (the lease is still ours then): settle them too.
    const current = await this.read(entityId);
    if (current.lease?.token !== token) return 'lost';
    return { remaining: current.changes };
  }

  async listStale(olderThan: string, limit: number): Promise<string[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: STALE_INDEX.name,
        KeyConditionExpression: '#countsPending = :countsPending AND #countsPendingSince <= :olderThan',
        ExpressionAttributeNames: { ...INDEX_NAMES, '#pk': this.partitionKeyName },
        ExpressionAttributeValues: { ':countsPending': COUNTS_PENDING, ':olderThan': toUtcIso(olderThan) },
        ProjectionExpression: '#pk',
        Limit: limit,
      }),
    );
    return Items.map((item) => String(item[this.partitionKeyName]));
  }

  async unlist(entityId: string): Promise<boolean> {
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [this.partitionKeyName]: entityId },
          // Only the index keys: an empty list and a lease are a settler's to remove (it may be between its two writes).
          UpdateExpression: 'REMOVE #countsPending, #countsPendingSince',
          ConditionExpression: 'attribute_exists(#pk) AND attribute_exists(#countsPending) AND (attribute_not_exists(#pending) OR size(#pending) = :zero)',
          ExpressionAttributeNames: { ...INDEX_NAMES, '#pk': this.partitionKeyName, '#pending': PENDING_ATTRIBUTE },
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      ),
    );
  }

  private async read(entityId: string): Promise<{ changes: CounterChange[]; lease?: CountLease }> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [this.partitionKeyName]: entityId },
        ConsistentRead: true,
        ProjectionExpression: '#pending, #lease',
        ExpressionAttributeNames: { '#pending': PENDING_ATTRIBUTE, '#lease': LEASE_ATTRIBUTE },
      }),
    );
    return pendingOf(Item);
  }
}
