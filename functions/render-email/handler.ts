import { z } from 'zod';
import { DynamoDbCampaignCatalog } from '../../adapters/dynamodb-campaigns.ts';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { envCacheSeconds, envString, parseEnv } from '../../adapters/env.ts';
import { secretsManagerSigningKey } from '../../adapters/secrets-signing-key.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { purchasedItemSchema } from '../../core/events.ts';
import { keyringFromSecret } from '../../core/surveys/tokens.ts';
import { renderTouchpointEmail } from '../../core/use-cases/render-touchpoint-email.ts';

const env = parseEnv({
  CAMPAIGNS_TABLE: envString,
  CAMPAIGN_CACHE_SECONDS: envCacheSeconds,
  LINK_SECRET_ARN: envString,
  SURVEY_KEYRING_SECRET_ARN: envString,
  PUBLIC_BASE_URL: z.url({ message: 'must be an absolute URL' }),
  SENDER_ADDRESS: z.string().min(3),
  SES_CONFIGURATION_SET: envString,
});
const deps = {
  campaigns: new DynamoDbCampaignCatalog(env.CAMPAIGNS_TABLE, createDocumentClient(), env.CAMPAIGN_CACHE_SECONDS * 1000),
  signingKey: secretsManagerSigningKey(env.LINK_SECRET_ARN),
  surveyKeyring: keyringFromSecret(secretsManagerSigningKey(env.SURVEY_KEYRING_SECRET_ARN)),
  publicBaseUrl: env.PUBLIC_BASE_URL,
  senderAddress: env.SENDER_ADDRESS,
  configurationSet: env.SES_CONFIGURATION_SET,
};

const request = z.object({
  touchpointId: z.string().min(1),
  message: z.object({
    campaignId: z.string().min(1),
    customerId: z.string().min(1),
    email: z.string().min(3),
    name: z.string(),
    locale: z.string().min(2),
    /** The A/B variant recorded when the touchpoint was planned. */
    variant: z.string().min(1).optional(),
    context: z.object({
      orderId: z.string().optional(),
      items: z.array(purchasedItemSchema).optional(),
      total: z.number().optional(),
      currency: z.string().optional(),
      purchasedAt: z.string().optional(),
      parentTouchpointId: z.string().optional(),
      contract: z
        .object({
          contractId: z.string().min(1),
          plan: z.string(),
          value: z.number(),
          currency: z.string(),
          endDate: z.string(),
          autoRenew: z.boolean(),
          offsetDays: z.number().int(),
        })
        .optional(),
    }),
    survey: z
      .object({ surveyId: z.string().min(1), reminder: z.boolean(), reminderAfter: z.string().min(1).optional() })
      .optional(),
  }),
  now: z.iso.datetime({ offset: true }).optional(),
});

/** Workflow task: the SES v2 SendEmail request for an eligible touchpoint. */
export const handler = async (event: unknown) => {
  const parsed = request.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`render input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  return renderTouchpointEmail(parsed.data, deps);
};
