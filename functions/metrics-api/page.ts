/**
 * GET /dashboard: one self-contained HTML page (chart.js, the page's script and styles inlined; no data, so no token
 * needed to fetch it). Its script reads the token from the URL fragment (never sent to a server) or asks for it, and
 * fetches GET /metrics from the same origin. The Content-Security-Policy allows exactly the inlined script and style
 * blocks (by hash) and same-origin fetches: nothing is loaded from anywhere else, and nothing else runs.
 */
import { createHash } from 'node:crypto';
import { CAMPAIGN_METRICS, METRICS, METRIC_IDS, type MetricId } from '../../core/metrics/compute.ts';
import { readDashboardAsset } from './assets.ts';

export interface ChartSpec {
  /** The canvas is `chart-<id>`, with `data-chart="<id>"`. */
  id: string;
  title: string;
  /** One line per metric, over the chosen granularity's series. */
  metrics: readonly MetricId[];
  /**
   * `survey`: the selected campaign's series when a campaign is chosen, else overall. `overall`: always overall
   * (contracts and purchases belong to no campaign).
   */
  scope: 'survey' | 'overall';
  /** The value axis. */
  y: { min: number; max: number };
}

const percentAxis = { min: 0, max: 100 };

/** The trend charts, in page order. */
export const CHARTS: readonly ChartSpec[] = [
  { id: 'nps', title: 'NPS', metrics: ['nps'], scope: 'survey', y: { min: -100, max: 100 } },
  { id: 'csat', title: 'CSAT (% satisfied)', metrics: ['csat'], scope: 'survey', y: percentAxis },
  { id: 'ces', title: 'CES (mean, 7 = very easy)', metrics: ['ces'], scope: 'survey', y: { min: 1, max: 7 } },
  { id: 'response-rate', title: 'Response rate (% of surveys sent)', metrics: ['responseRate'], scope: 'survey', y: percentAxis },
  { id: 'renewal-churn', title: 'Renewal vs churn (% of terms ended)', metrics: ['renewalRate', 'churnRate'], scope: 'overall', y: percentAxis },
  {
    id: 'retention-by-segment',
    title: 'Renewal rate by NPS segment',
    metrics: ['retentionPromoter', 'retentionPassive', 'retentionDetractor', 'retentionNone'],
    scope: 'overall',
    y: percentAxis,
  },
  { id: 'repeat-purchase', title: 'Repeat-purchase rate (customers by their first purchase)', metrics: ['repeatPurchaseRate'], scope: 'overall', y: percentAxis },
];

/** What the page's script needs to know about the metrics: read from core, so labels and decimals are the CLI's. */
export function pageConfig() {
  return {
    metrics: Object.fromEntries(METRIC_IDS.map((id) => [id, { label: METRICS[id].label, unit: METRICS[id].unit, decimals: METRICS[id].decimals }])),
    campaignMetrics: CAMPAIGN_METRICS,
    charts: CHARTS,
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON that cannot close its <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export interface DashboardPage {
  html: string;
  contentSecurityPolicy: string;
}

function chartFigure(chart: ChartSpec): string {
  return `<figure class="chart">
<figcaption id="chart-${chart.id}-title">${escapeHtml(chart.title)}</figcaption>
<div class="chart-box"><canvas id="chart-${chart.id}" data-chart="${chart.id}" role="img" aria-labelledby="chart-${chart.id}-title"></canvas></div>
</figure>`;
}

/** Builds the page (once per container: it never changes while the code does not). */
export function renderDashboardPage(): DashboardPage {
  // The map would make browsers' developer tools fetch chart.umd.min.js.map, which the page does not serve.
  const chartJs = readDashboardAsset('chart.umd.min.js').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  const script = readDashboardAsset('dashboard.js');
  const css = readDashboardAsset('dashboard.css');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Outreach — loyalty and retention metrics</title>
<style>${css}</style>
</head>
<body>
<header>
<h1>Loyalty and retention metrics</h1>
<p id="period" aria-live="polite"></p>
</header>
<main id="dashboard" data-state="loading">
<form id="token-form" hidden>
<h2>Access token</h2>
<p id="token-message">This page needs the metrics API token.</p>
<p class="hint">An admin reads it with <code>aws secretsmanager get-secret-value --secret-id &lt;MetricsTokenSecretName&gt; --query SecretString --output text</code>
(the stack output). It is kept in this browser tab only.</p>
<label for="token-input">Token</label>
<input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false" required>
<button type="submit">Show metrics</button>
</form>
<form id="controls" hidden>
<fieldset>
<legend>Range</legend>
<label for="from">From</label> <input id="from" name="from" type="date" required>
<label for="to">To</label> <input id="to" name="to" type="date" required>
<button type="submit" id="apply-range">Apply</button>
<span class="quick" role="group" aria-label="Last days">
<button type="button" data-days="30">30 days</button>
<button type="button" data-days="90">90 days</button>
<button type="button" data-days="365">365 days</button>
</span>
</fieldset>
<label for="campaign">Campaign</label>
<select id="campaign" name="campaign"><option value="">All campaigns</option></select>
<label for="granularity">Per</label>
<select id="granularity" name="granularity">
<option value="day">day</option>
<option value="week" selected>week</option>
<option value="month">month</option>
</select>
</form>
<p id="status" role="status"></p>
<section id="report" aria-labelledby="targets-heading" hidden>
<h2 id="targets-heading">Targets</h2>
<table id="targets">
<thead><tr><th scope="col">Metric</th><th scope="col">Target</th><th scope="col">Current</th><th scope="col">n</th><th scope="col">Trend</th><th scope="col">Status</th></tr></thead>
<tbody></tbody>
</table>
<p id="targets-note" class="hint"></p>
<h2>Trends</h2>
<div class="charts">
${CHARTS.map(chartFigure).join('\n')}
</div>
</section>
</main>
<script type="application/json" id="dashboard-config">${scriptJson(pageConfig())}</script>
<script>${chartJs}</script>
<script>${script}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(chartJs)} ${sha256(script)}`,
    `style-src ${sha256(css)}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}
