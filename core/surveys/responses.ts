/**
 * The survey response model (one per survey send, keyed by the survey id = the touchpoint id), the edit rule, and
 * the aggregates per campaign × UTC day of the first answer. Pure functions; the use cases add the storage.
 *
 * Aggregates hold counts (responses, per score, per category) and the score sum, so every metric derives from them
 * (NPS = %promoters − %detractors, CSAT = %satisfied, CES = mean score) and an edit is an increment like any other:
 * −1 on the old score, +1 on the new, in the bucket of the first answer's day.
 */
import { DateTime } from 'luxon';
import { InvalidInputError } from '../errors.ts';
import { addDuration, toUtcIso } from '../schedule.ts';
import { categoriesOf, categoryOf, type SurveyCategory, type SurveyKind } from './scales.ts';

/** What the touchpoint behind a survey link says about it. */
export interface SurveyFacts {
  surveyId: string;
  kind: SurveyKind;
  campaignId: string;
  customerId: string;
  orderId?: string;
}

/** A lease on a response's aggregate and event bookkeeping (see settle-response.ts). */
export interface SettlementLease {
  token: string;
  /** ISO-8601; after this instant another settler may take over. */
  until: string;
}

export interface SurveyResponse extends SurveyFacts {
  score: number;
  category: SurveyCategory;
  /** Trimmed, at most MAX_COMMENT_LENGTH characters; absent when none was given. */
  comment?: string;
  firstAnsweredAt: string;
  answeredAt: string;
  /** The UTC day (YYYY-MM-DD) of the first answer: the aggregate bucket, fixed for the life of the response. */
  day: string;
  /** 0 for the first answer, + 1 for every change (of score or comment). */
  revision: number;
  /** The score at every revision (index = revision), so any counted state can be recomputed. */
  scoreHistory: number[];
  /**
   * `sentAt` of the survey's touchpoint, stored when the response is created: the first answer counted `answered` + 1
   * in that send's bucket (core/metrics/model.ts surveyAnsweredDelta). Absent when the send was not counted (a survey
   * sent before the metrics existed): then the answer is not counted either, so a bucket never has more answered
   * than sent.
   */
  surveySentAt?: string;
  /** The revision whose score the aggregates count; absent until first counted. */
  aggregatedRevision?: number;
  /** The latest revision a "Survey Answered" event was published for. */
  publishedRevision?: number;
  settlement?: SettlementLease;
}

export const DEFAULT_EDIT_WINDOW = 'P7D';
export const MAX_COMMENT_LENGTH = 2000;
/** A response may change at most this many times (a bound on the item and on abuse of a forwarded email). */
export const MAX_REVISION = 20;

/** Trimmed, control characters (but newlines and tabs) removed, cut to MAX_COMMENT_LENGTH characters; empty → undefined. */
export function normalizeComment(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const cleaned = raw
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '')
    .trim();
  const characters = Array.from(cleaned);
  const cut = characters.length > MAX_COMMENT_LENGTH ? characters.slice(0, MAX_COMMENT_LENGTH).join('').trimEnd() : cleaned;
  return cut === '' ? undefined : cut;
}

/** `2026-03-01T09:30:00Z`, `…:00.123Z`: a UTC instant whose day is its first ten characters. */
const UTC_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?Z$/;

export function utcDay(at: string): string {
  // The common case without luxon (10–35 µs a call; the rebuild and bench:metrics call it millions of times): a UTC
  // instant whose date is a real calendar day (Date normalises 02-30 to 03-02, so compare the round trip).
  const match = UTC_INSTANT.exec(at);
  if (match) {
    const day = `${match[1]}-${match[2]}-${match[3]}`;
    if (new Date(`${day}T00:00:00Z`).toISOString().startsWith(day)) return day;
    throw new RangeError(`invalid instant: ${at}`);
  }
  const day = DateTime.fromISO(at, { zone: 'utc' }).toISODate();
  if (!day) throw new RangeError(`invalid instant: ${at}`);
  return day;
}

/** The last instant at which the answer may still be changed. */
export function editableUntil(response: Pick<SurveyResponse, 'firstAnsweredAt'>, editWindow = DEFAULT_EDIT_WINDOW): string {
  return addDuration(response.firstAnsweredAt, editWindow);
}

export interface Answer {
  facts: SurveyFacts;
  score: number;
  /** Already normalised (normalizeComment). Absent or empty keeps an earlier comment. */
  comment?: string | undefined;
  now: string;
}

export type AnswerDecision =
  | { action: 'create'; response: SurveyResponse }
  | { action: 'edit'; response: SurveyResponse; previous: SurveyResponse }
  | { action: 'unchanged'; response: SurveyResponse }
  | { action: 'closed'; reason: 'edit-window' | 'too-many-changes'; response: SurveyResponse };

/**
 * What an answer does to the stored response: create it; change it (another score, or a new comment) within the edit
 * window; nothing when it repeats the stored answer (a double click, a re-sent form); or nothing because the window
 * has closed. An empty comment keeps the earlier one, so clicking another score never erases what was written.
 */
export function decideAnswer(existing: SurveyResponse | undefined, answer: Answer, editWindow = DEFAULT_EDIT_WINDOW): AnswerDecision {
  const now = toUtcIso(answer.now);
  const category = categoryOf(answer.facts.kind, answer.score);
  if (!existing) {
    const { surveyId, kind, campaignId, customerId, orderId } = answer.facts;
    return {
      action: 'create',
      response: {
        surveyId,
        kind,
        campaignId,
        customerId,
        ...(orderId !== undefined ? { orderId } : {}),
        score: answer.score,
        category,
        ...(answer.comment !== undefined ? { comment: answer.comment } : {}),
        firstAnsweredAt: now,
        answeredAt: now,
        day: utcDay(now),
        revision: 0,
        scoreHistory: [answer.score],
      },
    };
  }
  if (existing.customerId !== answer.facts.customerId) throw new InvalidInputError('the survey belongs to another customer');
  if (existing.kind !== answer.facts.kind) throw new InvalidInputError(`the survey is a ${existing.kind} survey`);
  const comment = answer.comment ?? existing.comment;
  if (answer.score === existing.score && comment === existing.comment) return { action: 'unchanged', response: existing };
  if (now > editableUntil(existing, editWindow)) return { action: 'closed', reason: 'edit-window', response: existing };
  if (existing.revision >= MAX_REVISION) return { action: 'closed', reason: 'too-many-changes', response: existing };
  const { comment: _previousComment, ...rest } = existing;
  return {
    action: 'edit',
    previous: existing,
    response: {
      ...rest,
      score: answer.score,
      category,
      ...(comment !== undefined ? { comment } : {}),
      answeredAt: now,
      revision: existing.revision + 1,
      scoreHistory: [...existing.scoreHistory, answer.score],
    },
  };
}

/** What one response adds to its aggregate: its kind and score (the category follows from them). */
export interface Contribution {
  kind: SurveyKind;
  score: number;
}

/** The score counted at `revision` (from the history). */
export function contributionAt(response: SurveyResponse, revision: number): Contribution {
  const score = response.scoreHistory[revision];
  if (score === undefined) throw new RangeError(`survey ${response.surveyId} has no revision ${revision}`);
  return { kind: response.kind, score };
}

/** Which aggregate item a response counts in: its campaign, the UTC day of its first answer, and its kind. */
export interface AggregateKey {
  campaignId: string;
  day: string;
  kind: SurveyKind;
}

export function aggregateKeyOf(response: Pick<SurveyResponse, 'campaignId' | 'day' | 'kind'>): AggregateKey {
  return { campaignId: response.campaignId, day: response.day, kind: response.kind };
}

/** Increments for DynamoDB `ADD`; keys of `scores` are the scores as strings. Zero entries are left out. */
export interface AggregateDelta {
  responses: number;
  scoreSum: number;
  scores: Record<string, number>;
  categories: Record<string, number>;
}

function bump(counts: Record<string, number>, key: string, by: number): void {
  const value = (counts[key] ?? 0) + by;
  if (value === 0) delete counts[key];
  else counts[key] = value;
}

/**
 * The increments that move an aggregate from counting `previous` (absent: not counted yet) to counting `next`.
 * A changed score gives −1 on the old score and category, +1 on the new ones, and the difference of the sums.
 */
export function aggregateDelta(previous: Contribution | undefined, next: Contribution): AggregateDelta {
  if (previous && previous.kind !== next.kind) throw new RangeError('a response cannot change its survey kind');
  const delta: AggregateDelta = { responses: previous ? 0 : 1, scoreSum: next.score - (previous?.score ?? 0), scores: {}, categories: {} };
  if (previous) {
    bump(delta.scores, String(previous.score), -1);
    bump(delta.categories, categoryOf(previous.kind, previous.score), -1);
  }
  bump(delta.scores, String(next.score), 1);
  bump(delta.categories, categoryOf(next.kind, next.score), 1);
  return delta;
}

export function isEmptyDelta(delta: AggregateDelta): boolean {
  return delta.responses === 0 && delta.scoreSum === 0 && Object.keys(delta.scores).length === 0 && Object.keys(delta.categories).length === 0;
}

export interface SurveyAggregate extends AggregateKey {
  responses: number;
  scoreSum: number;
  scores: Record<string, number>;
  categories: Record<string, number>;
}

export function emptyAggregate(key: AggregateKey): SurveyAggregate {
  return { ...key, responses: 0, scoreSum: 0, scores: {}, categories: {} };
}

/** `aggregate + delta`; counts that reach zero disappear, as absent counts are zero. */
export function addDelta(aggregate: SurveyAggregate, delta: AggregateDelta): SurveyAggregate {
  const next = { ...aggregate, scores: { ...aggregate.scores }, categories: { ...aggregate.categories } };
  next.responses += delta.responses;
  next.scoreSum += delta.scoreSum;
  for (const [score, by] of Object.entries(delta.scores)) bump(next.scores, score, by);
  for (const [category, by] of Object.entries(delta.categories)) bump(next.categories, category, by);
  return next;
}

export const compareAggregateKeys = (a: AggregateKey, b: AggregateKey): number =>
  a.campaignId.localeCompare(b.campaignId) || a.day.localeCompare(b.day) || a.kind.localeCompare(b.kind);

/** The aggregates that count every response's current score: what the incremental updates must add up to. */
export function rebuildAggregates(responses: Iterable<SurveyResponse>): SurveyAggregate[] {
  const buckets = new Map<string, SurveyAggregate>();
  for (const response of responses) {
    const key = aggregateKeyOf(response);
    const id = `${key.campaignId}\u0000${key.day}\u0000${key.kind}`;
    buckets.set(id, addDelta(buckets.get(id) ?? emptyAggregate(key), aggregateDelta(undefined, response)));
  }
  return [...buckets.values()].sort(compareAggregateKeys);
}

export interface SurveyMetric {
  kind: SurveyKind;
  responses: number;
  /** NPS −100…100, CSAT % satisfied 0…100, CES mean 1…7; undefined without responses. */
  value: number | undefined;
  categories: Record<string, number>;
}

/** The headline metric over aggregates of one kind (e.g. a campaign's days in a date range). */
export function surveyMetric(kind: SurveyKind, aggregates: readonly SurveyAggregate[]): SurveyMetric {
  const mine = aggregates.filter((a) => a.kind === kind);
  const responses = mine.reduce((n, a) => n + a.responses, 0);
  const categories: Record<string, number> = Object.fromEntries(categoriesOf(kind).map((c) => [c, 0]));
  for (const aggregate of mine) for (const [c, n] of Object.entries(aggregate.categories)) categories[c] = (categories[c] ?? 0) + n;
  let value: number | undefined;
  if (responses > 0) {
    if (kind === 'nps') value = (((categories.promoter ?? 0) - (categories.detractor ?? 0)) / responses) * 100;
    else if (kind === 'csat') value = ((categories.satisfied ?? 0) / responses) * 100;
    else value = mine.reduce((sum, a) => sum + a.scoreSum, 0) / responses;
  }
  return { kind, responses, value, categories };
}
