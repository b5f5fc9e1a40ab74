import { z } from 'zod';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger } from '../../adapters/logger.ts';
import { StepFunctionsWorkflowStarter } from '../../adapters/sfn-workflow-starter.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { dispatchDueTouchpoints } from '../../core/use-cases/dispatch-due-touchpoints.ts';

const env = parseEnv({
  TOUCHPOINTS_TABLE: envString,
  WORKFLOW_ARNS: z
    .string()
    .transform((text) => JSON.parse(text) as unknown)
    .pipe(z.record(z.string(), z.string().min(1))),
  DISPATCH_SHARDS: envShardCount,
});
const deps = {
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, createDocumentClient()),
  workflows: new StepFunctionsWorkflowStarter(env.WORKFLOW_ARNS),
  shards: env.DISPATCH_SHARDS,
};
const logger = createLogger('dispatch-due');

const scheduledInvocation = z.object({ scheduledTime: z.iso.datetime({ offset: true }) });

/** Started every minute by EventBridge Scheduler with `{ "scheduledTime": "<aws.scheduler.scheduled-time>" }`. */
export const handler = async (event: unknown) => {
  const parsed = scheduledInvocation.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`dispatch input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  const { failures, ...result } = await dispatchDueTouchpoints(parsed.data.scheduledTime, deps);
  for (const failure of failures) logger.error('dispatch failed; the lease will retry it', failure);
  if (result.started + result.abandoned + result.errors > 0) logger.info('dispatched', { ...result });
  return result;
};
