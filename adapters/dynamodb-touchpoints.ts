import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import type { Touchpoint, TouchpointStatus } from '../core/model.ts';
import type { DuePage, DueTouchpoint, TouchpointRepository, TouchpointTransition } from '../core/ports.ts';
import { TABLES } from '../core/topology.ts';
import { shardOf } from '../core/touchpoint-id.ts';
import { createDocumentClient, writeIfCondition } from './dynamodb-client.ts';
import { PENDING_COUNTS_ATTRIBUTES, pendingAppend } from './dynamodb-pending.ts';

const { dueIndex, customerIndex } = TABLES.touchpoints;
/** Ended touchpoints stay this long (frequency caps and forecasts read them), then DynamoDB TTL removes them. */
const RETENTION_DAYS = 400;

/** The byDue sort key of a touchpoint due (or leased, or waiting for confirmation) until `at`. */
export const dueKeyOf = (at: string, touchpointId: string) => `${at}#${touchpointId}`;
/** The byDue attributes a PENDING touchpoint carries: its shard (a string) and its due key. */
export const dueIndexAttributes = (touchpointId: string, dueAt: string, shards: number) => ({
  dueShard: String(shardOf(touchpointId, shards)),
  dueKey: dueKeyOf(dueAt, touchpointId),
});
const expiresAt = (at: string) => Math.floor(DateTime.fromISO(at, { zone: 'utc' }).plus({ days: RETENTION_DAYS }).toSeconds());

/** Fields that live only in the table (index keys, TTL, pending metric counts), not in the domain type. */
export const STORAGE_FIELDS = ['dueShard', 'dueKey', 'expiresAt', 'dispatchedAt', ...PENDING_COUNTS_ATTRIBUTES] as const;

export class DynamoDbTouchpointRepository implements TouchpointRepository {
  constructor(
    private readonly tableName: string,
    private readonly shards: number,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async get(touchpointId: string): Promise<Touchpoint | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { touchpointId }, ConsistentRead: true }));
    return Item ? toTouchpoint(Item) : undefined;
  }

  async create(touchpoint: Touchpoint): Promise<boolean> {
    return writeIfCondition(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          // Only a PENDING touchpoint enters the sparse due index; one that starts ended (HELD_OUT) expires like ended ones.
          Item:
            touchpoint.status === 'PENDING'
              ? { ...touchpoint, ...dueIndexAttributes(touchpoint.touchpointId, touchpoint.dueAt, this.shards) }
              : { ...touchpoint, expiresAt: expiresAt(touchpoint.createdAt) },
          ConditionExpression: 'attribute_not_exists(touchpointId)',
        }),
      ),
    );
  }

  async listDue(shard: number, now: string, limit: number): Promise<DueTouchpoint[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: dueIndex.name,
        KeyConditionExpression: '#shard = :shard AND #key <= :upTo',
        ExpressionAttributeNames: { '#shard': dueIndex.partitionKey, '#key': dueIndex.sortKey },
        // '~' sorts after every id character, so every item due at or before `now` is included.
        ExpressionAttributeValues: { ':shard': String(shard), ':upTo': `${now}#~` },
        Limit: limit,
      }),
    );
    return Items.map(toDueTouchpoint);
  }

  async listDueBefore(shard: number, until: string, limit: number, startKey?: string): Promise<DuePage> {
    const { Items = [], LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: dueIndex.name,
        KeyConditionExpression: '#shard = :shard AND #key <= :upTo',
        ExpressionAttributeNames: { '#shard': dueIndex.partitionKey, '#key': dueIndex.sortKey },
        ExpressionAttributeValues: { ':shard': String(shard), ':upTo': `${until}#~` },
        Limit: limit,
        ...(startKey !== undefined ? { ExclusiveStartKey: JSON.parse(startKey) as Record<string, unknown> } : {}),
      }),
    );
    return { items: Items.map(toDueTouchpoint), ...(LastEvaluatedKey ? { nextKey: JSON.stringify(LastEvaluatedKey) } : {}) };
  }

  async listByCustomer(customerId: string): Promise<Touchpoint[]> {
    const touchpoints: Touchpoint[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: customerIndex.name,
          KeyConditionExpression: 'customerId = :c',
          ExpressionAttributeValues: { ':c': customerId },
          ExclusiveStartKey: start,
        }),
      );
      touchpoints.push(...(page.Items ?? []).map(toTouchpoint));
      start = page.LastEvaluatedKey;
    } while (start);
    return touchpoints;
  }

  claimForDispatch(t: Parameters<TouchpointRepository['claimForDispatch']>[0]): Promise<boolean> {
    const redispatch = t.redispatch === undefined ? '' : `, generation = generation + :one, ${t.redispatch} = if_not_exists(${t.redispatch}, :zero) + :one`;
    return this.transition(t, {
      update: `SET #status = :dispatched, dueKey = :lease, dispatchedAt = :at, updatedAt = :at${redispatch}`,
      condition: '#status = :from AND generation = :g',
      values: {
        ':dispatched': 'DISPATCHED',
        ':from': t.from,
        ':lease': dueKeyOf(t.leaseUntil, t.touchpointId),
        ...(t.redispatch === undefined ? {} : { ':one': 1, ':zero': 0 }),
      },
    });
  }

  claimForSending(t: Parameters<TouchpointRepository['claimForSending']>[0]): Promise<boolean> {
    return this.transition(t, {
      update: 'SET #status = :sending, dueKey = :lease, attemptId = :attempt, sendPlan = :plan, updatedAt = :at',
      condition: '#status = :dispatched AND generation = :g',
      values: { ':sending': 'SENDING', ':dispatched': 'DISPATCHED', ':lease': dueKeyOf(t.leaseUntil, t.touchpointId), ':attempt': t.attemptId, ':plan': t.sendPlan },
    });
  }

  markUnconfirmed(t: Parameters<TouchpointRepository['markUnconfirmed']>[0]): Promise<boolean> {
    return this.transition(t, {
      update: 'SET #status = :unconfirmed, dueKey = :until, reason = :reason, updatedAt = :at',
      condition: '#status = :sending AND generation = :g',
      values: { ':unconfirmed': 'UNCONFIRMED', ':sending': 'SENDING', ':until': dueKeyOf(t.until, t.touchpointId), ':reason': t.reason },
    });
  }

  reschedule(t: TouchpointTransition & { dueAt: string; reason: string; sendDeferrals?: number }): Promise<boolean> {
    const deferrals = t.sendDeferrals === undefined ? '' : ', sendDeferrals = :deferrals';
    return this.transition(t, {
      update: `SET #status = :pending, dueAt = :due, dueKey = :dueKey, generation = generation + :one, reason = :reason, updatedAt = :at${deferrals}`,
      condition: '#status IN (:dispatched, :sending) AND generation = :g',
      values: {
        ':pending': 'PENDING',
        ':dispatched': 'DISPATCHED',
        ':sending': 'SENDING',
        ':due': t.dueAt,
        ':dueKey': dueKeyOf(t.dueAt, t.touchpointId),
        ':one': 1,
        ':reason': t.reason,
        ...(t.sendDeferrals === undefined ? {} : { ':deferrals': t.sendDeferrals }),
      },
    });
  }

  complete(t: Parameters<TouchpointRepository['complete']>[0]): Promise<boolean> {
    const sets = ['#status = :status', 'updatedAt = :at', 'expiresAt = :expires'];
    const values: Record<string, unknown> = {
      ':status': t.status,
      ':dispatched': 'DISPATCHED',
      ':sending': 'SENDING',
      ':unconfirmed': 'UNCONFIRMED',
      ':expires': expiresAt(t.at),
    };
    if (t.status === 'SENT') {
      sets.push('sentAt = :at', 'messageId = :messageId');
      values[':messageId'] = t.messageId;
    }
    if (t.status === 'SENT' && t.surveySend) {
      // The send's count rides on the SENT write itself: recorded once, counted once (core/metrics/counters.ts).
      sets.push('surveyKind = :surveyKind');
      values[':surveyKind'] = t.surveySend.surveyKind;
      const append = pendingAppend(t.surveySend.pendingCounts, t.at);
      if (append) {
        sets.push(append.set);
        Object.assign(values, append.values);
      }
    }
    if (t.reason !== undefined) {
      sets.push('reason = :reason');
      values[':reason'] = t.reason;
    }
    return this.transition(t, {
      update: `SET ${sets.join(', ')} REMOVE dueShard, dueKey`,
      // SKIPPED only ever follows DISPATCHED; SENT follows SENDING or UNCONFIRMED (SES's Send event); FAILED any of them.
      condition: '#status IN (:dispatched, :sending, :unconfirmed) AND generation = :g',
      values,
    });
  }

  async cancel(touchpointId: string, reason: string, at: string): Promise<boolean> {
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { touchpointId },
          UpdateExpression: 'SET #status = :cancelled, reason = :reason, updatedAt = :at, expiresAt = :expires REMOVE dueShard, dueKey',
          ConditionExpression: '#status IN (:pending, :dispatched, :unconfirmed)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':cancelled': 'CANCELLED',
            ':pending': 'PENDING',
            ':dispatched': 'DISPATCHED',
            ':unconfirmed': 'UNCONFIRMED',
            ':reason': reason,
            ':at': at,
            ':expires': expiresAt(at),
          },
        }),
      ),
    );
  }

  async revive(touchpoint: Touchpoint): Promise<boolean> {
    const stored = await this.get(touchpoint.touchpointId);
    if (stored?.status !== 'CANCELLED' || touchpoint.status !== 'PENDING') return false;
    const generation = stored.generation + 1;
    return writeIfCondition(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...touchpoint,
            generation,
            createdAt: stored.createdAt,
            ...dueIndexAttributes(touchpoint.touchpointId, touchpoint.dueAt, this.shards),
          },
          ConditionExpression: '#status = :cancelled AND generation = :generation',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':cancelled': 'CANCELLED', ':generation': stored.generation },
        }),
      ),
    );
  }

  /** A conditional update on status and generation; false when the touchpoint had moved on. */
  private async transition(
    t: TouchpointTransition,
    spec: { update: string; condition: string; values: Record<string, unknown> },
  ): Promise<boolean> {
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { touchpointId: t.touchpointId },
          UpdateExpression: spec.update,
          ConditionExpression: spec.condition,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ...spec.values, ':g': t.generation, ':at': t.at },
        }),
      ),
    );
  }
}

function toDueTouchpoint(item: Record<string, unknown>): DueTouchpoint {
  return {
    touchpointId: item.touchpointId as string,
    kind: item.kind as DueTouchpoint['kind'],
    generation: item.generation as number,
    dueAt: item.dueAt as string,
    status: item.status as TouchpointStatus,
  };
}

/** A stored item as the domain type: without the storage-only fields. */
export function toTouchpoint(item: Record<string, unknown>): Touchpoint {
  const copy = { ...item };
  for (const field of STORAGE_FIELDS) delete copy[field];
  return copy as unknown as Touchpoint;
}
