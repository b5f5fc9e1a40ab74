import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbMetricsCounters } from '../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../adapters/dynamodb-pending.ts';
import { systemClock } from '../../core/metrics/counters.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger } from '../../adapters/logger.ts';
import { createMetrics, METRIC, publishCounts } from '../../adapters/metrics.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { emailSentEventSchema } from '../../core/events.ts';
import { TABLES } from '../../core/topology.ts';
import {
  outcomeRequestSchema,
  recordTouchpointOutcome,
  settleSendFromSes,
  type OutcomeResult,
} from '../../core/use-cases/record-touchpoint-outcome.ts';

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
/** RESCHEDULED, DEFERRED and UNCONFIRMED are not counted: the touchpoint is not done yet. */
const OUTCOME_METRIC: Partial<Record<OutcomeResult['outcome'], string>> = { SENT: METRIC.emailsSent, SKIPPED: METRIC.emailsSkipped, FAILED: METRIC.emailsFailed };

function count(result: OutcomeResult): void {
  // Counted once: a repeated call records nothing and counts nothing.
  const metric = OUTCOME_METRIC[result.outcome];
  if (result.recorded && metric) publishCounts(metrics, { [metric]: 1 });
}

/**
 * Workflow task: record SENT, SKIPPED, RESCHEDULED, DEFERRED, UNCONFIRMED or FAILED on the touchpoint. Also the target
 * of SES's Send events (rule ses-sends), which settle a send whose answer was lost.
 */
export const handler = async (event: unknown) => {
  if (typeof event === 'object' && event !== null && 'detail-type' in event) {
    const parsed = emailSentEventSchema.safeParse(event);
    if (!parsed.success) throw new InvalidInputError(`SES Send event is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
    const { mail } = parsed.data.detail;
    const evidence = {
      touchpointId: mail.tags.touchpointId[0],
      generation: Number(mail.tags.generation[0]),
      messageId: mail.messageId,
      at: mail.timestamp ?? parsed.data.time,
    };
    const result = await settleSendFromSes(evidence, deps);
    if (result.settled) logger.info('send settled from SES', { touchpointId: evidence.touchpointId, generation: evidence.generation });
    count(result);
    return result;
  }
  const parsed = outcomeRequestSchema.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`outcome input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  const result = await recordTouchpointOutcome(parsed.data, deps);
  logger.info('touchpoint outcome', { touchpointId: parsed.data.touchpointId, ...result });
  count(result);
  return result;
};
