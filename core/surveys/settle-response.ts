/**
 * Settling a response: making the aggregates count its latest revision and publishing "Survey Answered" for it,
 * exactly once for the counts and at least once for the event, without transactions (dynalite has none, and the
 * product must not depend on them).
 *
 * The answer write and the aggregate ADD touch two items, and ADD is not idempotent, so:
 *  - The response records `aggregatedRevision`: the revision whose score the aggregates count. Anything newer is work
 *    to settle (the response also sits in a sparse "pending" index until settled).
 *  - Only the holder of the response's settlement lease (a conditional write on the response, PT15M, longer than any
 *    Lambda can run) touches the aggregates for it, so at most one live settler per response.
 *  - Every ADD is a compare-and-set on the survey's in-flight marker on the aggregate item, and sets it to the
 *    revision it counts. A settler that crashed after its ADD and before recording it on the response leaves the
 *    marker behind: the next settler reads it, knows what is counted, and adds only the difference (or nothing).
 *  - Then the response records the revision as counted (releasing the lease), then the marker is dropped, so an
 *    aggregate item holds markers only for work in flight, not one per response forever.
 * A crash anywhere leaves either a response with work to settle and no live lease (settled by the next answer, the
 * pending sweep or the rebuild) or a stale marker that is at or below what the response records (ignored, and
 * dropped by the next settle or the rebuild). Counts are never lost or doubled.
 *
 * The first answer also counts `answered` + 1 in its send's bucket of the response rate (core/metrics): the put that
 * creates the response appends that change to the response's pending metric counts (`firstAnswerCounts`), and the
 * settler, under the lease, settles them (core/metrics/counters.ts) before it records the response as settled. So a
 * response with pending counts is always in the pending index too, and the sweep finishes what a crash left.
 */
import { randomUUID } from 'node:crypto';
import {
  numberChanges,
  sendChange,
  settlePendingCounts,
  type CounterChange,
  type CountSettler,
} from '../metrics/counters.ts';
import { surveyAnsweredDelta } from '../metrics/model.ts';
import { addDuration, subtractDuration, toUtcIso } from '../schedule.ts';
import { SurveySettlementConflictError } from './errors.ts';
import { SURVEY_ANSWERED, surveyAnsweredDetail } from './events.ts';
import type { EventPublisher, SurveyAggregateRepository, SurveyResponseRepository } from './ports.ts';
import { MAX_REVISION, aggregateDelta, aggregateKeyOf, contributionAt, isEmptyDelta, type SurveyResponse } from './responses.ts';

/** How long a settler may hold a response. Must exceed the longest run of any caller (Lambda: 15 minutes at most). */
export const SETTLEMENT_LEASE = 'PT15M';
/** The pending sweep leaves answers younger than this to the request that wrote them. */
export const PENDING_SWEEP_GRACE = 'PT1M';

export interface SettleDeps {
  responses: SurveyResponseRepository;
  aggregates: SurveyAggregateRepository;
  events: EventPublisher;
  /**
   * The response rate's counts: the responses' pending metric counts and the metric records. Absent (tests and tools
   * that do not count): pending counts stay on the responses for `outreach metrics rebuild`.
   */
  metrics?: CountSettler;
  /** Lease tokens; random by default. */
  newToken?: () => string;
}

/**
 * The metric counts a new response brings, which the put that creates it appends to its pending counts: one
 * `answered` in the bucket of its survey's send (campaign, UTC day of `surveySentAt`, kind). None without
 * `surveySentAt` (a send that was not counted) and never for an edit. `token` makes the change ids unique.
 */
export function firstAnswerCounts(response: SurveyResponse, token: string): CounterChange[] {
  if (response.surveySentAt === undefined) return [];
  const delta = surveyAnsweredDelta({ campaignId: response.campaignId, kind: response.kind, sentAt: response.surveySentAt });
  return numberChanges(token, [sendChange(delta)]);
}

/** `settled`: this call finished the work; `not-needed`: nothing to do; `busy`: another settler holds the lease. */
export type SettleOutcome = 'settled' | 'not-needed' | 'busy';

/** True while the aggregates or the event stream do not reflect the latest revision yet. */
export function needsSettlement(response: SurveyResponse): boolean {
  return response.aggregatedRevision !== response.revision || response.publishedRevision !== response.revision;
}

/** Makes the aggregates count `response.revision`, starting from whatever they count now. */
async function countLatestRevision(response: SurveyResponse, aggregates: SurveyAggregateRepository): Promise<void> {
  const key = aggregateKeyOf(response);
  const target = contributionAt(response, response.revision);
  // Under the lease nobody else moves the marker, but the previous settler's clean-up may still remove its own.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const marker = await aggregates.inflightRevision(key, response.surveyId);
    const recorded = response.aggregatedRevision;
    const counted = marker !== undefined && marker > (recorded ?? -1) ? marker : recorded;
    if (counted === response.revision) return;
    const delta = aggregateDelta(counted === undefined ? undefined : contributionAt(response, counted), target);
    if (isEmptyDelta(delta)) return;
    if (await aggregates.apply(key, delta, { surveyId: response.surveyId, expected: marker, revision: response.revision })) return;
  }
  throw new SurveySettlementConflictError(response.surveyId, 'the in-flight marker kept changing under the lease');
}

/**
 * Settles one response.
 *
 * Primary course:
 *  1. Take the settlement lease (a conditional write; fails while another settler's lease runs, or when settled).
 *     Settle the response's pending metric counts (its first answer in the response rate).
 *  2. Count the latest revision in its aggregate (compare-and-set on the survey's in-flight marker).
 *  3. Publish "Survey Answered" for it unless already published.
 *  4. Record the revision as counted and published; if the answer changed meanwhile, repeat from 2 with it.
 *  5. Drop the in-flight marker.
 */
export async function settleSurveyResponse(surveyId: string, now: string, deps: SettleDeps): Promise<SettleOutcome> {
  const at = toUtcIso(now);
  const token = (deps.newToken ?? randomUUID)();
  let response = await deps.responses.acquireSettlement(surveyId, { token, until: addDuration(at, SETTLEMENT_LEASE) }, at);
  if (!response) {
    const current = await deps.responses.get(surveyId);
    return current && needsSettlement(current) ? 'busy' : 'not-needed';
  }
  // Only the put that creates a response appends counts, before the lease could be taken; so once, before the rounds.
  // A previous holder's count lease (PT6M) has run out by the time its settlement lease (PT15M) has.
  if (deps.metrics) await settlePendingCounts(surveyId, at, deps.metrics);
  // Each round settles a newer revision; revisions are bounded, so is this loop.
  for (let round = 0; round <= MAX_REVISION + 1; round += 1) {
    if (response.aggregatedRevision !== response.revision) await countLatestRevision(response, deps.aggregates);
    if (response.publishedRevision !== response.revision) await deps.events.publish(SURVEY_ANSWERED, { ...surveyAnsweredDetail(response) });
    const outcome = await deps.responses.commitSettlement(surveyId, token, response.revision);
    if (outcome.status === 'lost') throw new SurveySettlementConflictError(surveyId, 'the settlement lease was lost');
    if (outcome.status === 'settled') {
      await deps.aggregates.clearInflight(aggregateKeyOf(response), surveyId, response.revision);
      return 'settled';
    }
    response = outcome.response;
  }
  throw new SurveySettlementConflictError(surveyId, 'the answer kept changing while it was settled');
}

/**
 * The pending sweep (a schedule, e.g. every 5 minutes): settles responses whose settling was interrupted — a crash,
 * a timeout, a failed publish. Responses still leased are left for later.
 */
export async function settlePendingResponses(
  request: { now: string; limit: number },
  deps: SettleDeps,
): Promise<{ settled: number; busy: number; notNeeded: number }> {
  const result = { settled: 0, busy: 0, notNeeded: 0 };
  const ids = await deps.responses.listPendingSettlement(subtractDuration(toUtcIso(request.now), PENDING_SWEEP_GRACE), request.limit);
  for (const surveyId of ids) {
    const outcome = await settleSurveyResponse(surveyId, request.now, deps);
    if (outcome === 'settled') result.settled += 1;
    else if (outcome === 'busy') result.busy += 1;
    else result.notNeeded += 1;
  }
  return result;
}
