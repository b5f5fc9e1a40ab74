import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  numberChanges,
  sendChange,
  settlePendingCounts,
  type CountSettler,
} from '../metrics/counters.ts';
import { surveySentDelta } from '../metrics/model.ts';
import type { Touchpoint } from '../model.ts';
import type { TouchpointRepository, TouchpointTransition } from '../ports.ts';
import { addDuration, toUtcIso } from '../schedule.ts';
import { SURVEY_KINDS, type SurveyKind } from '../surveys/scales.ts';
import { surveyReminderIdFor } from '../touchpoint-id.ts';

const base = { touchpointId: z.string().min(1), generation: z.number().int().nonnegative(), now: z.string().min(1) };

export const outcomeRequestSchema = z.discriminatedUnion('outcome', [
  z.object({
    ...base,
    outcome: z.literal('SENT'),
    messageId: z.string().min(1),
    /**
     * Survey sends: the reminder to plan and the campaign's scale (from the eligibility message). `scale` is optional
     * only for executions started before it existed: such a send is recorded but not counted in the metrics.
     */
    survey: z
      .object({
        surveyId: z.string().min(1),
        reminder: z.boolean(),
        reminderAfter: z.string().min(1).optional(),
        scale: z.enum(SURVEY_KINDS).optional(),
      })
      .optional(),
  }),
  z.object({ ...base, outcome: z.literal('SKIPPED'), reason: z.string().min(1) }),
  z.object({ ...base, outcome: z.literal('RESCHEDULED'), reason: z.string().min(1), nextDueAt: z.string().min(1) }),
  z.object({
    ...base,
    outcome: z.literal('FAILED'),
    /** The Step Functions error object from a Catch: `{ Error, Cause }`. */
    error: z.object({ Error: z.string(), Cause: z.string().optional() }),
  }),
  /** The send did not reach SES, or SES throttled it: nothing was sent. */
  z.object({ ...base, outcome: z.literal('DEFERRED'), error: z.object({ Error: z.string(), Cause: z.string().optional() }) }),
  /** The send may have reached SES (no answer): SES's Send event settles it, else dispatch sends it again later. */
  z.object({ ...base, outcome: z.literal('UNCONFIRMED'), error: z.object({ Error: z.string(), Cause: z.string().optional() }) }),
]);

/**
 * How long an UNCONFIRMED send waits for SES's Send event before dispatch sends it again. SES publishes events within
 * seconds as a rule; half an hour leaves a wide margin, and a lost event then costs one duplicate email.
 */
export const UNCONFIRMED_WINDOW = 'PT30M';

/** Deferrals a send that did not reach SES may take before it is recorded FAILED (about 2 hours of backoff in all). */
export const MAX_SEND_DEFERRALS = 8;
const FIRST_DEFERRAL_SECONDS = 60;
const MAX_DEFERRAL_SECONDS = 30 * 60;

/**
 * The delay before the `deferrals + 1`-th try: doubling from a minute, at most 30 minutes, with "equal jitter" (half
 * fixed, half random) so a throttled launch does not come back all in the same minute.
 */
export function deferralDelaySeconds(deferrals: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DEFERRAL_SECONDS, FIRST_DEFERRAL_SECONDS * 2 ** deferrals);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
export type OutcomeRequest = z.infer<typeof outcomeRequestSchema>;

export interface OutcomeResult {
  /**
   * What was recorded: a DEFERRED request whose budget is spent is recorded FAILED, and so is an UNCONFIRMED one for a
   * touchpoint the send step never claimed (nothing reached SES).
   */
  outcome: OutcomeRequest['outcome'];
  /** False when the touchpoint had moved on (cancelled meanwhile, or a repeated call): nothing was written. */
  recorded: boolean;
}

export interface RecordOutcomeDeps {
  touchpoints: TouchpointRepository;
  /**
   * Where a survey send is counted (the response rate's denominator). Absent (tests that do not count): the counts
   * stay pending on the touchpoint for `outreach metrics rebuild`.
   */
  metrics?: CountSettler;
  /** Tokens of counter change ids; random by default. */
  newToken?: () => string;
  /** The jitter of a deferral's backoff, in [0, 1); Math.random by default. */
  random?: () => number;
}

/**
 * Records how a dispatched touchpoint ended. Every write is conditional on DISPATCHED and the generation, so a
 * repeated call or a cancellation that won the race leaves the touchpoint as it is.
 *
 * A survey send (not a reminder) is also counted:
 *  1. The SENT write stores the scale (`surveyKind`) and appends the send's counter change to the touchpoint's pending
 *     counts, in the same conditional write: a repeated call fails that write and appends nothing.
 *  2. Then the pending counts are settled into the metric records — on every call for a survey, recorded or not, so a
 *     retry after a crash between the two writes finishes the count (nothing pending: a cheap no-op).
 */
export async function recordTouchpointOutcome(request: OutcomeRequest, deps: RecordOutcomeDeps): Promise<OutcomeResult> {
  const transition = { touchpointId: request.touchpointId, generation: request.generation, at: toUtcIso(request.now) };
  let recorded: boolean;
  switch (request.outcome) {
    case 'SENT': {
      const survey = request.survey && !request.survey.reminder ? await surveyOf(request.touchpointId, deps) : undefined;
      const scale = request.survey?.scale;
      const surveySend = survey && scale ? { surveyKind: scale, pendingCounts: sendCounts(survey, scale, transition.at, deps) } : undefined;
      recorded = await deps.touchpoints.complete({
        ...transition,
        status: 'SENT',
        messageId: request.messageId,
        ...(surveySend ? { surveySend } : {}),
      });
      if (request.survey && !request.survey.reminder && request.survey.reminderAfter) {
        // Just written: the survey as read before, now SENT. Otherwise (a repeated call) read what is stored.
        const sent = recorded && survey ? { ...survey, status: 'SENT' as const, messageId: request.messageId, sentAt: transition.at } : undefined;
        await planSurveyReminder(request.touchpointId, request.messageId, request.survey.reminderAfter, transition.at, deps, sent);
      }
      // Last, so that bookkeeping of the metrics never holds up the reminder.
      if (survey && deps.metrics) await settlePendingCounts(request.touchpointId, transition.at, deps.metrics);
      break;
    }
    case 'SKIPPED':
      recorded = await deps.touchpoints.complete({ ...transition, status: 'SKIPPED', reason: request.reason });
      break;
    case 'RESCHEDULED':
      recorded = await deps.touchpoints.reschedule({
        ...transition,
        dueAt: toUtcIso(request.nextDueAt),
        reason: request.reason,
      });
      break;
    case 'FAILED':
      recorded = await deps.touchpoints.complete({ ...transition, status: 'FAILED', reason: failureReason(request.error) });
      break;
    case 'DEFERRED':
      return deferSend(request, transition, deps);
    case 'UNCONFIRMED':
      return leaveUnconfirmed(request, transition, deps);
  }
  return { outcome: request.outcome, recorded };
}

// The Cause of an SDK error can echo the request (the address); keep the error name and a short cause only.
function failureReason(error: { Error: string; Cause?: string | undefined }): string {
  const cause = (error.Cause ?? '').slice(0, 300);
  return cause ? `${error.Error}: ${cause}` : error.Error;
}

/**
 * A send SES kept throttling: nothing was sent, so the touchpoint goes back to PENDING after a backoff, counting the
 * deferral; once MAX_SEND_DEFERRALS are spent it is recorded FAILED with the reason (re-drive it with the CLI). Both
 * writes are conditional on DISPATCHED and the generation, so a repeated call changes nothing.
 */
async function deferSend(
  request: Extract<OutcomeRequest, { outcome: 'DEFERRED' }>,
  transition: TouchpointTransition,
  deps: RecordOutcomeDeps,
): Promise<OutcomeResult> {
  const touchpoint = await deps.touchpoints.get(request.touchpointId);
  if ((touchpoint?.status !== 'SENDING' && touchpoint?.status !== 'DISPATCHED') || touchpoint.generation !== request.generation) {
    return { outcome: 'DEFERRED', recorded: false };
  }
  const deferrals = touchpoint.sendDeferrals ?? 0;
  if (deferrals >= MAX_SEND_DEFERRALS) {
    const reason = `${failureReason(request.error)} (still not sent after ${MAX_SEND_DEFERRALS} deferrals)`;
    return { outcome: 'FAILED', recorded: await deps.touchpoints.complete({ ...transition, status: 'FAILED', reason }) };
  }
  const delay = deferralDelaySeconds(deferrals, deps.random);
  const recorded = await deps.touchpoints.reschedule({
    ...transition,
    dueAt: addDuration(transition.at, `PT${delay}S`),
    reason: `deferred: ${request.error.Error}`,
    sendDeferrals: deferrals + 1,
  });
  return { outcome: 'DEFERRED', recorded };
}

/**
 * The send may have reached SES: SENDING → UNCONFIRMED until UNCONFIRMED_WINDOW from now, for SES's Send event to
 * settle (or dispatch to send again). A touchpoint still DISPATCHED was never claimed by the send step, so nothing
 * reached SES: it is recorded FAILED with the error. Both writes are conditional on the status and generation.
 */
async function leaveUnconfirmed(
  request: Extract<OutcomeRequest, { outcome: 'UNCONFIRMED' }>,
  transition: TouchpointTransition,
  deps: RecordOutcomeDeps,
): Promise<OutcomeResult> {
  const touchpoint = await deps.touchpoints.get(request.touchpointId);
  if (touchpoint?.generation !== request.generation) return { outcome: 'UNCONFIRMED', recorded: false };
  if (touchpoint.status === 'DISPATCHED') {
    return { outcome: 'FAILED', recorded: await deps.touchpoints.complete({ ...transition, status: 'FAILED', reason: failureReason(request.error) }) };
  }
  const reason = `unconfirmed: ${failureReason(request.error)}`;
  return {
    outcome: 'UNCONFIRMED',
    recorded: await deps.touchpoints.markUnconfirmed({ ...transition, until: addDuration(transition.at, UNCONFIRMED_WINDOW), reason }),
  };
}

/** SES's Send event for a message we tagged: the touchpoint, the generation that sent it, the message id, when. */
export interface SesSendEvidence {
  touchpointId: string;
  generation: number;
  messageId: string;
  at: string;
}

/**
 * Settles a send from SES's own Send event: a SENDING or UNCONFIRMED touchpoint of that generation is recorded SENT,
 * exactly as the workflow records it (the survey count, the reminder), from the send plan the send step stored. The
 * event usually arrives while the workflow is still running or after it recorded SENT: then nothing changes.
 */
export async function settleSendFromSes(evidence: SesSendEvidence, deps: RecordOutcomeDeps): Promise<OutcomeResult & { settled: boolean }> {
  const touchpoint = await deps.touchpoints.get(evidence.touchpointId);
  if (!touchpoint || touchpoint.generation !== evidence.generation || (touchpoint.status !== 'SENDING' && touchpoint.status !== 'UNCONFIRMED')) {
    return { outcome: 'SENT', recorded: false, settled: false };
  }
  const survey = touchpoint.sendPlan?.survey;
  const result = await recordTouchpointOutcome(
    {
      touchpointId: evidence.touchpointId,
      generation: evidence.generation,
      now: evidence.at,
      outcome: 'SENT',
      messageId: evidence.messageId,
      ...(survey ? { survey } : {}),
    },
    deps,
  );
  return { ...result, settled: result.recorded };
}

/**
 * The touchpoint if it is a survey itself (a reminder is not a send: it answers its parent survey). Read before the
 * SENT write because the count needs the campaign, and the stored touchpoint, not the request, says what it is.
 */
async function surveyOf(touchpointId: string, deps: RecordOutcomeDeps): Promise<Touchpoint | undefined> {
  const touchpoint = await deps.touchpoints.get(touchpointId);
  return touchpoint?.kind === 'survey' && touchpoint.context.parentTouchpointId === undefined ? touchpoint : undefined;
}

/** One survey sent, in the bucket of its campaign, the day of `sentAt` (the SENT write sets sentAt = `at`) and its scale. */
function sendCounts(survey: Touchpoint, kind: SurveyKind, sentAt: string, deps: RecordOutcomeDeps) {
  const token = (deps.newToken ?? randomUUID)();
  return numberChanges(token, [sendChange(surveySentDelta({ campaignId: survey.campaignId, kind, sentAt }))]);
}

/**
 * After a survey is sent, its one reminder: a PENDING survey touchpoint `reminderAfter` later whose parent is the
 * survey (its links answer the same survey). Planned when the send is recorded, or again by a repeated call (the
 * deterministic id makes that a no-op), so a crash between the two writes loses nothing.
 */
async function planSurveyReminder(
  touchpointId: string,
  messageId: string,
  reminderAfter: string,
  at: string,
  deps: Pick<RecordOutcomeDeps, 'touchpoints'>,
  justSent?: Touchpoint,
): Promise<void> {
  const survey = justSent ?? (await deps.touchpoints.get(touchpointId));
  if (!survey || survey.status !== 'SENT' || survey.messageId !== messageId) return;
  await deps.touchpoints.create({
    touchpointId: surveyReminderIdFor(survey.campaignId, touchpointId),
    campaignId: survey.campaignId,
    kind: survey.kind,
    customerId: survey.customerId,
    ...(survey.orderId !== undefined ? { orderId: survey.orderId } : {}),
    dueAt: addDuration(survey.sentAt ?? at, reminderAfter),
    status: 'PENDING',
    generation: 0,
    context: { ...survey.context, parentTouchpointId: touchpointId },
    ...(survey.variant !== undefined ? { variant: survey.variant } : {}),
    createdAt: at,
    updatedAt: at,
  });
}
