import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger } from '../../adapters/logger.ts';
import { createMetrics, METRIC, publishCounts } from '../../adapters/metrics.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { outcomeRequestSchema, recordTouchpointOutcome } from '../../core/use-cases/record-touchpoint-outcome.ts';

const env = parseEnv({
  TOUCHPOINTS_TABLE: envString,
  DISPATCH_SHARDS: envShardCount,
});
const deps = { touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, createDocumentClient()) };
const logger = createLogger('record-outcome');
const metrics = createMetrics();
const OUTCOME_METRIC = { SENT: METRIC.emailsSent, SKIPPED: METRIC.emailsSkipped, FAILED: METRIC.emailsFailed } as const;

/** Workflow task: record SENT, SKIPPED, RESCHEDULED or FAILED on the touchpoint. */
export const handler = async (event: unknown) => {
  const parsed = outcomeRequestSchema.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`outcome input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  const result = await recordTouchpointOutcome(parsed.data, deps);
  logger.info('touchpoint outcome', { touchpointId: parsed.data.touchpointId, ...result });
  // Counted once: a repeated call records nothing and counts nothing.
  if (result.recorded && result.outcome !== 'RESCHEDULED') publishCounts(metrics, { [OUTCOME_METRIC[result.outcome]]: 1 });
  return result;
};
