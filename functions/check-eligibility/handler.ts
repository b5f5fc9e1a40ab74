import { z } from 'zod';
import { DynamoDbCampaignCatalog } from '../../adapters/dynamodb-campaigns.ts';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DEFAULT_CONTRACT_END_SHARDS, DynamoDbContractRepository } from '../../adapters/dynamodb-contracts.ts';
import { DynamoDbCustomerRepository } from '../../adapters/dynamodb-customers.ts';
import { DynamoDbSurveyResponses } from '../../adapters/dynamodb-responses.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envCacheSeconds, envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { checkEligibility } from '../../core/use-cases/check-eligibility.ts';

const env = parseEnv({
  CUSTOMERS_TABLE: envString,
  TOUCHPOINTS_TABLE: envString,
  CAMPAIGNS_TABLE: envString,
  RESPONSES_TABLE: envString,
  CONTRACTS_TABLE: envString,
  CAMPAIGN_CACHE_SECONDS: envCacheSeconds,
  DISPATCH_SHARDS: envShardCount,
});
const db = createDocumentClient();
const deps = {
  customers: new DynamoDbCustomerRepository(env.CUSTOMERS_TABLE, db),
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, db),
  campaigns: new DynamoDbCampaignCatalog(env.CAMPAIGNS_TABLE, db, env.CAMPAIGN_CACHE_SECONDS * 1000),
  answers: new DynamoDbSurveyResponses(env.RESPONSES_TABLE, db),
  contracts: new DynamoDbContractRepository(env.CONTRACTS_TABLE, DEFAULT_CONTRACT_END_SHARDS, db),
};

const request = z.object({
  touchpointId: z.string().min(1),
  generation: z.number().int().nonnegative(),
  now: z.iso.datetime({ offset: true }),
});

/** Workflow task: may this touchpoint be sent now? */
export const handler = async (event: unknown) => {
  const parsed = request.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`eligibility input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  return checkEligibility(parsed.data, deps);
};
