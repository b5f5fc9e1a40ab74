/**
 * The handler module as Lambda loads it: its environment (METRIC_TARGETS is the parsed targets file, checked by zod
 * when the module loads), the secret it reads the token from, and the tables it queries.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TARGETS, TODAY } from './support.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:MetricsApiToken-AbCdEf';
const TOKEN = 'token-from-secrets-manager';
const secrets = mockClient(SecretsManagerClient);
const db = mockClient(DynamoDBDocumentClient);

const ENV = {
  METRICS_TABLE: 'metrics-table',
  SURVEY_AGGREGATES_TABLE: 'aggregates-table',
  METRICS_TOKEN_SECRET_ARN: SECRET_ARN,
  METRIC_TARGETS: JSON.stringify(TARGETS),
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

async function loadHandler(env: Record<string, string> = ENV) {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return (await import('../../../functions/metrics-api/handler.ts')).handler;
}

const request = (headers: Record<string, string>): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: 'GET /metrics',
    rawPath: '/metrics',
    rawQueryString: 'days=7',
    headers,
    queryStringParameters: { days: '7' },
    requestContext: { http: { method: 'GET', path: '/metrics' }, routeKey: 'GET /metrics', timeEpoch: Date.parse(`${TODAY}T12:00:00Z`) },
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEventV2;

beforeEach(() => {
  secrets.reset();
  db.reset();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: TOKEN });
  db.on(QueryCommand).resolves({ Items: [] });
});
afterEach(() => vi.unstubAllEnvs());

describe('metrics-api handler', () => {
  it('reads the token from the secret it is given and the records from the tables it is given', async () => {
    const handler = await loadHandler();

    const refused = (await handler(request({ authorization: 'Bearer guess' }))) as APIGatewayProxyStructuredResultV2;
    const answered = (await handler(request({ authorization: `Bearer ${TOKEN}` }))) as APIGatewayProxyStructuredResultV2;

    expect(refused.statusCode).toBe(401);
    expect(answered.statusCode).toBe(200);
    expect(JSON.parse(String(answered.body)).result.period).toEqual({ from: '2031-05-27', to: TODAY, days: 7 });
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
    // Cached: one read for both requests.
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    const tables = db.commandCalls(QueryCommand).map((call) => call.args[0].input.TableName);
    expect(new Set(tables)).toEqual(new Set(['metrics-table']));
    expect(db.commandCalls(QueryCommand).length).toBeGreaterThan(0);
  });

  it.each([
    ['not JSON', '{targets:', 'METRIC_TARGETS: must be JSON (the parsed metrics/targets.yaml)'],
    ['a target out of range', JSON.stringify({ targets: { csat: { comparator: '>=', value: 180 } } }), 'METRIC_TARGETS.targets.csat.value'],
    ['missing', '', 'METRIC_TARGETS'],
  ])('refuses to load with METRIC_TARGETS %s', async (_, value, message) => {
    await expect(loadHandler({ ...ENV, METRIC_TARGETS: value })).rejects.toThrow(message);
  });

  it('refuses to load without the token secret', async () => {
    await expect(loadHandler({ ...ENV, METRICS_TOKEN_SECRET_ARN: '' })).rejects.toThrow('METRICS_TOKEN_SECRET_ARN: must be set');
  });
});
