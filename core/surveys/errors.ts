/** Survey errors. Each sets `this.name` so it survives bundling (see core/errors.ts). */
import { InvalidLinkTokenError } from '../errors.ts';

export const SURVEY_TOKEN_REJECTIONS = ['malformed', 'unknown-key-version', 'bad-signature', 'expired'] as const;
export type SurveyTokenRejection = (typeof SURVEY_TOKEN_REJECTIONS)[number];

/**
 * A survey link that must not be acted on. A subclass of InvalidLinkTokenError so code that handles bad links in
 * general keeps working; `reason` lets the page tell an expired link from a broken one. The message never contains
 * the ids or the token.
 */
export class SurveyTokenRejectedError extends InvalidLinkTokenError {
  readonly reason: SurveyTokenRejection;
  constructor(reason: SurveyTokenRejection) {
    super(`survey link ${reason}`);
    this.name = 'SurveyTokenRejectedError';
    this.reason = reason;
  }
}

/** Two answers to the same survey raced twice in a row; the caller may simply try again. */
export class SurveyAnswerConflictError extends Error {
  constructor(surveyId: string) {
    super(`survey ${surveyId} was answered concurrently; try again`);
    this.name = 'SurveyAnswerConflictError';
  }
}

/**
 * The aggregate bookkeeping of a response did not match what the lease promises (another settler wrote while this
 * one held the lease). Nothing is double-counted: the in-flight marker refused the write. The lease expires and the
 * next settle (a later answer, the pending sweep, or the rebuild) finishes the work.
 */
export class SurveySettlementConflictError extends Error {
  constructor(surveyId: string, what: string) {
    super(`survey ${surveyId}: ${what}`);
    this.name = 'SurveySettlementConflictError';
  }
}
