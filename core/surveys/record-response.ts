/**
 * Recording a survey answer (the POST of the confirm form) and previewing one (the GET of an email link).
 *
 * The survey facts (kind, campaign, order) come from the survey's touchpoint, which the handler reads by the link's
 * survey id; the link's customer id must be the touchpoint's (the handler checks, and so does decideAnswer for an
 * existing response).
 */
import { toUtcIso } from '../schedule.ts';
import { SurveyAnswerConflictError } from './errors.ts';
import type { SurveyResponseRepository } from './ports.ts';
import {
  DEFAULT_EDIT_WINDOW,
  decideAnswer,
  editableUntil,
  normalizeComment,
  type SurveyFacts,
  type SurveyResponse,
} from './responses.ts';
import { assertValidScore, type SurveyKind } from './scales.ts';
import { needsSettlement, settleSurveyResponse, type SettleDeps, type SettleOutcome } from './settle-response.ts';
import { verifySurveyLink, type SurveyKeyringSource, type SurveyLink } from './tokens.ts';

export interface RecordSurveyResponseRequest extends SurveyLink {
  /** The comment field of the form; trimmed and cut to 2000 characters. Empty keeps an earlier comment. */
  comment?: string | undefined;
  /** The request time. */
  now: string;
  kind: SurveyKind;
  campaignId: string;
  orderId?: string | undefined;
  /**
   * `sentAt` of the survey's touchpoint when its send was counted (it has a `surveyKind`): the first answer is
   * counted as answered in that send's bucket. Absent: the answer is recorded but not counted in the response rate.
   */
  surveySentAt?: string | undefined;
}

export interface RecordSurveyResponseDeps extends SettleDeps {
  keyring: SurveyKeyringSource;
  /** ISO-8601 duration from the first answer during which the answer may change; P7D by default. */
  editWindow?: string;
}

export type RecordOutcome =
  /** The first answer. */
  | 'recorded'
  /** Another score, or a new comment, within the edit window. */
  | 'changed'
  /** The same answer again (a double click, a re-sent form): nothing written, no event. */
  | 'unchanged'
  /** A change after the edit window (or after too many changes): rejected, nothing written. */
  | 'closed';

export interface RecordSurveyResponseResult {
  outcome: RecordOutcome;
  /** Why a change was rejected (outcome `closed`). */
  closedReason?: 'edit-window' | 'too-many-changes';
  /** The response as it stands after this call. */
  response: SurveyResponse;
  editableUntil: string;
  /** `busy`: another settler holds the lease; the pending sweep finishes if it never does. */
  settlement: SettleOutcome;
}

/**
 * Records a one-click survey answer.
 *
 * Primary course:
 *  1. Verify the signed link (constant time; expiry) and that the score is on the kind's scale. A bad link writes
 *     nothing.
 *  2. Read the response and decide: first answer, change (within the edit window), same answer again, or closed.
 *  3. Write it conditionally (create only if absent; change only at the revision read). On a race, read and decide
 *     once more; a second race is a SurveyAnswerConflictError.
 *  4. Settle it: count it in the aggregates (and a first answer in the response rate) and publish "Survey Answered"
 *     (see settle-response.ts). A repeated answer also finishes any settling an earlier request left undone.
 */
export async function recordSurveyResponse(
  request: RecordSurveyResponseRequest,
  deps: RecordSurveyResponseDeps,
): Promise<RecordSurveyResponseResult> {
  const now = toUtcIso(request.now);
  const claims = verifySurveyLink(await deps.keyring(), request, now);
  assertValidScore(request.kind, claims.score);
  const facts: SurveyFacts = {
    surveyId: claims.surveyId,
    kind: request.kind,
    campaignId: request.campaignId,
    customerId: claims.customerId,
    ...(request.orderId !== undefined ? { orderId: request.orderId } : {}),
  };
  const answer = { facts, score: claims.score, comment: normalizeComment(request.comment), now };
  const window = deps.editWindow ?? DEFAULT_EDIT_WINDOW;

  for (let attempt = 0; attempt < 2; attempt += 1) {
    const decision = decideAnswer(await deps.responses.get(claims.surveyId), answer, window);
    if (decision.action === 'unchanged' || decision.action === 'closed') {
      const settlement = needsSettlement(decision.response) ? await settleSurveyResponse(claims.surveyId, now, deps) : 'not-needed';
      return {
        outcome: decision.action,
        ...(decision.action === 'closed' ? { closedReason: decision.reason } : {}),
        response: decision.response,
        editableUntil: editableUntil(decision.response, window),
        settlement,
      };
    }
    const expected = decision.action === 'edit' ? decision.previous.revision : undefined;
    // A new response keeps its survey's send time: its put counts the first answer in that send's bucket.
    const response =
      decision.action === 'create' && request.surveySentAt !== undefined
        ? { ...decision.response, surveySentAt: toUtcIso(request.surveySentAt) }
        : decision.response;
    if (!(await deps.responses.put(response, expected))) continue;
    const settlement = await settleSurveyResponse(claims.surveyId, now, deps);
    return {
      outcome: decision.action === 'create' ? 'recorded' : 'changed',
      response,
      editableUntil: editableUntil(response, window),
      settlement,
    };
  }
  throw new SurveyAnswerConflictError(claims.surveyId);
}

export type PreviewState =
  /** Nothing answered yet: submitting records the score. */
  | 'new'
  /** Answered with this score already: submitting adds the comment, if any (while editable). */
  | 'same'
  /** Answered with another score, window open: submitting changes it. */
  | 'change'
  /** Answered with another score, window closed: show the closed page, offer no form. */
  | 'closed';

export interface SurveyAnswerPreview {
  state: PreviewState;
  kind: SurveyKind;
  score: number;
  previousScore?: number;
  editableUntil?: string;
  /** False once the edit window has closed: the page offers no form. */
  editable: boolean;
}

/**
 * What the GET of an email link shows: verifies the link (throws SurveyTokenRejectedError) and reads the response.
 * Writes nothing, so mail scanners that fetch links record nothing.
 */
export async function previewSurveyAnswer(
  request: SurveyLink & { now: string; kind: SurveyKind },
  deps: { keyring: SurveyKeyringSource; responses: Pick<SurveyResponseRepository, 'get'>; editWindow?: string },
): Promise<SurveyAnswerPreview> {
  const now = toUtcIso(request.now);
  const claims = verifySurveyLink(await deps.keyring(), request, now);
  assertValidScore(request.kind, claims.score);
  const existing = await deps.responses.get(claims.surveyId);
  const base = { kind: request.kind, score: claims.score };
  if (!existing) return { ...base, state: 'new', editable: true };
  const until = editableUntil(existing, deps.editWindow ?? DEFAULT_EDIT_WINDOW);
  const editable = now <= until;
  const previous = { previousScore: existing.score, editableUntil: until, editable };
  if (existing.score === claims.score) return { ...base, ...previous, state: 'same' };
  return { ...base, ...previous, state: editable ? 'change' : 'closed' };
}
