/** computeMetrics on small hand-made records: empty denominators, single answers, bucket boundaries, the trend. */
import { describe, expect, it } from 'vitest';
import { CAMPAIGN_METRICS, METRIC_IDS, bucketOf, computeMetrics, isoWeekOf, type MetricsInput } from '../../../core/metrics/compute.ts';
import { emptySegmentCounts, type ContractOutcomeAggregate, type SurveySendAggregate } from '../../../core/metrics/model.ts';
import { InvalidInputError } from '../../../core/errors.ts';
import { rebuildAggregates, surveyMetric, type SurveyAggregate, type SurveyResponse } from '../../../core/surveys/responses.ts';
import { categoryOf, type SurveyKind } from '../../../core/surveys/scales.ts';

const NONE: MetricsInput = { surveys: [], sends: [], outcomes: [], purchases: [] };

/** One aggregate per given score, counted the way the answer use case does. */
function answers(campaignId: string, kind: SurveyKind, day: string, scores: number[]): SurveyAggregate[] {
  const responses = scores.map(
    (score, i): SurveyResponse => ({
      surveyId: `${campaignId}-${day}-${i}`,
      kind,
      campaignId,
      customerId: `c-${i}`,
      score,
      category: categoryOf(kind, score),
      firstAnsweredAt: `${day}T12:00:00.000Z`,
      answeredAt: `${day}T12:00:00.000Z`,
      day,
      revision: 0,
      scoreHistory: [score],
    }),
  );
  return rebuildAggregates(responses);
}

const sends = (campaignId: string, day: string, sent: number, answered: number, kind: SurveyKind = 'nps'): SurveySendAggregate => ({
  campaignId,
  day,
  kind,
  sent,
  answered,
});

const outcomes = (day: string, renewed: Partial<Record<'promoter' | 'passive' | 'detractor' | 'none', number>>, churned: typeof renewed = {}): ContractOutcomeAggregate => ({
  day,
  renewed: { ...emptySegmentCounts(), ...renewed },
  churned: { ...emptySegmentCounts(), ...churned },
});

describe('no data', () => {
  it('every metric is undefined with a count of 0, every bucket is there, no campaign appears', () => {
    const result = computeMetrics(NONE, { from: '2026-03-01', to: '2026-03-10' });
    for (const id of METRIC_IDS) {
      expect(result.overall.metrics[id]).toEqual({ value: undefined, count: 0 });
      expect(result.overall.trend[id]).toEqual({ previous: undefined, difference: undefined, direction: undefined });
    }
    expect(result.overall.series.day.map((p) => p.bucket)).toHaveLength(10);
    expect(result.overall.series.day.every((p) => p.metrics.nps?.value === undefined)).toBe(true);
    expect(result.campaigns).toEqual({});
    expect(result.period).toEqual({ from: '2026-03-01', to: '2026-03-10', days: 10 });
    expect(result.previousPeriod).toEqual({ from: '2026-02-19', to: '2026-02-28', days: 10 });
  });

  it('a campaign asked for is there, with its survey metrics only, all undefined', () => {
    const result = computeMetrics(NONE, { from: '2026-03-01', to: '2026-03-01', campaignId: 'nps-after-purchase' });
    expect(Object.keys(result.campaigns)).toEqual(['nps-after-purchase']);
    expect(Object.keys(result.campaigns['nps-after-purchase']!.metrics)).toEqual([...CAMPAIGN_METRICS]);
    expect(result.campaigns['nps-after-purchase']!.metrics.nps).toEqual({ value: undefined, count: 0 });
  });
});

describe('survey metrics', () => {
  it('one promoter is an NPS of 100; one CSAT 3 is 0 % satisfied (not undefined); one CES 4 is a mean of 4', () => {
    const input = {
      ...NONE,
      surveys: [...answers('n', 'nps', '2026-03-01', [9]), ...answers('c', 'csat', '2026-03-01', [3]), ...answers('e', 'ces', '2026-03-01', [4])],
    };
    const { metrics } = computeMetrics(input, { from: '2026-03-01', to: '2026-03-01' }).overall;
    expect(metrics.nps).toEqual({ value: 100, count: 1 });
    expect(metrics.csat).toEqual({ value: 0, count: 1 });
    expect(metrics.ces).toEqual({ value: 4, count: 1 });
  });

  it('all detractors is −100; passives count in the denominator only', () => {
    const all = { ...NONE, surveys: answers('n', 'nps', '2026-03-01', [0, 3, 6, 6]) };
    expect(computeMetrics(all, { from: '2026-03-01', to: '2026-03-01' }).overall.metrics.nps).toEqual({ value: -100, count: 4 });
    const mixed = { ...NONE, surveys: answers('n', 'nps', '2026-03-01', [10, 9, 8, 7, 6]) };
    expect(computeMetrics(mixed, { from: '2026-03-01', to: '2026-03-01' }).overall.metrics.nps).toEqual({ value: 20, count: 5 });
  });

  it('agrees with surveyMetric over the same aggregates', () => {
    const surveys = [
      ...answers('a', 'nps', '2026-03-01', [10, 2, 8, 9, 9, 0]),
      ...answers('b', 'nps', '2026-03-02', [7, 10]),
      ...answers('a', 'csat', '2026-03-02', [5, 4, 1, 3]),
      ...answers('a', 'ces', '2026-03-01', [7, 6, 2]),
    ];
    const { metrics } = computeMetrics({ ...NONE, surveys }, { from: '2026-03-01', to: '2026-03-02' }).overall;
    for (const kind of ['nps', 'csat', 'ces'] as const) {
      const reference = surveyMetric(kind, surveys);
      expect(metrics[kind]).toEqual({ value: reference.value, count: reference.responses });
    }
  });

  it('response rate is answered ÷ sent of the surveys sent in the range; undefined without sends even with responses', () => {
    const input = { ...NONE, surveys: answers('n', 'nps', '2026-03-05', [9]), sends: [sends('n', '2026-03-01', 4, 3), sends('n', '2026-02-27', 10, 10)] };
    expect(computeMetrics(input, { from: '2026-03-01', to: '2026-03-07' }).overall.metrics.responseRate).toEqual({ value: 75, count: 4 });
    expect(computeMetrics(input, { from: '2026-03-05', to: '2026-03-05' }).overall.metrics.responseRate).toEqual({ value: undefined, count: 0 });
  });

  it('per campaign: its own figures; overall: all campaigns together', () => {
    const input = {
      ...NONE,
      surveys: [...answers('a', 'nps', '2026-03-01', [10, 10]), ...answers('b', 'nps', '2026-03-01', [0])],
      sends: [sends('a', '2026-03-01', 2, 2), sends('b', '2026-03-01', 5, 1)],
    };
    const result = computeMetrics(input, { from: '2026-03-01', to: '2026-03-01' });
    expect(result.overall.metrics.nps?.value).toBeCloseTo(100 / 3, 12);
    expect(result.campaigns.a?.metrics.nps).toEqual({ value: 100, count: 2 });
    expect(result.campaigns.b?.metrics.nps).toEqual({ value: -100, count: 1 });
    expect(result.campaigns.b?.metrics.responseRate).toEqual({ value: 20, count: 5 });
    expect(result.campaigns.a?.metrics.renewalRate).toBeUndefined();
    expect(Object.keys(computeMetrics(input, { from: '2026-03-01', to: '2026-03-01', campaignId: 'b' }).campaigns)).toEqual(['b']);
  });
});

describe('contract and purchase metrics', () => {
  it('renewal, churn and retention by NPS segment of the terms ended in the range', () => {
    const input = { ...NONE, outcomes: [outcomes('2026-03-01', { promoter: 3, none: 1 }, { promoter: 1, detractor: 2 }), outcomes('2026-03-02', { passive: 1 })] };
    const { metrics } = computeMetrics(input, { from: '2026-03-01', to: '2026-03-02' }).overall;
    expect(metrics.renewalRate).toEqual({ value: 62.5, count: 8 });
    expect(metrics.churnRate).toEqual({ value: 37.5, count: 8 });
    expect(metrics.retentionPromoter).toEqual({ value: 75, count: 4 });
    expect(metrics.retentionPassive).toEqual({ value: 100, count: 1 });
    expect(metrics.retentionDetractor).toEqual({ value: 0, count: 2 });
    expect(metrics.retentionNone).toEqual({ value: 100, count: 1 });
  });

  it('repeat-purchase rate counts second purchases within the window; provisional while windows are open', () => {
    const input = { ...NONE, purchases: [{ day: '2026-03-01', customers: 4, repeatAfterDays: { '0': 1, '30': 1, '31': 1 } }] };
    const query = { from: '2026-03-01', to: '2026-03-01' };
    expect(computeMetrics(input, { ...query, repeatWindowDays: 30, asOf: '2026-03-31' }).overall.metrics.repeatPurchaseRate).toEqual({ value: 50, count: 4 });
    expect(computeMetrics(input, { ...query, repeatWindowDays: 30, asOf: '2026-03-30' }).overall.metrics.repeatPurchaseRate).toEqual({
      value: 50,
      count: 4,
      provisional: true,
    });
    expect(computeMetrics(input, { ...query, repeatWindowDays: 0 }).overall.metrics.repeatPurchaseRate).toEqual({ value: 25, count: 4 });
    expect(computeMetrics(input, { ...query, asOf: '2026-12-31' }).overall.metrics.repeatPurchaseRate).toEqual({ value: 75, count: 4 });
  });
});

describe('buckets', () => {
  it('ISO weeks: week-year at the turn of the year, week 53', () => {
    expect(isoWeekOf('2026-12-28')).toBe('2026-W53');
    expect(isoWeekOf('2027-01-03')).toBe('2026-W53');
    expect(isoWeekOf('2027-01-04')).toBe('2027-W01');
    expect(isoWeekOf('2021-01-03')).toBe('2020-W53');
    expect(isoWeekOf('2024-12-30')).toBe('2025-W01');
    expect(isoWeekOf('2026-01-01')).toBe('2026-W01');
    expect(bucketOf('2026-02-28', 'month')).toBe('2026-02');
    expect(bucketOf('2026-02-28', 'day')).toBe('2026-02-28');
  });

  it('weeks and months at the ends of the range are cut to it; each bucket sums its own days', () => {
    const input = {
      ...NONE,
      surveys: [...answers('n', 'nps', '2026-12-31', [10]), ...answers('n', 'nps', '2027-01-03', [0]), ...answers('n', 'nps', '2027-01-04', [9, 9])],
    };
    const { series } = computeMetrics(input, { from: '2026-12-30', to: '2027-01-05' }).overall;
    expect(series.week.map(({ bucket, from, to, metrics }) => ({ bucket, from, to, nps: metrics.nps }))).toEqual([
      { bucket: '2026-W53', from: '2026-12-30', to: '2027-01-03', nps: { value: 0, count: 2 } },
      { bucket: '2027-W01', from: '2027-01-04', to: '2027-01-05', nps: { value: 100, count: 2 } },
    ]);
    expect(series.month.map(({ bucket, from, to, metrics }) => ({ bucket, from, to, nps: metrics.nps }))).toEqual([
      { bucket: '2026-12', from: '2026-12-30', to: '2026-12-31', nps: { value: 100, count: 1 } },
      { bucket: '2027-01', from: '2027-01-01', to: '2027-01-05', nps: { value: ((2 - 1) / 3) * 100, count: 3 } },
    ]);
    expect(series.day.map((p) => p.metrics.nps?.count)).toEqual([0, 1, 0, 0, 1, 2, 0]);
  });

  it('a leap year February is one month bucket of 29 days', () => {
    const { series } = computeMetrics(NONE, { from: '2028-02-01', to: '2028-03-01' }).overall;
    expect(series.month.map(({ bucket, from, to }) => ({ bucket, from, to }))).toEqual([
      { bucket: '2028-02', from: '2028-02-01', to: '2028-02-29' },
      { bucket: '2028-03', from: '2028-03-01', to: '2028-03-01' },
    ]);
  });
});

describe('trend', () => {
  const input = {
    ...NONE,
    surveys: [...answers('n', 'nps', '2026-02-27', [10, 0]), ...answers('n', 'nps', '2026-03-02', [10, 10, 0])],
    outcomes: [outcomes('2026-02-28', { none: 1 }), outcomes('2026-03-01', { none: 1 })],
  };

  it('compares with the previous period of the same length', () => {
    const result = computeMetrics(input, { from: '2026-03-01', to: '2026-03-03' });
    expect(result.previousPeriod).toEqual({ from: '2026-02-26', to: '2026-02-28', days: 3 });
    expect(result.overall.trend.nps).toEqual({ previous: 0, difference: ((2 - 1) / 3) * 100, direction: 'up' });
    expect(result.overall.trend.renewalRate).toEqual({ previous: 100, difference: 0, direction: 'flat' });
    expect(result.overall.trend.csat).toEqual({ previous: undefined, difference: undefined, direction: undefined });
    expect(result.overall.previous.nps).toEqual({ value: 0, count: 2 });
  });

  it('without data now but data before: previous only', () => {
    const result = computeMetrics(input, { from: '2026-03-03', to: '2026-03-03' });
    expect(result.overall.trend.nps).toEqual({ previous: ((2 - 1) / 3) * 100, difference: undefined, direction: undefined });
  });

  it('ignores records outside the range and its previous period', () => {
    const result = computeMetrics(input, { from: '2026-03-02', to: '2026-03-02' });
    expect(result.overall.previous.nps).toEqual({ value: undefined, count: 0 });
    expect(result.overall.previous.renewalRate).toEqual({ value: 100, count: 1 });
  });
});

describe('query checks', () => {
  it.each([
    [{ from: '2026-02-30', to: '2026-03-01' }, 'metrics query is invalid: from: "2026-02-30" is not a calendar date (YYYY-MM-DD)'],
    [{ from: '2026-03-02', to: '2026-03-01' }, 'metrics query is invalid: to: "2026-03-01" is before from "2026-03-02"'],
    [{ from: '2016-01-01', to: '2026-03-01' }, 'metrics query is invalid: the range has 3713 days; at most 3700'],
    [
      { from: '2026-03-01', to: '2026-03-01', repeatWindowDays: 400, asOf: 'today' },
      'metrics query is invalid: asOf: "today" is not a calendar date (YYYY-MM-DD); repeatWindowDays: 400 is not a whole number of days from 0 to 365',
    ],
  ])('%o → %s', (query, message) => {
    expect(() => computeMetrics(NONE, query)).toThrow(new InvalidInputError(message));
  });
});
