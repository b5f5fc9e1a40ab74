/**
 * The operator's port (core/use-cases/operate-touchpoints.ts) on the touchpoints table.
 *
 * Read cost, per request (on-demand; an eventually consistent read unit covers 8 KB of items read):
 *  - list FAILED, SENT, SKIPPED, CANCELLED, HELD_OUT: a **Scan** of the whole table with a FilterExpression on the
 *    status, paged (1 MB per page) and projected to the listed fields. No index holds these statuses (byDue is sparse:
 *    only PENDING and in-flight touchpoints; byCustomer is per customer), so the Scan reads, and is billed for, every
 *    item in the table, ended ones included (they are kept RETENTION_DAYS = 400 days): about size / 8 KB read units,
 *    e.g. ≈ 125,000 for 1,000,000 items of 1 KB, whatever `--limit`. The filter only shortens what comes back. Fine for
 *    an operator's command; never call it on a schedule. (A sparse status index would make it cost what it returns.)
 *  - list PENDING, DISPATCHED, SENDING, UNCONFIRMED: a **Query of byDue** on every shard (filtered on the status),
 *    which reads only the due index (pending and in-flight touchpoints, never the ended ones), then a BatchGetItem of
 *    the touchpoints it lists (by due: only the page; newest first: every match, for its updatedAt).
 *  - backlog: a Query of byDue per shard up to now + IN_FLIGHT_HORIZON, index rows only, ≤ 100,000 rows per shard.
 *  - redrive: one GetItem (the use case's) and one conditional UpdateItem per touchpoint.
 */
import { BatchGetCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Touchpoint, TouchpointStatus } from '../core/model.ts';
import type { DuePage } from '../core/ports.ts';
import { TABLES } from '../core/topology.ts';
import {
  compareRows,
  DuplicateSendRiskError,
  PageCollector,
  rowOf,
  type ListOrder,
  type ListPage,
  type RedriveWrite,
  type TouchpointOperations,
  type TouchpointRow,
} from '../core/use-cases/operate-touchpoints.ts';
import { createDocumentClient, writeIfCondition } from './dynamodb-client.ts';
import { DynamoDbTouchpointRepository, dueIndexAttributes, toTouchpoint } from './dynamodb-touchpoints.ts';

const { dueIndex } = TABLES.touchpoints;

/** Statuses the sparse byDue index holds (see adapters/dynamodb-touchpoints.ts): listed from it, not by a Scan. */
const IN_DUE_INDEX: readonly TouchpointStatus[] = ['PENDING', 'DISPATCHED', 'SENDING', 'UNCONFIRMED'];

/** The attributes a listed row needs (never the customer's id, address, name or the touchpoint's context). */
const ROW_FIELDS = ['touchpointId', 'campaignId', 'kind', 'status', 'dueAt', 'generation', 'updatedAt', 'reason', 'redrives', 'redrivenAt', 'unconfirmedResends'] as const;
const projection = () => ({
  ProjectionExpression: ROW_FIELDS.map((_, i) => `#f${i}`).join(', '),
  names: Object.fromEntries(ROW_FIELDS.map((field, i) => [`#f${i}`, field])),
});

/** Attributes a fresh PENDING touchpoint does not have, removed by a re-drive (TTL, leases, budgets, the old attempt). */
const CLEARED_BY_REDRIVE = ['reason', 'expiresAt', 'dispatchedAt', 'sendDeferrals', 'redispatches', 'unconfirmedResends', 'attemptId', 'sendPlan'] as const;

export class DynamoDbTouchpointOperations implements TouchpointOperations {
  private readonly repository: DynamoDbTouchpointRepository;

  constructor(
    private readonly tableName: string,
    readonly shards: number,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {
    this.repository = new DynamoDbTouchpointRepository(tableName, shards, db);
  }

  get(touchpointId: string): Promise<Touchpoint | undefined> {
    return this.repository.get(touchpointId);
  }

  dueIndexPage(shard: number, until: string, limit: number, startKey?: string): Promise<DuePage> {
    return this.repository.listDueBefore(shard, until, limit, startKey);
  }

  listByStatus(status: TouchpointStatus, options: { order: ListOrder; limit: number; after?: string }): Promise<ListPage> {
    return IN_DUE_INDEX.includes(status) ? this.listFromDueIndex(status, options) : this.listByScan(status, options);
  }

  private async listByScan(status: TouchpointStatus, options: { order: ListOrder; limit: number; after?: string }): Promise<ListPage> {
    const page = new PageCollector(options);
    const { ProjectionExpression, names } = projection();
    let start: Record<string, unknown> | undefined;
    do {
      const result = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          ProjectionExpression,
          FilterExpression: '#status = :status',
          ExpressionAttributeNames: { ...names, '#status': 'status' },
          ExpressionAttributeValues: { ':status': status },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of result.Items ?? []) page.add(rowOf(item as Touchpoint));
      start = result.LastEvaluatedKey;
    } while (start);
    return page.page();
  }

  private async listFromDueIndex(status: TouchpointStatus, options: { order: ListOrder; limit: number; after?: string }): Promise<ListPage> {
    const ids: Array<{ touchpointId: string; dueAt: string }> = [];
    await Promise.all(
      Array.from({ length: this.shards }, async (_, shard) => {
        let start: Record<string, unknown> | undefined;
        do {
          const result = await this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: dueIndex.name,
              KeyConditionExpression: '#shard = :shard',
              FilterExpression: '#status = :status',
              ProjectionExpression: 'touchpointId, dueAt',
              ExpressionAttributeNames: { '#shard': dueIndex.partitionKey, '#status': 'status' },
              ExpressionAttributeValues: { ':shard': String(shard), ':status': status },
              ExclusiveStartKey: start,
            }),
          );
          for (const item of result.Items ?? []) ids.push({ touchpointId: item.touchpointId as string, dueAt: item.dueAt as string });
          start = result.LastEvaluatedKey;
        } while (start);
      }),
    );
    // By due, the index rows order the page themselves (dueAt is projected): only the page is read from the table.
    if (options.order === 'due') {
      const byDue = new PageCollector(options);
      for (const id of ids) byDue.add({ ...id, updatedAt: id.dueAt } as TouchpointRow);
      const { items, next } = byDue.page();
      const rows = (await this.batchGet(items.map((i) => i.touchpointId))).filter((r) => r.status === status).sort(compareRows('due'));
      return next !== undefined ? { items: rows, next } : { items: rows };
    }
    const page = new PageCollector(options);
    for (const row of await this.batchGet(ids.map((i) => i.touchpointId))) if (row.status === status) page.add(row);
    return page.page();
  }

  private async batchGet(ids: readonly string[]): Promise<TouchpointRow[]> {
    const { ProjectionExpression, names } = projection();
    const rows: TouchpointRow[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Array<Record<string, unknown>> | undefined = ids.slice(i, i + 100).map((touchpointId) => ({ touchpointId }));
      for (let attempt = 0; keys && keys.length > 0; attempt += 1) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
        const result = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ProjectionExpression, ExpressionAttributeNames: names } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) rows.push(rowOf(toTouchpoint(item)));
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys as Array<Record<string, unknown>> | undefined;
      }
    }
    return rows;
  }

  async redrive(write: RedriveWrite): Promise<boolean> {
    if (write.from === 'UNCONFIRMED' && !write.acceptDuplicate) {
      throw new DuplicateSendRiskError(write.touchpointId, 'UNCONFIRMED: SES may have accepted the email (its answer was lost)');
    }
    // Without acceptDuplicate a FAILED touchpoint that had an unconfirmed send is not written either (the condition
    // says so; the use case reads it first and reports why).
    const guard = write.acceptDuplicate ? '' : ' AND (attribute_not_exists(unconfirmedResends) OR unconfirmedResends = :zero)';
    const { dueShard, dueKey } = dueIndexAttributes(write.touchpointId, write.at, this.shards);
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { touchpointId: write.touchpointId },
          UpdateExpression:
            'SET #status = :pending, dueAt = :at, dueShard = :shard, dueKey = :dueKey, generation = generation + :one, updatedAt = :at, ' +
            `redrivenAt = :at, redrives = if_not_exists(redrives, :zero) + :one REMOVE ${CLEARED_BY_REDRIVE.map((_, i) => `#c${i}`).join(', ')}`,
          ConditionExpression: `#status = :from AND generation = :g${guard}`,
          ExpressionAttributeNames: { '#status': 'status', ...Object.fromEntries(CLEARED_BY_REDRIVE.map((field, i) => [`#c${i}`, field])) },
          ExpressionAttributeValues: {
            ':pending': 'PENDING',
            ':from': write.from,
            ':g': write.generation,
            ':at': write.at,
            ':shard': dueShard,
            ':dueKey': dueKey,
            ':one': 1,
            ':zero': 0,
          },
        }),
      ),
    );
  }
}
