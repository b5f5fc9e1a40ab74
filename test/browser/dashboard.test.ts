/**
 * The metrics dashboard in a real browser (Debian's Chromium, driven by playwright-core) against the embedded stack:
 * records with known figures are written through the adapters, the dashboard opens with the token in its fragment,
 * and what it shows is compared with what GET /metrics answers for the same range — every chart's drawn data with the
 * API's series, every table row with the API's report — while the page loads nothing from elsewhere and breaks no
 * rule of its Content-Security-Policy.
 *
 * Needs /usr/bin/chromium (OUTREACH_CHROMIUM points at another binary). Without one the suite is skipped with a
 * warning, except under CI, where it fails: .ci/run installs chromium before `npm test`.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbMetricsReader } from '../../adapters/dynamodb-metrics.ts';
import { loadTargetsFile } from '../../core/metrics/targets.ts';
import { readMetrics } from '../../core/metrics/read-metrics.ts';
import { METRICS, type Granularity, type MetricValue, type SeriesPoint } from '../../core/metrics/compute.ts';
import type { MetricsResponse } from '../../functions/metrics-api/api.ts';
import { CHARTS } from '../../functions/metrics-api/page.ts';
import { startE2eStack, type E2eStack } from '../e2e/support.ts';
import { RUN_BROWSER_TESTS, browserSuite, launchChromium } from './chromium.ts';
import { CSAT_CAMPAIGN, TODAY, writeRecords } from '../unit/metrics-api/support.ts';

// The browser globals the page.evaluate callbacks use (they run in the page; tsconfig has no DOM lib).
interface PageElement {
  className: string;
  innerText: string;
  children: ArrayLike<PageElement>;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
}
/** A chart.js Chart, as far as the test reads it. */
interface PageChart {
  data: { labels: string[]; datasets: Array<{ label: string; data: Array<number | null> }> };
  getDatasetMeta(index: number): { data: Array<{ skip: boolean; x: number; y: number }> };
}
declare const window: Record<string, unknown>;
declare const document: {
  querySelector(selector: string): PageElement | null;
  getElementById(id: string): unknown;
  addEventListener(type: string, listener: (event: { violatedDirective: string; blockedURI: string }) => void): void;
};
declare const sessionStorage: { getItem(key: string): string | null };

/** What a chart holds, as read back from chart.js in the page. */
interface DrawnChart {
  labels: string[];
  datasets: Array<{ label: string; data: Array<number | null> }>;
  /** Per dataset: how many point elements chart.js laid out, and how many of the non-null ones it skipped. */
  points: Array<{ laidOut: number; skipped: number }>;
  /** Pixels of the canvas that are not transparent. */
  inked: number;
}

interface TableRow {
  metric: string;
  status: string;
  className: string;
  cells: string[];
  value: string;
}

describe.skipIf(!RUN_BROWSER_TESTS)(browserSuite('the metrics dashboard'), () => {
  let e2e: E2eStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];
  const failed: string[] = [];

  /** GET /metrics as any client would call it. */
  async function api(query: Record<string, string> = {}): Promise<MetricsResponse> {
    const url = new URL('/metrics', e2e.stack.endpoints.web);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const response = await fetch(url, { headers: { authorization: `Bearer ${e2e.stack.metricsToken}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as MetricsResponse;
  }

  const renders = (on = page) => on.evaluate(() => Number(document.querySelector('main')?.getAttribute('data-renders') ?? 0));

  /** Runs `act` and waits until the page has rendered again and is ready. */
  async function rendered(act: () => Promise<unknown>, on = page): Promise<void> {
    const before = await renders(on);
    await act();
    await on.waitForFunction((count) => Number(document.querySelector('main')?.getAttribute('data-renders')) > count && document.querySelector('main')?.getAttribute('data-state') === 'ready', before);
  }

  const drawnCharts = () =>
    page.evaluate((ids) => {
      const ChartJs = window.Chart as { getChart(id: string): PageChart };
      return Object.fromEntries(
        ids.map((id) => {
          const canvas = document.getElementById(`chart-${id}`) as PageCanvas;
          const chart = ChartJs.getChart(`chart-${id}`);
          const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let inked = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) inked += 1;
          return [
            id,
            {
              labels: [...chart.data.labels],
              datasets: chart.data.datasets.map((d) => ({ label: d.label, data: [...d.data] })),
              points: chart.data.datasets.map((d, i) => {
                const elements = chart.getDatasetMeta(i).data;
                return {
                  laidOut: elements.length,
                  skipped: elements.filter((e, j) => d.data[j] !== null && (e.skip || !Number.isFinite(e.x) || !Number.isFinite(e.y))).length,
                };
              }),
              inked,
            },
          ];
        }),
      );
    }, CHARTS.map((chart) => chart.id)) as Promise<Record<string, DrawnChart>>;

  const tableRows = () =>
    page.locator('#targets tbody tr').evaluateAll((elements) =>
      (elements as unknown as PageElement[]).map((row) => ({
        metric: row.getAttribute('data-metric') ?? '',
        status: row.getAttribute('data-status') ?? '',
        className: row.className,
        cells: Array.from(row.children).map((cell) => cell.innerText.trim()),
        value: row.querySelector('td.current')?.getAttribute('data-value') ?? '',
      })),
    ) as Promise<TableRow[]>;

  /** The API's series of a chart, as the dashboard must draw it. */
  function expectedChart(body: MetricsResponse, chartId: string, granularity: Granularity, campaign?: string) {
    const spec = CHARTS.find((chart) => chart.id === chartId)!;
    const scope = spec.scope === 'survey' && campaign ? body.result.campaigns[campaign]! : body.result.overall;
    const points: SeriesPoint[] = scope.series[granularity];
    const value = (v: MetricValue | undefined) => v?.value ?? null;
    return {
      labels: points.map((p) => p.bucket),
      datasets: spec.metrics.map((metric) => ({ label: METRICS[metric].label, data: points.map((p) => value(p.metrics[metric])) })),
    };
  }

  /** Every chart equals the API's series and was drawn; the table equals the API's report. */
  async function expectPageToMatch(body: MetricsResponse, granularity: Granularity, campaign?: string) {
    const charts = await drawnCharts();
    const exposed = (await page.evaluate(() => window.__dashboard)) as {
      granularity: string;
      charts: Record<string, { labels: string[]; datasets: Array<{ data: unknown[] }>; targets: Array<{ metric: string; comparator: string; value: number }> }>;
    };
    expect(exposed.granularity).toBe(granularity);
    for (const spec of CHARTS) {
      const expected = expectedChart(body, spec.id, granularity, campaign);
      const drawn = charts[spec.id]!;
      expect({ labels: drawn.labels, datasets: drawn.datasets }, `chart ${spec.id}`).toEqual(expected);
      expect(exposed.charts[spec.id], `window.__dashboard.charts.${spec.id}`).toMatchObject({ labels: expected.labels, datasets: expected.datasets.map((d) => ({ data: d.data })) });
      expect(drawn.points, `chart ${spec.id}: every point laid out`).toEqual(expected.datasets.map(() => ({ laidOut: expected.labels.length, skipped: 0 })));
      expect(drawn.inked, `chart ${spec.id} is drawn`).toBeGreaterThan(0);
      // The target lines are the report's targets (the campaign's own when one is selected).
      const targets = spec.metrics.flatMap((metric) => {
        const target = body.report.find((row) => row.metric === metric)?.target;
        return target ? [{ metric, comparator: target.comparator, value: target.value }] : [];
      });
      expect(exposed.charts[spec.id]!.targets, `chart ${spec.id}: target lines`).toEqual(targets);
    }
    const rows = await tableRows();
    expect(rows.map((row) => row.metric)).toEqual(body.report.map((row) => row.metric));
    for (const [i, row] of rows.entries()) {
      const report = body.report[i]!;
      const display = body.table[i]!;
      expect(row.cells, `row ${row.metric}`).toEqual([display.label, display.target, display.current, String(report.count), display.trend, display.status]);
      expect(row.value === '' ? undefined : Number(row.value), `row ${row.metric}: the exact value`).toBe(report.current);
      expect(row.status).toBe(report.status);
      expect(row.className === 'off-target', `row ${row.metric} marked off target`).toBe(report.status === 'off-target');
    }
  }

  beforeAll(async () => {
    browser = await launchChromium();
    e2e = await startE2eStack({ startAt: `${TODAY}T07:00:00.000Z`, loadCampaigns: false });
    await writeRecords(e2e.db, e2e.stack.tables);

    context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    // Every violation of the page's Content-Security-Policy, as the page sees it.
    await context.addInitScript(() => {
      const seen: string[] = [];
      window.__cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
    });
    context.on('request', (request) => requests.push(request.url()));
    page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A failed request is told apart below, by its URL.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(response.url());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await e2e?.stop();
  });

  it('serves figures equal to readMetrics over the records written (the known ones)', async () => {
    const body = await api();
    const targets = loadTargetsFile(new URL('../../metrics/targets.yaml', import.meta.url).pathname);
    const view = await readMetrics({ from: '2031-03-05', to: TODAY, asOf: TODAY }, { reader: new DynamoDbMetricsReader(e2e.stack.tables.metrics, e2e.stack.tables.surveyAggregates, e2e.db), targets });

    expect({ result: body.result, report: body.report }).toEqual(JSON.parse(JSON.stringify(view)));
    const row = (metric: string) => body.report.find((r) => r.metric === metric)!;
    expect(row('nps')).toMatchObject({ current: 40, count: 5, previous: -100 });
    expect(row('csat')).toMatchObject({ current: 50, status: 'off-target' });
    expect(row('repeatPurchaseRate')).toMatchObject({ current: 25, provisional: true });
  });

  it('opens with the token from the fragment, drops it from the address bar, and draws the last 90 days per week', async () => {
    await rendered(() => page.goto(e2e.stack.dashboardUrl));

    expect(new URL(page.url()).hash).toBe('');
    expect(await page.evaluate(() => sessionStorage.getItem('outreach.metrics.token'))).toBe(e2e.stack.metricsToken);
    const body = await api();
    await expectPageToMatch(body, 'week');
    expect(await page.locator('#period').innerText()).toBe('All campaigns, 2031-03-05 – 2031-06-02 (90 days), trend against 2030-12-05 – 2031-03-04');
    const offTarget = (await tableRows()).filter((row) => row.className === 'off-target').map((row) => row.metric);
    expect(offTarget).toEqual(['csat', 'renewalRate', 'churnRate']);
    expect(await page.locator('tr[data-metric="csat"] td.status').innerText()).toBe('OFF TARGET');
    expect(await page.locator('tr[data-metric="csat"] td.current').innerText()).toBe('50.0 %');
  });

  it('redraws per day and per month from the same answer, without asking the API again', async () => {
    const body = await api();
    const fetches = requests.filter((url) => new URL(url).pathname === '/metrics').length;

    await rendered(() => page.selectOption('#granularity', 'day'));
    await expectPageToMatch(body, 'day');
    expect((await drawnCharts()).nps!.labels).toHaveLength(90);
    await rendered(() => page.selectOption('#granularity', 'month'));
    await expectPageToMatch(body, 'month');
    expect((await drawnCharts()).nps!.labels).toEqual(['2031-03', '2031-04', '2031-05', '2031-06']);

    expect(requests.filter((url) => new URL(url).pathname === '/metrics')).toHaveLength(fetches);
  });

  it('shows the last 30 days, then one campaign, each as the API reports them', async () => {
    await rendered(() => page.getByRole('button', { name: '30 days' }).click());
    await expectPageToMatch(await api({ days: '30' }), 'month');
    expect(await page.locator('tr[data-metric="ces"] td.current').innerText()).toBe('no data');

    await rendered(() => page.selectOption('#campaign', CSAT_CAMPAIGN));
    await expectPageToMatch(await api({ days: '30', campaign: CSAT_CAMPAIGN }), 'month', CSAT_CAMPAIGN);
    expect((await tableRows()).map((row) => row.metric)).toEqual(['nps', 'csat', 'ces', 'responseRate']);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ days: '30', campaign: CSAT_CAMPAIGN, per: 'month' });

    await rendered(async () => {
      await page.fill('#from', '2031-05-01');
      await page.fill('#to', '2031-05-31');
      await page.getByRole('button', { name: 'Apply' }).click();
    });
    await expectPageToMatch(await api({ from: '2031-05-01', to: '2031-05-31', campaign: CSAT_CAMPAIGN }), 'month', CSAT_CAMPAIGN);
  });

  it('loaded nothing from elsewhere, sent the token only in the Authorization header, and broke no CSP rule', async () => {
    const origin = new URL(e2e.stack.endpoints.web).origin;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(requests.filter((url) => url.includes(e2e.stack.metricsToken))).toEqual([]);
    expect(await page.evaluate(() => window.__cspViolations)).toEqual([]);
    expect(problems).toEqual([]);
    // Browsers ask for /favicon.ico on their own; the page itself asked for nothing that failed.
    expect(failed.filter((url) => new URL(url).pathname !== '/favicon.ico')).toEqual([]);
  });

  it('says what is wrong with a range the API refuses, and keeps the controls to fix it', async () => {
    const fresh = await context.newPage();
    try {
      await fresh.goto(`${e2e.stack.endpoints.web}/dashboard?from=2031-06-10&to=2031-06-01#token=${e2e.stack.metricsToken}`);
      await fresh.locator('main[data-state="error"]').waitFor();
      expect(await fresh.locator('#status').innerText()).toBe('metrics query is invalid: to: "2031-06-01" is before from "2031-06-10"');
      expect(await fresh.locator('#controls').isVisible()).toBe(true);

      await rendered(() => fresh.getByRole('button', { name: '90 days' }).click(), fresh);
      expect(await fresh.locator('tr[data-metric="nps"] td.current').innerText()).toBe('40.0');
    } finally {
      await fresh.close();
    }
  });

  it('asks for the token when it has none, refuses a wrong one, and shows the metrics with the right one', async () => {
    const fresh = await context.newPage();
    try {
      await fresh.goto(`${e2e.stack.endpoints.web}/dashboard`);
      await fresh.locator('main[data-state="token"]').waitFor();
      expect(await fresh.locator('#token-form').isVisible()).toBe(true);
      expect(await fresh.locator('#report').isVisible()).toBe(false);

      await fresh.getByLabel('Token').fill('not-the-token');
      await fresh.getByRole('button', { name: 'Show metrics' }).click();
      await fresh.getByText('The token was not accepted. Enter the current one.').waitFor();
      expect(await fresh.evaluate(() => sessionStorage.getItem('outreach.metrics.token'))).toBeNull();

      await rendered(async () => {
        await fresh.getByLabel('Token').fill(e2e.stack.metricsToken);
        await fresh.getByRole('button', { name: 'Show metrics' }).click();
      }, fresh);
      expect(await fresh.locator('tr[data-metric="nps"] td.current').innerText()).toBe('40.0');
    } finally {
      await fresh.close();
    }
  });
});
