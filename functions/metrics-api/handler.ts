import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbMetricsReader } from '../../adapters/dynamodb-metrics.ts';
import { envString, parseEnv } from '../../adapters/env.ts';
import { createLogger } from '../../adapters/logger.ts';
import { targetsFileSchema, type TargetsConfig } from '../../core/metrics/targets.ts';
import { createMetricsApi } from './api.ts';
import { cachedSecretToken } from './bearer-token.ts';
import { renderDashboardPage } from './page.ts';

/** METRIC_TARGETS: metrics/targets.yaml as parsed at synth (lib/constructs/outreach-runtime.ts), as JSON. */
const envTargets = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON (the parsed metrics/targets.yaml)' });
      return z.NEVER;
    }
  })
  .pipe(targetsFileSchema)
  .transform((targets) => targets as TargetsConfig);

const env = parseEnv({
  METRICS_TABLE: envString,
  SURVEY_AGGREGATES_TABLE: envString,
  METRICS_TOKEN_SECRET_ARN: envString,
  METRIC_TARGETS: envTargets,
});
const logger = createLogger('metrics-api');
const api = createMetricsApi({
  reader: new DynamoDbMetricsReader(env.METRICS_TABLE, env.SURVEY_AGGREGATES_TABLE, createDocumentClient()),
  targets: env.METRIC_TARGETS,
  token: cachedSecretToken(env.METRICS_TOKEN_SECRET_ARN),
  page: renderDashboardPage,
  log: logger,
});

/** GET /metrics → the metrics view as JSON (bearer token); GET /dashboard → the page that charts it. */
export const handler = (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => api(event);
