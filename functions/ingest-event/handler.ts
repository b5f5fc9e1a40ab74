import { DynamoDbCampaignCatalog } from '../../adapters/dynamodb-campaigns.ts';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbCustomerRepository } from '../../adapters/dynamodb-customers.ts';
import { DynamoDbMetricsCounters } from '../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../adapters/dynamodb-pending.ts';
import { systemClock } from '../../core/metrics/counters.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envCacheSeconds, envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger, parseEventOrLog } from '../../adapters/logger.ts';
import { createMetrics, METRIC, publishCounts } from '../../adapters/metrics.ts';
import { parseCommerceEvent } from '../../core/events.ts';
import { TABLES } from '../../core/topology.ts';
import { ingestCommerceEvent } from '../../core/use-cases/ingest-commerce-event.ts';

const env = parseEnv({
  CUSTOMERS_TABLE: envString,
  TOUCHPOINTS_TABLE: envString,
  CAMPAIGNS_TABLE: envString,
  METRICS_TABLE: envString,
  CAMPAIGN_CACHE_SECONDS: envCacheSeconds,
  DISPATCH_SHARDS: envShardCount,
});
const db = createDocumentClient();
const deps = {
  customers: new DynamoDbCustomerRepository(env.CUSTOMERS_TABLE, db),
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, db),
  campaigns: new DynamoDbCampaignCatalog(env.CAMPAIGNS_TABLE, db, env.CAMPAIGN_CACHE_SECONDS * 1000),
  // Purchase cohorts: the pending counts live on the customer items, the counts in the metrics table.
  metrics: {
    pending: new DynamoDbPendingCounts(env.CUSTOMERS_TABLE, TABLES.customers.partitionKey, db),
    counters: new DynamoDbMetricsCounters(env.METRICS_TABLE, db),
    // The lease runs in real time, longer than this function's timeout.
    clock: systemClock,
    lease: 'PT1M',
  },
};
const logger = createLogger('ingest-event');
const metrics = createMetrics();

/** EventBridge target for commerce events. An invalid event throws, so Lambda sends it to the dead-letter queue. */
export const handler = async (event: unknown) => {
  const parsed = parseEventOrLog(parseCommerceEvent, event, logger, 'invalid event rejected');
  const result = await ingestCommerceEvent(parsed, deps);
  logger.info('event applied', {
    eventId: parsed.eventId,
    detailType: parsed.type,
    created: result.touchpointsCreated.length,
    cancelled: result.touchpointsCancelled.length,
  });
  // Hard bounces and complaints, for the reputation alarms (a rare redelivered SES event counts twice; SES's own
  // account-level rates stay the reference).
  if (result.action === 'recipient-suppressed') {
    publishCounts(metrics, { [parsed.type === 'Email Complaint Received' ? METRIC.complaints : METRIC.bounces]: 1 });
  }
  return result;
};
