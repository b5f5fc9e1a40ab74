import { randomUUID } from 'node:crypto';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger } from '../../adapters/logger.ts';
import { SesEmailSender } from '../../adapters/ses-email-sender.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { sendRequestSchema, sendTouchpointEmail } from '../../core/use-cases/send-touchpoint-email.ts';

const env = parseEnv({
  TOUCHPOINTS_TABLE: envString,
  DISPATCH_SHARDS: envShardCount,
});
const deps = {
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, createDocumentClient()),
  sender: new SesEmailSender(),
  newAttemptToken: () => randomUUID().slice(0, 8),
};
const logger = createLogger('send-email');

/** Workflow task: claim the touchpoint for one send attempt, call SES once, say what the call came to. */
export const handler = async (event: unknown) => {
  const parsed = sendRequestSchema.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`send input is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  const outcome = await sendTouchpointEmail(parsed.data, deps);
  if (outcome.result !== 'SENT') logger.warn('send not completed', { touchpointId: parsed.data.touchpointId, result: outcome.result, ...('error' in outcome ? { error: outcome.error.Error } : {}) });
  return outcome;
};
