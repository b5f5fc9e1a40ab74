/**
 * The loyalty and retention metrics over a date range, from the per-day records of model.ts: overall and per
 * campaign, for the whole range, per day, per ISO week and per month, with the trend against the previous period of
 * the same length. Pure: the caller reads the records of [previous.from, to] and passes them in.
 *
 * | metric | value | over |
 * |---|---|---|
 * | `nps` | % promoters − % detractors (−100…100) | NPS responses first answered in the period |
 * | `csat` | % satisfied (4–5) | CSAT responses first answered in the period |
 * | `ces` | mean score (1–7, 7 = very easy) | CES responses first answered in the period |
 * | `responseRate` | % of surveys sent in the period that have been answered | surveys sent in the period |
 * | `renewalRate` / `churnRate` | % renewed / % churned | contracts whose term's outcome became known in the period |
 * | `retentionPromoter` … `retentionNone` | % renewed of those whose customer was in that NPS segment | as above |
 * | `repeatPurchaseRate` | % with a second purchase within the repeat window | customers whose first purchase was in the period |
 *
 * Percentages are 0…100. A value whose denominator is empty is `undefined` (never 0 or NaN); nothing is rounded
 * here (report.ts rounds for display). Campaigns only have survey metrics (contracts and purchases belong to no
 * campaign): `CAMPAIGN_METRICS`.
 */
import { DateTime } from 'luxon';
import { InvalidInputError } from '../errors.ts';
import { addCalendarDays, isCalendarDate } from '../contracts/renewal-offsets.ts';
import type { SurveyAggregate } from '../surveys/responses.ts';
import {
  DEFAULT_REPEAT_WINDOW_DAYS,
  MAX_REPEAT_WINDOW_DAYS,
  NPS_SEGMENTS,
  daysBetween,
  daysOf,
  emptySegmentCounts,
  type ContractOutcomeAggregate,
  type NpsSegment,
  type PurchaseCohortAggregate,
  type SegmentCounts,
  type SurveySendAggregate,
} from './model.ts';

export const METRIC_IDS = [
  'nps',
  'csat',
  'ces',
  'responseRate',
  'renewalRate',
  'churnRate',
  'repeatPurchaseRate',
  'retentionPromoter',
  'retentionPassive',
  'retentionDetractor',
  'retentionNone',
] as const;
export type MetricId = (typeof METRIC_IDS)[number];

/** The metrics a campaign has (from its survey sends and responses). */
export const CAMPAIGN_METRICS = ['nps', 'csat', 'ces', 'responseRate'] as const satisfies readonly MetricId[];
export type CampaignMetricId = (typeof CAMPAIGN_METRICS)[number];
export const isCampaignMetric = (id: MetricId): id is CampaignMetricId => (CAMPAIGN_METRICS as readonly MetricId[]).includes(id);

export const RETENTION_METRICS: Readonly<Record<NpsSegment, MetricId>> = {
  promoter: 'retentionPromoter',
  passive: 'retentionPassive',
  detractor: 'retentionDetractor',
  none: 'retentionNone',
};

export interface MetricDefinition {
  id: MetricId;
  label: string;
  /** `percent`: 0…100; `points`: NPS, −100…100; `mean`: CES, 1…7. */
  unit: 'percent' | 'points' | 'mean';
  /** The range a value (and a target) can take. */
  min: number;
  max: number;
  /** Decimals shown (report.ts). */
  decimals: number;
  /** The direction that is an improvement (used for the trend when no target says otherwise). */
  higherIsBetter: boolean;
  /** What `count` counts. */
  countOf: string;
}

const percent = (id: MetricId, label: string, countOf: string, higherIsBetter = true): MetricDefinition => ({
  id,
  label,
  unit: 'percent',
  min: 0,
  max: 100,
  decimals: 1,
  higherIsBetter,
  countOf,
});

export const METRICS: Readonly<Record<MetricId, MetricDefinition>> = {
  nps: { id: 'nps', label: 'NPS', unit: 'points', min: -100, max: 100, decimals: 1, higherIsBetter: true, countOf: 'NPS responses' },
  csat: percent('csat', 'CSAT (% satisfied)', 'CSAT responses'),
  ces: { id: 'ces', label: 'CES (mean, 7 = very easy)', unit: 'mean', min: 1, max: 7, decimals: 2, higherIsBetter: true, countOf: 'CES responses' },
  responseRate: percent('responseRate', 'Response rate', 'surveys sent'),
  renewalRate: percent('renewalRate', 'Renewal rate', 'contract terms ended'),
  churnRate: percent('churnRate', 'Churn rate', 'contract terms ended', false),
  repeatPurchaseRate: percent('repeatPurchaseRate', 'Repeat-purchase rate', 'first-time customers'),
  retentionPromoter: percent('retentionPromoter', 'Renewal rate, promoters', 'terms ended (promoters)'),
  retentionPassive: percent('retentionPassive', 'Renewal rate, passives', 'terms ended (passives)'),
  retentionDetractor: percent('retentionDetractor', 'Renewal rate, detractors', 'terms ended (detractors)'),
  retentionNone: percent('retentionNone', 'Renewal rate, no NPS answer', 'terms ended (no NPS answer)'),
};

export interface MetricValue {
  /** undefined when `count` is 0. */
  value: number | undefined;
  /** The denominator: responses, surveys sent, contract terms ended or first-time customers. */
  count: number;
  /**
   * Repeat-purchase rate only: some customers counted still have time to repeat within the window (their first
   * purchase plus the window is after `asOf`), so the value may still rise.
   */
  provisional?: boolean;
}

export type MetricSet = Partial<Record<MetricId, MetricValue>>;

export interface Trend {
  /** The value over the previous period of the same length. */
  previous: number | undefined;
  /** current − previous; undefined unless both are defined. */
  difference: number | undefined;
  direction: 'up' | 'down' | 'flat' | undefined;
}

export type Granularity = 'day' | 'week' | 'month';
export const GRANULARITIES: readonly Granularity[] = ['day', 'week', 'month'];

export interface SeriesPoint {
  /** `2026-03-02`, `2026-W10` (ISO week-year and week), or `2026-03`. */
  bucket: string;
  /** The days of the bucket inside the range (a week or month at either end of the range is cut to it). */
  from: string;
  to: string;
  metrics: MetricSet;
}

export interface ScopeMetrics {
  /** Over the whole range. */
  metrics: MetricSet;
  /** Over the previous period. */
  previous: MetricSet;
  trend: Partial<Record<MetricId, Trend>>;
  /** Every bucket of the range, empty ones included (their values undefined), oldest first. */
  series: Record<Granularity, SeriesPoint[]>;
}

export interface Period {
  from: string;
  to: string;
  days: number;
}

export interface MetricsResult {
  period: Period;
  /** The same number of days just before `period`. */
  previousPeriod: Period;
  repeatWindowDays: number;
  asOf: string;
  /** Every metric, over every campaign. */
  overall: ScopeMetrics;
  /** Survey metrics (CAMPAIGN_METRICS) per campaign, by campaign id. */
  campaigns: Record<string, ScopeMetrics>;
}

/** The per-day records of the range and of the previous period (records of other days are ignored). */
export interface MetricsInput {
  surveys: readonly SurveyAggregate[];
  sends: readonly SurveySendAggregate[];
  outcomes: readonly ContractOutcomeAggregate[];
  purchases: readonly PurchaseCohortAggregate[];
}

export interface MetricsQuery {
  /** First and last UTC day of the range, inclusive (YYYY-MM-DD). */
  from: string;
  to: string;
  /** Only this campaign in `campaigns` (it is there even without data). Otherwise every campaign with data. */
  campaignId?: string;
  /** Days after the first purchase within which a second one is a repeat; default 90, at most 365. */
  repeatWindowDays?: number;
  /** The last day whose data is complete (normally today); decides `provisional`. Default: `to`. */
  asOf?: string;
}

/** The longest range accepted (about ten years). */
export const MAX_RANGE_DAYS = 3700;

// ---------------------------------------------------------------------------------------------------------------
// Sums

/** Sums over some days: everything any metric needs. */
interface Tally {
  npsResponses: number;
  promoters: number;
  detractors: number;
  csatResponses: number;
  satisfied: number;
  cesResponses: number;
  cesScoreSum: number;
  sent: number;
  answered: number;
  renewed: SegmentCounts;
  churned: SegmentCounts;
  customers: number;
  repeated: number;
  /** Customers whose repeat window is not over at `asOf`. */
  open: number;
}

const emptyTally = (): Tally => ({
  npsResponses: 0,
  promoters: 0,
  detractors: 0,
  csatResponses: 0,
  satisfied: 0,
  cesResponses: 0,
  cesScoreSum: 0,
  sent: 0,
  answered: 0,
  renewed: emptySegmentCounts(),
  churned: emptySegmentCounts(),
  customers: 0,
  repeated: 0,
  open: 0,
});

function addTally(into: Tally, from: Tally): void {
  into.npsResponses += from.npsResponses;
  into.promoters += from.promoters;
  into.detractors += from.detractors;
  into.csatResponses += from.csatResponses;
  into.satisfied += from.satisfied;
  into.cesResponses += from.cesResponses;
  into.cesScoreSum += from.cesScoreSum;
  into.sent += from.sent;
  into.answered += from.answered;
  for (const segment of NPS_SEGMENTS) {
    into.renewed[segment] += from.renewed[segment];
    into.churned[segment] += from.churned[segment];
  }
  into.customers += from.customers;
  into.repeated += from.repeated;
  into.open += from.open;
}

const ratio = (part: number, whole: number): MetricValue => ({ value: whole > 0 ? (part / whole) * 100 : undefined, count: whole });
const sum = (counts: SegmentCounts): number => NPS_SEGMENTS.reduce((n, s) => n + counts[s], 0);

function metricsOf(t: Tally, scope: 'overall' | 'campaign'): MetricSet {
  const metrics: MetricSet = {
    nps: { value: t.npsResponses > 0 ? ((t.promoters - t.detractors) / t.npsResponses) * 100 : undefined, count: t.npsResponses },
    csat: ratio(t.satisfied, t.csatResponses),
    ces: { value: t.cesResponses > 0 ? t.cesScoreSum / t.cesResponses : undefined, count: t.cesResponses },
    responseRate: ratio(t.answered, t.sent),
  };
  if (scope === 'campaign') return metrics;
  const renewed = sum(t.renewed);
  const ended = renewed + sum(t.churned);
  metrics.renewalRate = ratio(renewed, ended);
  metrics.churnRate = ratio(ended - renewed, ended);
  const repeat = ratio(t.repeated, t.customers);
  metrics.repeatPurchaseRate = t.open > 0 ? { ...repeat, provisional: true } : repeat;
  for (const segment of NPS_SEGMENTS) metrics[RETENTION_METRICS[segment]] = ratio(t.renewed[segment], t.renewed[segment] + t.churned[segment]);
  return metrics;
}

/** Differences this small are floating-point noise (e.g. 100/3 computed two ways), not a change. */
const FLAT = 1e-9;

function trendOf(current: MetricValue | undefined, previous: MetricValue | undefined): Trend {
  const now = current?.value;
  const before = previous?.value;
  if (now === undefined || before === undefined) return { previous: before, difference: undefined, direction: undefined };
  const difference = now - before;
  return { previous: before, difference, direction: Math.abs(difference) <= FLAT ? 'flat' : difference > 0 ? 'up' : 'down' };
}

// ---------------------------------------------------------------------------------------------------------------
// Buckets

/** The ISO week of a day, `2026-W01` (week-year: 2027-01-01 is in 2026-W53). */
export function isoWeekOf(day: string): string {
  return DateTime.fromISO(day, { zone: 'utc' }).toFormat("kkkk-'W'WW");
}

export function bucketOf(day: string, granularity: Granularity): string {
  if (granularity === 'day') return day;
  if (granularity === 'week') return isoWeekOf(day);
  return day.slice(0, 7);
}

function checkQuery(query: MetricsQuery): { from: string; to: string; days: number; repeatWindowDays: number; asOf: string } {
  const problems: string[] = [];
  for (const field of ['from', 'to', 'asOf'] as const) {
    const value = query[field];
    if (value !== undefined && !isCalendarDate(value)) problems.push(`${field}: "${value}" is not a calendar date (YYYY-MM-DD)`);
  }
  const repeatWindowDays = query.repeatWindowDays ?? DEFAULT_REPEAT_WINDOW_DAYS;
  if (!Number.isInteger(repeatWindowDays) || repeatWindowDays < 0 || repeatWindowDays > MAX_REPEAT_WINDOW_DAYS) {
    problems.push(`repeatWindowDays: ${repeatWindowDays} is not a whole number of days from 0 to ${MAX_REPEAT_WINDOW_DAYS}`);
  }
  if (problems.length === 0) {
    const days = daysBetween(query.from, query.to) + 1;
    if (days < 1) problems.push(`to: "${query.to}" is before from "${query.from}"`);
    else if (days > MAX_RANGE_DAYS) problems.push(`the range has ${days} days; at most ${MAX_RANGE_DAYS}`);
    else return { from: query.from, to: query.to, days, repeatWindowDays, asOf: query.asOf ?? query.to };
  }
  throw new InvalidInputError(`metrics query is invalid: ${problems.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The computation

/**
 * Computes every metric for `query` from the records in `input`.
 * Throws InvalidInputError for a bad range (not calendar dates, `to` before `from`, longer than MAX_RANGE_DAYS).
 */
export function computeMetrics(input: MetricsInput, query: MetricsQuery): MetricsResult {
  const { from, to, days, repeatWindowDays, asOf } = checkQuery(query);
  const previousFrom = addCalendarDays(from, -days);
  const previousTo = addCalendarDays(from, -1);
  const inReach = (day: string) => day >= previousFrom && day <= to;

  const overall = new Map<string, Tally>();
  const campaigns = new Map<string, Map<string, Tally>>();
  const tallyOf = (days: Map<string, Tally>, day: string) => days.get(day) ?? days.set(day, emptyTally()).get(day)!;
  const campaignDays = (campaignId: string) => campaigns.get(campaignId) ?? campaigns.set(campaignId, new Map()).get(campaignId)!;
  const wanted = (campaignId: string) => query.campaignId === undefined || query.campaignId === campaignId;
  if (query.campaignId !== undefined) campaignDays(query.campaignId);

  for (const a of input.surveys) {
    if (!inReach(a.day)) continue;
    const targets = [tallyOf(overall, a.day), ...(wanted(a.campaignId) ? [tallyOf(campaignDays(a.campaignId), a.day)] : [])];
    for (const t of targets) {
      if (a.kind === 'nps') {
        t.npsResponses += a.responses;
        t.promoters += a.categories.promoter ?? 0;
        t.detractors += a.categories.detractor ?? 0;
      } else if (a.kind === 'csat') {
        t.csatResponses += a.responses;
        t.satisfied += a.categories.satisfied ?? 0;
      } else {
        t.cesResponses += a.responses;
        t.cesScoreSum += a.scoreSum;
      }
    }
  }
  for (const s of input.sends) {
    if (!inReach(s.day)) continue;
    for (const t of [tallyOf(overall, s.day), ...(wanted(s.campaignId) ? [tallyOf(campaignDays(s.campaignId), s.day)] : [])]) {
      t.sent += s.sent;
      t.answered += s.answered;
    }
  }
  for (const o of input.outcomes) {
    if (!inReach(o.day)) continue;
    const t = tallyOf(overall, o.day);
    for (const segment of NPS_SEGMENTS) {
      t.renewed[segment] += o.renewed[segment];
      t.churned[segment] += o.churned[segment];
    }
  }
  for (const p of input.purchases) {
    if (!inReach(p.day)) continue;
    const t = tallyOf(overall, p.day);
    t.customers += p.customers;
    for (const [after, n] of Object.entries(p.repeatAfterDays)) if (Number(after) <= repeatWindowDays) t.repeated += n;
    if (addCalendarDays(p.day, repeatWindowDays) > asOf) t.open += p.customers;
  }

  const current = daysOf(from, to);
  const previous = daysOf(previousFrom, previousTo);
  const scope = (tallies: Map<string, Tally>, kind: 'overall' | 'campaign'): ScopeMetrics => {
    const over = (days: readonly string[]) => {
      const total = emptyTally();
      for (const day of days) {
        const t = tallies.get(day);
        if (t) addTally(total, t);
      }
      return metricsOf(total, kind);
    };
    const metrics = over(current);
    const before = over(previous);
    const trend: Partial<Record<MetricId, Trend>> = {};
    for (const id of METRIC_IDS) if (metrics[id]) trend[id] = trendOf(metrics[id], before[id]);
    const series = {} as Record<Granularity, SeriesPoint[]>;
    for (const granularity of GRANULARITIES) {
      const buckets = new Map<string, string[]>();
      for (const day of current) {
        const bucket = bucketOf(day, granularity);
        (buckets.get(bucket) ?? buckets.set(bucket, []).get(bucket)!).push(day);
      }
      series[granularity] = [...buckets].map(([bucket, days]) => ({ bucket, from: days[0]!, to: days[days.length - 1]!, metrics: over(days) }));
    }
    return { metrics, previous: before, trend, series };
  };

  return {
    period: { from, to, days },
    previousPeriod: { from: previousFrom, to: previousTo, days },
    repeatWindowDays,
    asOf,
    overall: scope(overall, 'overall'),
    campaigns: Object.fromEntries([...campaigns].sort(([a], [b]) => a.localeCompare(b)).map(([id, tallies]) => [id, scope(tallies, 'campaign')])),
  };
}
