/**
 * On generated datasets (edited scores, repeated clicks, clicks after the edit window, re-delivered sends, outcomes
 * and purchases, late renewals after churn, contracts without an outcome yet, purchases out of order), the per-day
 * records built one event at a time in shuffled order (world.ts) give metrics equal to an independent recomputation
 * straight from the raw data (oracle.ts), overall, per campaign, per day, week and month, with the trend.
 */
import { describe, expect, it } from 'vitest';
import { computeMetrics, type MetricsQuery, type MetricsResult, type ScopeMetrics, type Trend } from '../../../core/metrics/compute.ts';
import {
  aggregateDrift,
  outcomeCounters,
  purchaseCounters,
  rebuildOutcomeAggregates,
  rebuildPurchaseCohorts,
  rebuildSendAggregates,
  sendCounters,
  type SurveySendAggregate,
} from '../../../core/metrics/model.ts';
import { rebuildAggregates, type SurveyAggregate } from '../../../core/surveys/responses.ts';
import { Oracle, oracleBucket, oracleDays, oraclePlusDays, type OracleSet } from './oracle.ts';
import { WORLD_FROM, WORLD_TO, fold, generateWorld, shuffledEvents, type Folded } from './world.ts';

const SEEDS = [1, 7, 42, 2026, 90210];

const surveyKey = (a: SurveyAggregate) => `${a.campaignId}/${a.day}/${a.kind}`;
const surveyCounters = (a: SurveyAggregate): Record<string, number> =>
  Object.fromEntries(
    Object.entries({
      responses: a.responses,
      scoreSum: a.scoreSum,
      ...Object.fromEntries(Object.entries(a.scores).map(([s, n]) => [`score_${s}`, n])),
      ...Object.fromEntries(Object.entries(a.categories).map(([c, n]) => [`category_${c}`, n])),
    }).filter(([, n]) => n !== 0),
  );
const sendKey = (a: SurveySendAggregate) => `${a.campaignId}/${a.day}/${a.kind}`;
const byDay = (a: { day: string }) => a.day;

/** Differences between two sets of records (all four kinds), empty when they count the same. */
function driftBetween(a: Omit<Folded, 'responses' | 'sent' | 'outcomeHistories' | 'purchaseHistories'>, b: typeof a) {
  return [
    ...aggregateDrift(a.surveys, b.surveys, surveyKey, surveyCounters),
    ...aggregateDrift(a.sends, b.sends, sendKey, sendCounters),
    ...aggregateDrift(a.outcomes, b.outcomes, byDay, outcomeCounters),
    ...aggregateDrift(a.purchases, b.purchases, byDay, purchaseCounters),
  ];
}

function oracleTrend(current: OracleSet, previous: OracleSet): Partial<Record<string, Trend>> {
  const trend: Partial<Record<string, Trend>> = {};
  for (const [id, value] of Object.entries(current)) {
    const before = previous[id as keyof OracleSet]?.value;
    const now = value.value;
    if (now === undefined || before === undefined) trend[id] = { previous: before, difference: undefined, direction: undefined };
    else {
      const difference = now - before;
      trend[id] = { previous: before, difference, direction: Math.abs(difference) <= 1e-9 ? 'flat' : difference > 0 ? 'up' : 'down' };
    }
  }
  return trend;
}

/** What computeMetrics must return for `query`, from the oracle alone. */
function expected(oracle: Oracle, query: Required<Pick<MetricsQuery, 'from' | 'to'>> & MetricsQuery): MetricsResult {
  const days = oracleDays(query.from, query.to);
  const previousFrom = oraclePlusDays(query.from, -days.length);
  const previousDays = oracleDays(previousFrom, oraclePlusDays(query.from, -1));
  const repeatWindowDays = query.repeatWindowDays ?? 90;
  const asOf = query.asOf ?? query.to;
  const scope = (campaignId: string | undefined): ScopeMetrics => {
    const over = (list: string[]) => oracle.metrics(new Set(list), { ...(campaignId !== undefined ? { campaignId } : {}), repeatWindowDays, asOf });
    const metrics = over(days);
    const previous = over(previousDays);
    const series = Object.fromEntries(
      (['day', 'week', 'month'] as const).map((granularity) => {
        const buckets = new Map<string, string[]>();
        for (const day of days) {
          const bucket = oracleBucket(day, granularity);
          buckets.set(bucket, [...(buckets.get(bucket) ?? []), day]);
        }
        return [granularity, [...buckets].map(([bucket, list]) => ({ bucket, from: list[0]!, to: list[list.length - 1]!, metrics: over(list) }))];
      }),
    ) as ScopeMetrics['series'];
    return { metrics, previous, trend: oracleTrend(metrics, previous), series };
  };
  const campaignIds = query.campaignId !== undefined ? [query.campaignId] : oracle.campaignsWithData(new Set([...previousDays, ...days]));
  return {
    period: { from: query.from, to: query.to, days: days.length },
    previousPeriod: { from: previousFrom, to: previousDays[previousDays.length - 1]!, days: days.length },
    repeatWindowDays,
    asOf,
    overall: scope(undefined),
    campaigns: Object.fromEntries(campaignIds.map((id) => [id, scope(id)])),
  };
}

const QUERIES: ReadonlyArray<Required<Pick<MetricsQuery, 'from' | 'to'>> & MetricsQuery> = [
  // The whole generated world (its previous period is before any data).
  { from: WORLD_FROM, to: WORLD_TO },
  // A 90-day view with its previous 90 days inside the data.
  { from: '2026-12-01', to: '2027-02-28' },
  // Across ISO week 2026-W53 (28 Dec 2026 – 3 Jan 2027) and the turn of the year.
  { from: '2026-12-21', to: '2027-01-10', repeatWindowDays: 30, asOf: '2027-03-31' },
  // One day; one campaign; a month with a short repeat window and complete windows.
  { from: '2027-01-01', to: '2027-01-01' },
  { from: '2026-10-01', to: '2027-01-31', campaignId: 'nps-quarterly' },
  { from: '2026-11-01', to: '2026-11-30', repeatWindowDays: 0, asOf: '2027-06-30' },
  // A campaign that does not exist, and a range without any data.
  { from: '2026-11-01', to: '2026-11-30', campaignId: 'no-such-campaign' },
  { from: '2020-02-01', to: '2020-03-01' },
];

describe.each(SEEDS)('generated world (seed %i)', (seed) => {
  const world = generateWorld(seed);
  const folded = fold(world, shuffledEvents(world, seed * 31 + 1));
  const oracle = new Oracle(world);

  it('contains the cases it is meant to: edits, repeats, late clicks, duplicates, running contracts, late renewals, out-of-order purchases', () => {
    const clicks = world.surveys.flatMap((s) => s.clicks.slice(1).map((c, i) => ({ c, first: s.clicks[0]!, previous: s.clicks[i]! })));
    expect(clicks.some(({ c, first }) => Date.parse(c.at) > Date.parse(first.at) + 7 * 86_400_000)).toBe(true);
    expect(clicks.some(({ c, previous }) => c.score === previous.score)).toBe(true);
    expect(clicks.some(({ c, previous }) => c.score !== previous.score)).toBe(true);
    expect(folded.responses.some((r) => r.revision > 0 && r.scoreHistory[0] !== r.score)).toBe(true);
    expect(world.surveys.some((s) => s.sentTwice)).toBe(true);
    expect(world.surveys.some((s) => s.clicks.length === 0)).toBe(true);
    expect(world.contracts.some((c) => c.events.length === 0)).toBe(true);
    expect(world.contracts.some((c) => c.events.some((e, i) => i > 0 && c.events[i - 1]!.outcome.endDate === e.outcome.endDate && c.events[i - 1]!.outcome.result !== e.outcome.result))).toBe(true);
    expect(new Set(world.purchases.map((p) => p.orderId)).size).toBeLessThan(world.purchases.length);
    expect(new Set(world.contracts.flatMap((c) => c.events.map((e) => e.outcome.npsSegment)))).toEqual(new Set(['promoter', 'passive', 'detractor', 'none']));
  });

  it('the incremental records equal the records rebuilt from the raw items (no drift)', () => {
    const rebuilt = {
      surveys: rebuildAggregates(folded.responses),
      sends: rebuildSendAggregates(folded.sent),
      outcomes: rebuildOutcomeAggregates(folded.outcomeHistories.flat()),
      purchases: rebuildPurchaseCohorts(folded.purchaseHistories),
    };
    expect(driftBetween(folded, rebuilt)).toEqual([]);
    expect(folded.sent).toHaveLength(world.surveys.length);
  });

  it('another shuffle of the same events gives the same records', () => {
    const again = fold(world, shuffledEvents(world, seed * 31 + 2));
    expect(driftBetween(folded, again)).toEqual([]);
  });

  it.each(QUERIES)('metrics for %o equal the recomputation from the raw data', (query) => {
    const input = { surveys: folded.surveys, sends: folded.sends, outcomes: folded.outcomes, purchases: folded.purchases };
    expect(computeMetrics(input, query)).toEqual(expected(oracle, query));
  });
});

describe('a larger world', () => {
  it('still matches the recomputation over a 90-day view', () => {
    const world = generateWorld(5, { customers: 600, surveys: 3000, contracts: 500 });
    const folded = fold(world, shuffledEvents(world, 6));
    const query = { from: '2026-12-15', to: '2027-03-14' };
    expect(computeMetrics(folded, query)).toEqual(expected(new Oracle(world), query));
  });
});
