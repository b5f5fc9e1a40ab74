import { renderCampaignEmail, type SurveyTemplateData } from '../campaigns/render.ts';
import type { Campaign } from '../campaigns/schema.ts';
import { addDuration } from '../schedule.ts';
import { renderSurveyScale } from '../surveys/email-scale.ts';
import type { SurveyKeyringSource } from '../surveys/tokens.ts';
import { CampaignNotFoundError, InvalidInputError } from '../errors.ts';
import { unsubscribeUrl, type SigningKeySource } from '../links.ts';
import type { CampaignCatalog } from '../ports.ts';
import type { SendMessage } from './check-eligibility.ts';

export interface RenderDeps {
  campaigns: CampaignCatalog;
  signingKey: SigningKeySource;
  /** Signs the one-click answer links of survey emails. */
  surveyKeyring: SurveyKeyringSource;
  publicBaseUrl: string;
  senderAddress: string;
  configurationSet: string;
}

export interface RenderRequest {
  touchpointId: string;
  message: SendMessage;
  /** The workflow's start time: survey links expire `linkValidFor` after it. */
  now?: string;
}

/** The SES v2 SendEmail request, as the workflow's SendEmail task passes it on unchanged. */
export interface SendEmailRequest {
  FromEmailAddress: string;
  Destination: { ToAddresses: string[] };
  ConfigurationSetName: string;
  EmailTags: Array<{ Name: string; Value: string }>;
  Content: {
    Simple: {
      Subject: { Data: string; Charset: 'UTF-8' };
      Body: { Html: { Data: string; Charset: 'UTF-8' }; Text: { Data: string; Charset: 'UTF-8' } };
      Headers: Array<{ Name: string; Value: string }>;
    };
  };
}

/**
 * Renders the email for an eligible touchpoint.
 *
 * Primary course:
 *  1. Load the campaign's template (the touchpoint's A/B variant's, if any); pick the recipient's locale or fall back.
 *  2. Sign the one-click unsubscribe link.
 *  3. Build the SendEmail request with RFC 8058 List-Unsubscribe headers, the configuration set, and tags that carry
 *     ids only (SES events come back with them; no personal data).
 */
export async function renderTouchpointEmail(request: RenderRequest, deps: RenderDeps): Promise<SendEmailRequest> {
  const { message } = request;
  const campaign = await deps.campaigns.get(message.campaignId);
  if (!campaign) throw new CampaignNotFoundError(message.campaignId);
  const secret = await deps.signingKey();
  const unsubscribe = unsubscribeUrl(deps.publicBaseUrl, secret, message.customerId);
  const survey = campaign.survey && message.survey ? await surveyData(campaign, request, deps) : undefined;
  const email = renderCampaignEmail(campaign, message, message.context, unsubscribe, survey);
  const utf8 = (Data: string) => ({ Data, Charset: 'UTF-8' as const });
  return {
    FromEmailAddress: deps.senderAddress,
    Destination: { ToAddresses: [message.email] },
    ConfigurationSetName: deps.configurationSet,
    EmailTags: [
      { Name: 'touchpointId', Value: request.touchpointId },
      { Name: 'campaignId', Value: campaign.id },
      { Name: 'customerId', Value: message.customerId },
      ...(message.survey ? [{ Name: 'surveyId', Value: message.survey.surveyId }] : []),
      ...(email.variant !== undefined ? [{ Name: 'variant', Value: email.variant }] : []),
    ],
    Content: {
      Simple: {
        Subject: utf8(email.subject),
        Body: { Html: utf8(email.html), Text: utf8(email.text) },
        Headers: [
          { Name: 'List-Unsubscribe', Value: `<${unsubscribe}>` },
          { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
        ],
      },
    },
  };
}

/** The question and the signed answer links, in the recipient's language (the campaign's wording, else the default). */
async function surveyData(campaign: Campaign, request: RenderRequest, deps: RenderDeps): Promise<SurveyTemplateData> {
  const settings = campaign.survey!;
  const { message } = request;
  if (!request.now) throw new InvalidInputError('render input is invalid: now: is missing (a survey link needs its issue time)');
  const question = settings.question ? (settings.question[message.locale] ?? settings.question[message.locale.split('-')[0] ?? '']) : undefined;
  const scale = renderSurveyScale({
    baseUrl: deps.publicBaseUrl,
    keyring: await deps.surveyKeyring(),
    surveyId: message.survey!.surveyId,
    customerId: message.customerId,
    kind: settings.scale,
    expiresAt: addDuration(request.now, settings.linkValidFor),
    locale: message.locale,
    ...(question ? { wording: { question } } : {}),
  });
  return { question: scale.question, scaleHtml: scale.html, scaleText: scale.text };
}
