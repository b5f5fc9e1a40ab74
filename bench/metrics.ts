/**
 * Metrics view cost benchmark: does a 90-day metrics view cost the same at a thousand and at a million survey
 * responses?
 *
 * For each size: generates a history with a seeded PRNG (survey sends and responses of three survey campaigns of
 * different scales and weights over 200 days; contract outcomes and first/second purchases scaled with the
 * responses), streamed through the model's own rebuild functions into the per-day records (no raw item is held or
 * written); writes those records to dynalite (in memory) through the adapters; runs readMetrics over the last 90
 * days (it reads 180: the trend's previous period), once to warm up and once measured, counting the DynamoDB
 * requests and the items they read with a middleware on the document client.
 *
 * Exits non-zero when the request counts differ between sizes, when the items read exceed
 * (2 × campaigns + 2) × 180 + the directory, or when the view does not count every generated response of its period.
 * Run: `npm run bench:metrics -- [sizes…]` (default 1000 1000000; about a minute on an idle machine, mostly the fold).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb-client.ts';
import { DynamoDbMetricsCounters, DynamoDbMetricsReader } from '../adapters/dynamodb-metrics.ts';
import { DynamoDbSurveyAggregates } from '../adapters/dynamodb-responses.ts';
import { addCalendarDays } from '../core/contracts/renewal-offsets.ts';
import { countersOf, type RecordKey } from '../core/metrics/counters.ts';
import {
  NPS_SEGMENTS,
  rebuildOutcomeAggregates,
  rebuildPurchaseCohorts,
  rebuildSendAggregates,
  type PurchaseHistory,
  type RecordedOutcome,
  type SurveySendFacts,
} from '../core/metrics/model.ts';
import { readMetrics } from '../core/metrics/read-metrics.ts';
import { rebuildAggregates, type SurveyResponse } from '../core/surveys/responses.ts';
import { categoryOf, type SurveyKind } from '../core/surveys/scales.ts';
import { createTables, localTableNames, startDynamo } from '../local/dynamodb.ts';

const started = performance.now();
const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
const SIZES = sizes.length > 0 ? sizes : [1_000, 1_000_000];
const HISTORY_DAYS = 200;
const VIEW_DAYS = 90;
const LAST_DAY = '2026-06-30';
const FIRST_DAY = addCalendarDays(LAST_DAY, -(HISTORY_DAYS - 1));
const VIEW_FROM = addCalendarDays(LAST_DAY, -(VIEW_DAYS - 1));
const CAMPAIGNS: ReadonlyArray<{ campaignId: string; kind: SurveyKind; weight: number; maxScore: number; minScore: number }> = [
  { campaignId: 'nps-after-purchase', kind: 'nps', weight: 0.6, minScore: 0, maxScore: 10 },
  { campaignId: 'csat-after-support', kind: 'csat', weight: 0.3, minScore: 1, maxScore: 5 },
  { campaignId: 'ces-onboarding', kind: 'ces', weight: 0.1, minScore: 1, maxScore: 7 },
];
/** Surveys sent per response (a 40 % response rate); contract terms ended and customers per response. */
const SENDS_PER_RESPONSE = 2.5;
const OUTCOMES_PER_RESPONSE = 0.2;
const CUSTOMERS_PER_RESPONSE = 0.5;

const DAYS = Array.from({ length: HISTORY_DAYS }, (_, i) => addCalendarDays(FIRST_DAY, i));
const NOON = DAYS.map((day) => `${day}T12:00:00.000Z`);

/** mulberry32: small, fast, and the same sequence on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A survey sent, and its response if it was answered. */
interface SurveyEvent {
  send: SurveySendFacts & { answered: boolean };
  response?: SurveyResponse;
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function campaignOf(random: () => number): (typeof CAMPAIGNS)[number] {
  const r = random();
  let sum = 0;
  for (const campaign of CAMPAIGNS) if (r < (sum += campaign.weight)) return campaign;
  return CAMPAIGNS[CAMPAIGNS.length - 1]!;
}

/**
 * The surveys sent until `size` of them have been answered (each answered with probability 1 / SENDS_PER_RESPONSE),
 * with their responses. A generator with a fixed seed: the history is streamed into the rebuild functions, and the
 * same history comes out on every pass.
 */
function* surveyHistory(size: number): Generator<SurveyEvent> {
  const random = prng(20260630 + size);
  const int = (n: number) => Math.floor(random() * n);
  let answered = 0;
  for (let i = 0; answered < size; i += 1) {
    const campaign = campaignOf(random);
    const sentDay = int(HISTORY_DAYS);
    const isAnswered = random() < 1 / SENDS_PER_RESPONSE;
    const send = { campaignId: campaign.campaignId, kind: campaign.kind, sentAt: NOON[sentDay]!, answered: isAnswered };
    if (!isAnswered) {
      yield { send };
      continue;
    }
    answered += 1;
    const answerDay = Math.min(HISTORY_DAYS - 1, sentDay + int(3));
    const score = campaign.minScore + int(campaign.maxScore - campaign.minScore + 1);
    const at = NOON[answerDay]!;
    yield {
      send,
      response: {
        surveyId: `s-${i}`,
        kind: campaign.kind,
        campaignId: campaign.campaignId,
        customerId: `c-${int(size)}`,
        score,
        category: categoryOf(campaign.kind, score),
        firstAnsweredAt: at,
        answeredAt: at,
        day: DAYS[answerDay]!,
        revision: 0,
        scoreHistory: [score],
      },
    };
  }
}

function* sendsOf(events: Iterable<SurveyEvent>): Generator<SurveyEvent['send']> {
  for (const event of events) yield event.send;
}

function* responsesOf(events: Iterable<SurveyEvent>): Generator<SurveyResponse> {
  for (const event of events) if (event.response) yield event.response;
}

/** The contract terms ended over the history (one outcome each). */
function* outcomeHistory(size: number): Generator<RecordedOutcome> {
  const random = prng(7 + size);
  for (let i = 0; i < Math.round(size * OUTCOMES_PER_RESPONSE); i += 1) {
    const day = Math.floor(random() * HISTORY_DAYS);
    yield {
      result: random() < 0.8 ? 'RENEWED' : 'CHURNED',
      at: NOON[day]!,
      remindersSent: Math.floor(random() * 4),
      endDate: DAYS[day]!,
      npsSegment: pick(random, NPS_SEGMENTS),
    };
  }
}

/** Every customer's two earliest purchases (about a third buy again within the history). */
function* purchaseHistory(size: number): Generator<PurchaseHistory> {
  const random = prng(11 + size);
  for (let i = 0; i < Math.round(size * CUSTOMERS_PER_RESPONSE); i += 1) {
    const first = Math.floor(random() * HISTORY_DAYS);
    const second = random() < 0.35 ? first + Math.floor(random() * (HISTORY_DAYS - first)) : undefined;
    yield {
      first: { orderId: `o-${i}-1`, at: NOON[first]! },
      ...(second !== undefined ? { second: { orderId: `o-${i}-2`, at: NOON[second]! } } : {}),
    };
  }
}

/** Runs `tasks` with at most `width` in flight. */
async function inParallel(tasks: Array<() => Promise<unknown>>, width = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

const dynamo = await startDynamo({ port: 0 });
const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
const db = createDocumentClient(client);

// Every request sent through the document client (its middleware stack is the client's) and the items it read.
let requests = 0;
let itemsRead = 0;
db.middlewareStack.add(
  (next) => async (args) => {
    const result = await next(args);
    requests += 1;
    const output = result.output as { ScannedCount?: number; Item?: unknown; Responses?: Record<string, unknown[]> };
    itemsRead += output.ScannedCount ?? (output.Item ? 1 : 0) + Object.values(output.Responses ?? {}).reduce((n, items) => n + items.length, 0);
    return result;
  },
  { step: 'initialize', name: 'countRequests' },
);

interface Row {
  responses: number;
  sends: number;
  outcomes: number;
  customers: number;
  records: number;
  generateSeconds: number;
  loadSeconds: number;
  requests: number;
  itemsRead: number;
  readMs: number;
  responsesCounted: number;
  responsesInView: number;
}

const rows: Row[] = [];
for (const size of SIZES) {
  const t0 = performance.now();
  let sends = 0;
  let responses = 0;
  let responsesInView = 0;
  const sendRecords = rebuildSendAggregates(sendsOf(surveyHistory(size)));
  const answerRecords = rebuildAggregates(
    (function* count() {
      for (const response of responsesOf(surveyHistory(size))) {
        responses += 1;
        if (response.day >= VIEW_FROM) responsesInView += 1;
        yield response;
      }
    })(),
  );
  for (const record of sendRecords) sends += record.sent;
  const outcomeRecords = rebuildOutcomeAggregates(outcomeHistory(size));
  const purchaseRecords = rebuildPurchaseCohorts(purchaseHistory(size));
  const generateSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const tables = localTableNames(`bench-${size}`);
  await createTables(client, tables);
  const counters = new DynamoDbMetricsCounters(tables.metrics, db);
  const aggregates = new DynamoDbSurveyAggregates(tables.surveyAggregates, db);
  const replace = (key: RecordKey, values: Record<string, number>) => () => counters.replaceRecord(key, values, undefined);
  const writes: Array<() => Promise<unknown>> = [
    ...sendRecords.map((value) => replace({ series: 'sends', campaignId: value.campaignId, day: value.day, kind: value.kind }, countersOf({ series: 'sends', value }))),
    ...outcomeRecords.map((value) => replace({ series: 'outcomes', day: value.day }, countersOf({ series: 'outcomes', value }))),
    ...purchaseRecords.map((value) => replace({ series: 'purchases', day: value.day }, countersOf({ series: 'purchases', value }))),
    ...answerRecords.map((value) => () => aggregates.replace(value, undefined)),
  ];
  await inParallel(writes);
  const loadSeconds = (performance.now() - t1) / 1000;

  const reader = new DynamoDbMetricsReader(tables.metrics, tables.surveyAggregates, db);
  const query = { from: VIEW_FROM, to: LAST_DAY };
  const targets = { repeatPurchaseWindowDays: 90, targets: {} };
  // One view to warm the process up (JIT, connections), then the one measured.
  await readMetrics(query, { reader, targets });
  requests = 0;
  itemsRead = 0;
  const t2 = performance.now();
  const view = await readMetrics(query, { reader, targets });
  const readMs = performance.now() - t2;
  const overall = view.result.overall.metrics;
  rows.push({
    responses,
    sends,
    outcomes: Math.round(size * OUTCOMES_PER_RESPONSE),
    customers: Math.round(size * CUSTOMERS_PER_RESPONSE),
    records: writes.length,
    generateSeconds,
    loadSeconds,
    requests,
    itemsRead,
    readMs,
    responsesCounted: (overall.nps?.count ?? 0) + (overall.csat?.count ?? 0) + (overall.ces?.count ?? 0),
    responsesInView,
  });
}
client.destroy();
await dynamo.close();

const fmt = (n: number) => n.toLocaleString('en-US');
console.log(`Metrics view over the last ${VIEW_DAYS} days (${LAST_DAY}; reads ${2 * VIEW_DAYS} days with the previous period), ${CAMPAIGNS.length} survey campaigns, ${HISTORY_DAYS} days of history:`);
console.log('');
console.log('| responses | surveys sent | terms ended | customers | records stored | requests | items read | read ms |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(
    `| ${fmt(row.responses)} | ${fmt(row.sends)} | ${fmt(row.outcomes)} | ${fmt(row.customers)} | ${fmt(row.records)} | ${row.requests} | ${fmt(row.itemsRead)} | ${Math.round(row.readMs)} |`,
  );
}
console.log('');
for (const row of rows) {
  console.log(
    `${fmt(row.responses)} responses: generated and folded in ${row.generateSeconds.toFixed(1)} s, ${fmt(row.records)} records written in ${row.loadSeconds.toFixed(1)} s; ` +
      `the view counts ${fmt(row.responsesCounted)} of the ${fmt(row.responsesInView)} responses first answered in its ${VIEW_DAYS} days.`,
  );
}
console.log(`Total run: ${((performance.now() - started) / 1000).toFixed(0)} s.`);

const problems: string[] = [];
if (new Set(rows.map((r) => r.requests)).size > 1) problems.push(`request counts differ between sizes: ${rows.map((r) => r.requests).join(', ')}`);
const itemBound = (2 * CAMPAIGNS.length + 2) * 2 * VIEW_DAYS + CAMPAIGNS.length;
for (const row of rows) {
  if (row.itemsRead > itemBound) problems.push(`${row.responses} responses: ${row.itemsRead} items read, more than ${itemBound}`);
  if (row.responsesCounted !== row.responsesInView) problems.push(`${row.responses} responses: the view counts ${row.responsesCounted}, expected ${row.responsesInView}`);
}
if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
console.log(`OK: the same ${rows[0]!.requests} requests at every size; at most ${fmt(itemBound)} items ((2 × campaigns + 2) × ${2 * VIEW_DAYS} days + the campaign directory).`);
