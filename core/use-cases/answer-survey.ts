/**
 * The survey link endpoint (`GET /survey` shows, `POST /survey` records): finds the survey behind a link, then
 * previews or records the answer with the survey use cases, and answers with a page.
 *
 * A GET never writes: mail scanners and link previews fetch every link in an email, so the GET shows the chosen score
 * with an optional comment box and a submit button, and only the form's POST (which carries the signed link again)
 * records. The cost is one extra click for a person; the gain is that no scanner ever answers a survey.
 */
import type { CampaignCatalog, TouchpointRepository } from '../ports.ts';
import { previewSurveyAnswer, recordSurveyResponse, type RecordSurveyResponseDeps } from '../surveys/record-response.ts';
import {
  surveyConfirmPage,
  surveyProblemFor,
  surveyProblemPage,
  surveyThanksPage,
  type HtmlPage,
  type SurveyPageProblem,
} from '../surveys/pages.ts';
import { linkParamsOf, parseSurveyLink, verifySurveyLink } from '../surveys/tokens.ts';
import { surveyReminderIdFor } from '../touchpoint-id.ts';

export interface AnswerSurveyDeps extends RecordSurveyResponseDeps {
  touchpoints: Pick<TouchpointRepository, 'get' | 'cancel'>;
  campaigns: CampaignCatalog;
}

export interface AnswerSurveyRequest {
  method: 'GET' | 'POST';
  /** The link's fields: the query string (GET) or the form body (POST). */
  params: URLSearchParams;
  /** The page language (from Accept-Language). */
  locale: string;
  now: string;
}

export interface AnswerSurveyResult {
  page: HtmlPage;
  /** What happened, for the log (ids only). */
  outcome: 'shown' | 'recorded' | 'changed' | 'unchanged' | 'closed' | SurveyPageProblem;
  surveyId?: string;
}

export async function answerSurvey(request: AnswerSurveyRequest, deps: AnswerSurveyDeps): Promise<AnswerSurveyResult> {
  try {
    const link = parseSurveyLink(request.params);
    // The signature first: a forged link learns nothing (not even whether the survey exists) and costs no read.
    verifySurveyLink(await deps.keyring(), link, request.now);
    // The survey is the touchpoint the link names; the link's customer must be its customer.
    const survey = await deps.touchpoints.get(link.surveyId);
    const campaign = survey ? await deps.campaigns.get(survey.campaignId) : undefined;
    if (!survey || survey.kind !== 'survey' || survey.customerId !== link.customerId || !campaign?.survey) {
      return problem('unknown-survey', request.locale, link.surveyId);
    }
    const kind = campaign.survey.scale;
    const editWindow = campaign.survey.editWindow;
    if (request.method === 'GET') {
      const preview = await previewSurveyAnswer({ ...link, now: request.now, kind }, { ...deps, editWindow });
      // After the edit window the answer (and its comment) can no longer change: no form to submit.
      if (preview.state === 'closed' || !preview.editable) return problem('edit-window-closed', request.locale, link.surveyId);
      return {
        page: surveyConfirmPage({
          kind,
          score: link.score,
          locale: request.locale,
          link: linkParamsOf(link),
          question: campaign.survey.question?.[request.locale] ?? campaign.survey.question?.[request.locale.split('-')[0] ?? ''],
          ...(preview.previousScore !== undefined ? { previousScore: preview.previousScore } : {}),
        }),
        outcome: 'shown',
        surveyId: link.surveyId,
      };
    }
    const result = await recordSurveyResponse(
      {
        ...link,
        comment: request.params.get('comment') ?? undefined,
        now: request.now,
        kind,
        campaignId: survey.campaignId,
        orderId: survey.orderId,
        // The first answer counts in the bucket its send was counted in. A survey without `surveyKind` (sent before
        // the metrics) or without `sentAt` (should not happen: links exist only in sent emails) was not counted as
        // sent, so its answer is not counted as answered either: a bucket never shows more answers than sends.
        surveySentAt: survey.surveyKind !== undefined ? survey.sentAt : undefined,
      },
      { ...deps, editWindow },
    );
    if (result.outcome === 'closed') {
      return problem(result.closedReason === 'too-many-changes' ? 'too-many-changes' : 'edit-window-closed', request.locale, link.surveyId);
    }
    // Answered: the reminder must not go out (cancelling one that never existed or already went changes nothing).
    await deps.touchpoints.cancel(surveyReminderIdFor(survey.campaignId, link.surveyId), 'survey answered', request.now);
    return {
      page: surveyThanksPage({ kind, score: result.response.score, locale: request.locale, outcome: result.outcome, editableUntil: result.editableUntil }),
      outcome: result.outcome,
      surveyId: link.surveyId,
    };
  } catch (error) {
    const known = surveyProblemFor(error);
    if (!known) throw error;
    return problem(known, request.locale);
  }
}

const problem = (what: SurveyPageProblem, locale: string, surveyId?: string): AnswerSurveyResult => ({
  page: surveyProblemPage(what, locale),
  outcome: what,
  ...(surveyId !== undefined ? { surveyId } : {}),
});
