/**
 * CloudWatch metrics through the embedded metric format (Powertools Metrics): one JSON log line per invocation that
 * CloudWatch turns into metrics — no PutMetricData call, no extra permission. Namespace `Outreach`, dimension
 * `service=outreach`; the alarms in lib/constructs/outreach-alarms.ts read exactly these names.
 * POWERTOOLS_METRICS_DISABLED=true (the local stack sets it) keeps the lines out of a terminal.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'Outreach';
export const METRICS_SERVICE = 'outreach';

export const METRIC = {
  emailsSent: 'EmailsSent',
  emailsSkipped: 'EmailsSkipped',
  emailsFailed: 'EmailsFailed',
  bounces: 'Bounces',
  complaints: 'Complaints',
  surveyAnswers: 'SurveyAnswers',
  detractorAlerts: 'DetractorAlerts',
  /** Touchpoints due and not started after a dispatch run (the send-rate budget was spent, or dispatch is behind). */
  dispatchBacklog: 'DispatchBacklog',
  /** How late the oldest due touchpoint is after a dispatch run, in seconds. */
  oldestDueAge: 'OldestDueAgeSeconds',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Counts to add, by metric name (only positive counts are emitted). */
export type MetricCounts = Partial<Record<MetricName, number>>;

export function createMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
}

/** Adds the counts and flushes them as one EMF line (nothing when every count is zero). */
export function publishCounts(metrics: Metrics, counts: MetricCounts): void {
  let any = false;
  for (const [name, count] of Object.entries(counts)) {
    if (!count || count <= 0) continue;
    metrics.addMetric(name, MetricUnit.Count, count);
    any = true;
  }
  if (any) metrics.publishStoredMetrics();
}
