import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbMetricsCounters } from '../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../adapters/dynamodb-pending.ts';
import { systemClock } from '../../core/metrics/counters.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger } from '../../adapters/logger.ts';
import { createMetrics, METRIC, publishCounts } from '../../adapters/metrics.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { TABLES } from '../../core/topology.ts';
import { outcomeRequestSchema, recordTouchpointOutcome, type OutcomeResult } from '../../core/use-cases/record-touchpoint-outcome.ts';

const env = parseEnv({
  TOUCHPOINTS_TABLE: envString,
  DISPATCH_SHARDS: envShardCount,
  METRICS_TABLE: envString,
});
const db = createDocumentClient();
const deps = {
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, db),
  // Survey sends: the response rate's denominator.
  metrics: {
    pending: new DynamoDbPendingCounts(env.TOUCHPOINTS_TABLE, TABLES.touchpoints.partitionKey, db),
    counters: new DynamoDbMetricsCounters(env.METRICS_TABLE, db),
    // The lease runs in real time, longer than this function's timeout.
    clock: systemClock,
    lease: 'PT1M',
  },
};
const logger = createLogger('record-outcome');
const metrics = createMetrics();
/** RESCHEDULED and DEFERRED are not counted: the touchpoint is PENDING again. */
const OUTCOME_METRIC: Partial<Record<OutcomeResult['outcome'], string>> = { SENT: METRIC.emailsSent, SKIPPED: METRIC.emailsSkipped, FAILED: METRIC.emailsFailed };

/** Workflow task: record SENT, SKIPPED, RESCHEDULED, DEFERRED or FAILED on the touchpoint. */
export const handler = async (event: unknown) => {
  const parsed = outcomeRequestSchema.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`outcome input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  const result = await recordTouchpointOutcome(parsed.data, deps);
  logger.info('touchpoint outcome', { touchpointId: parsed.data.touchpointId, ...result });
  // Counted once: a repeated call records nothing and counts nothing.
  const metric = OUTCOME_METRIC[result.outcome];
  if (result.recorded && metric) publishCounts(metrics, { [metric]: 1 });
  return result;
};
