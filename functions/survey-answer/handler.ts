import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DynamoDbCampaignCatalog } from '../../adapters/dynamodb-campaigns.ts';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbMetricsCounters } from '../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../adapters/dynamodb-pending.ts';
import { systemClock } from '../../core/metrics/counters.ts';
import { DynamoDbSurveyAggregates, DynamoDbSurveyResponses } from '../../adapters/dynamodb-responses.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envCacheSeconds, envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { EventBridgePublisher } from '../../adapters/eventbridge-publisher.ts';
import { createLogger } from '../../adapters/logger.ts';
import { createMetrics, METRIC, publishCounts } from '../../adapters/metrics.ts';
import { secretsManagerSigningKey } from '../../adapters/secrets-signing-key.ts';
import { localeFromAcceptLanguage } from '../../core/surveys/pages.ts';
import { TABLES } from '../../core/topology.ts';
import { keyringFromSecret } from '../../core/surveys/tokens.ts';
import { answerSurvey } from '../../core/use-cases/answer-survey.ts';

const env = parseEnv({
  TOUCHPOINTS_TABLE: envString,
  CAMPAIGNS_TABLE: envString,
  CAMPAIGN_CACHE_SECONDS: envCacheSeconds,
  RESPONSES_TABLE: envString,
  SURVEY_AGGREGATES_TABLE: envString,
  SURVEY_KEYRING_SECRET_ARN: envString,
  EVENT_BUS_NAME: envString,
  DISPATCH_SHARDS: envShardCount,
  METRICS_TABLE: envString,
});
const db = createDocumentClient();
const deps = {
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, db),
  campaigns: new DynamoDbCampaignCatalog(env.CAMPAIGNS_TABLE, db, env.CAMPAIGN_CACHE_SECONDS * 1000),
  responses: new DynamoDbSurveyResponses(env.RESPONSES_TABLE, db),
  aggregates: new DynamoDbSurveyAggregates(env.SURVEY_AGGREGATES_TABLE, db),
  // First answers: the response rate's numerator.
  metrics: {
    pending: new DynamoDbPendingCounts(env.RESPONSES_TABLE, TABLES.responses.partitionKey, db),
    counters: new DynamoDbMetricsCounters(env.METRICS_TABLE, db),
    // The lease runs in real time, longer than this function's timeout.
    clock: systemClock,
    lease: 'PT1M',
  },
  events: new EventBridgePublisher(env.EVENT_BUS_NAME),
  keyring: keyringFromSecret(secretsManagerSigningKey(env.SURVEY_KEYRING_SECRET_ARN)),
};
const logger = createLogger('survey-answer');
const metrics = createMetrics();

/** The form body of a POST: urlencoded, base64-encoded by API Gateway when it is not text it recognises. */
function formOf(event: APIGatewayProxyEventV2): URLSearchParams {
  const body = event.body ?? '';
  return new URLSearchParams(event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body);
}

/** GET /survey shows the chosen score and a submit button; POST /survey records it (see core/use-cases/answer-survey.ts). */
export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const method = event.requestContext.http.method === 'POST' ? 'POST' : 'GET';
  const result = await answerSurvey(
    {
      method,
      params: method === 'POST' ? formOf(event) : new URLSearchParams(event.rawQueryString ?? ''),
      locale: localeFromAcceptLanguage(event.headers?.['accept-language']),
      now: new Date(event.requestContext.timeEpoch).toISOString(),
    },
    deps,
  );
  // Ids and the outcome only: never the score's customer, comment or address.
  logger.info('survey link', { method, outcome: result.outcome, ...(result.surveyId ? { surveyId: result.surveyId } : {}) });
  if (result.outcome === 'recorded' || result.outcome === 'changed') publishCounts(metrics, { [METRIC.surveyAnswers]: 1 });
  return {
    statusCode: result.page.status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    },
    body: result.page.html,
  };
};
