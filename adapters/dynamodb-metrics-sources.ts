/**
 * The raw items `outreach metrics rebuild` recomputes the metric records from (core/metrics/rebuild.ts
 * MetricsRawSources): paginated Scans of the touchpoints, responses, contracts and customers tables.
 *
 * Each Scan projects only the attributes the rebuild needs (ProjectionExpression) — ids, kinds, times, outcomes,
 * purchase references and the pending counts — never an email, a name or a comment, and filters out the items that
 * neither count nor hold pending changes. A filter saves transfer, not capacity: a Scan reads (and is billed for)
 * every item of the table. Nothing here logs.
 */
import { ScanCommand, type DynamoDBDocumentClient, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { PendingCountsStore } from '../core/metrics/counters.ts';
import type { PurchaseHistory, RecordedOutcome } from '../core/metrics/model.ts';
import type {
  EntityCounts,
  EntityTable,
  MetricsRawSources,
  RawContract,
  RawCustomer,
  RawResponse,
  RawTouchpoint,
} from '../core/metrics/rebuild.ts';
import type { SurveyKind } from '../core/surveys/scales.ts';
import { TABLES } from '../core/topology.ts';
import { createDocumentClient } from './dynamodb-client.ts';
import { DynamoDbPendingCounts, LEASE_ATTRIBUTE, PENDING_ATTRIBUTE, pendingOf } from './dynamodb-pending.ts';

type Item = Record<string, unknown>;

export type EntityTableNames = Record<EntityTable, string>;

/** The metric bookkeeping of an item: the records its pending changes count in, and its lease. */
function countsOf(item: Item): EntityCounts {
  const { changes, lease } = pendingOf(item);
  return lease ? { pending: changes.map((c) => c.record), lease } : { pending: changes.map((c) => c.record) };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function rawTouchpointOf(item: Item): RawTouchpoint {
  const context = item.context as Item | undefined;
  const surveyKind = text(item.surveyKind) as SurveyKind | undefined;
  const sentAt = text(item.sentAt);
  const parent = text(context?.parentTouchpointId);
  return {
    touchpointId: String(item.touchpointId),
    campaignId: String(item.campaignId),
    kind: String(item.kind),
    status: String(item.status),
    ...(surveyKind ? { surveyKind } : {}),
    ...(sentAt ? { sentAt } : {}),
    ...(parent !== undefined ? { parentTouchpointId: parent } : {}),
    ...countsOf(item),
  };
}

export function rawResponseOf(item: Item): RawResponse {
  const surveySentAt = text(item.surveySentAt);
  return {
    surveyId: String(item.surveyId),
    campaignId: String(item.campaignId),
    kind: String(item.kind) as SurveyKind,
    ...(surveySentAt ? { surveySentAt } : {}),
    ...countsOf(item),
  };
}

export function rawContractOf(item: Item): RawContract {
  const outcomes = Array.isArray(item.outcomes) ? (item.outcomes as RecordedOutcome[]) : [];
  return { contractId: String(item.contractId), outcomes, ...countsOf(item) };
}

export function rawCustomerOf(item: Item): RawCustomer {
  const purchases = item.purchases as PurchaseHistory | undefined;
  return { customerId: String(item.customerId), ...(purchases?.first ? { purchases } : {}), ...countsOf(item) };
}

/**
 * What each table's Scan reads: the attributes (by placeholder) and the filter. `#pending` / `#lease` are the
 * pending-counts attributes every entity item may carry.
 */
const SCANS: Readonly<Record<EntityTable, { names: Record<string, string>; projection: string; filter: string }>> = {
  touchpoints: {
    names: {
      '#id': TABLES.touchpoints.partitionKey,
      '#campaign': 'campaignId',
      '#kind': 'kind',
      '#status': 'status',
      '#surveyKind': 'surveyKind',
      '#sentAt': 'sentAt',
      '#context': 'context',
      '#parent': 'parentTouchpointId',
    },
    projection: '#id, #campaign, #kind, #status, #surveyKind, #sentAt, #context.#parent',
    // surveyKind is written only with SENT (a survey, not a reminder): every other touchpoint is left on the server.
    filter: 'attribute_exists(#surveyKind)',
  },
  responses: {
    names: { '#id': TABLES.responses.partitionKey, '#campaign': 'campaignId', '#kind': 'kind', '#sentAt': 'surveySentAt' },
    projection: '#id, #campaign, #kind, #sentAt',
    filter: 'attribute_exists(#sentAt)',
  },
  contracts: {
    names: { '#id': TABLES.contracts.partitionKey, '#outcomes': 'outcomes' },
    projection: '#id, #outcomes',
    filter: 'attribute_exists(#outcomes)',
  },
  customers: {
    names: { '#id': TABLES.customers.partitionKey, '#purchases': 'purchases' },
    projection: '#id, #purchases',
    filter: 'attribute_exists(#purchases)',
  },
};

const COUNTS_NAMES = { '#pending': PENDING_ATTRIBUTE, '#lease': LEASE_ATTRIBUTE };

export class DynamoDbMetricsSources implements MetricsRawSources {
  constructor(
    private readonly tables: EntityTableNames,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
    /** Items per Scan page (DynamoDB's own limit, 1 MB, when absent); tests set it small to exercise paging. */
    private readonly options: { pageSize?: number } = {},
  ) {}

  /** The pending counts of one entity table (for settling them before the rebuild reads). */
  pending(table: EntityTable): PendingCountsStore {
    return new DynamoDbPendingCounts(this.tables[table], TABLES[table].partitionKey, this.db);
  }

  async *pendingEntities(table: EntityTable): AsyncIterable<string> {
    const key = TABLES[table].partitionKey;
    for await (const item of this.scan({
      TableName: this.tables[table],
      ProjectionExpression: '#id',
      FilterExpression: 'size(#pending) > :zero',
      ExpressionAttributeNames: { '#id': key, '#pending': PENDING_ATTRIBUTE },
      ExpressionAttributeValues: { ':zero': 0 },
    })) {
      yield String(item[key]);
    }
  }

  touchpoints(): AsyncIterable<RawTouchpoint> {
    return this.entities('touchpoints', rawTouchpointOf);
  }

  responses(): AsyncIterable<RawResponse> {
    return this.entities('responses', rawResponseOf);
  }

  contracts(): AsyncIterable<RawContract> {
    return this.entities('contracts', rawContractOf);
  }

  customers(): AsyncIterable<RawCustomer> {
    return this.entities('customers', rawCustomerOf);
  }

  private async *entities<T>(table: EntityTable, parse: (item: Item) => T): AsyncIterable<T> {
    const scan = SCANS[table];
    for await (const item of this.scan({
      TableName: this.tables[table],
      ProjectionExpression: `${scan.projection}, #pending, #lease`,
      FilterExpression: `${scan.filter} OR attribute_exists(#pending)`,
      ExpressionAttributeNames: { ...scan.names, ...COUNTS_NAMES },
    })) {
      yield parse(item);
    }
  }

  /** Every item of a consistent Scan, page by page. */
  private async *scan(input: ScanCommandInput): AsyncIterable<Item> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          ...input,
          ConsistentRead: true,
          ...(this.options.pageSize ? { Limit: this.options.pageSize } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) yield item;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}
