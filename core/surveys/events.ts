/**
 * The "Survey Answered" event: published once per revision of a response (at least once: a settler that crashes after
 * publishing and before recording it publishes again, so consumers dedupe on `surveyId` + `revision`).
 *
 * Ids, the score and its category only: no email address, no name, and not the comment. Events are copied into
 * archives, dead-letter queues and logs we do not control the retention of, and a free-text comment may hold anything
 * the customer typed. `hasComment` tells the close-the-loop workflow whether to read it from the responses table
 * (GetItem by `surveyId`) when it needs it, e.g. for a detractor alert.
 */
import { z } from 'zod';
import { SURVEY_KINDS } from './scales.ts';
import type { SurveyResponse } from './responses.ts';

export const SURVEY_ANSWERED = 'Survey Answered';

export const surveyAnsweredDetailSchema = z.object({
  surveyId: z.string().min(1),
  campaignId: z.string().min(1),
  customerId: z.string().min(1),
  orderId: z.string().min(1).optional(),
  kind: z.enum(SURVEY_KINDS),
  score: z.number().int().min(0).max(10),
  category: z.string().min(1),
  /** The score of the previous revision (absent on the first answer). */
  previousScore: z.number().int().min(0).max(10).optional(),
  revision: z.number().int().nonnegative(),
  hasComment: z.boolean(),
  firstAnsweredAt: z.string(),
  answeredAt: z.string(),
});
export type SurveyAnsweredDetail = z.infer<typeof surveyAnsweredDetailSchema>;

export function surveyAnsweredDetail(response: SurveyResponse): SurveyAnsweredDetail {
  const previousScore = response.revision > 0 ? response.scoreHistory[response.revision - 1] : undefined;
  return {
    surveyId: response.surveyId,
    campaignId: response.campaignId,
    customerId: response.customerId,
    ...(response.orderId !== undefined ? { orderId: response.orderId } : {}),
    kind: response.kind,
    score: response.score,
    category: response.category,
    ...(previousScore !== undefined ? { previousScore } : {}),
    revision: response.revision,
    hasComment: response.comment !== undefined,
    firstAnsweredAt: response.firstAnsweredAt,
    answeredAt: response.answeredAt,
  };
}
