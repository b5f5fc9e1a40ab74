import type { Context } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbTouchpointOperations } from '../../adapters/dynamodb-touchpoint-operations.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger } from '../../adapters/logger.ts';
import { createMetrics, METRIC } from '../../adapters/metrics.ts';
import { RatePacer } from '../../adapters/rate-pacer.ts';
import { createSesClient } from '../../adapters/ses-email-sender.ts';
import { sesSendQuota } from '../../adapters/ses-send-quota.ts';
import { StepFunctionsWorkflowStarter } from '../../adapters/sfn-workflow-starter.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { dispatchDueTouchpoints, sendRateBudget } from '../../core/use-cases/dispatch-due-touchpoints.ts';
import { measureBacklog } from '../../core/use-cases/operate-touchpoints.ts';

const env = parseEnv({
  TOUCHPOINTS_TABLE: envString,
  WORKFLOW_ARNS: z
    .string()
    .transform((text) => JSON.parse(text) as unknown)
    .pipe(z.record(z.string(), z.string().min(1))),
  DISPATCH_SHARDS: envShardCount,
  SEND_RATE_SHARE: z.coerce.number().gt(0).max(1).default(0.9),
  MAX_SENDS_PER_SECOND: z
    .string()
    .optional()
    .transform((text) => (text === undefined || text === '' ? undefined : Number(text)))
    .pipe(z.number().positive().optional()),
});
const db = createDocumentClient();
const touchpoints = new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, db);
/** Reads the due index after each run for the backlog metrics (the SendBacklog alarm reads OldestDueAgeSeconds). */
const operations = new DynamoDbTouchpointOperations(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, db);
const workflows = new StepFunctionsWorkflowStarter(env.WORKFLOW_ARNS);
const quota = sesSendQuota(createSesClient());
const logger = createLogger('dispatch-due');
const metrics = createMetrics();

/**
 * Starts stop this long before the function's timeout (the backlog measure and the last starts' answers fit in it), and
 * at most 57 s after the run began: the next run is due at the next minute, and two runs sending at once would each
 * spend the whole budget.
 */
const MARGIN_MS = 5_000;
const MAX_WINDOW_MS = 57_000;
/** Due-index rows the backlog measure reads per shard at most (about a second of reads, in parallel over the shards). */
const BACKLOG_ROWS_PER_SHARD = 10_000;

const scheduledInvocation = z.object({ scheduledTime: z.iso.datetime({ offset: true }) });

/** Started every minute by EventBridge Scheduler with `{ "scheduledTime": "<aws.scheduler.scheduled-time>" }`. */
export const handler = async (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const parsed = scheduledInvocation.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`dispatch input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  const { maxSendRate } = await quota();
  const perSecond = sendRateBudget({ maxSendRate, share: env.SEND_RATE_SHARE, ...(env.MAX_SENDS_PER_SECOND ? { cap: env.MAX_SENDS_PER_SECOND } : {}) });
  const remaining = context?.getRemainingTimeInMillis?.() ?? MAX_WINDOW_MS + MARGIN_MS;
  const pacer = new RatePacer({ perSecond, windowMs: Math.max(0, Math.min(MAX_WINDOW_MS, remaining - MARGIN_MS)) });
  const { failures, backlog, ...result } = await dispatchDueTouchpoints(parsed.data.scheduledTime, {
    touchpoints,
    workflows,
    shards: env.DISPATCH_SHARDS,
    pacer,
    // After the sends, in the run's last seconds: bounded (the age of the oldest is exact, a count above the bound is a
    // lower bound), and a failure to measure loses one minute's datapoint, never the run that already dispatched.
    backlog: async (now) => {
      try {
        return await measureBacklog(now, { operations, maxRowsPerShard: BACKLOG_ROWS_PER_SHARD });
      } catch (error) {
        logger.warn('the send backlog was not measured this run', { error: error instanceof Error ? error.name : String(error) });
        return undefined;
      }
    },
  });
  for (const failure of failures) logger.error('dispatch failed; the lease will retry it', failure);
  if (backlog) {
    metrics.addMetric(METRIC.dispatchBacklog, MetricUnit.Count, backlog.due);
    metrics.addMetric(METRIC.oldestDueAge, MetricUnit.Seconds, backlog.oldestDueAgeSeconds);
    metrics.publishStoredMetrics();
  }
  const summary = { ...result, sendsPerSecond: perSecond, ...(backlog ? { backlog: backlog.due, oldestDueAgeSeconds: backlog.oldestDueAgeSeconds } : {}) };
  if (result.started + result.redispatched + result.resent + result.unconfirmed + result.failed + result.errors > 0) logger.info('dispatched', summary);
  return summary;
};
