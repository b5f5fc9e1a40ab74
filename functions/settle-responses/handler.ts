import { z } from 'zod';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbMetricsCounters } from '../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../adapters/dynamodb-pending.ts';
import { systemClock } from '../../core/metrics/counters.ts';
import { settleStalePendingCounts } from '../../core/metrics/settle-stale.ts';
import { DynamoDbSurveyAggregates, DynamoDbSurveyResponses } from '../../adapters/dynamodb-responses.ts';
import { envString, parseEnv } from '../../adapters/env.ts';
import { EventBridgePublisher } from '../../adapters/eventbridge-publisher.ts';
import { createLogger } from '../../adapters/logger.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { settlePendingResponses } from '../../core/surveys/settle-response.ts';
import { TABLES } from '../../core/topology.ts';

const env = parseEnv({
  RESPONSES_TABLE: envString,
  SURVEY_AGGREGATES_TABLE: envString,
  EVENT_BUS_NAME: envString,
  METRICS_TABLE: envString,
  TOUCHPOINTS_TABLE: envString,
  CONTRACTS_TABLE: envString,
  CUSTOMERS_TABLE: envString,
});
const db = createDocumentClient();
const counters = new DynamoDbMetricsCounters(env.METRICS_TABLE, db);
// The lease runs in real time, longer than this function's timeout.
const lease = { clock: systemClock, lease: 'PT2M' };
const deps = {
  responses: new DynamoDbSurveyResponses(env.RESPONSES_TABLE, db),
  aggregates: new DynamoDbSurveyAggregates(env.SURVEY_AGGREGATES_TABLE, db),
  metrics: { pending: new DynamoDbPendingCounts(env.RESPONSES_TABLE, TABLES.responses.partitionKey, db), counters, ...lease },
  events: new EventBridgePublisher(env.EVENT_BUS_NAME),
};
/** The entity tables whose settlers may have stopped after the state write (their `byPendingCounts` index). */
const staleDeps = {
  stores: {
    touchpoints: new DynamoDbPendingCounts(env.TOUCHPOINTS_TABLE, TABLES.touchpoints.partitionKey, db),
    contracts: new DynamoDbPendingCounts(env.CONTRACTS_TABLE, TABLES.contracts.partitionKey, db),
    customers: new DynamoDbPendingCounts(env.CUSTOMERS_TABLE, TABLES.customers.partitionKey, db),
  },
  counters,
  ...lease,
};
const logger = createLogger('settle-responses');

const request = z.object({ scheduledTime: z.iso.datetime({ offset: true }) });

/**
 * Scheduler target: finish counting (aggregates, response rate) and publishing survey answers whose request was cut
 * short, then the metric counts of touchpoints, contracts and customers whose settler stopped. Stale entities are
 * rare (a crash); 50 per table per run keeps the run well inside the timeout, and the next run takes the rest.
 */
export const handler = async (event: unknown) => {
  const parsed = request.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`schedule input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  const result = await settlePendingResponses({ now: parsed.data.scheduledTime, limit: 100 }, deps);
  if (result.settled + result.busy > 0) logger.info('survey answers settled', result);
  const counts = await settleStalePendingCounts({ now: parsed.data.scheduledTime, limit: 50 }, staleDeps);
  if (Object.values(counts).some((c) => c.settled + c.busy + c.unlisted > 0)) logger.info('stale metric counts settled', counts);
  return { ...result, staleCounts: counts };
};
