/**
 * A seeded generator of raw data — survey sends and clicks (edited scores, repeated clicks, clicks after the edit
 * window), contract outcomes (renewed, cancelled, ended, a late renewal after the sweep recorded the churn, contracts
 * still running), purchases (several per customer, re-delivered, in any order) — and the incremental fold that builds
 * the per-day records from it one event at a time, the way the use cases are to maintain them.
 */
import { decideAnswer, aggregateDelta, addDelta, aggregateKeyOf, contributionAt, emptyAggregate, type SurveyAggregate, type SurveyResponse } from '../../../core/surveys/responses.ts';
import type { SurveyKind } from '../../../core/surveys/scales.ts';
import {
  addOutcomeIncrement,
  addPurchaseIncrement,
  addSendDelta,
  emptyOutcomeAggregate,
  emptyPurchaseCohort,
  emptySendAggregate,
  recordOutcome,
  recordPurchase,
  sendKeyId,
  surveyAnsweredDelta,
  surveySentDelta,
  type ContractOutcomeAggregate,
  type NpsSegment,
  type PurchaseCohortAggregate,
  type PurchaseHistory,
  type RecordedOutcome,
  type SurveySendAggregate,
  type SurveySendFacts,
} from '../../../core/metrics/model.ts';

/** mulberry32. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const WORLD_FROM = '2026-09-01';
export const WORLD_TO = '2027-03-31';
export const EDIT_WINDOW_MS = 7 * 86_400_000;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const CAMPAIGNS: ReadonlyArray<{ campaignId: string; kind: SurveyKind }> = [
  { campaignId: 'nps-after-purchase', kind: 'nps' },
  { campaignId: 'nps-quarterly', kind: 'nps' },
  { campaignId: 'csat-support', kind: 'csat' },
  { campaignId: 'ces-onboarding', kind: 'ces' },
];

export interface RawClick {
  score: number;
  at: string;
}

export interface RawSurvey {
  surveyId: string;
  campaignId: string;
  kind: SurveyKind;
  customerId: string;
  sentAt: string;
  /** The send is recorded twice (a re-delivered outcome) when true. */
  sentTwice: boolean;
  /** Every click on a score, in time order: first answer, repeats, changes, clicks after the edit window. */
  clicks: RawClick[];
}

export interface RawOutcomeEvent {
  contractId: string;
  outcome: RecordedOutcome;
}

export interface RawContract {
  contractId: string;
  customerId: string;
  /** Outcome writes in the order they happened (a churn then a late renewal of the same term; re-deliveries). */
  events: RawOutcomeEvent[];
}

export interface RawPurchase {
  customerId: string;
  orderId: string;
  at: string;
}

export interface RawWorld {
  surveys: RawSurvey[];
  contracts: RawContract[];
  /** Every Purchase Completed delivery, re-deliveries included. */
  purchases: RawPurchase[];
}

export interface WorldSize {
  customers: number;
  surveys: number;
  contracts: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const startMs = (day: string) => Date.parse(`${day}T00:00:00.000Z`);

function categoryOfNps(score: number): NpsSegment {
  return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
}

export function generateWorld(seed: number, size: WorldSize = { customers: 120, surveys: 500, contracts: 120 }): RawWorld {
  const rng = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
  const chance = (p: number) => rng() < p;
  const worldStart = startMs(WORLD_FROM);
  const worldEnd = startMs(WORLD_TO) + DAY - 1;
  const minute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
  const customers = Array.from({ length: size.customers }, (_, i) => `c-${i + 1}`);

  // Scores skewed per campaign so that every category shows up, and some campaigns are mostly detractors.
  const scoreFor = (kind: SurveyKind, campaignId: string): number => {
    if (kind === 'nps') return campaignId === 'nps-quarterly' ? pick([0, 2, 5, 6, 6, 7, 8, 9, 10]) : pick([3, 6, 7, 8, 9, 9, 10, 10]);
    if (kind === 'csat') return int(1, 5);
    return int(1, 7);
  };

  const surveys: RawSurvey[] = [];
  for (let i = 0; i < size.surveys; i++) {
    const { campaignId, kind } = pick(CAMPAIGNS);
    const sentAtMs = minute(worldStart + rng() * (worldEnd - worldStart));
    const clicks: RawClick[] = [];
    if (chance(0.6)) {
      const first = sentAtMs + int(1, 6 * 24 * 60) * MINUTE;
      const boundary = first + EDIT_WINDOW_MS;
      clicks.push({ score: scoreFor(kind, campaignId), at: iso(first) });
      let at = first;
      const extra = pick([0, 0, 0, 1, 1, 2, 3, 4]);
      for (let k = 0; k < extra; k++) {
        // Mostly within the window; sometimes exactly at its end (still allowed) or after it (closed).
        at = chance(0.1) && at < boundary ? boundary : at + int(1, 4 * 24 * 60) * MINUTE;
        const previous = clicks[clicks.length - 1]!.score;
        clicks.push({ score: chance(0.3) ? previous : scoreFor(kind, campaignId), at: iso(at) });
      }
    }
    surveys.push({
      surveyId: `s-${i + 1}`,
      campaignId,
      kind,
      customerId: pick(customers),
      sentAt: iso(sentAtMs),
      sentTwice: chance(0.15),
      clicks,
    });
  }

  /** The customer's NPS category as its item would hold it at `atMs`: the latest NPS answer (or change) counted by then. */
  const segmentAt = (customerId: string, atMs: number): NpsSegment => {
    let latest: { at: number; score: number } | undefined;
    for (const survey of surveys) {
      if (survey.customerId !== customerId || survey.kind !== 'nps' || survey.clicks.length === 0) continue;
      const first = Date.parse(survey.clicks[0]!.at);
      for (const click of survey.clicks) {
        const t = Date.parse(click.at);
        if (t <= first + EDIT_WINDOW_MS && t <= atMs && (!latest || t > latest.at)) latest = { at: t, score: click.score };
      }
    }
    return latest ? categoryOfNps(latest.score) : 'none';
  };

  const contracts: RawContract[] = [];
  for (let i = 0; i < size.contracts; i++) {
    const contractId = `k-${i + 1}`;
    const customerId = pick(customers);
    const events: RawOutcomeEvent[] = [];
    const record = (result: 'RENEWED' | 'CHURNED', atMs: number, endDate: string) => {
      const outcome: RecordedOutcome = { result, at: iso(atMs), remindersSent: int(0, 3), endDate, npsSegment: segmentAt(customerId, atMs) };
      events.push({ contractId, outcome });
      if (chance(0.15)) events.push({ contractId, outcome: { ...outcome } });
    };
    let endMs = startMs(WORLD_FROM) + int(-40, 200) * DAY;
    for (let term = 0; term < 6 && endMs < startMs(WORLD_TO) + 30 * DAY; term++) {
      const endDate = iso(endMs).slice(0, 10);
      const fate = pick(['renewed', 'renewed', 'renewed', 'cancelled', 'ended', 'ended-then-renewed', 'running'] as const);
      if (fate === 'running') break;
      if (fate === 'renewed') record('RENEWED', endMs - int(0, 20) * DAY + int(8, 18) * HOUR, endDate);
      else if (fate === 'cancelled') {
        record('CHURNED', endMs - int(1, 60) * DAY + int(0, 23) * HOUR, endDate);
        break;
      } else {
        const swept = endMs + DAY + 3 * HOUR;
        record('CHURNED', swept, endDate);
        if (fate === 'ended') break;
        record('RENEWED', swept + int(1, 5 * 24) * HOUR, endDate);
      }
      endMs += int(30, 90) * DAY;
    }
    contracts.push({ contractId, customerId, events });
  }

  const purchases: RawPurchase[] = [];
  let order = 0;
  for (const customerId of customers) {
    const count = pick([0, 1, 1, 2, 2, 3, 4]);
    let atMs = minute(worldStart - 20 * DAY + rng() * (worldEnd - worldStart));
    for (let k = 0; k < count; k++) {
      if (k > 0) atMs += pick([0, int(0, 10) * HOUR, int(1, 60) * DAY, 90 * DAY, int(80, 120) * DAY, int(300, 400) * DAY]);
      order += 1;
      // Some events carry a zone offset: the day is still the UTC day.
      const at = chance(0.2) ? new Date(atMs).toISOString().replace('Z', '+00:00') : iso(atMs);
      const purchase = { customerId, orderId: `o-${order}`, at };
      purchases.push(purchase);
      if (chance(0.2)) purchases.push({ ...purchase });
    }
  }
  return { surveys, contracts, purchases };
}

// ---------------------------------------------------------------------------------------------------------------
// Events and the fold

export type WorldEvent =
  | { type: 'sent'; surveyId: string }
  | { type: 'click'; surveyId: string; score: number; at: string }
  | { type: 'outcome'; contractId: string; outcome: RecordedOutcome }
  | { type: 'purchase'; purchase: RawPurchase };

/**
 * Every event of the world in a random interleaving: each survey's events (its send, then its clicks) and each
 * contract's outcome writes stay in their own order, as one survey's or contract's item serialises them; purchase
 * deliveries come in any order at all.
 */
export function shuffledEvents(world: RawWorld, seed: number): WorldEvent[] {
  const rng = prng(seed);
  const keyed: Array<{ key: number; event: WorldEvent }> = [];
  const stream = (events: WorldEvent[]) => {
    const keys = events.map(() => rng()).sort((a, b) => a - b);
    events.forEach((event, i) => keyed.push({ key: keys[i]!, event }));
  };
  for (const survey of world.surveys) {
    const sends: WorldEvent[] = survey.sentTwice ? [{ type: 'sent', surveyId: survey.surveyId }, { type: 'sent', surveyId: survey.surveyId }] : [{ type: 'sent', surveyId: survey.surveyId }];
    stream([...sends, ...survey.clicks.map((c): WorldEvent => ({ type: 'click', surveyId: survey.surveyId, score: c.score, at: c.at }))]);
  }
  for (const contract of world.contracts) stream(contract.events.map((e): WorldEvent => ({ type: 'outcome', contractId: e.contractId, outcome: e.outcome })));
  for (const purchase of world.purchases) stream([{ type: 'purchase', purchase }]);
  return keyed.sort((a, b) => a.key - b.key).map((k) => k.event);
}

export interface Folded {
  surveys: SurveyAggregate[];
  sends: SurveySendAggregate[];
  outcomes: ContractOutcomeAggregate[];
  purchases: PurchaseCohortAggregate[];
  /** The raw items the fold kept (what a rebuild reads). */
  responses: SurveyResponse[];
  sent: Array<SurveySendFacts & { answered: boolean }>;
  outcomeHistories: RecordedOutcome[][];
  purchaseHistories: PurchaseHistory[];
}

/** Builds the per-day records one event at a time, keeping only the per-entity state the real items keep. */
export function fold(world: RawWorld, events: readonly WorldEvent[]): Folded {
  const surveyById = new Map(world.surveys.map((s) => [s.surveyId, s]));
  const sendFacts = (id: string): SurveySendFacts => {
    const s = surveyById.get(id)!;
    return { campaignId: s.campaignId, kind: s.kind, sentAt: s.sentAt };
  };

  const surveyAggregates = new Map<string, SurveyAggregate>();
  const sendAggregates = new Map<string, SurveySendAggregate>();
  const outcomeAggregates = new Map<string, ContractOutcomeAggregate>();
  const cohorts = new Map<string, PurchaseCohortAggregate>();

  const sentStatus = new Set<string>();
  const responses = new Map<string, SurveyResponse>();
  const histories = new Map<string, RecordedOutcome[]>();
  const purchaseHistories = new Map<string, PurchaseHistory>();

  const applySend = (delta: ReturnType<typeof surveySentDelta>) => {
    const id = sendKeyId(delta);
    sendAggregates.set(id, addSendDelta(sendAggregates.get(id) ?? emptySendAggregate(delta), delta));
  };

  for (const event of events) {
    switch (event.type) {
      case 'sent': {
        // The conditional DISPATCHED → SENT write succeeds once; a re-delivery adds nothing.
        if (sentStatus.has(event.surveyId)) break;
        sentStatus.add(event.surveyId);
        applySend(surveySentDelta(sendFacts(event.surveyId)));
        break;
      }
      case 'click': {
        const survey = surveyById.get(event.surveyId)!;
        const facts = { surveyId: survey.surveyId, kind: survey.kind, campaignId: survey.campaignId, customerId: survey.customerId };
        const existing = responses.get(survey.surveyId);
        const decision = decideAnswer(existing, { facts, score: event.score, now: event.at });
        if (decision.action !== 'create' && decision.action !== 'edit') break;
        const response = decision.response;
        responses.set(survey.surveyId, response);
        const previous = decision.action === 'edit' ? contributionAt(decision.previous, decision.previous.revision) : undefined;
        const key = aggregateKeyOf(response);
        const id = `${key.campaignId}\u0000${key.day}\u0000${key.kind}`;
        surveyAggregates.set(id, addDelta(surveyAggregates.get(id) ?? emptyAggregate(key), aggregateDelta(previous, contributionAt(response, response.revision))));
        if (decision.action === 'create') applySend(surveyAnsweredDelta(sendFacts(survey.surveyId)));
        break;
      }
      case 'outcome': {
        const { history, increments } = recordOutcome(histories.get(event.contractId) ?? [], event.outcome);
        histories.set(event.contractId, history);
        for (const increment of increments) {
          outcomeAggregates.set(increment.day, addOutcomeIncrement(outcomeAggregates.get(increment.day) ?? emptyOutcomeAggregate(increment.day), increment));
        }
        break;
      }
      case 'purchase': {
        const { customerId, orderId, at } = event.purchase;
        const { history, increments } = recordPurchase(purchaseHistories.get(customerId), { orderId, at });
        purchaseHistories.set(customerId, history);
        for (const increment of increments) {
          cohorts.set(increment.day, addPurchaseIncrement(cohorts.get(increment.day) ?? emptyPurchaseCohort(increment.day), increment));
        }
        break;
      }
    }
  }

  return {
    surveys: [...surveyAggregates.values()],
    sends: [...sendAggregates.values()],
    outcomes: [...outcomeAggregates.values()],
    purchases: [...cohorts.values()],
    responses: [...responses.values()],
    sent: [...sentStatus].map((id) => ({ ...sendFacts(id), answered: responses.has(id) })),
    outcomeHistories: [...histories.values()],
    purchaseHistories: [...purchaseHistories.values()],
  };
}
