import { z } from 'zod';
import { createMetrics, METRIC, publishCounts } from '../../adapters/metrics.ts';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbCustomerRepository } from '../../adapters/dynamodb-customers.ts';
import { DynamoDbSurveyResponses } from '../../adapters/dynamodb-responses.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envString, parseEnv } from '../../adapters/env.ts';
import { describeIssues, InvalidInputError } from '../../core/errors.ts';
import { surveyAnsweredDetailSchema } from '../../core/surveys/events.ts';
import { DEFAULT_DISPATCH_SHARDS } from '../../core/topology.ts';
import { buildDetractorAlert } from '../../core/use-cases/build-detractor-alert.ts';

const env = parseEnv({
  CUSTOMERS_TABLE: envString,
  TOUCHPOINTS_TABLE: envString,
  RESPONSES_TABLE: envString,
  SENDER_ADDRESS: z.string().min(3),
  SES_CONFIGURATION_SET: envString,
  CX_ADDRESS: z
    .string()
    .trim()
    .refine((value) => value === '' || value.includes('@'), 'must be an email address, or empty for none')
    .default(''),
});
const db = createDocumentClient();
const deps = {
  responses: new DynamoDbSurveyResponses(env.RESPONSES_TABLE, db),
  customers: new DynamoDbCustomerRepository(env.CUSTOMERS_TABLE, db),
  // Reads only (get by id): the shard count matters to the due index, which this function never touches.
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, DEFAULT_DISPATCH_SHARDS, db),
  senderAddress: env.SENDER_ADDRESS,
  configurationSet: env.SES_CONFIGURATION_SET,
  cxAddress: env.CX_ADDRESS,
};
const metrics = createMetrics();

/** Workflow task (close-the-loop): the Survey Answered event's detail in, the detractor alert (or why none) out. */
export const handler = async (event: unknown) => {
  const parsed = surveyAnsweredDetailSchema.safeParse(event);
  if (!parsed.success) throw new InvalidInputError(`Survey Answered detail is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  const decision = await buildDetractorAlert(parsed.data, deps);
  if (decision.alert) publishCounts(metrics, { [METRIC.detractorAlerts]: 1 });
  return decision;
};
