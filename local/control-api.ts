/**
 * The local control API, under /_local/ on the gateway: the clock, and what happened (executions, dead letters,
 * events, mail). `local/cli.ts` (`npm run local -- …`) is a thin client of it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ControlRoute } from './aws-gateway.ts';
import type { LocalEventBus } from './event-bus.ts';
import { readBody, sendJson } from './http.ts';
import type { LocalStack } from './stack.ts';

export function createControlApi(stack: () => LocalStack, bus: LocalEventBus): ControlRoute {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    const s = stack();
    switch (route) {
      case 'GET /_local':
        sendJson(res, 200, {
          endpoints: s.endpoints,
          routes: [
            'GET  /_local/clock',
            'POST /_local/clock/advance {"by":"P3D"}',
            'GET  /_local/executions[?status=FAILED]',
            'GET  /_local/dead-letters',
            'GET  /_local/events',
            'GET  /_local/mailbox',
            'GET  /_local/summary',
            'GET  /_local/env',
          ],
        });
        return true;
      case 'GET /_local/clock':
        sendJson(res, 200, s.clock.describe());
        return true;
      case 'POST /_local/clock/advance': {
        let by: unknown;
        try {
          by = (JSON.parse((await readBody(req)).toString('utf8') || '{}') as { by?: unknown }).by;
        } catch {
          sendJson(res, 400, { message: 'body must be JSON: {"by":"P3D"}' });
          return true;
        }
        if (typeof by !== 'string') {
          sendJson(res, 400, { message: 'body must name an ISO-8601 duration: {"by":"P3D"}' });
          return true;
        }
        try {
          sendJson(res, 200, await s.advance(by));
        } catch (error) {
          sendJson(res, 400, { message: (error as Error).message });
        }
        return true;
      }
      case 'GET /_local/executions': {
        const status = url.searchParams.get('status');
        sendJson(res, 200, s.executions().filter((e) => !status || e.status === status).reverse());
        return true;
      }
      case 'GET /_local/dead-letters':
        sendJson(res, 200, s.deadLetters());
        return true;
      case 'GET /_local/events':
        sendJson(res, 200, [...bus.history].reverse());
        return true;
      case 'GET /_local/mailbox':
        sendJson(res, 200, (await s.mailbox()).map(({ header: _header, ...email }) => email));
        return true;
      case 'GET /_local/env':
        // OUTREACH_CLOCK_URL: the CLI's "now" is this stack's clock (cli/clock.ts).
        sendJson(res, 200, { ...cliEnvironment(s.env), OUTREACH_CLOCK_URL: `${s.endpoints.control}/clock` });
        return true;
      case 'GET /_local/summary':
        sendJson(res, 200, await s.summary());
        return true;
      default:
        return false;
    }
  };
}

/** Variables the product's CLIs need to reach this stack (`eval "$(npm run -s local -- env)"`); no secret values. */
export const CLI_ENV_KEYS = [
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SESV2',
  'AWS_ENDPOINT_URL_EVENTBRIDGE',
  // `aws secretsmanager get-secret-value --secret-id outreach/metrics-api-token`, as in AWS (docs/metrics.md).
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'CUSTOMERS_TABLE',
  'TOUCHPOINTS_TABLE',
  'CAMPAIGNS_TABLE',
  'CONTRACTS_TABLE',
  'RESPONSES_TABLE',
  'SURVEY_AGGREGATES_TABLE',
  'METRICS_TABLE',
  'DISPATCH_SHARDS',
  'SENDER_ADDRESS',
  'EVENT_BUS_NAME',
] as const;

export function cliEnvironment(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(CLI_ENV_KEYS.filter((key) => env[key] !== undefined).map((key) => [key, env[key]!]));
}
