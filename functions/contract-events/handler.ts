import { DynamoDbCampaignCatalog } from '../../adapters/dynamodb-campaigns.ts';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { CONTRACTS_TABLE, DEFAULT_CONTRACT_END_SHARDS, DynamoDbContractRepository, DynamoDbSweepCursors } from '../../adapters/dynamodb-contracts.ts';
import { DynamoDbCustomerRepository } from '../../adapters/dynamodb-customers.ts';
import { DynamoDbMetricsCounters } from '../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../adapters/dynamodb-pending.ts';
import { systemClock } from '../../core/metrics/counters.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envCacheSeconds, envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger, parseEventOrLog } from '../../adapters/logger.ts';
import { parseContractEvent } from '../../core/contracts/contract-events.ts';
import { handleContractEvent } from '../../core/use-cases/renewals.ts';

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
  customers: new DynamoDbCustomerRepository(env.CUSTOMERS_TABLE, db),
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, db),
  campaigns: new DynamoDbCampaignCatalog(env.CAMPAIGNS_TABLE, db, env.CAMPAIGN_CACHE_SECONDS * 1000),
  metrics: {
    pending: new DynamoDbPendingCounts(env.CONTRACTS_TABLE, CONTRACTS_TABLE.partitionKey, db),
    counters: new DynamoDbMetricsCounters(env.METRICS_TABLE, db),
    // The lease runs in real time, longer than this function's timeout.
    clock: systemClock,
    lease: 'PT1M',
  },
};
const logger = createLogger('contract-events');

/** EventBridge target for contract events. An invalid event throws, so Lambda sends it to the dead-letter queue. */
export const handler = async (event: unknown) => {
  const parsed = parseEventOrLog(parseContractEvent, event, logger, 'invalid contract event rejected');
  const result = await handleContractEvent(parsed, deps);
  logger.info('contract event applied', {
    eventId: parsed.eventId,
    detailType: parsed.type,
    action: result.action,
    contractId: result.contractId,
    created: result.touchpointsCreated.length,
    cancelled: result.touchpointsCancelled.length,
  });
  return result;
};
