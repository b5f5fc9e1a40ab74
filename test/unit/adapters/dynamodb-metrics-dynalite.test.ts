/**
 * The metric records adapter against a real DynamoDB API (dynalite in this process, ephemeral port): counters
 * applied once per change id (marker), summed under concurrency, the campaign directory written once per campaign,
 * the reader's day ranges and pages, and the rebuild's listing and version-guarded replace.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbMetricsCounters, DynamoDbMetricsReader, recordItemKey } from '../../../adapters/dynamodb-metrics.ts';
import { DynamoDbSurveyAggregates } from '../../../adapters/dynamodb-responses.ts';
import type { CounterChange, RecordKey } from '../../../core/metrics/counters.ts';
import { readMetrics } from '../../../core/metrics/read-metrics.ts';
import { localTableNames, tableDefinitions, type TableNames } from '../../../local/dynamodb.ts';
import { startTestDynamo, type TestDynamo } from '../dynalite.ts';

let dynamo: TestDynamo;
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;
let tables = 0;
let names: TableNames;
let counters: DynamoDbMetricsCounters;
/** Requests sent since the last reset, as `<command> <table>`. */
let requests: string[] = [];

beforeAll(async () => {
  ({ dynamo, client } = await startTestDynamo());
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push(`${context.commandName} ${(args.input as { TableName?: string }).TableName}`);
      return next(args);
    },
    { step: 'initialize', name: 'recordRequests' },
  );
  db = createDocumentClient(client);
});

afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

beforeEach(async () => {
  tables += 1;
  names = localTableNames(`metrics-${tables}`);
  for (const definition of tableDefinitions(names).filter((d) => d.TableName === names.metrics || d.TableName === names.surveyAggregates)) {
    await client.send(new CreateTableCommand(definition));
  }
  counters = new DynamoDbMetricsCounters(names.metrics, db);
  requests = [];
});

const rawRecord = async (key: RecordKey) =>
  (await db.send(new GetCommand({ TableName: names.metrics, Key: recordItemKey(key), ConsistentRead: true }))).Item;

const SENDS: RecordKey = { series: 'sends', campaignId: 'nps-after-purchase', day: '2026-03-01', kind: 'nps' };
const change = (id: string, record: RecordKey, values: Record<string, number>): CounterChange => ({ id, record, counters: values });

describe('DynamoDbMetricsCounters on dynalite: apply and release', () => {
  it('adds the counters and sets the marker once; the same change again is already applied', async () => {
    const sent = change('t1:0', SENDS, { sent: 1 });

    expect(await counters.apply(sent)).toBe('applied');
    expect(await counters.apply(sent)).toBe('already');

    expect(await rawRecord(SENDS)).toEqual({
      series: 'sends#nps-after-purchase',
      record: '2026-03-01#nps',
      campaignId: 'nps-after-purchase',
      day: '2026-03-01',
      kind: 'nps',
      sent: 1,
      version: 1,
      'inflight#t1:0': true,
    });
  });

  it('release removes the marker only; releasing an absent marker creates nothing', async () => {
    const outcome: RecordKey = { series: 'outcomes', day: '2026-03-02' };
    await counters.apply(change('t1:0', outcome, { renewed_promoter: 1, churned_none: -1 }));

    await counters.release(change('t1:0', outcome, {}));
    await counters.release(change('t9:0', { series: 'purchases', day: '2026-03-02' }, {}));

    expect(await rawRecord(outcome)).toEqual({
      series: 'outcomes',
      record: '2026-03-02',
      day: '2026-03-02',
      renewed_promoter: 1,
      churned_none: -1,
      version: 1,
    });
    expect(await rawRecord({ series: 'purchases', day: '2026-03-02' })).toBeUndefined();
  });

  it('a released change can no longer be told from a new one, so a new id is applied again', async () => {
    await counters.apply(change('t1:0', SENDS, { sent: 1 }));
    await counters.release(change('t1:0', SENDS, {}));
    expect(await counters.apply(change('t2:0', SENDS, { sent: 1 }))).toBe('applied');
    expect(await rawRecord(SENDS)).toMatchObject({ sent: 2, version: 2 });
  });

  it('sums many different changes applied at once to the same record', async () => {
    const purchases: RecordKey = { series: 'purchases', day: '2026-03-03' };
    const changes = Array.from({ length: 40 }, (_, i) => change(`t${i}:0`, purchases, { customers: 1, ...(i % 4 === 0 ? { repeat_12: 1 } : {}) }));

    const results = await Promise.all(changes.map((c) => counters.apply(c)));

    expect(results.filter((r) => r === 'applied')).toHaveLength(40);
    expect(await rawRecord(purchases)).toMatchObject({ customers: 40, repeat_12: 10, version: 40 });
  });

  it('refuses a counter name that would overwrite a key or the version', async () => {
    await expect(counters.apply(change('t1:0', SENDS, { version: 1 }))).rejects.toThrow(RangeError);
    await expect(counters.apply(change('t1:0', SENDS, { series: 1 }))).rejects.toThrow(RangeError);
  });
});

describe('DynamoDbMetricsCounters on dynalite: the campaign directory', () => {
  it('puts a campaign in the directory once per process, however many sends it counts', async () => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => counters.apply(change(`t${i}:0`, { ...SENDS, day: `2026-03-${String(1 + i).padStart(2, '0')}` }, { sent: 1 }))));
    await counters.apply(change('u:0', { ...SENDS, campaignId: 'csat-after-support', kind: 'csat' }, { answered: 1 }));
    await counters.apply(change('o:0', { series: 'outcomes', day: '2026-03-01' }, { renewed_none: 1 }));

    expect(requests.filter((r) => r === `PutItemCommand ${names.metrics}`)).toHaveLength(2);
    expect(await new DynamoDbMetricsReader(names.metrics, names.surveyAggregates, db).surveyCampaigns()).toEqual(['csat-after-support', 'nps-after-purchase']);
  });

  it('ensureCampaign adds a campaign without any record (idempotent)', async () => {
    await counters.ensureCampaign('ces-onboarding');
    await new DynamoDbMetricsCounters(names.metrics, db).ensureCampaign('ces-onboarding');

    expect(await new DynamoDbMetricsReader(names.metrics, names.surveyAggregates, db).surveyCampaigns()).toEqual(['ces-onboarding']);
  });
});

describe('DynamoDbMetricsReader on dynalite', () => {
  const days = ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-15', '2026-03-31', '2026-04-01'];

  beforeEach(async () => {
    for (const [i, day] of days.entries()) {
      await counters.replaceRecord({ series: 'sends', campaignId: 'nps-after-purchase', day, kind: 'nps' }, { sent: 10 + i, answered: i }, undefined);
      await counters.replaceRecord({ series: 'outcomes', day }, { renewed_promoter: i + 1, churned_detractor: 1 }, undefined);
      await counters.replaceRecord({ series: 'purchases', day }, { customers: 5 + i, repeat_0: 1, repeat_30: i }, undefined);
    }
    // A campaign whose key sorts right after the first one: its records must not leak into it.
    await counters.replaceRecord({ series: 'sends', campaignId: 'nps-after-purchase-2', day: '2026-03-15', kind: 'nps' }, { sent: 99 }, undefined);
    const aggregates = new DynamoDbSurveyAggregates(names.surveyAggregates, db);
    for (const day of days) {
      await aggregates.replace(
        { campaignId: 'nps-after-purchase', day, kind: 'nps', responses: 2, scoreSum: 19, scores: { '9': 1, '10': 1 }, categories: { promoter: 2 } },
        undefined,
      );
    }
  });

  it('reads every record from the first to the last day, both inclusive, and nothing outside', async () => {
    const reader = new DynamoDbMetricsReader(names.metrics, names.surveyAggregates, db);
    const inRange = ['2026-02-28', '2026-03-01', '2026-03-15', '2026-03-31'];

    const sends = await reader.surveySends('nps-after-purchase', '2026-02-28', '2026-03-31');
    const answers = await reader.surveyAnswers('nps-after-purchase', '2026-02-28', '2026-03-31');
    const outcomes = await reader.contractOutcomes('2026-02-28', '2026-03-31');
    const purchases = await reader.purchaseCohorts('2026-02-28', '2026-03-31');

    expect(sends.map((s) => s.day)).toEqual(inRange);
    expect(sends[0]).toEqual({ campaignId: 'nps-after-purchase', day: '2026-02-28', kind: 'nps', sent: 11, answered: 1 });
    expect(answers.map((a) => a.day)).toEqual(inRange);
    expect(answers[0]).toEqual({ campaignId: 'nps-after-purchase', day: '2026-02-28', kind: 'nps', responses: 2, scoreSum: 19, scores: { '9': 1, '10': 1 }, categories: { promoter: 2 } });
    expect(outcomes.map((o) => o.day)).toEqual(inRange);
    expect(outcomes[1]).toEqual({
      day: '2026-03-01',
      renewed: { promoter: 3, passive: 0, detractor: 0, none: 0 },
      churned: { promoter: 0, passive: 0, detractor: 1, none: 0 },
    });
    expect(purchases.map((p) => p.day)).toEqual(inRange);
    expect(purchases[2]).toEqual({ day: '2026-03-15', customers: 8, repeatAfterDays: { '0': 1, '30': 3 } });
  });

  it('reads every page when a range needs more than one', async () => {
    const reader = new DynamoDbMetricsReader(names.metrics, names.surveyAggregates, db, { pageSize: 2 });

    const outcomes = await reader.contractOutcomes('2026-01-01', '2026-12-31');
    const sends = await reader.surveySends('nps-after-purchase', '2026-01-01', '2026-12-31');

    expect(outcomes.map((o) => o.day)).toEqual(days);
    expect(sends.map((s) => s.day)).toEqual(days);
    // 6 items in pages of 2: at least three pages per Query.
    expect(requests.filter((r) => r === `QueryCommand ${names.metrics}`).length).toBeGreaterThanOrEqual(2 * 3);
  });

  it('leaves markers and the version out of the counters', async () => {
    await counters.apply(change('in-flight:0', { series: 'purchases', day: '2026-03-01' }, { customers: 1 }));
    const reader = new DynamoDbMetricsReader(names.metrics, names.surveyAggregates, db);

    expect(await reader.purchaseCohorts('2026-03-01', '2026-03-01')).toEqual([{ day: '2026-03-01', customers: 8, repeatAfterDays: { '0': 1, '30': 2 } }]);
  });

  it('feeds readMetrics: one Query per series and per campaign, whatever the number of records', async () => {
    const reader = new DynamoDbMetricsReader(names.metrics, names.surveyAggregates, db);
    requests = [];

    const view = await readMetrics({ from: '2026-03-01', to: '2026-03-31' }, { reader, targets: { repeatPurchaseWindowDays: 90, targets: {} } });

    expect(view.result.overall.metrics.nps).toEqual({ value: 100, count: 6 });
    // 3 + 4 + 5 renewed of 15 terms ended in March.
    expect(view.result.overall.metrics.renewalRate).toEqual({ value: 80, count: 15 });
    expect(requests.sort()).toEqual(
      [
        `QueryCommand ${names.metrics}`, // directory
        `QueryCommand ${names.metrics}`, // sends#nps-after-purchase
        `QueryCommand ${names.metrics}`, // sends#nps-after-purchase-2
        `QueryCommand ${names.metrics}`, // outcomes
        `QueryCommand ${names.metrics}`, // purchases
        `QueryCommand ${names.surveyAggregates}`,
        `QueryCommand ${names.surveyAggregates}`,
      ].sort(),
    );
  });
});

describe('DynamoDbMetricsCounters on dynalite: the rebuild access', () => {
  it('lists the records of a series with their counters, version and markers; sends across the directory', async () => {
    await counters.apply(change('a:0', SENDS, { sent: 1 }));
    await counters.apply(change('b:0', SENDS, { sent: 1, answered: 1 }));
    await counters.release(change('a:0', SENDS, {}));
    await counters.apply(change('c:0', { ...SENDS, campaignId: 'csat-after-support', kind: 'csat' }, { sent: 1 }));
    await counters.apply(change('d:0', { series: 'outcomes', day: '2026-03-01' }, { churned_passive: 1 }));

    const sends = await counters.listRecords('sends');

    expect(sends).toEqual([
      { key: { series: 'sends', campaignId: 'csat-after-support', day: '2026-03-01', kind: 'csat' }, counters: { sent: 1 }, version: 1, markers: ['c:0'] },
      { key: SENDS, counters: { sent: 2, answered: 1 }, version: 2, markers: ['b:0'] },
    ]);
    expect(await counters.listRecords('outcomes')).toEqual([
      { key: { series: 'outcomes', day: '2026-03-01' }, counters: { churned_passive: 1 }, version: 1, markers: ['d:0'] },
    ]);
    expect(await counters.listRecords('purchases')).toEqual([]);
  });

  it('replaces a record only at the expected version, dropping its markers and old counters', async () => {
    const key: RecordKey = { series: 'purchases', day: '2026-03-05' };
    expect(await counters.replaceRecord(key, { customers: 3 }, undefined)).toBe(true);
    expect(await counters.replaceRecord(key, { customers: 4 }, undefined)).toBe(false);
    await counters.apply(change('x:0', key, { customers: 1, repeat_7: 1 }));

    expect(await counters.replaceRecord(key, { customers: 9 }, 1)).toBe(false);
    expect(await counters.replaceRecord(key, { customers: 9, repeat_3: 2, repeat_4: 0 }, 2)).toBe(true);

    expect(await counters.listRecords('purchases')).toEqual([{ key, counters: { customers: 9, repeat_3: 2 }, version: 3, markers: [] }]);
    expect(await rawRecord(key)).toEqual({ series: 'purchases', record: '2026-03-05', day: '2026-03-05', customers: 9, repeat_3: 2, version: 3 });
  });

  it('replacing a sends record puts its campaign in the directory', async () => {
    await counters.replaceRecord({ ...SENDS, campaignId: 'ces-onboarding', kind: 'ces' }, { sent: 2 }, undefined);

    expect((await counters.listRecords('sends')).map((r) => r.key)).toEqual([{ ...SENDS, campaignId: 'ces-onboarding', kind: 'ces' }]);
  });
});
