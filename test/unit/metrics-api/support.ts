/**
 * Records with known figures for the metrics API and the dashboard: three survey campaigns (one per scale), contract
 * outcomes and a purchase cohort, on days around TODAY. The unit tests read them from memory; the browser test writes
 * them through the adapters into the local stack's tables.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbMetricsCounters } from '../../../adapters/dynamodb-metrics.ts';
import { DynamoDbSurveyAggregates } from '../../../adapters/dynamodb-responses.ts';
import type { MetricsInput } from '../../../core/metrics/compute.ts';
import { numberChanges, outcomeChanges, purchaseChanges, sendChange } from '../../../core/metrics/counters.ts';
import type { MetricsReader } from '../../../core/metrics/read-metrics.ts';
import { parseTargetsText, type TargetsConfig } from '../../../core/metrics/targets.ts';
import { rebuildAggregates, type SurveyResponse } from '../../../core/surveys/responses.ts';
import { categoryOf, type SurveyKind } from '../../../core/surveys/scales.ts';

/** "Today" of every test here: the default range is 2031-03-05 – 2031-06-02, its previous period 2030-12-05 – 2031-03-04. */
export const TODAY = '2031-06-02';

export const NPS_CAMPAIGN = 'nps-after-purchase';
export const CSAT_CAMPAIGN = 'csat-after-delivery';
export const CES_CAMPAIGN = 'ces-support';

function answers(campaignId: string, kind: SurveyKind, day: string, scores: number[]) {
  return rebuildAggregates(
    scores.map(
      (score, i): SurveyResponse => ({
        surveyId: `${campaignId}-${day}-${i}`,
        kind,
        campaignId,
        customerId: `customer-${i}`,
        score,
        category: categoryOf(kind, score),
        firstAnsweredAt: `${day}T09:00:00.000Z`,
        answeredAt: `${day}T09:00:00.000Z`,
        day,
        revision: 0,
        scoreHistory: [score],
      }),
    ),
  );
}

const none = { promoter: 0, passive: 0, detractor: 0, none: 0 };

/**
 * Over the default 90 days: NPS (3 promoters − 1 detractor) / 5 = 40 (the previous period: one detractor, −100);
 * CSAT 2 of 4 satisfied = 50 % (off its 80 % target); CES (6 + 5) / 2 = 5.5; response rate 11 of 27 sent;
 * renewal 4 of 7 ended = 57.1 % and churn 42.9 % (both off target); repeat purchase 1 of 4 within 90 days = 25 %,
 * provisional. Over the last 30 days the CES answers and the purchase cohort fall out.
 */
export const RECORDS: MetricsInput = {
  surveys: [
    ...answers(NPS_CAMPAIGN, 'nps', '2031-05-10', [10, 9, 3]),
    ...answers(NPS_CAMPAIGN, 'nps', '2031-05-20', [8, 10]),
    ...answers(NPS_CAMPAIGN, 'nps', '2031-02-01', [2]),
    ...answers(CSAT_CAMPAIGN, 'csat', '2031-05-12', [5, 4, 2, 1]),
    ...answers(CES_CAMPAIGN, 'ces', '2031-04-01', [6, 5]),
  ],
  sends: [
    { campaignId: NPS_CAMPAIGN, day: '2031-05-10', kind: 'nps', sent: 10, answered: 3 },
    { campaignId: NPS_CAMPAIGN, day: '2031-05-20', kind: 'nps', sent: 5, answered: 2 },
    { campaignId: NPS_CAMPAIGN, day: '2031-02-01', kind: 'nps', sent: 2, answered: 1 },
    { campaignId: CSAT_CAMPAIGN, day: '2031-05-12', kind: 'csat', sent: 8, answered: 4 },
    { campaignId: CES_CAMPAIGN, day: '2031-04-01', kind: 'ces', sent: 4, answered: 2 },
  ],
  outcomes: [{ day: '2031-05-15', renewed: { ...none, promoter: 3, passive: 1 }, churned: { ...none, detractor: 2, none: 1 } }],
  purchases: [{ day: '2031-04-10', customers: 4, repeatAfterDays: { '10': 1, '200': 1 } }],
};

export const TARGETS: TargetsConfig = parseTargetsText(
  [
    'repeatPurchaseWindowDays: 90',
    'targets:',
    '  nps: { comparator: ">=", value: 30 }',
    '  csat: { comparator: ">=", value: 80 }',
    '  ces: { comparator: ">=", value: 5 }',
    '  responseRate: { comparator: ">=", value: 20 }',
    '  renewalRate: { comparator: ">=", value: 80 }',
    '  churnRate: { comparator: "<=", value: 20 }',
    '  repeatPurchaseRate: { comparator: ">=", value: 25 }',
  ].join('\n'),
  'targets.yaml',
).config!;

const within = (day: string, from: string, to: string) => day >= from && day <= to;

/** The records in memory, read by day range as the DynamoDB reader does; counts its calls. */
export class InMemoryMetricsReader implements MetricsReader {
  calls = 0;
  constructor(private readonly records: MetricsInput = RECORDS) {}

  async surveyCampaigns(): Promise<string[]> {
    this.calls += 1;
    return [...new Set([...this.records.surveys, ...this.records.sends].map((r) => r.campaignId))].sort();
  }
  async surveyAnswers(campaignId: string, from: string, to: string) {
    this.calls += 1;
    return this.records.surveys.filter((r) => r.campaignId === campaignId && within(r.day, from, to));
  }
  async surveySends(campaignId: string, from: string, to: string) {
    this.calls += 1;
    return this.records.sends.filter((r) => r.campaignId === campaignId && within(r.day, from, to));
  }
  async contractOutcomes(from: string, to: string) {
    this.calls += 1;
    return this.records.outcomes.filter((r) => within(r.day, from, to));
  }
  async purchaseCohorts(from: string, to: string) {
    this.calls += 1;
    return this.records.purchases.filter((r) => within(r.day, from, to));
  }
}

/** Writes `records` through the adapters (as the settlers and the answer settlement do), leaving no marker behind. */
export async function writeRecords(db: DynamoDBDocumentClient, tables: { metrics: string; surveyAggregates: string }, records: MetricsInput = RECORDS): Promise<void> {
  const counters = new DynamoDbMetricsCounters(tables.metrics, db);
  const aggregates = new DynamoDbSurveyAggregates(tables.surveyAggregates, db);
  for (const [i, a] of records.surveys.entries()) {
    const key = { campaignId: a.campaignId, day: a.day, kind: a.kind };
    const marker = { surveyId: `seed-${i}`, expected: undefined, revision: 0 };
    await aggregates.apply(key, { responses: a.responses, scoreSum: a.scoreSum, scores: a.scores, categories: a.categories }, marker);
    await aggregates.clearInflight(key, marker.surveyId, marker.revision);
  }
  const changes = numberChanges('seed', [
    ...records.sends.map(sendChange),
    ...records.outcomes.flatMap((o) =>
      outcomeChanges(
        (['renewed', 'churned'] as const).flatMap((field) =>
          Object.entries(o[field]).map(([segment, by]) => ({ day: o.day, result: field === 'renewed' ? ('RENEWED' as const) : ('CHURNED' as const), segment: segment as keyof typeof none, by })),
        ),
      ),
    ),
    ...purchaseChanges(records.purchases),
  ]);
  for (const change of changes) {
    await counters.apply(change);
    await counters.release(change);
  }
}
