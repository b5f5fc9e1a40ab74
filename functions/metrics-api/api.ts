/**
 * The two read-only routes of the metrics: GET /metrics (JSON, bearer token) and GET /dashboard (the page). Built from
 * ports so the unit tests run it with fakes; handler.ts wires the AWS adapters.
 */
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { InvalidInputError } from '../../core/errors.ts';
import { readMetrics, type MetricsReader, type MetricsView } from '../../core/metrics/read-metrics.ts';
import { STATUS_TEXT, formatTarget, formatTrend, formatValue, type ReportRow } from '../../core/metrics/report.ts';
import type { TargetsConfig } from '../../core/metrics/targets.ts';
import { bearerTokenOf, sameToken, type TokenSource } from './bearer-token.ts';
import type { DashboardPage } from './page.ts';
import { parseMetricsQuery } from './query.ts';

export interface MetricsApiDeps {
  reader: MetricsReader;
  targets: TargetsConfig;
  token: TokenSource;
  /** Built once, on the first GET /dashboard. */
  page: () => DashboardPage;
  log?: { info(message: string, extra: Record<string, unknown>): void; warn(message: string, extra: Record<string, unknown>): void };
}

/** The report's cells as the CLI's table writes them (core/metrics/report.ts), so both show the same text. */
export interface DisplayRow {
  metric: ReportRow['metric'];
  label: string;
  target: string;
  current: string;
  trend: string;
  status: string;
}

/** The body of a 200 from GET /metrics. */
export interface MetricsResponse extends MetricsView {
  table: DisplayRow[];
}

export function displayRows(report: readonly ReportRow[]): DisplayRow[] {
  return report.map((row) => ({
    metric: row.metric,
    label: row.label,
    target: formatTarget(row.metric, row.target),
    current: `${formatValue(row.metric, row.current)}${row.provisional && row.current !== undefined ? '*' : ''}`,
    trend: formatTrend(row),
    status: STATUS_TEXT[row.status],
  }));
}

const COMMON_HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', ...COMMON_HEADERS, ...headers },
  body: JSON.stringify(body),
});

/** The same answer for a missing and a wrong token: nothing tells which it was. */
const UNAUTHORIZED = () => json(401, { error: 'unauthorized: send Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer' });

const acceptsGzip = (event: APIGatewayProxyEventV2) => /\bgzip\b/i.test(event.headers?.['accept-encoding'] ?? '');

/**
 * A long range's series (every day, week and month, overall and per campaign) make megabytes of JSON, and Lambda
 * answers at most 6 MB: gzipped they are about a tenth of that.
 */
function compressed(event: APIGatewayProxyEventV2, response: APIGatewayProxyStructuredResultV2): APIGatewayProxyStructuredResultV2 {
  const body = String(response.body ?? '');
  const headers = { ...response.headers, vary: 'accept-encoding' };
  if (!acceptsGzip(event) || body.length < 1024) return { ...response, headers };
  return { ...response, headers: { ...headers, 'content-encoding': 'gzip' }, body: gzipSync(body).toString('base64'), isBase64Encoded: true };
}

export function createMetricsApi(deps: MetricsApiDeps) {
  let page: { html: string; gzipped: string; csp: string } | undefined;
  const dashboardPage = () => {
    if (!page) {
      const built = deps.page();
      page = { html: built.html, gzipped: gzipSync(built.html).toString('base64'), csp: built.contentSecurityPolicy };
    }
    return page;
  };

  const dashboard = (event: APIGatewayProxyEventV2): APIGatewayProxyStructuredResultV2 => {
    const { html, gzipped, csp } = dashboardPage();
    const headers = {
      'content-type': 'text/html; charset=utf-8',
      ...COMMON_HEADERS,
      'cache-control': 'no-cache',
      'content-security-policy': csp,
      'x-frame-options': 'DENY',
      vary: 'accept-encoding',
    };
    // About 70 KB instead of 220 KB: chart.js is most of the page.
    if (acceptsGzip(event)) return { statusCode: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: gzipped, isBase64Encoded: true };
    return { statusCode: 200, headers, body: html };
  };

  const metrics = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const presented = bearerTokenOf(event.headers);
    // The secret is read even without a token, so both refusals take the same path and time.
    const expected = await deps.token();
    if (presented === undefined || !sameToken(presented, expected)) {
      deps.log?.warn('metrics request refused', { reason: presented === undefined ? 'no bearer token' : 'wrong token' });
      return UNAUTHORIZED();
    }
    const today = new Date(event.requestContext.timeEpoch).toISOString().slice(0, 10);
    try {
      const query = parseMetricsQuery(event.queryStringParameters, today);
      const view = await readMetrics({ ...query, asOf: today }, { reader: deps.reader, targets: deps.targets });
      deps.log?.info('metrics read', { from: query.from, to: query.to, ...(query.campaignId ? { campaignId: query.campaignId } : {}) });
      const body: MetricsResponse = { ...view, table: displayRows(view.report) };
      return compressed(event, json(200, body));
    } catch (error) {
      if (error instanceof InvalidInputError) return json(400, { error: error.message });
      throw error;
    }
  };

  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    // The route API Gateway matched (HTTP_ROUTES in core/topology.ts), whatever prefix a custom domain adds.
    if (event.routeKey === 'GET /dashboard') return dashboard(event);
    if (event.routeKey === 'GET /metrics') return metrics(event);
    return json(404, { error: `no route ${event.routeKey}` });
  };
}
