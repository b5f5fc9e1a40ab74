/**
 * The one price table of bench/cost.ts: AWS on-demand list prices in us-east-1, first pricing tier, without any free
 * tier (free tiers are per account and shared with everything else in it; the figures say what the product costs, not
 * what a new account pays). Checked on 2026-12-03 with the repository's search tool against the pages named below.
 *
 * `verified` says against what: 'aws' — an aws.amazon.com or docs.aws.amazon.com page (or its stored copy) states the
 * figure; 'third-party' — only pricing guides quoting the AWS page state it (the AWS page itself was not found in the
 * stored corpus); 'not verified here' — kept from the issue, no source found.
 */

export type Verification = 'aws' | 'third-party' | 'not verified here';

export interface PriceSource {
  page: string;
  verified: Verification;
  /** What the source says, briefly, and anything it does not say. */
  note: string;
}

export const PRICES_CHECKED = '2026-12-03';
export const PRICES_REGION = 'us-east-1';

export const PRICES = {
  /** AWS bills monthly quantities over 730 hours. */
  hoursPerMonth: 730,
  stepFunctions: {
    // https://aws.amazon.com/step-functions/pricing/ — Standard: "charged for the total number of state transitions
    // across all your state machines, including retries"; $25 per million (AWS Compute Blog, "Building cost-effective
    // AWS Step Functions workflows": "$1.00 per million invocations versus $25 per million for Standard").
    standardPerTransition: 0.025 / 1000,
    // Express: $1.00 per million requests (the page's Express pricing example); duration "rounded up to the nearest
    // 100ms" and memory "billed in 64-MB chunks" (memory used = 50 MB + definition + execution data: one chunk for
    // these workflows); $0.06000 per GB-hour for the first 1,000 GB-hours = $0.0000166667 per GB-second (then
    // $0.03000 and $0.01642 per GB-hour).
    expressPerRequest: 1.0 / 1_000_000,
    expressPerGbSecond: 0.06 / 3600,
    expressMemoryChunkMb: 64,
    expressRoundingMs: 100,
  },
  lambda: {
    // https://aws.amazon.com/lambda/pricing/ — duration "rounded up to the nearest 1 ms", price by configured memory
    // and architecture. Figures per request and per GB-second: pricing guides quoting the page (cloudchipr.com,
    // 2024: Arm first 7.5 billion GB-s $0.0000133334, x86 first 6 billion GB-s $0.0000166667; $0.20 per 1M requests).
    perRequest: 0.2 / 1_000_000,
    perGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  },
  dynamodb: {
    // https://aws.amazon.com/dynamodb/pricing/on-demand/ — on-demand after the November 2024 cut: $0.625 per million
    // write request units, $0.125 per million read request units (Standard table class), as quoted by airbyte.com
    // (2025). Unit rules (1 KB per WRU, 4 KB per RRU, half for eventually consistent reads): docs.aws.amazon.com
    // "DynamoDB item sizes and formats", applied by local/meter.ts.
    perWriteRequestUnit: 0.625 / 1_000_000,
    perReadRequestUnit: 0.125 / 1_000_000,
  },
  eventBridge: {
    // https://aws.amazon.com/eventbridge/pricing/ — custom events $1.00 per million; "each 64 KB chunk of a payload is
    // billed as 1 event"; AWS service events (e.g. SES's, on the default bus) are free (cloudburn.io 2026-03,
    // factualminds.com 2026-06 quoting the page).
    perCustomEvent: 1.0 / 1_000_000,
    chunkBytes: 64 * 1024,
  },
  scheduler: {
    // https://aws.amazon.com/eventbridge/pricing/ (Scheduler) — $1.00 per million invocations after 14 million free a
    // month (cloudburn.io 2026-03; one other guide calls Scheduler free — priced here at the list price).
    perInvocation: 1.0 / 1_000_000,
    freeInvocationsPerMonth: 14_000_000,
  },
  httpApi: {
    // https://aws.amazon.com/api-gateway/pricing/ — HTTP APIs $1.00 per million for the first 300 million a month,
    // "metered in 512 KB increments" (docs.aws.amazon.com whitepaper "Best Practices for Designing Amazon API Gateway
    // Private APIs", Table 4). Data transfer out to the internet $0.09/GB (apigatewaycost.com; 100 GB a month free
    // account-wide).
    perRequest: 1.0 / 1_000_000,
    chunkBytes: 512 * 1024,
    dataTransferOutPerGb: 0.09,
  },
  ses: {
    // https://aws.amazon.com/ses/pricing/ — $0.10 per 1,000 emails sent (outbound), $0.12 per GB of attachments (none
    // here). Quoted by several guides; the SES FAQ (aws.amazon.com/ses/faqs) only points at the pricing page. One
    // source (api-evangelist, 2026-08) reports named SES pricing plans since 2026-07: à la carte assumed here.
    perEmail: 0.1 / 1000,
  },
  secretsManager: {
    // https://aws.amazon.com/secrets-manager/pricing/ — $0.40 per secret per month, $0.05 per 10,000 API calls
    // (hivebook.wiki quoting the page).
    perSecretMonth: 0.4,
    perApiCall: 0.05 / 10_000,
  },
  kms: {
    // https://aws.amazon.com/kms/pricing/ — "Each AWS KMS key that you create in KMS costs $1/month"; with automatic
    // rotation "each newly generated backing key costs an additional $1/month" (the alarm topic's key rotates
    // yearly); AWS managed keys (aws/dynamodb, aws/secretsmanager) cost nothing per month, but their requests are
    // charged. $0.03 per 10,000 requests: wring.co 2026-03 quoting the page.
    perKeyMonth: 1.0,
    perRequest: 0.03 / 10_000,
  },
  cloudWatch: {
    // https://aws.amazon.com/cloudwatch/pricing/ — the page's free tier counts "alarm metrics" (so a metric-math alarm
    // costs one per metric it reads), custom metrics and dashboards. Paid figures from guides quoting the page
    // (factualminds.com 2026-06, c3x.dev): logs ingestion $0.50/GB (Standard class, also vended logs up to 10 TB),
    // standard-resolution alarm $0.10 per alarm metric-month, custom metric $0.30 per metric-month (first 10,000),
    // dashboard $3.00 per month.
    logsIngestionPerGb: 0.5,
    alarmMetricMonth: 0.1,
    customMetricMonth: 0.3,
    dashboardMonth: 3.0,
  },
  xray: {
    // https://aws.amazon.com/xray/pricing/ (de) — traces recorded $5.00 per million ($0.000005 per trace) after
    // 100,000 free a month; retrieved or scanned $0.50 per million. The default sampling rule records the first
    // request each second and 5 % of the rest (tsypuk.github.io 2023, awsnegotiations.com).
    perTraceRecorded: 5.0 / 1_000_000,
    defaultReservoirPerSecond: 1,
    defaultFixedRate: 0.05,
  },
} as const;

export type Prices = typeof PRICES;

/** Where each figure was checked, for the bench's report. */
export const PRICE_SOURCES: Readonly<Record<string, PriceSource>> = {
  'Step Functions Standard': { page: 'aws.amazon.com/step-functions/pricing; AWS Compute Blog (cost-effective workflows)', verified: 'aws', note: '$25 per million transitions, retries included' },
  'Step Functions Express': { page: 'aws.amazon.com/step-functions/pricing', verified: 'aws', note: '$1.00/M requests; $0.06/GB-hour first 1,000 GB-h; 100 ms rounding; 64 MB chunks' },
  Lambda: { page: 'aws.amazon.com/lambda/pricing', verified: 'third-party', note: '1 ms rounding on the AWS page; $0.20/M and arm64 $0.0000133334/GB-s from a guide quoting it' },
  DynamoDB: { page: 'aws.amazon.com/dynamodb/pricing/on-demand', verified: 'third-party', note: '$0.625/M WRU, $0.125/M RRU (Nov 2024 cut) from a guide; unit rules from docs.aws.amazon.com' },
  EventBridge: { page: 'aws.amazon.com/eventbridge/pricing', verified: 'third-party', note: '$1.00/M custom events per 64 KB chunk; AWS service events free' },
  'EventBridge Scheduler': { page: 'aws.amazon.com/eventbridge/pricing', verified: 'third-party', note: '$1.00/M after 14M free a month' },
  'HTTP API': { page: 'docs.aws.amazon.com (API Gateway private APIs whitepaper, Table 4)', verified: 'aws', note: '$1.00/M first 300M, 512 KB increments; data transfer $0.09/GB from a guide' },
  SES: { page: 'aws.amazon.com/ses/pricing', verified: 'third-party', note: '$0.10 per 1,000; named pricing plans since 2026-07 reported by one source, not checked' },
  'Secrets Manager': { page: 'aws.amazon.com/secrets-manager/pricing', verified: 'third-party', note: '$0.40/secret-month, $0.05/10k calls' },
  KMS: { page: 'aws.amazon.com/kms/pricing', verified: 'aws', note: '$1/key-month (+$1 per rotated backing key) on the AWS page; $0.03/10k requests from a guide' },
  CloudWatch: { page: 'aws.amazon.com/cloudwatch/pricing', verified: 'third-party', note: 'units (alarm metrics) on the AWS page; $0.50/GB, $0.10, $0.30, $3.00 from guides' },
  'X-Ray': { page: 'aws.amazon.com/xray/pricing (de)', verified: 'aws', note: '$5.00/M traces recorded; default sampling 1/s + 5 % from guides' },
};
