import { z } from 'zod';
import type { SentSurvey } from '../model.ts';
import type { TouchpointRepository } from '../ports.ts';
import { addDuration, toUtcIso } from '../schedule.ts';
import type { SendEmailRequest } from './render-touchpoint-email.ts';

/**
 * What an SES SendEmail call came to, as the send path must treat it:
 * - `SENT`: SES accepted it (its message id).
 * - `NOT_SENT`: the request surely did not reach SES or SES refused it for now (throttling, a connection that never
 *   opened, sending paused): safe to send again later.
 * - `REJECTED`: SES refused this message for good (bad address, unverified sender): sending it again cannot help.
 * - `AMBIGUOUS`: the request may have reached SES (a reset connection, a lost response, a 5xx): never sent again
 *   blindly; SES's own Send event settles it.
 */
export type SendAttemptResult =
  | { result: 'SENT'; messageId: string }
  | { result: 'NOT_SENT' | 'REJECTED' | 'AMBIGUOUS'; error: { Error: string; Cause: string } };

/** Sends one email through SES, once (no retries of its own: a retry after an ambiguous failure could send twice). */
export interface EmailSender {
  send(request: SendEmailRequest): Promise<SendAttemptResult>;
}

const surveySchema = z.object({
  surveyId: z.string().min(1),
  reminder: z.boolean(),
  reminderAfter: z.string().min(1).optional(),
  scale: z.enum(['nps', 'csat', 'ces']).optional(),
});

export const sendRequestSchema = z.object({
  touchpointId: z.string().min(1),
  generation: z.number().int().nonnegative(),
  /** The execution that runs this attempt (`$$.Execution.Id`): a second run of it makes another attempt id. */
  executionId: z.string().min(1),
  now: z.iso.datetime({ offset: true }),
  /** The render step's SES v2 SendEmail request, passed on unchanged. */
  email: z.object({
    FromEmailAddress: z.string().min(3),
    Destination: z.object({ ToAddresses: z.array(z.string().min(3)).min(1) }),
    ConfigurationSetName: z.string().min(1),
    EmailTags: z.array(z.object({ Name: z.string().min(1), Value: z.string() })),
    Content: z.object({ Simple: z.looseObject({}) }),
  }),
  survey: surveySchema.optional(),
});
export type SendRequest = z.infer<typeof sendRequestSchema>;

export type SendOutcome = SendAttemptResult | { result: 'STALE'; reason: string };

export interface SendDeps {
  touchpoints: TouchpointRepository;
  sender: EmailSender;
  /** A fresh random part of each attempt id. */
  newAttemptToken: () => string;
}

/**
 * How long a SENDING touchpoint keeps its place before dispatch treats it as UNCONFIRMED: longer than the send step
 * can run (its Lambda timeout), so a live attempt is never second-guessed.
 */
export const SENDING_LEASE = 'PT10M';

/**
 * Sends one touchpoint's email, at most once per generation.
 *
 * Primary course:
 *  1. Claim it: DISPATCHED → SENDING for this attempt (conditional on the generation). Express workflows run at least
 *     once, so the same execution can run this step twice; only one claim succeeds, and the other run sends nothing.
 *  2. Call SES once, tagging the email with the touchpoint's generation, so SES's events can settle it.
 *  3. Return what the call came to (SendAttemptResult) for the workflow to record.
 */
export async function sendTouchpointEmail(request: SendRequest, deps: SendDeps): Promise<SendOutcome> {
  const at = toUtcIso(request.now);
  // The execution's name and run (an Express ARN ends in `<name>:<run id>`), and a random part of our own.
  const attemptId = `${request.executionId.split(':').slice(-2).join(':')}#${deps.newAttemptToken()}`;
  const survey: SentSurvey | undefined = request.survey;
  const claimed = await deps.touchpoints.claimForSending({
    touchpointId: request.touchpointId,
    generation: request.generation,
    at,
    attemptId,
    leaseUntil: addDuration(at, SENDING_LEASE),
    sendPlan: survey ? { survey } : {},
  });
  if (!claimed) return { result: 'STALE', reason: 'another attempt claimed this send, or the touchpoint moved on' };
  const email = request.email as SendEmailRequest;
  return deps.sender.send({
    ...email,
    EmailTags: [...email.EmailTags.filter((tag) => tag.Name !== 'generation'), { Name: 'generation', Value: String(request.generation) }],
  });
}
