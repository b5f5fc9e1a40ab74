/**
 * The metrics API with in-memory ports: the bearer token (401 without it or with a wrong one, the same answer both
 * times, before anything else is looked at), the query (400 naming the parameter), the figures (equal to readMetrics
 * over the same records, and the known ones), and the dashboard page (its CSP allows exactly its inline blocks, and it
 * loads nothing from elsewhere).
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readMetrics } from '../../../core/metrics/read-metrics.ts';
import { formatValue } from '../../../core/metrics/report.ts';
import { createMetricsApi, displayRows, type MetricsResponse } from '../../../functions/metrics-api/api.ts';
import { CHARTS, renderDashboardPage } from '../../../functions/metrics-api/page.ts';
import { CSAT_CAMPAIGN, InMemoryMetricsReader, TARGETS, TODAY } from './support.ts';

const TOKEN = 'a-very-long-random-token-0123456789abcdefghijkl';

function event(routeKey: 'GET /metrics' | 'GET /dashboard' | 'GET /other', options: { query?: Record<string, string>; headers?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const path = routeKey.slice(4);
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: options.headers ?? {},
    ...(options.query ? { queryStringParameters: options.query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'r',
      routeKey,
      stage: '$default',
      time: '02/Jun/2031:10:00:00 +0000',
      timeEpoch: Date.parse(`${TODAY}T10:00:00.000Z`),
    },
    isBase64Encoded: false,
  };
}

function setup() {
  const reader = new InMemoryMetricsReader();
  let tokenReads = 0;
  let pageBuilds = 0;
  const api = createMetricsApi({
    reader,
    targets: TARGETS,
    token: async () => {
      tokenReads += 1;
      return TOKEN;
    },
    page: () => {
      pageBuilds += 1;
      return renderDashboardPage();
    },
  });
  return { api, reader, counts: () => ({ tokenReads, pageBuilds }) };
}

const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
const bodyOf = <T>(response: APIGatewayProxyStructuredResultV2) => JSON.parse(String(response.body)) as T;

describe('GET /metrics: the token', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', bearer('a-very-long-random-token-0123456789abcdefghijkX')],
    ['a prefix of the token', bearer(TOKEN.slice(0, -1))],
    ['the token with another scheme', { authorization: `Basic ${TOKEN}` }],
    ['an empty bearer token', { authorization: 'Bearer ' }],
  ])('answers 401 to %s, reading no record and saying nothing about why', async (_, headers) => {
    const { api, reader } = setup();

    const response = await api(event('GET /metrics', { headers, query: { from: 'not-a-date' } }));

    expect(response.statusCode).toBe(401);
    expect(response.headers).toMatchObject({ 'www-authenticate': 'Bearer', 'cache-control': 'no-store' });
    expect(bodyOf(response)).toEqual({ error: 'unauthorized: send Authorization: Bearer <token>' });
    expect(reader.calls).toBe(0);
  });

  it('accepts the scheme in any case and a header name in any case', async () => {
    const { api } = setup();
    const response = await api(event('GET /metrics', { headers: { Authorization: `bearer ${TOKEN}` } }));
    expect(response.statusCode).toBe(200);
  });
});

describe('GET /metrics: the query', () => {
  it.each([
    [{ from: '2031-02-30' }, 'from: "2031-02-30" is not a calendar date (YYYY-MM-DD)'],
    [{ to: 'yesterday' }, 'to: "yesterday" is not a calendar date (YYYY-MM-DD)'],
    [{ days: '0' }, 'days: "0" is not a whole number of days from 1 to 3700'],
    [{ days: '7.5' }, 'days: "7.5" is not a whole number of days from 1 to 3700'],
    [{ from: '2031-01-01', to: '2031-01-31', days: '31' }, 'days: counts back from to, so it cannot be given with from'],
    [{ campaign: 'Not A Campaign' }, 'campaign: "Not A Campaign" is not a campaign id'],
    [{ granularity: 'week' }, 'granularity: is not a parameter (expected from, to, days, campaign)'],
    [{ from: '2031-06-10', to: '2031-06-01' }, 'to: "2031-06-01" is before from "2031-06-10"'],
    [{ from: '2001-01-01' }, 'the range has 11110 days; at most 3700'],
  ])('answers 400 to %o, naming what to fix', async (query, message) => {
    const { api } = setup();

    const response = await api(event('GET /metrics', { headers: bearer(), query }));

    expect(response.statusCode).toBe(400);
    expect(response.headers?.['content-type']).toBe('application/json; charset=utf-8');
    expect(bodyOf<{ error: string }>(response).error).toContain(message);
  });
});

describe('GET /metrics: the figures', () => {
  it('defaults to the last 90 days up to today (UTC), with the figures readMetrics computes from the same records', async () => {
    const { api, reader } = setup();

    const response = await api(event('GET /metrics', { headers: bearer() }));

    expect(response.statusCode).toBe(200);
    const body = bodyOf<MetricsResponse>(response);
    const expected = await readMetrics({ from: '2031-03-05', to: TODAY, asOf: TODAY }, { reader, targets: TARGETS });
    expect(body).toEqual(JSON.parse(JSON.stringify({ ...expected, table: displayRows(expected.report) })));
    expect(body.result.period).toEqual({ from: '2031-03-05', to: TODAY, days: 90 });
  });

  it('reports the known figures: NPS 40 up from −100, CSAT and renewal off target, repeat purchase provisional', async () => {
    const { api } = setup();

    const body = bodyOf<MetricsResponse>(await api(event('GET /metrics', { headers: bearer() })));

    const row = (metric: string) => body.report.find((r) => r.metric === metric)!;
    expect(row('nps')).toMatchObject({ current: 40, count: 5, previous: -100, direction: 'up', status: 'on-target' });
    expect(row('csat')).toMatchObject({ current: 50, count: 4, status: 'off-target' });
    expect(row('ces')).toMatchObject({ current: 5.5, count: 2, status: 'on-target' });
    expect(row('responseRate')).toMatchObject({ count: 27, status: 'on-target' });
    expect(row('responseRate').current).toBeCloseTo((11 / 27) * 100, 10);
    expect(row('renewalRate').current).toBeCloseTo((4 / 7) * 100, 10);
    expect(row('churnRate')).toMatchObject({ status: 'off-target' });
    expect(row('retentionPromoter')).toMatchObject({ current: 100, count: 3, status: 'no-target' });
    expect(row('repeatPurchaseRate')).toMatchObject({ current: 25, provisional: true, status: 'on-target' });
    expect(body.table.find((r) => r.metric === 'repeatPurchaseRate')).toMatchObject({ current: '25.0 %*', target: '≥ 25 %', status: 'on target' });
    expect(body.table.find((r) => r.metric === 'renewalRate')).toMatchObject({ current: formatValue('renewalRate', (4 / 7) * 100), status: 'OFF TARGET' });
  });

  it('takes `days` up to today or up to `to`; and a campaign, whose report has the survey metrics only', async () => {
    const { api, reader } = setup();

    const last30 = bodyOf<MetricsResponse>(await api(event('GET /metrics', { headers: bearer(), query: { days: '30' } })));
    const toDays = bodyOf<MetricsResponse>(await api(event('GET /metrics', { headers: bearer(), query: { to: '2031-05-10', days: '10' } })));
    const campaign = bodyOf<MetricsResponse>(await api(event('GET /metrics', { headers: bearer(), query: { days: '30', campaign: CSAT_CAMPAIGN } })));

    expect(last30.result.period).toEqual({ from: '2031-05-04', to: TODAY, days: 30 });
    expect(last30.report.find((r) => r.metric === 'ces')).toMatchObject({ count: 0, status: 'no-data' });
    expect(toDays.result.period).toEqual({ from: '2031-05-01', to: '2031-05-10', days: 10 });
    const expected = await readMetrics({ from: '2031-05-04', to: TODAY, campaignId: CSAT_CAMPAIGN, asOf: TODAY }, { reader, targets: TARGETS });
    expect(campaign).toEqual(JSON.parse(JSON.stringify({ ...expected, table: displayRows(expected.report) })));
    expect(campaign.report.map((r) => r.metric)).toEqual(['nps', 'csat', 'ces', 'responseRate']);
    expect(Object.keys(campaign.result.campaigns)).toEqual([CSAT_CAMPAIGN]);
    expect(campaign.report.find((r) => r.metric === 'responseRate')).toMatchObject({ current: 50, count: 8 });
  });

  it('gzips the JSON for clients that accept it', async () => {
    const { api } = setup();

    const plain = await api(event('GET /metrics', { headers: bearer(), query: { days: '365' } }));
    const zipped = await api(event('GET /metrics', { headers: { ...bearer(), 'accept-encoding': 'gzip' }, query: { days: '365' } }));

    expect(plain.headers?.['content-encoding']).toBeUndefined();
    expect(zipped).toMatchObject({ statusCode: 200, isBase64Encoded: true, headers: { 'content-encoding': 'gzip', vary: 'accept-encoding', 'content-type': 'application/json; charset=utf-8' } });
    const unzipped = gunzipSync(Buffer.from(String(zipped.body), 'base64'));
    expect(unzipped.toString('utf8')).toBe(plain.body);
    expect(unzipped.length / Buffer.from(String(zipped.body), 'base64').length).toBeGreaterThan(10);
  });

  it('answers 404 to a route it does not serve, and never reads the token for the page', async () => {
    const { api, counts } = setup();
    expect((await api(event('GET /other'))).statusCode).toBe(404);
    expect((await api(event('GET /dashboard'))).statusCode).toBe(200);
    expect(counts().tokenReads).toBe(0);
  });
});

describe('GET /dashboard', () => {
  const scripts = (html: string) => [...html.matchAll(/<script(?<attributes>[^>]*)>(?<body>[\s\S]*?)<\/script>/g)].map((m) => m.groups!);
  const styles = (html: string) => [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
  const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

  it('is a self-contained page whose CSP allows exactly its inline script and style blocks, and same-origin fetches', async () => {
    const { api } = setup();

    const response = await api(event('GET /dashboard'));

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
    const html = String(response.body);
    const csp = String(response.headers!['content-security-policy']);
    const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    const executable = scripts(html).filter((s) => !/type="application\/json"/.test(s.attributes!));
    expect(executable).toHaveLength(2);
    expect(executable.every((s) => s.attributes === '')).toBe(true);
    expect(directives['script-src']!.sort()).toEqual(executable.map((s) => hash(s.body!)).sort());
    expect(directives['style-src']).toEqual(styles(html).map(hash));
    expect(directives).toMatchObject({
      'default-src': ["'none'"],
      'connect-src': ["'self'"],
      'base-uri': ["'none'"],
      'form-action': ["'none'"],
      'frame-ancestors': ["'none'"],
    });
    expect(csp).not.toMatch(/https?:|\*|'unsafe-|data:/);
  });

  it('loads nothing from another origin: no src, href, url() or @import, no absolute URL but the license banners', async () => {
    const html = String((await setup().api(event('GET /dashboard'))).body);
    // The markup and styles without the inline scripts' bodies (chart.js mentions toDataURL( and the like).
    const markup = html.replace(/(<script[^>]*>)[\s\S]*?(<\/script>)/g, '$1$2');

    expect(markup.match(/\s(src|href|action|poster|srcset)\s*=/gi)).toBeNull();
    expect(markup.match(/url\(|@import/gi)).toBeNull();
    expect(markup.match(/<(link|iframe|img|object|embed|base)\b/gi)).toBeNull();
    // Comments of chart.js's MIT license banners, which must stay; nothing else names another origin.
    expect(html.match(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`)]+/gi)).toEqual(['https://www.chartjs.org', 'https://github.com/kurkle/color#readme']);
    expect(html.includes('sourceMappingURL'), 'no source map reference').toBe(false);
    expect(html.includes('Chart.js v4.6.1') && html.includes('Released under the MIT License'), 'chart.js inlined with its license').toBe(true);
    for (const chart of CHARTS) expect(markup).toContain(`<canvas id="chart-${chart.id}" data-chart="${chart.id}"`);
    expect(html.includes(TOKEN), 'no token in the page').toBe(false);
  });

  it('is gzipped for clients that accept it, built once per container', async () => {
    const { api, counts } = setup();

    const plain = await api(event('GET /dashboard'));
    const zipped = await api(event('GET /dashboard', { headers: { 'accept-encoding': 'gzip, deflate, br' } }));

    expect(zipped).toMatchObject({ isBase64Encoded: true, headers: { 'content-encoding': 'gzip', vary: 'accept-encoding' } });
    expect(gunzipSync(Buffer.from(String(zipped.body), 'base64')).toString('utf8')).toBe(plain.body);
    expect(Buffer.from(String(zipped.body), 'base64').length).toBeLessThan(String(plain.body).length / 2);
    expect(counts().pageBuilds).toBe(1);
  });
});
