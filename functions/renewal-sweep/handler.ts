import { z } from 'zod';
import { DynamoDbCampaignCatalog } from '../../adapters/dynamodb-campaigns.ts';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { CONTRACTS_TABLE, DEFAULT_CONTRACT_END_SHARDS, DynamoDbContractRepository, DynamoDbSweepCursors } from '../../adapters/dynamodb-contracts.ts';
import { DynamoDbCustomerRepository } from '../../adapters/dynamodb-customers.ts';
import { DynamoDbMetricsCounters } from '../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../adapters/dynamodb-pending.ts';
import { systemClock } from '../../core/metrics/counters.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envCacheSeconds, envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger } from '../../adapters/logger.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { runDailyRenewalSweep } from '../../core/use-cases/renewals.ts';

const env = parseEnv({
  CONTRACTS_TABLE: envString,
  CUSTOMERS_TABLE: envString,
  TOUCHPOINTS_TABLE: envString,
  CAMPAIGNS_TABLE: envString,
  METRICS_TABLE: envString,
  CAMPAIGN_CACHE_SECONDS: envCacheSeconds,
  DISPATCH_SHARDS: envShardCount,
});
const db = createDocumentClient();
const deps = {
  contracts: new DynamoDbContractRepository(env.CONTRACTS_TABLE, DEFAULT_CONTRACT_END_SHARDS, db),
  cursors: new DynamoDbSweepCursors(env.CONTRACTS_TABLE, db),
  // Read only: the customer's NPS segment when a contract is recorded as churned.
  customers: new DynamoDbCustomerRepository(env.CUSTOMERS_TABLE, db),
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, db),
  campaigns: new DynamoDbCampaignCatalog(env.CAMPAIGNS_TABLE, db, env.CAMPAIGN_CACHE_SECONDS * 1000),
  metrics: {
    pending: new DynamoDbPendingCounts(env.CONTRACTS_TABLE, CONTRACTS_TABLE.partitionKey, db),
    counters: new DynamoDbMetricsCounters(env.METRICS_TABLE, db),
    // The lease runs in real time (the default outlasts the sweep's 5-minute timeout).
    clock: systemClock,
  },
};
const logger = createLogger('renewal-sweep');

const request = z.object({ scheduledTime: z.iso.datetime({ offset: true }) });

/** Scheduler target (daily): plan the renewal reminders coming due, record contracts that ended as churned. */
export const handler = async (event: unknown) => {
  const parsed = request.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`schedule input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  const result = await runDailyRenewalSweep(parsed.data.scheduledTime, deps);
  logger.info('renewal sweep', {
    campaigns: result.campaigns.map((c) => ({ campaignId: c.campaignId, read: c.contractsRead, created: c.touchpointsCreated, alreadyPlanned: c.alreadyPlanned })),
    ended: result.ends.ended,
  });
  return result;
};
