/**
 * The inputs of the loyalty and retention metrics: small records per UTC day that the system keeps up to date one
 * event at a time, so that a view over N days reads about (2 × survey campaigns + 2) × N small items (a campaign
 * has one scale), whatever the number of responses, contracts and purchases behind them. Pure functions; the use
 * cases add the storage.
 *
 * | record | key | counts | updated by |
 * |---|---|---|---|
 * | `SurveyAggregate` (core/surveys/responses.ts, as is) | campaign × UTC day of the first answer × kind | responses, score sum, per score, per category | the survey answer (settle-response.ts, already) |
 * | `SurveySendAggregate` | campaign × UTC day the survey was sent × kind | surveys sent; of those, answered | the SENT outcome of a survey touchpoint; the first answer |
 * | `ContractOutcomeAggregate` | UTC day of the outcome (no campaign) | renewed / churned × the customer's NPS segment then | every recorded contract outcome |
 * | `PurchaseCohortAggregate` | UTC day of the customer's first purchase (no campaign) | customers; of those, days to the second purchase | every new order of a customer |
 *
 * Every change is an increment (DynamoDB `ADD`) computed as "what the entity contributes now − what it contributed
 * before", from state the entity's own item keeps (the response, the contract's outcomes per term, the customer's
 * two earliest purchases). So a re-delivered event (no change of state) adds nothing, an event that arrives late or
 * out of order moves a count from one bucket to another, and a rebuild from the raw items (the `rebuild…` functions)
 * yields exactly what the increments add up to; `aggregateDrift` lists the differences. Without transactions (the
 * local engine has none) the entity's write and the `ADD` are two writes: a crash between them loses an increment
 * unless the use case settles it like survey answers do (work marked on the entity, finished by the next attempt or
 * a sweep); the rebuild command finds and repairs whatever is left.
 *
 * Every day is a UTC calendar day, YYYY-MM-DD, like `SurveyAggregate.day`.
 *
 * Storage (for the integrator): the survey aggregates stay in `surveyAggregates` (one Query per campaign and day
 * range); the other three fit one new table keyed by a series (`sends#<campaignId>`, `outcomes`, `purchases`) and a
 * sort key `<day>` (`<day>#<kind>` for sends), counts as flat top-level numbers (`sendCounters` …, because `ADD`
 * cannot create a nested map's entry). A 90-day view with its trend reads 180 days: one Query per series, at most
 * 180 items for outcomes and for purchases and 180 per campaign and scale for sends and for survey aggregates —
 * the same at a thousand or a million responses. Every purchase of a day adds to one item; past roughly a thousand writes a
 * second, split each day into a few sub-items (`<day>#<n>`) and add them up when reading.
 */
import { addCalendarDays, isCalendarDate, utcInstant } from '../contracts/renewal-offsets.ts';
import type { ContractOutcome } from '../contracts/model.ts';
import type { Customer } from '../model.ts';
import { utcDay } from '../surveys/responses.ts';
import type { SurveyKind } from '../surveys/scales.ts';

export type { SurveyAggregate } from '../surveys/responses.ts';

/** A bump of a count map; a count that reaches zero disappears (absent counts are zero). */
function bump(counts: Record<string, number>, key: string, by: number): void {
  const value = (counts[key] ?? 0) + by;
  if (value === 0) delete counts[key];
  else counts[key] = value;
}

/** Whole calendar days from `from` to `to` (both YYYY-MM-DD); negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  if (!isCalendarDate(from) || !isCalendarDate(to)) throw new RangeError(`not calendar dates: ${from}, ${to}`);
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

// ---------------------------------------------------------------------------------------------------------------
// Survey sends (the denominator of the response rate)

/** What a sent survey touchpoint says about itself (the touchpoint is the survey: surveyId = touchpointId). */
export interface SurveySendFacts {
  campaignId: string;
  /** The campaign's `survey.scale`. */
  kind: SurveyKind;
  /** `Touchpoint.sentAt` of the survey itself (not of its reminder). */
  sentAt: string;
}

export interface SurveySendKey {
  campaignId: string;
  /** UTC day of `sentAt`. */
  day: string;
  kind: SurveyKind;
}

/**
 * Surveys sent per campaign × UTC day of sending × kind, and how many of exactly those surveys have been answered
 * (at any time since). The response rate is `answered ÷ sent` of the surveys sent in a period: a cohort rate, so it
 * never exceeds 100 % and does not depend on when the answers came.
 *
 * Maintained by:
 *  - `sent` + 1 (`surveySentDelta`) when a survey touchpoint's outcome SENT is recorded (record-touchpoint-outcome,
 *    after the conditional DISPATCHED → SENT write succeeded; a re-delivery fails that write and adds nothing).
 *    Survey reminders (touchpoints with `context.parentTouchpointId`) are not sends: they answer their parent survey.
 *  - `answered` + 1 (`surveyAnsweredDelta`) when a response is created (decideAnswer's `create`, never an edit), in
 *    the bucket of the survey touchpoint's `sentAt` — the answer use case reads that touchpoint already. It belongs
 *    in the response's settlement (settle-response.ts) next to the score counts, made exactly-once the same way (an
 *    in-flight marker per survey on the item, or a flag on the response), so a crash neither loses nor doubles it.
 */
export interface SurveySendAggregate extends SurveySendKey {
  sent: number;
  answered: number;
}

/** Increments of one SurveySendAggregate (DynamoDB `ADD sent :s, answered :a`). */
export interface SurveySendDelta extends SurveySendKey {
  sent: number;
  answered: number;
}

export function surveySendKeyOf(send: SurveySendFacts): SurveySendKey {
  return { campaignId: send.campaignId, day: utcDay(send.sentAt), kind: send.kind };
}

/** A survey went out. */
export function surveySentDelta(send: SurveySendFacts): SurveySendDelta {
  return { ...surveySendKeyOf(send), sent: 1, answered: 0 };
}

/** A survey was answered for the first time (its send's bucket). */
export function surveyAnsweredDelta(send: SurveySendFacts): SurveySendDelta {
  return { ...surveySendKeyOf(send), sent: 0, answered: 1 };
}

export function emptySendAggregate(key: SurveySendKey): SurveySendAggregate {
  return { campaignId: key.campaignId, day: key.day, kind: key.kind, sent: 0, answered: 0 };
}

export function addSendDelta(aggregate: SurveySendAggregate, delta: SurveySendDelta): SurveySendAggregate {
  return { ...aggregate, sent: aggregate.sent + delta.sent, answered: aggregate.answered + delta.answered };
}

export const sendKeyId = (key: SurveySendKey): string => `${key.campaignId}\u0000${key.day}\u0000${key.kind}`;

const compareSendKeys = (a: SurveySendKey, b: SurveySendKey): number =>
  a.campaignId.localeCompare(b.campaignId) || a.day.localeCompare(b.day) || a.kind.localeCompare(b.kind);

/** The send aggregates of every sent survey (its touchpoint) and whether it has a response: what the increments must add up to. */
export function rebuildSendAggregates(sends: Iterable<SurveySendFacts & { answered: boolean }>): SurveySendAggregate[] {
  const buckets = new Map<string, SurveySendAggregate>();
  for (const send of sends) {
    const key = surveySendKeyOf(send);
    const id = sendKeyId(key);
    const current = buckets.get(id) ?? emptySendAggregate(key);
    buckets.set(id, addSendDelta(current, { ...key, sent: 1, answered: send.answered ? 1 : 0 }));
  }
  return [...buckets.values()].sort(compareSendKeys);
}

// ---------------------------------------------------------------------------------------------------------------
// Contract outcomes (renewal and churn rates, retention by NPS segment)

export const CONTRACT_RESULTS = ['RENEWED', 'CHURNED'] as const;
export type ContractResult = (typeof CONTRACT_RESULTS)[number];

/**
 * The customer's NPS category when an outcome is recorded: the category of `latestSurvey.nps` on the customer item
 * (the latest answer to any NPS survey), or `none` for a customer who never answered one.
 */
export const NPS_SEGMENTS = ['promoter', 'passive', 'detractor', 'none'] as const;
export type NpsSegment = (typeof NPS_SEGMENTS)[number];

export type SegmentCounts = Record<NpsSegment, number>;

export const emptySegmentCounts = (): SegmentCounts => ({ promoter: 0, passive: 0, detractor: 0, none: 0 });

/** The segment of a customer as its item holds it (`latestSurvey.nps.category`); `none` without an NPS answer. */
export function npsSegmentOf(customer: Pick<Customer, 'latestSurvey'> | undefined): NpsSegment {
  const category = customer?.latestSurvey?.nps?.category;
  return category === 'promoter' || category === 'passive' || category === 'detractor' ? category : 'none';
}

/**
 * A term's outcome as the contract must keep it for the metrics: the ContractOutcome plus the customer's NPS segment
 * read when the outcome was recorded. The contract item keeps one per term (keyed by `endDate`): today it keeps the
 * latest term's outcome only, which is not enough to rebuild the aggregates or to correct an earlier term.
 */
export interface RecordedOutcome extends ContractOutcome {
  npsSegment: NpsSegment;
}

/**
 * Contracts whose term reached its end on a UTC day — the day its outcome became known (`ContractOutcome.at`: the
 * renewal or cancellation event time, or the sweep that saw the last day pass) — by result and by the customer's NPS
 * segment then. One item per day for the whole product (contracts have no campaign).
 *
 * Maintained by every write of an outcome (contract-events: Renewed, Cancelled; renewal-sweep: recordContractEnds),
 * with `recordOutcome(history, next)`: a new term's outcome adds 1; a changed outcome of the same term (a late
 * Renewed after the sweep had recorded the churn) moves the 1 from the old day/result/segment to the new one; the
 * same outcome again (a re-delivered event) adds nothing.
 */
export interface ContractOutcomeAggregate {
  day: string;
  renewed: SegmentCounts;
  churned: SegmentCounts;
}

/** One `ADD` on a ContractOutcomeAggregate: `<renewed|churned>.<segment>` by ±1. */
export interface OutcomeIncrement {
  day: string;
  result: ContractResult;
  segment: NpsSegment;
  by: number;
}

export function emptyOutcomeAggregate(day: string): ContractOutcomeAggregate {
  return { day, renewed: emptySegmentCounts(), churned: emptySegmentCounts() };
}

export function addOutcomeIncrement(aggregate: ContractOutcomeAggregate, increment: OutcomeIncrement): ContractOutcomeAggregate {
  const field = increment.result === 'RENEWED' ? 'renewed' : 'churned';
  const counts = { ...aggregate[field], [increment.segment]: aggregate[field][increment.segment] + increment.by };
  return { ...aggregate, [field]: counts };
}

const outcomeDay = (outcome: ContractOutcome): string => utcDay(utcInstant(outcome.at));

/**
 * Records `next` in a contract's outcome history (one outcome per term, by end date) and returns the increments.
 * Idempotent: recording the same outcome again returns no increment and the same history.
 */
export function recordOutcome(
  history: readonly RecordedOutcome[],
  next: RecordedOutcome,
): { history: RecordedOutcome[]; increments: OutcomeIncrement[] } {
  const previous = history.find((o) => o.endDate === next.endDate);
  const rest = history.filter((o) => o.endDate !== next.endDate);
  const nextHistory = [...rest, next].sort((a, b) => a.endDate.localeCompare(b.endDate));
  const add: OutcomeIncrement = { day: outcomeDay(next), result: next.result, segment: next.npsSegment, by: 1 };
  if (!previous) return { history: nextHistory, increments: [add] };
  const remove: OutcomeIncrement = { day: outcomeDay(previous), result: previous.result, segment: previous.npsSegment, by: -1 };
  const same = remove.day === add.day && remove.result === add.result && remove.segment === add.segment;
  return { history: nextHistory, increments: same ? [] : [remove, add] };
}

/** The outcome aggregates of every term outcome of every contract: what the increments must add up to. */
export function rebuildOutcomeAggregates(outcomes: Iterable<RecordedOutcome>): ContractOutcomeAggregate[] {
  const days = new Map<string, ContractOutcomeAggregate>();
  for (const outcome of outcomes) {
    const day = outcomeDay(outcome);
    const increment: OutcomeIncrement = { day, result: outcome.result, segment: outcome.npsSegment, by: 1 };
    days.set(day, addOutcomeIncrement(days.get(day) ?? emptyOutcomeAggregate(day), increment));
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}

// ---------------------------------------------------------------------------------------------------------------
// Purchases (repeat-purchase rate)

/**
 * The longest repeat window the records can answer: a second purchase more than this many days after the first is
 * not recorded (for no window up to this long is it a repeat).
 */
export const MAX_REPEAT_WINDOW_DAYS = 365;
/** The repeat window of the repeat-purchase rate unless configured otherwise. */
export const DEFAULT_REPEAT_WINDOW_DAYS = 90;

/** One completed purchase (Purchase Completed: its order id and the event envelope's `time`, like `firstPurchaseAt`). */
export interface PurchaseRef {
  orderId: string;
  at: string;
}

/**
 * The customer's two earliest purchases (distinct orders, earliest `at` first, then orderId): all the repeat-purchase
 * metric needs, kept on the customer item (`purchases`). Every order seen and not kept is later than `second`, so a
 * re-delivered order changes nothing and an order that arrives late takes its place in time order.
 */
export interface PurchaseHistory {
  first: PurchaseRef;
  second?: PurchaseRef;
}

/**
 * Customers by the UTC day of their first purchase (a cohort), and of those, the number whose second purchase came
 * d UTC calendar days after the first (`repeatAfterDays["d"]`, 0 ≤ d ≤ MAX_REPEAT_WINDOW_DAYS; 0: the same day).
 * The customers of a cohort who repeated within W days are the sum of `repeatAfterDays` for d ≤ W, so any window up to
 * MAX_REPEAT_WINDOW_DAYS can be reported from the same records. One item per day for the whole product.
 *
 * Maintained by ingest-event on every Purchase Completed with `recordPurchase(customer.purchases, order)`, written
 * with the customer item (conditional on the history read, as the order ids are today): the increments move the
 * customer between cohorts when an earlier order arrives late, and add nothing for a re-delivered order.
 * Refunds and cancellations do not undo a purchase.
 */
export interface PurchaseCohortAggregate {
  day: string;
  customers: number;
  repeatAfterDays: Record<string, number>;
}

/** Increments of one PurchaseCohortAggregate (`ADD customers :c, repeat_<d> :n …`). Zero entries are left out. */
export interface PurchaseIncrement {
  day: string;
  customers: number;
  repeatAfterDays: Record<string, number>;
}

/** What a customer contributes: the cohort day and, if within MAX_REPEAT_WINDOW_DAYS, the days to the second purchase. */
export interface PurchaseContribution {
  day: string;
  repeatAfterDays?: number;
}

const normalizedRef = (ref: PurchaseRef): PurchaseRef => ({ orderId: ref.orderId, at: utcInstant(ref.at) });
const earlier = (a: PurchaseRef, b: PurchaseRef): boolean => a.at < b.at || (a.at === b.at && a.orderId < b.orderId);

export function purchaseContribution(history: PurchaseHistory): PurchaseContribution {
  const day = utcDay(history.first.at);
  if (!history.second) return { day };
  const after = daysBetween(day, utcDay(history.second.at));
  return after <= MAX_REPEAT_WINDOW_DAYS ? { day, repeatAfterDays: after } : { day };
}

/** `next − previous` as increments per cohort day (none when both contribute the same). */
export function purchaseIncrements(previous: PurchaseContribution | undefined, next: PurchaseContribution): PurchaseIncrement[] {
  const byDay = new Map<string, PurchaseIncrement>();
  const at = (day: string) => byDay.get(day) ?? byDay.set(day, { day, customers: 0, repeatAfterDays: {} }).get(day)!;
  const apply = (c: PurchaseContribution, sign: number) => {
    const increment = at(c.day);
    increment.customers += sign;
    if (c.repeatAfterDays !== undefined) bump(increment.repeatAfterDays, String(c.repeatAfterDays), sign);
  };
  if (previous) apply(previous, -1);
  apply(next, 1);
  return [...byDay.values()].filter((i) => i.customers !== 0 || Object.keys(i.repeatAfterDays).length > 0);
}

/**
 * A purchase of the customer whose two earliest purchases are `history` (undefined: none yet): the new history
 * and the cohort increments. Idempotent: an order already seen changes nothing.
 */
export function recordPurchase(
  history: PurchaseHistory | undefined,
  purchase: PurchaseRef,
): { history: PurchaseHistory; increments: PurchaseIncrement[]; changed: boolean } {
  const order = normalizedRef(purchase);
  if (!history) return { history: { first: order }, increments: purchaseIncrements(undefined, purchaseContribution({ first: order })), changed: true };
  const known = history.first.orderId === order.orderId || history.second?.orderId === order.orderId;
  let next: PurchaseHistory | undefined;
  if (known) next = undefined;
  else if (earlier(order, history.first)) next = { first: order, second: history.first };
  else if (!history.second || earlier(order, history.second)) next = { first: history.first, second: order };
  if (!next) return { history, increments: [], changed: false };
  return { history: next, increments: purchaseIncrements(purchaseContribution(history), purchaseContribution(next)), changed: true };
}

export function emptyPurchaseCohort(day: string): PurchaseCohortAggregate {
  return { day, customers: 0, repeatAfterDays: {} };
}

export function addPurchaseIncrement(aggregate: PurchaseCohortAggregate, increment: PurchaseIncrement): PurchaseCohortAggregate {
  const next = { ...aggregate, customers: aggregate.customers + increment.customers, repeatAfterDays: { ...aggregate.repeatAfterDays } };
  for (const [days, by] of Object.entries(increment.repeatAfterDays)) bump(next.repeatAfterDays, days, by);
  return next;
}

/** The cohorts of every customer's purchase history: what the increments must add up to. */
export function rebuildPurchaseCohorts(histories: Iterable<PurchaseHistory>): PurchaseCohortAggregate[] {
  const days = new Map<string, PurchaseCohortAggregate>();
  for (const history of histories) {
    for (const increment of purchaseIncrements(undefined, purchaseContribution(history))) {
      days.set(increment.day, addPurchaseIncrement(days.get(increment.day) ?? emptyPurchaseCohort(increment.day), increment));
    }
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}

// ---------------------------------------------------------------------------------------------------------------
// Storage form and drift

/**
 * The counts of a record as flat `name → number` pairs: the top-level attributes a DynamoDB item stores them as
 * (`ADD` cannot create an entry of a nested map, see adapters/dynamodb-responses.ts), and what drift compares.
 * Zero counts are left out.
 */
export function sendCounters(a: SurveySendAggregate): Record<string, number> {
  return nonZero({ sent: a.sent, answered: a.answered });
}

export function outcomeCounters(a: ContractOutcomeAggregate): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const segment of NPS_SEGMENTS) {
    counters[`renewed_${segment}`] = a.renewed[segment];
    counters[`churned_${segment}`] = a.churned[segment];
  }
  return nonZero(counters);
}

export function purchaseCounters(a: PurchaseCohortAggregate): Record<string, number> {
  return nonZero({ customers: a.customers, ...Object.fromEntries(Object.entries(a.repeatAfterDays).map(([d, n]) => [`repeat_${d}`, n])) });
}

function nonZero(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([, n]) => n !== 0).sort(([a], [b]) => a.localeCompare(b)));
}

export interface Drift {
  /** The record's key, e.g. `2026-03-01` or `nps-after-purchase/2026-03-01/nps`. */
  key: string;
  /** Counter → [stored, expected], only counters that differ. */
  counters: Record<string, [number, number]>;
}

/**
 * The differences between stored records and the records rebuilt from the raw items (for the rebuild command's
 * report). A record missing on one side counts as all zeros there.
 */
export function aggregateDrift<T>(
  stored: readonly T[],
  expected: readonly T[],
  keyOf: (record: T) => string,
  countersOf: (record: T) => Record<string, number>,
): Drift[] {
  const left = new Map(stored.map((r) => [keyOf(r), countersOf(r)]));
  const right = new Map(expected.map((r) => [keyOf(r), countersOf(r)]));
  const drift: Drift[] = [];
  for (const key of [...new Set([...left.keys(), ...right.keys()])].sort()) {
    const a = left.get(key) ?? {};
    const b = right.get(key) ?? {};
    const counters: Record<string, [number, number]> = {};
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if ((a[name] ?? 0) !== (b[name] ?? 0)) counters[name] = [a[name] ?? 0, b[name] ?? 0];
    }
    if (Object.keys(counters).length > 0) drift.push({ key, counters });
  }
  return drift;
}

/** Every UTC day from `from` to `to`, inclusive (empty when `to` is before `from`). */
export function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addCalendarDays(day, 1)) days.push(day);
  return days;
}
