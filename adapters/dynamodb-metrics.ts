/**
 * The per-day metric records (core/metrics/model.ts, counters.ts) in the metrics table (TABLES.metrics), and the
 * reader the metrics view uses (core/metrics/read-metrics.ts).
 *
 * | series | record | holds |
 * |---|---|---|
 * | `sends#<campaignId>` | `<day>#<kind>` | `sent`, `answered` (+ `campaignId`, `day`, `kind`) |
 * | `outcomes` | `<day>` | `renewed_<segment>`, `churned_<segment>` (+ `day`) |
 * | `purchases` | `<day>` | `customers`, `repeat_<d>` (+ `day`) |
 * | `campaigns` | `<campaignId>` | the directory of survey campaigns (+ `campaignId`) |
 *
 * Counters are top-level numbers (`ADD` cannot create an entry of a nested map); `version` counts the writes of a
 * record (the rebuild's optimistic guard); `inflight#<change id>` markers exist only while a change is in flight.
 * Every other number on a record is a counter.
 */
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  outcomeRecordOf,
  purchaseRecordOf,
  sendRecordOf,
  type CounterChange,
  type MetricsCounterStore,
  type RecordKey,
} from '../core/metrics/counters.ts';
import type { MetricsReader } from '../core/metrics/read-metrics.ts';
import type { ContractOutcomeAggregate, PurchaseCohortAggregate, SurveySendAggregate } from '../core/metrics/model.ts';
import type { SurveyAggregate } from '../core/surveys/responses.ts';
import type { SurveyKind } from '../core/surveys/scales.ts';
import { TABLES } from '../core/topology.ts';
import { createDocumentClient, writeIfCondition } from './dynamodb-client.ts';
import { toAggregate } from './dynamodb-responses.ts';

/** The metrics table's key schema (TABLES in core/topology.ts). */
export const METRICS_TABLE = TABLES.metrics;

const SENDS_PREFIX = 'sends#';
const DIRECTORY = 'campaigns';
const MARKER_PREFIX = 'inflight#';
const VERSION = 'version';
/** Attributes of a record that are not counters, whatever their type. */
const RESERVED = new Set<string>([METRICS_TABLE.partitionKey, METRICS_TABLE.sortKey, VERSION, 'day', 'kind', 'campaignId']);
/** Sorts after every survey kind, so `<to>#~` closes a day range of `<day>#<kind>` keys. */
const AFTER_KINDS = '~';

type Item = Record<string, unknown>;
type SeriesName = RecordKey['series'];

/** A record as the rebuild reads it. */
export interface StoredMetricsRecord {
  key: RecordKey;
  /** Every counter on the record (zero ones included, if stored). */
  counters: Record<string, number>;
  /** Incremented by every apply and replace; 0 never appears on a stored record. */
  version: number;
  /** The change ids (without the `inflight#` prefix) of the changes in flight on the record. */
  markers: string[];
}

/** What `outreach metrics rebuild` (core/metrics/rebuild.ts) needs beyond MetricsCounterStore. */
export interface MetricsRecordAdmin {
  /** Every record of a series, read consistently (sends: every campaign of the directory). */
  listRecords(series: SeriesName): Promise<StoredMetricsRecord[]>;
  /**
   * Overwrites a record with exactly `counters` (zero counters left out), version + 1 and no markers, if its version
   * is still `expectedVersion` (undefined: the record does not exist). False when it changed meanwhile.
   */
  replaceRecord(key: RecordKey, counters: Record<string, number>, expectedVersion: number | undefined): Promise<boolean>;
  /** Puts a survey campaign in the directory the views list campaigns from (idempotent). */
  ensureCampaign(campaignId: string): Promise<void>;
}

export function recordItemKey(key: RecordKey): { series: string; record: string } {
  if (key.series === 'sends') return { series: `${SENDS_PREFIX}${key.campaignId}`, record: `${key.day}#${key.kind}` };
  return { series: key.series, record: key.day };
}

/** The plain attributes stored next to the counters, so an item reads without parsing its key. */
function plainAttributes(key: RecordKey): Item {
  return key.series === 'sends' ? { day: key.day, campaignId: key.campaignId, kind: key.kind } : { day: key.day };
}

export const markerAttribute = (changeId: string): string => `${MARKER_PREFIX}${changeId}`;

function recordKeyOf(item: Item): RecordKey | undefined {
  const series = String(item[METRICS_TABLE.partitionKey]);
  const record = String(item[METRICS_TABLE.sortKey]);
  if (series === 'outcomes' || series === 'purchases') return { series, day: record };
  if (!series.startsWith(SENDS_PREFIX)) return undefined;
  const [day, kind] = record.split('#');
  if (!day || !kind) return undefined;
  return { series: 'sends', campaignId: series.slice(SENDS_PREFIX.length), day, kind: kind as SurveyKind };
}

/** The counters of a stored record: its numbers, but not the version (markers are booleans, keys strings). */
export function countersOfItem(item: Item): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (typeof value === 'number' && !RESERVED.has(name) && !name.startsWith(MARKER_PREFIX)) counters[name] = value;
  }
  return counters;
}

function checkCounterName(name: string): void {
  if (RESERVED.has(name) || name.startsWith(MARKER_PREFIX) || name.length === 0) {
    throw new RangeError(`"${name}" cannot be a metric counter name`);
  }
}

/**
 * Campaign ids this process has put in each table's directory, so a container writes each one once, not once per
 * send. The Put is idempotent: a cold container writing it again changes nothing. Keyed by table and campaign.
 */
const directoryWrites = new Map<string, Promise<void>>();

/** Every page of a Query, in key order. */
async function queryAll(db: DynamoDBDocumentClient, input: ConstructorParameters<typeof QueryCommand>[0]): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * The counter records (MetricsCounterStore: the settlers of the pending counts) and the rebuild's access to them
 * (MetricsRecordAdmin) — one class, as both write the same items with the same version and marker rules.
 */
export class DynamoDbMetricsCounters implements MetricsCounterStore, MetricsRecordAdmin {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async apply(change: CounterChange): Promise<'applied' | 'already'> {
    if (change.record.series === 'sends') await this.ensureCampaign(change.record.campaignId);
    const names: Record<string, string> = { '#marker': markerAttribute(change.id), '#version': VERSION, '#day': 'day' };
    const values: Record<string, unknown> = { ':true': true, ':one': 1, ':day': change.record.day };
    const sets = ['#marker = :true', '#day = :day'];
    if (change.record.series === 'sends') {
      Object.assign(names, { '#campaignId': 'campaignId', '#kind': 'kind' });
      Object.assign(values, { ':campaignId': change.record.campaignId, ':kind': change.record.kind });
      sets.push('#campaignId = :campaignId', '#kind = :kind');
    }
    const adds = ['#version :one'];
    Object.entries(change.counters).forEach(([name, by], i) => {
      checkCounterName(name);
      names[`#c${i}`] = name;
      values[`:c${i}`] = by;
      adds.push(`#c${i} :c${i}`);
    });
    const applied = await writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: recordItemKey(change.record),
          UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#marker)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
    return applied ? 'applied' : 'already';
  }

  async release(change: CounterChange): Promise<void> {
    // Conditional, so releasing a marker that is not there does not create an empty record.
    await writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: recordItemKey(change.record),
          UpdateExpression: 'REMOVE #marker',
          ConditionExpression: 'attribute_exists(#marker)',
          ExpressionAttributeNames: { '#marker': markerAttribute(change.id) },
        }),
      ),
    );
  }

  async ensureCampaign(campaignId: string): Promise<void> {
    const id = `${this.tableName}\u0000${campaignId}`;
    let write = directoryWrites.get(id);
    if (!write) {
      write = this.db
        .send(new PutCommand({ TableName: this.tableName, Item: { series: DIRECTORY, record: campaignId, campaignId } }))
        .then(() => undefined);
      directoryWrites.set(id, write);
      // A failed Put is tried again by the next caller.
      write.catch(() => directoryWrites.delete(id));
    }
    await write;
  }

  async listRecords(series: SeriesName): Promise<StoredMetricsRecord[]> {
    const seriesKeys =
      series === 'sends' ? (await this.directory()).map((campaignId) => `${SENDS_PREFIX}${campaignId}`) : [series];
    const records: StoredMetricsRecord[] = [];
    for (const seriesKey of seriesKeys) {
      const items = await queryAll(this.db, {
        TableName: this.tableName,
        KeyConditionExpression: '#series = :series',
        ExpressionAttributeNames: { '#series': METRICS_TABLE.partitionKey },
        ExpressionAttributeValues: { ':series': seriesKey },
        ConsistentRead: true,
      });
      for (const item of items) {
        const key = recordKeyOf(item);
        if (!key) continue;
        records.push({
          key,
          counters: countersOfItem(item),
          version: Number(item[VERSION] ?? 0),
          markers: Object.keys(item)
            .filter((name) => name.startsWith(MARKER_PREFIX))
            .map((name) => name.slice(MARKER_PREFIX.length))
            .sort(),
        });
      }
    }
    return records;
  }

  async replaceRecord(key: RecordKey, counters: Record<string, number>, expectedVersion: number | undefined): Promise<boolean> {
    if (key.series === 'sends') await this.ensureCampaign(key.campaignId);
    const item: Item = { ...recordItemKey(key), ...plainAttributes(key), [VERSION]: (expectedVersion ?? 0) + 1 };
    for (const [name, n] of Object.entries(counters)) {
      checkCounterName(name);
      if (n !== 0) item[name] = n;
    }
    return writeIfCondition(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(#series)' : '#version = :version',
          ExpressionAttributeNames: expectedVersion === undefined ? { '#series': METRICS_TABLE.partitionKey } : { '#version': VERSION },
          ...(expectedVersion === undefined ? {} : { ExpressionAttributeValues: { ':version': expectedVersion } }),
        }),
      ),
    );
  }

  private directory(): Promise<string[]> {
    return readDirectory(this.db, this.tableName, true);
  }
}

async function readDirectory(db: DynamoDBDocumentClient, tableName: string, consistent: boolean, pageSize?: number): Promise<string[]> {
  const items = await queryAll(db, {
    TableName: tableName,
    KeyConditionExpression: '#series = :series',
    ExpressionAttributeNames: { '#series': METRICS_TABLE.partitionKey, '#record': METRICS_TABLE.sortKey },
    ExpressionAttributeValues: { ':series': DIRECTORY },
    ProjectionExpression: '#record',
    ...(consistent ? { ConsistentRead: true } : {}),
    ...(pageSize ? { Limit: pageSize } : {}),
  });
  return items.map((item) => String(item[METRICS_TABLE.sortKey])).sort();
}

/**
 * The records by day range, for the metrics view: one Query per series (all its pages), eventually consistent (a
 * view a second old is fine, and costs half). Days are inclusive; `<day>#<kind>` keys are bounded by `<from>#` and
 * `<to>#~`.
 */
export class DynamoDbMetricsReader implements MetricsReader {
  constructor(
    private readonly metricsTable: string,
    private readonly aggregatesTable: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
    /** Items per Query page (DynamoDB's own limit, 1 MB, when absent); tests set it small to exercise paging. */
    private readonly options: { pageSize?: number } = {},
  ) {}

  /**
   * The directory only. Every survey campaign with a counted record is in it: a send and a first answer are both
   * sends changes, and applying one (or the rebuild replacing one) puts the campaign there first. Answers never
   * exist without a send of their campaign, so a campaign with answers but not in the directory can only be one
   * whose counts were never settled — `outreach metrics rebuild` adds it.
   */
  async surveyCampaigns(): Promise<string[]> {
    return readDirectory(this.db, this.metricsTable, false, this.options.pageSize);
  }

  async surveySends(campaignId: string, from: string, to: string): Promise<SurveySendAggregate[]> {
    const items = await this.range(this.metricsTable, METRICS_TABLE, `${SENDS_PREFIX}${campaignId}`, `${from}#`, `${to}#${AFTER_KINDS}`);
    return items.flatMap((item) => {
      const key = recordKeyOf(item);
      return key?.series === 'sends' ? [sendRecordOf(key, countersOfItem(item))] : [];
    });
  }

  async contractOutcomes(from: string, to: string): Promise<ContractOutcomeAggregate[]> {
    const items = await this.range(this.metricsTable, METRICS_TABLE, 'outcomes', from, to);
    return items.map((item) => outcomeRecordOf(String(item[METRICS_TABLE.sortKey]), countersOfItem(item)));
  }

  async purchaseCohorts(from: string, to: string): Promise<PurchaseCohortAggregate[]> {
    const items = await this.range(this.metricsTable, METRICS_TABLE, 'purchases', from, to);
    return items.map((item) => purchaseRecordOf(String(item[METRICS_TABLE.sortKey]), countersOfItem(item)));
  }

  async surveyAnswers(campaignId: string, from: string, to: string): Promise<SurveyAggregate[]> {
    const items = await this.range(this.aggregatesTable, TABLES.surveyAggregates, campaignId, `${from}#`, `${to}#${AFTER_KINDS}`);
    return items.map((item) => {
      const { version: _version, ...aggregate } = toAggregate(item);
      return aggregate;
    });
  }

  private range(
    tableName: string,
    keys: { partitionKey: string; sortKey: string },
    partition: string,
    low: string,
    high: string,
  ): Promise<Item[]> {
    return queryAll(this.db, {
      TableName: tableName,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
      ExpressionAttributeNames: { '#pk': keys.partitionKey, '#sk': keys.sortKey },
      ExpressionAttributeValues: { ':pk': partition, ':low': low, ':high': high },
      ...(this.options.pageSize ? { Limit: this.options.pageSize } : {}),
    });
  }
}
