/**
 * An independent recomputation of every metric straight from the raw data of world.ts: no per-day records, no code
 * from core/metrics, no luxon — plain filters and counts over the raw lists, with its own calendar arithmetic.
 *
 * The rules it applies, stated from the product's documentation:
 *  - a survey's response is its first click's day; its score is that of the last click no later than 7 days after
 *    the first (later clicks are refused);
 *  - response rate: of the surveys sent in the period, the share with at least one click;
 *  - a contract term's outcome is the last one written for that end date; it counts on the UTC day it happened;
 *  - a customer's purchases are the distinct order ids; the first purchase (earliest, then by order id) places them
 *    in a cohort, and they repeated within W days if their second purchase's UTC day is at most W days later.
 */
import type { RawWorld } from './world.ts';

export type OracleMetricId =
  | 'nps'
  | 'csat'
  | 'ces'
  | 'responseRate'
  | 'renewalRate'
  | 'churnRate'
  | 'repeatPurchaseRate'
  | 'retentionPromoter'
  | 'retentionPassive'
  | 'retentionDetractor'
  | 'retentionNone';

export interface OracleValue {
  value: number | undefined;
  count: number;
  provisional?: boolean;
}

export type OracleSet = Partial<Record<OracleMetricId, OracleValue>>;

const DAY_MS = 86_400_000;
const dayOf = (instant: string): string => new Date(Date.parse(instant)).toISOString().slice(0, 10);
const plusDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const diffDays = (a: string, b: string): number => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);

/** ISO 8601 week: the week (Monday first) that holds the Thursday of `day`'s week; the year of that Thursday. */
export function oracleIsoWeek(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(date.getTime() + (3 - weekday) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export interface OracleResponse {
  campaignId: string;
  kind: string;
  day: string;
  score: number;
}

export class Oracle {
  readonly responses: OracleResponse[];
  readonly sends: Array<{ campaignId: string; day: string; answered: boolean }>;
  readonly outcomes: Array<{ day: string; result: string; segment: string }>;
  readonly customers: Array<{ firstDay: string; secondDay: string | undefined }>;

  constructor(world: RawWorld) {
    this.responses = [];
    this.sends = [];
    for (const survey of world.surveys) {
      this.sends.push({ campaignId: survey.campaignId, day: dayOf(survey.sentAt), answered: survey.clicks.length > 0 });
      if (survey.clicks.length === 0) continue;
      const first = survey.clicks[0]!;
      const closes = Date.parse(first.at) + 7 * DAY_MS;
      const accepted = survey.clicks.filter((c) => Date.parse(c.at) <= closes);
      this.responses.push({ campaignId: survey.campaignId, kind: survey.kind, day: dayOf(first.at), score: accepted[accepted.length - 1]!.score });
    }

    this.outcomes = [];
    for (const contract of world.contracts) {
      const finalByTerm = new Map<string, (typeof contract.events)[number]['outcome']>();
      for (const event of contract.events) finalByTerm.set(event.outcome.endDate, event.outcome);
      for (const outcome of finalByTerm.values()) this.outcomes.push({ day: dayOf(outcome.at), result: outcome.result, segment: outcome.npsSegment });
    }

    const orders = new Map<string, Map<string, number>>();
    for (const p of world.purchases) {
      const mine = orders.get(p.customerId) ?? orders.set(p.customerId, new Map()).get(p.customerId)!;
      mine.set(p.orderId, Date.parse(p.at));
    }
    this.customers = [...orders.values()].map((mine) => {
      const sorted = [...mine].sort(([ia, ta], [ib, tb]) => ta - tb || (ia < ib ? -1 : ia > ib ? 1 : 0));
      const [first, second] = sorted;
      return { firstDay: new Date(first![1]).toISOString().slice(0, 10), secondDay: second ? new Date(second[1]).toISOString().slice(0, 10) : undefined };
    });
  }

  /** Every metric over the days `days` (a set), for one campaign's survey metrics or for everything. */
  metrics(days: ReadonlySet<string>, options: { campaignId?: string; repeatWindowDays: number; asOf: string }): OracleSet {
    const inDays = (day: string) => days.has(day);
    const mine = (campaignId: string) => options.campaignId === undefined || options.campaignId === campaignId;
    const responses = this.responses.filter((r) => inDays(r.day) && mine(r.campaignId));
    const pct = (part: number, whole: number): OracleValue => ({ value: whole === 0 ? undefined : (part / whole) * 100, count: whole });

    const nps = responses.filter((r) => r.kind === 'nps');
    const promoters = nps.filter((r) => r.score >= 9).length;
    const detractors = nps.filter((r) => r.score <= 6).length;
    const csat = responses.filter((r) => r.kind === 'csat');
    const ces = responses.filter((r) => r.kind === 'ces');
    const sends = this.sends.filter((s) => inDays(s.day) && mine(s.campaignId));
    const result: OracleSet = {
      nps: { value: nps.length === 0 ? undefined : ((promoters - detractors) / nps.length) * 100, count: nps.length },
      csat: pct(csat.filter((r) => r.score >= 4).length, csat.length),
      ces: { value: ces.length === 0 ? undefined : ces.reduce((s, r) => s + r.score, 0) / ces.length, count: ces.length },
      responseRate: pct(sends.filter((s) => s.answered).length, sends.length),
    };
    if (options.campaignId !== undefined) return result;

    const outcomes = this.outcomes.filter((o) => inDays(o.day));
    const renewed = outcomes.filter((o) => o.result === 'RENEWED').length;
    result.renewalRate = pct(renewed, outcomes.length);
    result.churnRate = pct(outcomes.length - renewed, outcomes.length);
    const segment = (s: string) => {
      const of = outcomes.filter((o) => o.segment === s);
      return pct(of.filter((o) => o.result === 'RENEWED').length, of.length);
    };
    result.retentionPromoter = segment('promoter');
    result.retentionPassive = segment('passive');
    result.retentionDetractor = segment('detractor');
    result.retentionNone = segment('none');

    const cohort = this.customers.filter((c) => inDays(c.firstDay));
    const repeated = cohort.filter((c) => c.secondDay !== undefined && diffDays(c.firstDay, c.secondDay) <= options.repeatWindowDays).length;
    const open = cohort.some((c) => plusDays(c.firstDay, options.repeatWindowDays) > options.asOf);
    result.repeatPurchaseRate = open ? { ...pct(repeated, cohort.length), provisional: true } : pct(repeated, cohort.length);
    return result;
  }

  /** The campaigns with any survey send or response on one of `days`. */
  campaignsWithData(days: ReadonlySet<string>): string[] {
    const ids = new Set<string>();
    for (const r of this.responses) if (days.has(r.day)) ids.add(r.campaignId);
    for (const s of this.sends) if (days.has(s.day)) ids.add(s.campaignId);
    return [...ids].sort();
  }
}

/** Every day from `from` to `to`, inclusive. */
export function oracleDays(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = plusDays(day, 1)) days.push(day);
  return days;
}

export const oraclePlusDays = plusDays;

export function oracleBucket(day: string, granularity: 'day' | 'week' | 'month'): string {
  return granularity === 'day' ? day : granularity === 'week' ? oracleIsoWeek(day) : day.slice(0, 7);
}
