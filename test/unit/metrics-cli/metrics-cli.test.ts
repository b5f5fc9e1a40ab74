/**
 * `outreach metrics` (the targets report) and `outreach metrics rebuild` as an operator runs them: a subprocess
 * against dynalite, with records and raw items seeded through the DynamoDB adapters (or as items, for the raw ones).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbMetricsCounters } from '../../../adapters/dynamodb-metrics.ts';
import { DynamoDbSurveyAggregates } from '../../../adapters/dynamodb-responses.ts';
import { EXIT } from '../../../cli/outreach.ts';
import { addCalendarDays } from '../../../core/contracts/renewal-offsets.ts';
import { METRICS, type MetricId } from '../../../core/metrics/compute.ts';
import { recordKeyText, type RecordKey } from '../../../core/metrics/counters.ts';
import type { MetricsView } from '../../../core/metrics/read-metrics.ts';
import { roundTo } from '../../../core/metrics/report.ts';
import type { SurveyAggregate } from '../../../core/surveys/responses.ts';
import type { TableNames } from '../../../local/dynamodb.ts';
import { awsEnvFor, freshTables, runOutreach, startTestDynamo, type TestDynamo } from '../campaigns-cli/support.ts';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

/** The tables as the local stack's `env` gives them: the functions' own variables. */
const tableEnv = (t: TableNames) => ({
  ...awsEnvFor(dynamo),
  METRICS_TABLE: t.metrics,
  SURVEY_AGGREGATES_TABLE: t.surveyAggregates,
  TOUCHPOINTS_TABLE: t.touchpoints,
  RESPONSES_TABLE: t.responses,
  CONTRACTS_TABLE: t.contracts,
  CUSTOMERS_TABLE: t.customers,
});

const NPS = 'nps-after-purchase';
const CSAT = 'csat-after-support';

const TARGETS = `targets:
  nps: { comparator: ">=", value: 30, campaigns: { ${NPS}: { value: 20 } } }
  csat: { comparator: ">=", value: 80 }
  responseRate: { comparator: ">=", value: 50 }
  renewalRate: { comparator: ">=", value: 50 }
  churnRate: { comparator: "<=", value: 20 }
  repeatPurchaseRate: { comparator: ">=", value: 25 }
`;

function targetsFile(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'outreach-targets-'));
  const file = join(dir, 'targets.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

const aggregate = (campaignId: string, day: string, kind: SurveyAggregate['kind'], scores: Record<string, number>, categories: Record<string, number>): SurveyAggregate => ({
  campaignId,
  day,
  kind,
  responses: Object.values(scores).reduce((a, b) => a + b, 0),
  scoreSum: Object.entries(scores).reduce((sum, [score, n]) => sum + Number(score) * n, 0),
  scores,
  categories,
});

/**
 * March 2024 (31 days; the trend against 2024-01-30 – 2024-02-29), long enough ago that every repeat window is over.
 * Overall: NPS 25 (2 promoters, 1 passive, 1 detractor of 4; 0 before), CSAT 80 % (4 of 5), response rate 45 %
 * (9 of 20; 20 % before), renewal 4 of 7 (57.1 %, churn 42.9 %), repeat purchase 1 of 4 within 90 days (25 %).
 */
async function seedReport(t: TableNames): Promise<void> {
  const answers = new DynamoDbSurveyAggregates(t.surveyAggregates, dynamo.db);
  await answers.replace(aggregate(NPS, '2024-03-05', 'nps', { 10: 1, 9: 1, 7: 1, 3: 1 }, { promoter: 2, passive: 1, detractor: 1 }), undefined);
  await answers.replace(aggregate(NPS, '2024-02-10', 'nps', { 9: 1, 2: 1 }, { promoter: 1, detractor: 1 }), undefined);
  await answers.replace(aggregate(CSAT, '2024-03-06', 'csat', { 5: 2, 4: 2, 2: 1 }, { satisfied: 4, 'not-satisfied': 1 }), undefined);
  const records = new DynamoDbMetricsCounters(t.metrics, dynamo.db);
  const put = (key: RecordKey, counters: Record<string, number>) => records.replaceRecord(key, counters, undefined);
  await put({ series: 'sends', campaignId: NPS, day: '2024-03-02', kind: 'nps' }, { sent: 10, answered: 4 });
  await put({ series: 'sends', campaignId: NPS, day: '2024-02-10', kind: 'nps' }, { sent: 5, answered: 1 });
  await put({ series: 'sends', campaignId: CSAT, day: '2024-03-03', kind: 'csat' }, { sent: 10, answered: 5 });
  await put({ series: 'outcomes', day: '2024-03-10' }, { renewed_promoter: 3, renewed_none: 1, churned_detractor: 2, churned_none: 1 });
  await put({ series: 'purchases', day: '2024-03-15' }, { customers: 4, repeat_10: 1, repeat_100: 1 });
  await put({ series: 'outcomes', day: '2024-04-01' }, { churned_none: 9 }); // after the range: not counted
}

const MARCH = ['--from', '2024-03-01', '--to', '2024-03-31'];

/** The fields of one CSV line (RFC 4180: quoted fields may hold commas and doubled quotes). */
function csvCells(line: string): string[] {
  return [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map(([, field = '']) =>
    field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field,
  );
}

/** The cells of the report table's rows (after the heading, blank line, column headings and rule), by label. */
function tableRows(stdout: string): string[][] {
  const lines = stdout.split('\n');
  const rule = lines.findIndex((line) => /^-+-\+-/.test(line));
  const rows: string[][] = [];
  for (const line of lines.slice(rule + 1)) {
    if (line === '' || !line.includes('|')) break;
    rows.push(line.split('|').map((cell) => cell.trim()));
  }
  return rows;
}

describe('outreach metrics', () => {
  let tables: TableNames;
  let targets: { dir: string; file: string };
  beforeAll(async () => {
    tables = await freshTables(dynamo);
    await seedReport(tables);
    targets = targetsFile(TARGETS);
  });

  it('prints the heading and "metric | target | current | trend" with the OFF TARGET rows', async () => {
    const run = await runOutreach(['metrics', ...MARCH, '--targets', targets.file], tableEnv(tables));
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('all campaigns, 2024-03-01 – 2024-03-31 (31 days), trend against 2024-01-30 – 2024-02-29');
    expect(lines[2]!.split('|').map((c) => c.trim())).toEqual(['Metric', 'Target', 'Current', 'n', 'Trend', 'Status']);
    expect(tableRows(run.stdout)).toEqual([
      ['NPS', '≥ 30', '25.0', '4', '↑ +25.0 from 0.0', 'OFF TARGET'],
      ['CSAT (% satisfied)', '≥ 80 %', '80.0 %', '5', '–', 'on target'],
      ['CES (mean, 7 = very easy)', '–', 'no data', '0', '–', ''],
      ['Response rate', '≥ 50 %', '45.0 %', '20', '↑ +25.0 from 20.0', 'OFF TARGET'],
      ['Renewal rate', '≥ 50 %', '57.1 %', '7', '–', 'on target'],
      ['Churn rate', '≤ 20 %', '42.9 %', '7', '–', 'OFF TARGET'],
      ['Repeat-purchase rate', '≥ 25 %', '25.0 %', '4', '–', 'on target'],
      ['Renewal rate, promoters', '–', '100.0 %', '3', '–', ''],
      ['Renewal rate, passives', '–', 'no data', '0', '–', ''],
      ['Renewal rate, detractors', '–', '0.0 %', '2', '–', ''],
      ['Renewal rate, no NPS answer', '–', '50.0 %', '2', '–', ''],
    ]);
  });

  it('--json is the whole view and --csv the report rows: the same figures as the text', async () => {
    const [text, json, csv] = await Promise.all([
      runOutreach(['metrics', ...MARCH, '--targets', targets.file], tableEnv(tables)),
      runOutreach(['metrics', ...MARCH, '--targets', targets.file, '--json'], tableEnv(tables)),
      runOutreach(['metrics', ...MARCH, '--targets', targets.file, '--csv'], tableEnv(tables)),
    ]);
    expect([text.code, json.code, csv.code]).toEqual([EXIT.ok, EXIT.ok, EXIT.ok]);

    const view = JSON.parse(json.stdout) as MetricsView;
    expect(view.result.period).toEqual({ from: '2024-03-01', to: '2024-03-31', days: 31 });
    expect(view.result.overall.metrics.renewalRate).toEqual({ value: (4 / 7) * 100, count: 7 });
    expect(view.report.filter((r) => r.status === 'off-target').map((r) => r.metric)).toEqual(['nps', 'responseRate', 'churnRate']);
    expect(Object.keys(view.result.campaigns)).toEqual([CSAT, NPS]);
    expect(view.result.overall.series.week.map((p) => p.bucket)).toEqual(['2024-W09', '2024-W10', '2024-W11', '2024-W12', '2024-W13']);

    const csvLines = csv.stdout.trimEnd().split('\n');
    expect(csvCells(csvLines.find((l) => l.startsWith('ces,'))!).slice(0, 2)).toEqual(['ces', 'CES (mean, 7 = very easy)']);
    expect(csvLines[0]).toBe('metric,label,target_comparator,target_value,target_source,current,count,provisional,previous,difference,direction,movement,status');
    const csvRows = new Map(csvLines.slice(1).map((line) => [csvCells(line)[0], csvCells(line)]));
    const textRows = tableRows(text.stdout);
    view.report.forEach((row, i) => {
      const { decimals } = METRICS[row.metric as MetricId];
      const shown = row.current === undefined ? '' : roundTo(row.current, decimals).toFixed(decimals);
      const cells = csvRows.get(row.metric)!;
      expect(cells[5], row.metric).toBe(shown);
      expect(cells[6], row.metric).toBe(String(row.count));
      expect(cells[12], row.metric).toBe(row.status);
      expect(textRows[i]![2]!.replace(' %', ''), row.metric).toBe(shown === '' ? 'no data' : shown);
      expect(textRows[i]![3], row.metric).toBe(String(row.count));
    });
  });

  it('--campaign shows that campaign\'s survey metrics with its own targets', async () => {
    const run = await runOutreach(['metrics', ...MARCH, '--targets', targets.file, '--campaign', NPS], tableEnv(tables));
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout.split('\n')[0]).toBe(`campaign ${NPS}, 2024-03-01 – 2024-03-31 (31 days), trend against 2024-01-30 – 2024-02-29`);
    expect(tableRows(run.stdout)).toEqual([
      ['NPS', '≥ 20 (campaign)', '25.0', '4', '↑ +25.0 from 0.0', 'on target'],
      ['CSAT (% satisfied)', '≥ 80 %', 'no data', '0', '–', 'no data'],
      ['CES (mean, 7 = very easy)', '–', 'no data', '0', '–', ''],
      ['Response rate', '≥ 50 %', '40.0 %', '10', '↑ +20.0 from 20.0', 'OFF TARGET'],
    ]);
  });

  it('--series week adds the metrics per ISO week', async () => {
    const run = await runOutreach(['metrics', ...MARCH, '--targets', targets.file, '--series', 'week'], tableEnv(tables));
    expect(run.code).toBe(EXIT.ok);
    const lines = run.stdout.split('\n');
    const start = lines.indexOf('per week:');
    expect(start).toBeGreaterThan(0);
    const cells = lines.slice(start + 1, start + 8).map((line) => line.split('|').map((c) => c.trim()));
    expect(cells[0]!.slice(0, 6)).toEqual(['bucket', 'nps', 'csat', 'ces', 'responseRate', 'renewalRate']);
    expect(cells.slice(2).map((row) => row.slice(0, 6))).toEqual([
      ['2024-W09', 'no data', 'no data', 'no data', '45.0 %', 'no data'],
      ['2024-W10', '25.0', '80.0 %', 'no data', 'no data', '57.1 %'],
      ['2024-W11', 'no data', 'no data', 'no data', 'no data', 'no data'],
      ['2024-W12', 'no data', 'no data', 'no data', 'no data', 'no data'],
      ['2024-W13', 'no data', 'no data', 'no data', 'no data', 'no data'],
    ]);
  });

  it('--off-target-exit exits 1 naming the metrics off target', async () => {
    const run = await runOutreach(['metrics', ...MARCH, '--targets', targets.file, '--off-target-exit'], tableEnv(tables));
    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toBe('3 metric(s) off target: nps, responseRate, churnRate\n');
    expect(tableRows(run.stdout)).toHaveLength(11);
  });

  it('defaults to the last 90 days up to today (UTC)', async () => {
    const before = new Date().toISOString().slice(0, 10);
    const run = await runOutreach(['metrics', '--targets', targets.file, '--json'], tableEnv(tables));
    const after = new Date().toISOString().slice(0, 10);
    expect(run.code).toBe(EXIT.ok);
    const { period } = (JSON.parse(run.stdout) as MetricsView).result;
    expect([before, after]).toContain(period.to);
    expect(period).toEqual({ from: addCalendarDays(period.to, -89), to: period.to, days: 90 });
  });

  it('a bad range is one line naming the option, exit 2, nothing read', async () => {
    const env = { ...tableEnv(tables), AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' }; // would fail if it read
    const cases: Array<[string[], string]> = [
      [['--from', '2024-02-30'], 'error: --from must be a calendar date YYYY-MM-DD, e.g. --from 2026-03-01 (got 2024-02-30)\n'],
      [['--from', '2024-03-31', '--to', '2024-03-01'], 'error: --from 2024-03-31 is after --to 2024-03-01\n'],
      [['--days', '0'], 'error: --days must be a whole number from 1 to 3700, e.g. --days 30 (got 0)\n'],
      [['--from', '2024-03-01', '--days', '7'], 'error: --from and --days exclude each other: give the first day (--from) or the number of days up to --to (--days)\n'],
    ];
    for (const [args, stderr] of cases) {
      const run = await runOutreach(['metrics', ...args, '--targets', targets.file], env);
      expect({ args, code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ args, code: EXIT.usage, stdout: '', stderr });
    }
  });

  it('an invalid targets file is reported as file:line path: message, exit 1', async () => {
    const bad = targetsFile('targets:\n  nps: { comparator: ">=", value: 300 }\n  churnRte: { comparator: "<=", value: 20 }\n');
    const run = await runOutreach(['metrics', ...MARCH, '--targets', 'targets.yaml'], tableEnv(tables), bad.dir);
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toEqual([
      'targets.yaml:2 targets.nps.value: must be a number from -100 to 100, in NPS points',
      'targets.yaml:3 targets.churnRte: is not a known metric (did you mean churnRate?)',
      'the targets file has 2 problem(s); fix it or pass --targets <file>',
      '',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const TODAY = new Date().toISOString().slice(0, 10);
/** A UTC day `n` days before today: the rebuild leaves send records older than 395 days alone. */
const daysAgo = (n: number) => addCalendarDays(TODAY, -n);

/**
 * Raw items as the entity writes leave them: two sent NPS surveys (one answered), a reminder and a check-in (not
 * sends), a renewed contract, two customers with purchases — the second one's count never applied (its writer
 * crashed: pending, lease expired). Records with drift: a lost send, a doubled renewal, an extra cohort.
 */
async function seedRebuild(t: TableNames) {
  const put = (table: string, item: Record<string, unknown>) => dynamo.db.send(new PutCommand({ TableName: table, Item: item }));
  const sentAt = `${daysAgo(10)}T10:00:00.000Z`;
  const touchpoint = (id: string, extra: Record<string, unknown>) =>
    put(t.touchpoints, { touchpointId: id, campaignId: NPS, customerId: 'c-1', kind: 'survey', status: 'SENT', context: {}, sentAt, generation: 0, ...extra });
  await touchpoint('tp-1', { surveyKind: 'nps' });
  await touchpoint('tp-2', { surveyKind: 'nps', sentAt: `${daysAgo(10)}T22:00:00.000Z` });
  await touchpoint('tp-3', { context: { parentTouchpointId: 'tp-1' } });
  await touchpoint('tp-4', { kind: 'check-in', campaignId: 'thanks' });
  await put(t.responses, { surveyId: 'tp-1', campaignId: NPS, customerId: 'c-1', kind: 'nps', score: 9, comment: 'Lovely, thanks — Jane', surveySentAt: sentAt });
  await put(t.contracts, {
    contractId: 'k-1',
    customerId: 'c-1',
    outcomes: [{ result: 'RENEWED', at: `${daysAgo(5)}T09:00:00.000Z`, endDate: daysAgo(6), remindersSent: 1, npsSegment: 'promoter' }],
  });
  await put(t.contracts, { contractId: '#sweep-cursor#renewal-30d', cursor: 'x' });
  await put(t.customers, {
    customerId: 'c-1',
    email: 'jane@example.com',
    name: 'Jane',
    purchases: { first: { orderId: 'o-1', at: `${daysAgo(20)}T08:00:00.000Z` }, second: { orderId: 'o-2', at: `${daysAgo(15)}T08:00:00.000Z` } },
  });
  await put(t.customers, {
    customerId: 'c-2',
    email: 'max@example.com',
    name: 'Max',
    purchases: { first: { orderId: 'o-3', at: `${daysAgo(20)}T18:00:00.000Z` } },
    metricsPending: [{ id: 'crashed:0', record: { series: 'purchases', day: daysAgo(20) }, counters: { customers: 1 } }],
    metricsLease: { token: 'crashed', until: '2020-01-01T00:00:00.000Z' },
  });

  const records = new DynamoDbMetricsCounters(t.metrics, dynamo.db);
  const keys = {
    sends: { series: 'sends', campaignId: NPS, day: daysAgo(10), kind: 'nps' } as RecordKey,
    outcomes: { series: 'outcomes', day: daysAgo(5) } as RecordKey,
    cohort: { series: 'purchases', day: daysAgo(20) } as RecordKey,
    extra: { series: 'purchases', day: daysAgo(3) } as RecordKey,
  };
  await records.replaceRecord(keys.sends, { sent: 1, answered: 1 }, undefined);
  await records.replaceRecord(keys.outcomes, { renewed_promoter: 2 }, undefined);
  await records.replaceRecord(keys.cohort, { customers: 1, repeat_5: 1 }, undefined);
  await records.replaceRecord(keys.extra, { customers: 1 }, undefined);
  return { keys, records };
}

async function scanAll(table: string): Promise<Array<Record<string, unknown>>> {
  const { Items = [] } = await dynamo.db.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return Items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('outreach metrics rebuild', () => {
  it('--dry-run reports the drift and changes nothing; the rebuild repairs it; a second run finds none', async () => {
    const t = await freshTables(dynamo);
    const { keys, records } = await seedRebuild(t);
    const text = (key: RecordKey) => recordKeyText(key);
    const byRecord = (lines: string[]) => [...lines].sort((a, b) => a.slice(9).localeCompare(b.slice(9)));
    const metricsBefore = await scanAll(t.metrics);
    const customersBefore = await scanAll(t.customers);

    const dry = await runOutreach(['metrics', 'rebuild', '--dry-run'], tableEnv(t));
    expect(dry.code).toBe(EXIT.failed);
    expect(dry.stderr).toBe('dry run: 3 record(s) with drift, 1 with pending counts not settled; nothing written — run without --dry-run to repair\n');
    const dryLines = dry.stdout.trimEnd().split('\n');
    expect(dryLines[0]).toBe('dry run: nothing is written; 1 entity with pending counts not settled');
    expect(dryLines.slice(1, 5)).toEqual(
      byRecord([
        `drift    ${text(keys.outcomes)}: renewed_promoter 2 → 1`,
        `skipped  ${text(keys.cohort)}: customers 1 → 2 (pending counts not settled (dry run))`,
        `drift    ${text(keys.extra)}: customers 1 → 0`,
        `drift    ${text(keys.sends)}: sent 1 → 2`,
      ]),
    );
    expect(dryLines[5]).toBe(
      '4 record(s) compared, from 2 sent survey(s), 1 answer(s), 1 contract outcome(s), 2 customer(s) with purchases: 3 with drift, 0 unchanged, 1 skipped',
    );
    expect(dryLines[6]).toContain('outreach surveys rebuild --campaign <id>');
    expect(await scanAll(t.metrics)).toEqual(metricsBefore);
    expect(await scanAll(t.customers)).toEqual(customersBefore);

    const run = await runOutreach(['metrics', 'rebuild'], tableEnv(t));
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('settled the pending counts of 1 entity first');
    expect(lines.slice(1, 4)).toEqual(
      byRecord([
        `repaired ${text(keys.outcomes)}: renewed_promoter 2 → 1`,
        `repaired ${text(keys.extra)}: customers 1 → 0`,
        `repaired ${text(keys.sends)}: sent 1 → 2`,
      ]),
    );
    expect(lines[4]).toBe(
      '4 record(s) compared, from 2 sent survey(s), 1 answer(s), 1 contract outcome(s), 2 customer(s) with purchases: 3 repaired (drift), 1 unchanged, 0 skipped',
    );
    const stored = Object.fromEntries((await Promise.all((['sends', 'outcomes', 'purchases'] as const).map((s) => records.listRecords(s)))).flat().map((r) => [recordKeyText(r.key), r.counters]));
    expect(stored).toEqual({
      [text(keys.sends)]: { sent: 2, answered: 1 },
      [text(keys.outcomes)]: { renewed_promoter: 1 },
      [text(keys.cohort)]: { customers: 2, repeat_5: 1 },
      [text(keys.extra)]: {},
    });
    const customers = await scanAll(t.customers);
    expect(customers.map((c) => [c.customerId, 'metricsPending' in c, 'metricsLease' in c])).toEqual([
      ['c-1', false, false],
      ['c-2', false, false],
    ]);

    const again = await runOutreach(['metrics', 'rebuild', '--json'], tableEnv(t));
    expect(again).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(JSON.parse(again.stdout)).toMatchObject({
      dryRun: false,
      settled: 0,
      compared: 4,
      unchanged: 4,
      repaired: 0,
      skipped: 0,
      records: [],
      keptBeyondRetention: [],
      retentionCutoff: daysAgo(395),
      driftRemains: false,
      tables: { metrics: t.metrics, touchpoints: t.touchpoints, responses: t.responses, contracts: t.contracts, customers: t.customers },
    });
  });

  it('keeps send records beyond the retention and names an unreachable table', async () => {
    const t = await freshTables(dynamo);
    const records = new DynamoDbMetricsCounters(t.metrics, dynamo.db);
    const old: RecordKey = { series: 'sends', campaignId: NPS, day: daysAgo(400), kind: 'nps' };
    await records.replaceRecord(old, { sent: 12, answered: 3 }, undefined);

    const run = await runOutreach(['metrics', 'rebuild'], tableEnv(t));
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toContain(`kept     1 send record(s) before ${daysAgo(395)}: beyond retention, kept`);
    expect((await records.listRecords('sends')).map((r) => r.counters)).toEqual([{ sent: 12, answered: 3 }]);

    const missing = await runOutreach(['metrics', 'rebuild'], { ...tableEnv(t), CONTRACTS_TABLE: 'no-such-table' });
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/^error: table .*no-such-table.* does not exist at http:\/\/127\.0\.0\.1:\d+\n$/);
  });
});
