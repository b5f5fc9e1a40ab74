import { z } from 'zod';
import type { TouchpointRepository } from '../ports.ts';
import { addDuration, toUtcIso } from '../schedule.ts';
import { surveyReminderIdFor } from '../touchpoint-id.ts';

const base = { touchpointId: z.string().min(1), generation: z.number().int().nonnegative(), now: z.string().min(1) };

export const outcomeRequestSchema = z.discriminatedUnion('outcome', [
  z.object({
    ...base,
    outcome: z.literal('SENT'),
    messageId: z.string().min(1),
    /** Survey sends: the reminder to plan (from the eligibility message). */
    survey: z.object({ surveyId: z.string().min(1), reminder: z.boolean(), reminderAfter: z.string().min(1).optional() }).optional(),
  }),
  z.object({ ...base, outcome: z.literal('SKIPPED'), reason: z.string().min(1) }),
  z.object({ ...base, outcome: z.literal('RESCHEDULED'), reason: z.string().min(1), nextDueAt: z.string().min(1) }),
  z.object({
    ...base,
    outcome: z.literal('FAILED'),
    /** The Step Functions error object from a Catch: `{ Error, Cause }`. */
    error: z.object({ Error: z.string(), Cause: z.string().optional() }),
  }),
]);
export type OutcomeRequest = z.infer<typeof outcomeRequestSchema>;

export interface OutcomeResult {
  outcome: OutcomeRequest['outcome'];
  /** False when the touchpoint had moved on (cancelled meanwhile, or a repeated call): nothing was written. */
  recorded: boolean;
}

/**
 * Records how a dispatched touchpoint ended. Every write is conditional on DISPATCHED and the generation, so a
 * repeated call or a cancellation that won the race leaves the touchpoint as it is.
 */
export async function recordTouchpointOutcome(
  request: OutcomeRequest,
  deps: { touchpoints: TouchpointRepository },
): Promise<OutcomeResult> {
  const transition = { touchpointId: request.touchpointId, generation: request.generation, at: toUtcIso(request.now) };
  let recorded: boolean;
  switch (request.outcome) {
    case 'SENT':
      recorded = await deps.touchpoints.complete({ ...transition, status: 'SENT', messageId: request.messageId });
      if (request.survey && !request.survey.reminder && request.survey.reminderAfter) {
        await planSurveyReminder(request.touchpointId, request.messageId, request.survey.reminderAfter, transition.at, deps);
      }
      break;
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
    case 'FAILED': {
      // The Cause of an SDK error can echo the request (the address); keep the error name and a short cause only.
      const cause = (request.error.Cause ?? '').slice(0, 300);
      recorded = await deps.touchpoints.complete({
        ...transition,
        status: 'FAILED',
        reason: cause ? `${request.error.Error}: ${cause}` : request.error.Error,
      });
      break;
    }
  }
  return { outcome: request.outcome, recorded };
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
  deps: { touchpoints: TouchpointRepository },
): Promise<void> {
  const survey = await deps.touchpoints.get(touchpointId);
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
